/* Reading a running process's memory (never writing it): a runtime's own counters, found in its
 * binary, read where the process has them. */
#ifndef RTMON_PROCESS_MEMORY_H
#define RTMON_PROCESS_MEMORY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads exactly len bytes at addr of pid (process_vm_readv). 0, or -errno with one line in err:
 * -ESRCH the process is gone, -EPERM not allowed (rtmon runs as root), -EFAULT addr is not mapped
 * there, -EIO a short read. */
int process_read(pid_t pid, uint64_t addr, void *buf, size_t len, char *err, size_t errlen);

/* Where pid maps offset off of the file (kdev in the kernel's major << 20 | minor encoding, ino):
 * *addr, from /proc/PID/maps. 0, -ENOENT when no mapping of that file holds off, or -errno when
 * the maps cannot be read. With a link-time address of the same byte it gives the load bias. */
int process_file_offset_addr(pid_t pid, uint32_t kdev, uint64_t ino, uint64_t off, uint64_t *addr);

#endif

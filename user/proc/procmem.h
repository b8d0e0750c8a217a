/* Another process's memory, read without stopping or changing it: process_vm_readv (the same
 * permission as ptrace's PTRACE_MODE_ATTACH_REALCREDS check, but no attach, no stop, no write).
 * Returns 0 or -errno: -ESRCH when the process is gone, -EPERM/-EACCES without the right to read
 * it, -EFAULT when part of the range is not mapped. */
#ifndef RTMON_PROCMEM_H
#define RTMON_PROCMEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/* len bytes at addr into buf; all of them, else -EFAULT. */
int proc_mem_read(pid_t pid, uint64_t addr, void *buf, size_t len);

/* Many ranges in as few system calls as the kernel allows (IOV_MAX at a time): remote[i] into
 * local[i], same lengths. ok[i] (may be NULL) is set to 1 for each range read whole, 0 for one that
 * was not (unmapped). 0, or -errno when the process cannot be read at all. */
int proc_mem_readv(pid_t pid, const struct iovec *local, const struct iovec *remote, size_t n,
		   unsigned char *ok);

/* Start address of the process's mapping of the file (dev, ino) at file offset 0: the load address
 * of an executable's first segment. 0, -ENOENT when no such mapping, or -errno. */
int proc_file_mapping_start(pid_t pid, dev_t dev, ino_t ino, uint64_t *start);

/* Where the process maps byte off of the file (dev, ino): *addr, from /proc/PID/maps. With that
 * byte's link-time address it gives the load bias. 0, -ENOENT when no mapping of the file holds
 * off, or -errno. */
int proc_file_offset_addr(pid_t pid, dev_t dev, ino_t ino, uint64_t off, uint64_t *addr);

#endif

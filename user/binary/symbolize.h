/* Code addresses to function names: "worker_fn", "worker_fn+0x1c", or "file+0x1139" when the file
 * has no symbol there (stripped). A location is given either as a mapped file (device, inode) and a
 * file offset, which stays valid after the process is gone, or as an address in a live process,
 * resolved through /proc/PID/maps. Symbols come from .symtab, else .dynsym. */
#ifndef RTMON_SYMBOLIZE_H
#define RTMON_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "proc/image.h"

struct symbolizer;

/* img: the target's files, searched first by (device, inode); may be NULL. NULL on out of memory.
 */
struct symbolizer *symbolizer_new(const struct image *img);
void symbolizer_free(struct symbolizer *s);

/* Adds a file the target will load later (a JVM's libjvm.so, which its launcher dlopens), held
 * open from now on, so that its locations are named after the process is gone. 0 or -errno. */
int symbolizer_add_path(struct symbolizer *s, const char *path);

/* Adds every file that the live process pid maps code from and s does not know yet (libraries it
 * loaded with dlopen), held open like the others. How many were added, or -errno. */
int symbolizer_add_maps(struct symbolizer *s, pid_t pid);

/* Names file offset off of the file (kdev in the kernel's encoding, ino). Files outside img are
 * looked for in /proc/pid/maps when pid > 0. 0 when named by a symbol, 1 when only by file+offset,
 * -ENOENT when the file was not found (out then holds "[unknown]"). */
int symbolize_file_offset(struct symbolizer *s, pid_t pid, uint32_t kdev, uint64_t ino,
			  uint64_t off, char *out, size_t len);

/* The function holding file offset off (found as symbolize_file_offset finds it): its name alone,
 * demangled, without "+0x...". Not cached: the stack layer caches per address. 0 when named, 1 when
 * no symbol holds it (out ""), -ENOENT when the file was not found. */
int symbolize_func(struct symbolizer *s, pid_t pid, uint32_t kdev, uint64_t ino, uint64_t off,
		   char *out, size_t len);

/* Names virtual address addr of the live process pid. Same returns; "0x..." when not found. */
int symbolize_addr(struct symbolizer *s, pid_t pid, uint64_t addr, char *out, size_t len);

#endif

/* Opening a file on a target's behalf. The target's owner controls its executable, its libraries
 * and the paths in its maps: any of them can be a FIFO or a device, and a plain open() of a FIFO
 * blocks until a writer comes, which hangs root's rtmon. Every such open goes through here. */
#ifndef RTMON_BINARY_TARGET_FILE_H
#define RTMON_BINARY_TARGET_FILE_H

#include <stddef.h>
#include <sys/types.h>

struct stat;

/* A read-only descriptor of path if it is a regular file; -errno otherwise (-EISDIR for a
 * directory, -ENXIO for a FIFO, socket or device). Never blocks on the open. */
int target_file_open(const char *path);

/* The same, with the file's fstat in st (its size, for readers that map it) and a one-line message
 * in err naming the path and the problem. */
int target_file_open_err(const char *path, struct stat *st, char *err, size_t errlen);

/* Paths of the form /proc/PID/root/REST are resolved inside that process's root, as its own
 * loader would: an absolute symbolic link in a chroot or container starts again at its root and
 * ".." stops there, so the target cannot point rtmon at a file of the host's. */

/* The identity of what path names (stat, following links, resolved as above), without opening it:
 * 0 or -errno. */
int target_file_stat(const char *path, struct stat *st);

/* The resolution inside rootfd done by hand, component by component, as openat2's RESOLVE_IN_ROOT
 * does it; what open_in_root falls back to where the kernel has no openat2. flags are open's.
 * Exposed for its unit test, which compares it with the kernel's. */
int target_file_walk_in_root(int rootfd, const char *path, int flags);

#endif

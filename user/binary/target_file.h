/* Opening a file on a target's behalf. The target's owner controls its executable, its libraries
 * and the paths in its maps: any of them can be a FIFO or a device, and a plain open() of a FIFO
 * blocks until a writer comes, which hangs root's rtmon. Every such open goes through here. */
#ifndef RTMON_BINARY_TARGET_FILE_H
#define RTMON_BINARY_TARGET_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* A read-only descriptor of path if it is a regular file; -errno otherwise (-EISDIR for a
 * directory, -ENXIO for a FIFO, socket or device). Never blocks on the open. */
int target_file_open(const char *path);

/* The same, with the file's fstat in st (its size, for readers that map it) and a one-line message
 * in err naming the path and the problem. */
struct stat;
int target_file_open_err(const char *path, struct stat *st, char *err, size_t errlen);

#endif

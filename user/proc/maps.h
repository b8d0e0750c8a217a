/* /proc/PID/maps, one line at a time: the code of a process and the files it comes from. */
#ifndef RTMON_MAPS_H
#define RTMON_MAPS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

/* One line: "start-end perms pgoff maj:min inode path". */
struct maps_line {
	uint64_t start, end, pgoff, ino;
	uint32_t kdev; /* the kernel's encoding: major << 20 | minor */
	bool exec;     /* perms has 'x' */
	char path[PATH_MAX];
};

/* Parses one line of a file mapping (an inode and an absolute path; " (deleted)" stays in path).
 * false for anonymous memory, [heap], [stack], [vdso] and lines that do not parse. */
bool maps_parse_line(const char *line, struct maps_line *m);

#endif

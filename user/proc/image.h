/* The ELF files a program is made of, in the dynamic loader's symbol lookup order: the executable,
 * then its libraries breadth-first. Found from DT_NEEDED and the loader's search path for a binary
 * on disk, or from /proc/PID/maps for a running process (through /proc/PID/root, so that a process
 * in a container is read from its own filesystem). */
#ifndef RTMON_IMAGE_H
#define RTMON_IMAGE_H

#include <limits.h>
#include <sys/types.h>

#define IMAGE_MAX_FILES 128

struct image {
	int n;
	char paths[IMAGE_MAX_FILES]
		  [PATH_MAX]; /* paths[0] is the executable; paths rtmon can open */
};

int image_from_binary(struct image *img, const char *exe, char *err, size_t errlen);
int image_from_pid(struct image *img, pid_t pid, char *err, size_t errlen);

/* Exposed for tests: the directories the loader searches after DT_RUNPATH (ld.so.conf and
 * defaults), separated by ':'. */
int loader_search_path(char *out, size_t len);

#endif

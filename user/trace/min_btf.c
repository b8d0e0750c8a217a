#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "trace/min_btf.h"

/* The kernel build id note (name "GNU", type NT_GNU_BUILD_ID) identifies the kernel image, and with
 * it the BTF the image carries. Without one, rtmon cannot tell kernels apart and never uses the cut
 * BTF. */
static bool same_kernel_as_build(void)
{
	size_t len = (size_t)(build_kernel_notes_end - build_kernel_notes);
	char now[4096];
	ssize_t n;
	int fd;

	if (len < 16 || len > sizeof(now) || !memmem(build_kernel_notes, len, "GNU", 4))
		return false;
	fd = open("/sys/kernel/notes", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, now, sizeof(now));
	close(fd);
	return n == (ssize_t)len && !memcmp(now, build_kernel_notes, len);
}

const char *min_btf_path(const char *name)
{
	static char path[64];
	const char *off = getenv("RTMON_NO_MIN_BTF");
	int fd;

	if ((off && *off && strcmp(off, "0")) || !same_kernel_as_build())
		return NULL;
	for (const struct min_btf_blob *b = min_btf_blobs; b->name; b++) {
		size_t len = (size_t)(b->end - b->data);

		if (strcmp(b->name, name) || !len)
			continue;
		/* libbpf takes a path: hand it an anonymous file, kept open for the process's life.
		 */
		fd = memfd_create("rtmon-min-btf", MFD_CLOEXEC);
		if (fd < 0)
			return NULL;
		if (write(fd, b->data, len) != (ssize_t)len) {
			close(fd);
			return NULL;
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		return path;
	}
	return NULL;
}

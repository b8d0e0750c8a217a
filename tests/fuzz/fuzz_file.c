/* See fuzz_file.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_file.h"

static uint32_t rd32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void write_all(int fd, const uint8_t *p, size_t n, uint64_t off)
{
	while (n) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);

		if (w <= 0) {
			perror("fuzz_file: pwrite");
			abort();
		}
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
}

int fuzz_file_make(const uint8_t *data, size_t size, uint32_t max, char *path, size_t pathlen)
{
	const size_t mlen = sizeof(FUZZ_SPARSE_MAGIC) - 1;
	int fd = memfd_create("fuzz", MFD_CLOEXEC);

	if (fd < 0) {
		perror("fuzz_file: memfd_create");
		abort();
	}
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	if (size < mlen + 4 || memcmp(data, FUZZ_SPARSE_MAGIC, mlen)) {
		write_all(fd, data, size, 0);
		return fd;
	}
	uint32_t total = rd32(data + mlen);
	const uint8_t *p = data + mlen + 4, *end = data + size;

	if (total > max)
		total = max;
	if (ftruncate(fd, total)) {
		perror("fuzz_file: ftruncate");
		abort();
	}
	while (end - p >= 8) {
		uint32_t off = rd32(p), len = rd32(p + 4);

		p += 8;
		if (len > (size_t)(end - p))
			len = (uint32_t)(end - p);
		if (off < total)
			write_all(fd, p, len < total - off ? len : total - off, off);
		p += len;
	}
	return fd;
}

/* See fuzz_file.h. */
#include <dirent.h>
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

/* The open descriptors (below 1024), from /proc/self/fd. */
static void open_fds(uint8_t set[1024 / 8])
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (!d) {
		perror("fuzz_file: /proc/self/fd");
		abort();
	}
	memset(set, 0, 1024 / 8);
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] != '.' && fd != dirfd(d) && fd < 1024)
			set[fd / 8] |= 1 << fd % 8;
	}
	closedir(d);
}

static uint8_t fds_before[1024 / 8];

int fuzz_file_make(const uint8_t *data, size_t size, uint32_t max, char *path, size_t pathlen)
{
	const size_t mlen = sizeof(FUZZ_SPARSE_MAGIC) - 1;
	int fd;

	open_fds(fds_before);
	fd = memfd_create("fuzz", MFD_CLOEXEC);
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

void fuzz_file_close(int fd)
{
	uint8_t now[1024 / 8];

	close(fd);
	open_fds(now);
	for (int i = 0; i < 1024; i++)
		if (now[i / 8] >> i % 8 & 1 && !(fds_before[i / 8] >> i % 8 & 1)) {
			fprintf(stderr, "fuzz_file: descriptor %d left open by the reader\n", i);
			abort();
		}
}

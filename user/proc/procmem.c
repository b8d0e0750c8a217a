/* See procmem.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>

#include "proc/procinfo.h"
#include "proc/procmem.h"

#ifndef IOV_MAX
#define IOV_MAX 1024
#endif

int proc_mem_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec l = { buf, len }, r = { (void *)(uintptr_t)addr, len };
	ssize_t n = process_vm_readv(pid, &l, 1, &r, 1, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

/* One system call's worth: the kernel stops at the first range it cannot read, so the ranges
 * after a short one are read again one call later. */
static int readv_some(pid_t pid, const struct iovec *local, const struct iovec *remote, size_t n,
		      unsigned char *ok, size_t *done)
{
	ssize_t got = process_vm_readv(pid, local, n, remote, n, 0);
	size_t i = 0;

	if (got < 0) {
		if (errno != EFAULT)
			return -errno;
		got = 0; /* the first range is not mapped */
	}
	while (i < n && (size_t)got >= remote[i].iov_len) {
		got -= (ssize_t)remote[i].iov_len;
		if (ok)
			ok[i] = 1;
		i++;
	}
	if (i < n) { /* range i was cut short: skip it */
		if (ok)
			ok[i] = 0;
		i++;
	}
	*done = i;
	return 0;
}

int proc_mem_readv(pid_t pid, const struct iovec *local, const struct iovec *remote, size_t n,
		   unsigned char *ok)
{
	size_t at = 0;

	while (at < n) {
		size_t chunk = n - at < IOV_MAX ? n - at : IOV_MAX, done = 0;
		int rc =
			readv_some(pid, local + at, remote + at, chunk, ok ? ok + at : NULL, &done);

		if (rc)
			return rc;
		at += done;
	}
	return 0;
}

/* What proc_maps_each looks for: the address of file offset off of the file (dev, ino). */
struct offset_query {
	dev_t dev;
	ino_t ino;
	uint64_t off, addr;
};

static int match_offset(const struct proc_maps_line *m, void *ctx)
{
	struct offset_query *q = ctx;

	if (m->ino != (uint64_t)q->ino || makedev(m->kdev >> 20, m->kdev & 0xfffff) != q->dev ||
	    q->off < m->pgoff || q->off - m->pgoff >= m->end - m->start)
		return 0;
	q->addr = m->start + (q->off - m->pgoff);
	return 1;
}

/* Through the one maps parser (proc/procinfo.c): lines of any length, never split. */
static int offset_addr(pid_t pid, dev_t dev, ino_t ino, uint64_t off, uint64_t *addr)
{
	struct offset_query q = { .dev = dev, .ino = ino, .off = off };
	char path[64];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	rc = proc_maps_each(f, match_offset, &q);
	fclose(f);
	if (rc < 0)
		return rc;
	if (!rc)
		return -ENOENT;
	*addr = q.addr;
	return 0;
}

int proc_file_mapping_start(pid_t pid, dev_t dev, ino_t ino, uint64_t *start)
{
	/* the mapping of the file's start: the address of its offset 0 */
	return offset_addr(pid, dev, ino, 0, start);
}

int proc_file_offset_addr(pid_t pid, dev_t dev, ino_t ino, uint64_t off, uint64_t *addr)
{
	return offset_addr(pid, dev, ino, off, addr);
}

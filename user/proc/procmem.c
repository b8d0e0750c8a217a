/* See procmem.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>

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

int proc_file_mapping_start(pid_t pid, dev_t dev, ino_t ino, uint64_t *start)
{
	char path[64], line[PATH_MAX + 128];
	FILE *f;
	int rc = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi, off, inode;
		unsigned maj, min;

		if (sscanf(line, "%llx-%llx %*s %llx %x:%x %llu", &lo, &hi, &off, &maj, &min,
			   &inode) != 6)
			continue;
		if (off == 0 && inode == (unsigned long long)ino && makedev(maj, min) == dev) {
			*start = lo;
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

int proc_file_offset_addr(pid_t pid, dev_t dev, ino_t ino, uint64_t off, uint64_t *addr)
{
	char path[64], line[PATH_MAX + 128];
	FILE *f;
	int rc = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* "start-end perms pgoff maj:min inode path" */
	while (fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi, pgoff, inode;
		unsigned maj, min;

		if (sscanf(line, "%llx-%llx %*s %llx %x:%x %llu", &lo, &hi, &pgoff, &maj, &min,
			   &inode) != 6)
			continue;
		if (inode != (unsigned long long)ino || makedev(maj, min) != dev || off < pgoff ||
		    off - pgoff >= hi - lo)
			continue;
		*addr = lo + (off - pgoff);
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}

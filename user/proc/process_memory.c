/* process_memory.c: see process_memory.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

#include "proc/process_memory.h"

int process_read(pid_t pid, uint64_t addr, void *buf, size_t len, char *err, size_t errlen)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	int e = errno;

	if (n == (ssize_t)len)
		return 0;
	if (n >= 0) {
		snprintf(err, errlen, "reading %zu bytes at 0x%" PRIx64 " of PID %d: only %zd read",
			 len, addr, pid, n);
		return -EIO;
	}
	if (e == ESRCH)
		snprintf(err, errlen, "PID %d is gone", pid);
	else if (e == EPERM)
		snprintf(err, errlen,
			 "not allowed to read the memory of PID %d (run rtmon as root)", pid);
	else
		snprintf(err, errlen, "cannot read 0x%" PRIx64 " of PID %d: %s", addr, pid,
			 strerror(e));
	return -e;
}

int process_file_offset_addr(pid_t pid, uint32_t kdev, uint64_t ino, uint64_t off, uint64_t *addr)
{
	char path[64], line[4096 + 128];
	int ret = -ENOENT;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	if (!(fp = fopen(path, "re")))
		return -errno;
	/* "start-end perms pgoff maj:min inode path" */
	while (ret && fgets(line, sizeof(line), fp)) {
		uint64_t start, end, pgoff, i;
		unsigned maj, min;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64 " %x:%x %" SCNu64, &start,
			   &end, &pgoff, &maj, &min, &i) != 6)
			continue;
		if (i != ino || (maj << 20 | min) != kdev || off < pgoff ||
		    off - pgoff >= end - start)
			continue;
		*addr = start + (off - pgoff);
		ret = 0;
	}
	fclose(fp);
	return ret;
}

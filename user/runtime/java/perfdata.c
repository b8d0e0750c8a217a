/* See perfdata.h. The layout is hotspot/share/runtime/perfMemory.hpp's, version 2.0 since JDK 6
 * (the one jstat and the hsperfdata files use): a PerfDataPrologue, then entries one after the
 * other, each a PerfDataEntry header with its name and data inside the entry's length. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proc/procmem.h"
#include "runtime/java/perfdata.h"

struct prologue {
	uint32_t magic; /* 0xcafec0c0 as bytes */
	int8_t byte_order;
	int8_t major, minor;
	int8_t accessible;
	int32_t used; /* bytes used, prologue included */
	int32_t overflow;
	int64_t mod_time_stamp;
	int32_t entry_offset;
	int32_t num_entries;
};

struct entry {
	int32_t entry_length;
	int32_t name_offset;
	int32_t vector_length; /* a string: its buffer's size */
	int8_t data_type;      /* a string: 'B', a byte vector */
	int8_t flags, data_units, data_variability;
	int32_t data_offset;
};

#define PERFDATA_LITTLE_ENDIAN 1
/* -XX:PerfDataMemorySize's default is 64 KiB; what is used is read whole, up to this. */
#define MAX_USED (16u << 20)

/* The entry named name in the used bytes buf (n of them): its offset in buf, or -1. */
static long find_entry(const unsigned char *buf, size_t n, const struct prologue *pr,
		       const char *name, struct entry *out)
{
	size_t at = (size_t)pr->entry_offset, nlen = strlen(name) + 1;

	for (int32_t i = 0; i < pr->num_entries && at + sizeof(*out) <= n; i++) {
		struct entry e;

		memcpy(&e, buf + at, sizeof(e));
		if (e.entry_length < (int32_t)sizeof(e) || (size_t)e.entry_length > n - at)
			return -1; /* not a walk through entries any more */
		if (e.name_offset >= (int32_t)sizeof(e) && e.name_offset < e.entry_length &&
		    (size_t)(e.entry_length - e.name_offset) >= nlen &&
		    !memcmp(buf + at + e.name_offset, name, nlen)) {
			*out = e;
			return (long)at;
		}
		at += (size_t)e.entry_length;
	}
	return -1;
}

int hs_perfdata_string(pid_t pid, uint64_t start, const char *name, uint64_t *addr, uint32_t *len,
		       char *err, size_t errlen)
{
	static const unsigned char magic[4] = { 0xca, 0xfe, 0xc0, 0xc0 };
	struct prologue pr;
	struct entry e;
	unsigned char *buf;
	long at;
	int rc = proc_mem_read(pid, start, &pr, sizeof(pr));

	if (rc) {
		snprintf(err, errlen, "cannot read the perf data of PID %d: %s", pid,
			 strerror(-rc));
		return rc;
	}
	if (memcmp(&pr.magic, magic, sizeof(magic)) || pr.byte_order != PERFDATA_LITTLE_ENDIAN ||
	    pr.major != 2 || pr.used < (int32_t)sizeof(pr) || (uint32_t)pr.used > MAX_USED ||
	    pr.entry_offset < (int32_t)sizeof(pr) || pr.entry_offset > pr.used) {
		snprintf(err, errlen,
			 "PID %d: its perf data is not HotSpot's version 2 little-endian layout "
			 "(version %d.%d)",
			 pid, pr.major, pr.minor);
		return -EPROTO;
	}
	buf = malloc((size_t)pr.used);
	if (!buf)
		return -ENOMEM;
	rc = proc_mem_read(pid, start, buf, (size_t)pr.used);
	at = rc ? -1 : find_entry(buf, (size_t)pr.used, &pr, name, &e);
	free(buf);
	if (rc) {
		snprintf(err, errlen, "cannot read the perf data of PID %d: %s", pid,
			 strerror(-rc));
		return rc;
	}
	if (at < 0 || e.data_type != 'B' || e.vector_length <= 0 || e.data_offset < 0 ||
	    e.data_offset > e.entry_length - e.vector_length) {
		snprintf(err, errlen, "PID %d: its perf data has no string %s", pid, name);
		return -ENOENT;
	}
	*addr = start + (uint64_t)at + (uint64_t)e.data_offset;
	*len = (uint32_t)e.vector_length;
	return 0;
}

/* See gc_cause.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "proc/procmem.h"
#include "runtime/java/gc_cause.h"
#include "runtime/java/perfdata.h"

int jvm_gc_cause_addr(const struct hs_vmstructs_file *f, pid_t pid, uint64_t *addr, char *err,
		      size_t errlen)
{
	uint64_t start_addr, start;
	uint32_t len;
	int rc = hs_vmstructs_static_addr(f, pid, "PerfMemory", "_start", &start_addr, err, errlen);

	if (rc)
		return rc;
	rc = proc_mem_read(pid, start_addr, &start, sizeof(start));
	if (rc) {
		snprintf(err, errlen, "cannot read PerfMemory::_start in PID %d: %s", pid,
			 strerror(-rc));
		return rc;
	}
	if (!start) {
		snprintf(err, errlen,
			 "PID %d has no perf data (it runs with -XX:-UsePerfData, or has not "
			 "started yet)",
			 pid);
		return -ENODATA;
	}
	return hs_perfdata_string(pid, start, "sun.gc.cause", addr, &len, err, errlen);
}

const char *jvm_gc_cause_name(const char *raw)
{
	/* GCCause::_no_gc's name: what the string says between collections. */
	return !raw[0] || !strcmp(raw, "No GC") ? NULL : raw;
}

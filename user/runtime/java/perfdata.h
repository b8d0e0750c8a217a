/* HotSpot's perf data (what jstat and /tmp/hsperfdata_USER/PID show: named counters and strings the
 * JVM keeps up to date), found in a running JVM's memory (process_vm_readv) from where it begins
 * (PerfMemory::_start, user/runtime/java/vmstructs.h). */
#ifndef RTMON_JAVA_PERFDATA_H
#define RTMON_JAVA_PERFDATA_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The string entry name ("sun.gc.cause") in the perf data at start of process pid: *addr is where
 * its bytes are (NUL-terminated, at most *len with the NUL). 0; -ENOENT when there is no such
 * string; -EPROTO when start holds no perf data rtmon knows; -errno when the process cannot be
 * read. err names the problem. */
int hs_perfdata_string(pid_t pid, uint64_t start, const char *name, uint64_t *addr, uint32_t *len,
		       char *err, size_t errlen);

#endif

/* The cause of each HotSpot collection ("System.gc()", "G1 Evacuation Pause", "Allocation
 * Failure"), named by the JVM itself: the VM thread writes GCCause::to_string of the collection's
 * cause, the words -Xlog:gc prints, into its perf data's string sun.gc.cause as the collection
 * starts. rtmon finds that string's address from HotSpot's own tables (PerfMemory::_start in
 * gHotSpotVMStructs) and the BPF side reads it during the collection (bpf/usdt_gc.bpf.c). Neither
 * the GCCause enum's numbers nor CollectedHeap's layout are needed: gHotSpotVMStructs lists neither
 * CollectedHeap::_gc_cause nor the enum, whose order changes between releases. */
#ifndef RTMON_JAVA_GC_CAUSE_H
#define RTMON_JAVA_GC_CAUSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "runtime/java/vmstructs.h"

/* Where JVM pid keeps its current GC cause: *addr. 0; -ENODATA when the JVM runs without perf data
 * (-XX:-UsePerfData) or has not set it up yet; -errno otherwise. err names the problem. */
int jvm_gc_cause_addr(const struct hs_vmstructs_file *f, pid_t pid, uint64_t *addr, char *err,
		      size_t errlen);

/* The cause as rtmon reports it, from what the BPF side read (NUL-terminated): NULL when there is
 * none ("" when not read, "No GC": a GC operation without a cause, such as G1's Remark pause). */
const char *jvm_gc_cause_name(const char *raw);

#endif

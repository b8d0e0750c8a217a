/* What every GC consumer counts from a backend's records (struct gc_record): cycles, the GC pauses
 * as a log2 histogram in microseconds, and the stop-the-worlds that are not GC. rtmon gc prints
 * these; rtmon serve exports them. */
#ifndef RTMON_GC_STATS_H
#define RTMON_GC_STATS_H

#include <stdint.h>
#include <linux/types.h>
#include "log2.h"
#include "runtime/gc_backend.h"

struct gc_stats {
	__u64 slots[LOG2_SLOTS]; /* GC pauses by log2 of microseconds (bpf/log2.h buckets) */
	uint64_t pauses;
	uint64_t pause_sum_us; /* the sum of each pause in whole microseconds, as bucketed */
	uint64_t pause_ns, pause_max_ns;
	uint64_t pause_min_ns;   /* 0 until the first pause */
	uint64_t cycles, forced; /* cycles begun; those a runtime.GC()-like call forced */
	uint64_t nongc, nongc_ns;
	uint64_t events; /* records seen */
};

/* Counts one record. */
void gc_stats_add(struct gc_stats *st, const struct gc_record *r);

#endif

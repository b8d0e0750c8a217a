#include <string.h>
#include "runtime/gc_stats.h"

void gc_stats_add(struct gc_stats *st, const struct gc_record *r)
{
	st->events++;
	if (r->gc && r->stw) {
		uint64_t us = r->dur_ns / 1000;

		st->slots[log2_slot(us) & (LOG2_SLOTS - 1)]++;
		st->pauses++;
		st->pause_sum_us += us;
		st->pause_ns += r->dur_ns;
		if (r->dur_ns > st->pause_max_ns)
			st->pause_max_ns = r->dur_ns;
		if (!st->pause_min_ns || r->dur_ns < st->pause_min_ns)
			st->pause_min_ns = r->dur_ns;
	}
	if (!r->gc && r->stw) {
		st->nongc++;
		st->nongc_ns += r->dur_ns;
	}
	/* A cycle is counted at its first record; only GC records belong to one. */
	if (r->gc && r->cycle && r->cycle_start) {
		st->cycles++;
		if (r->trigger && !strcmp(r->trigger, "forced"))
			st->forced++;
	}
}

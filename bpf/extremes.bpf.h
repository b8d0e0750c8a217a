/* Running extremes of a histogram's values, kept next to its buckets (struct lifetime_hist in
 * log2.h, struct malloc_stats in alloc.h): the minimum as its complement, so both are maxima and a
 * zeroed entry means none yet. */
#ifndef RTMON_EXTREMES_BPF_H
#define RTMON_EXTREMES_BPF_H

/* *p = max(*p, v) in a map value other CPUs update too. A few tries: a lost race means another CPU
 * stored a value at least as large, or is still storing one (then the next try sees it). */
static __always_inline void atomic_max_u64(__u64 *p, __u64 v)
{
	for (int i = 0; i < 8; i++) {
		__u64 old = *(volatile __u64 *)p;

		if (old >= v || __sync_val_compare_and_swap(p, old, v) == old)
			return;
	}
}

static __always_inline void extremes_add_atomic(__u64 *max, __u64 *min_inv, __u64 v)
{
	atomic_max_u64(max, v);
	atomic_max_u64(min_inv, ~v);
}

/* The same in a per-CPU value, where no other CPU writes. */
static __always_inline void extremes_add_percpu(__u64 *max, __u64 *min_inv, __u64 v)
{
	if (v > *max)
		*max = v;
	if (~v > *min_inv)
		*min_inv = ~v;
}

#endif

/* log2 bucketing shared by the BPF programs and userspace, so both agree on bucket edges.
 * Bucket 0 holds 0 and 1; bucket i (i >= 1) holds [2^i, 2^(i+1) - 1], as BCC's print_log2_hist. */
#ifndef RTMON_LOG2_H
#define RTMON_LOG2_H

#ifndef __bpf__
#include <linux/types.h> /* the BPF side has __u64 from vmlinux.h */
#endif

#define LOG2_SLOTS 64

/* A lifetime histogram (rtmon lat: threads and goroutines): log2 buckets of microseconds, with the
 * count, the sum and the extremes in nanoseconds. The minimum is kept as its complement (min_ns_inv
 * = ~min), so that a zeroed entry means "none yet" and both extremes only ever grow (a maximum).
 * The extremes bound the percentiles, which a log2 bucket alone knows only within a factor of 2. */
struct lifetime_hist {
	__u64 slots[LOG2_SLOTS];
	__u64 count;
	__u64 sum_ns;
	__u64 max_ns;
	__u64 min_ns_inv;
};

/* Branch-light floor(log2(v)) for v >= 1 (0 for v == 0), written without __builtin_clzll so that
 * the BPF backend of clang 14 compiles it. */
static __always_inline unsigned int log2_slot(unsigned long long v)
{
	unsigned int r = 0, shift;

	shift = (v > 0xFFFFFFFFULL) << 5;
	v >>= shift;
	r |= shift;
	shift = (v > 0xFFFFULL) << 4;
	v >>= shift;
	r |= shift;
	shift = (v > 0xFFULL) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xFULL) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3ULL) << 1;
	v >>= shift;
	r |= shift;
	r |= (unsigned int)(v >> 1);
	return r;
}

#endif

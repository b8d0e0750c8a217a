/* log2 bucketing shared by the BPF programs and userspace, so both agree on bucket edges.
 * Bucket 0 holds 0 and 1; bucket i (i >= 1) holds [2^i, 2^(i+1) - 1], as BCC's print_log2_hist. */
#ifndef RTMON_LOG2_H
#define RTMON_LOG2_H

#define LOG2_SLOTS 64

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

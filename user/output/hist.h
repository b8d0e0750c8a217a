/* log2 histograms: percentiles and the BCC-style text form. Buckets as in bpf/log2.h. */
#ifndef RTMON_HIST_H
#define RTMON_HIST_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include <stdio.h>
#include "log2.h"

/* Bucket i covers [hist_lo(i), hist_hi(i)]: 0..1, 2..3, 4..7, ... */
uint64_t hist_lo(int slot);
uint64_t hist_hi(int slot);

/* Estimate of the p-quantile (0 < p <= 1) from bucket counts: linear within the bucket holding it.
 * 0 for an empty histogram. */
double hist_percentile(const __u64 *slots, int nslots, double p);

uint64_t hist_total(const __u64 *slots, int nslots);

/* The smallest and largest value seen, in the buckets' unit; known is false before any value. */
struct hist_range {
	bool known;
	bool bound_only; /* of the whole run, in a report of one -i interval: it bounds the
			  * percentiles but is not printed as the interval's min and max */
	double min, max;
};

/* From the kernel's extremes (log2.h: the minimum as its complement), times scale (1e-3: ns to the
 * buckets' us). */
struct hist_range hist_range_of(uint64_t max, uint64_t min_inv, double scale);

/* hist_percentile kept within the range when it is known: a bucket spans a factor of two, so its
 * interpolation alone can land above the largest value seen or below the smallest. */
double hist_percentile_in(const __u64 *slots, int nslots, double p, const struct hist_range *r);

/* a += b (merging two keys' histograms: extremes combined), or with sign -1 a -= b (an earlier
 * snapshot of the same key: a keeps its extremes, which are since tracing began). */
void lifetime_hist_add(struct lifetime_hist *a, const struct lifetime_hist *b, int sign);

/* A lifetime histogram's extremes in its buckets' unit (us). */
struct hist_range lifetime_hist_range(const struct lifetime_hist *h);

/* "mean M us, p50 ~A us, p99 ~B us, min X us, max Y us\n" (threads' and goroutines' lines).
 * Without extremes (an -i report: the kernel's are of the whole run) min and max are left out. */
void hist_print_lifetime_stats(FILE *out, const struct lifetime_hist *h, bool extremes);

/* Prints buckets 0..last non-empty, with a 40-column bar scaled to the largest bucket.
 * unit is the column heading, e.g. "size (bytes)". Prints nothing for an empty histogram. */
void hist_print_log2(FILE *out, const __u64 *slots, int nslots, const char *unit);
/* The same with mark ("~" for estimates) before each non-zero count. */
void hist_print_log2_marked(FILE *out, const __u64 *slots, int nslots, const char *unit,
			    const char *mark);

#endif

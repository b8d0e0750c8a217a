/* log2 histograms: percentiles and the BCC-style text form. Buckets as in bpf/log2.h. */
#ifndef RTMON_HIST_H
#define RTMON_HIST_H

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

/* Prints buckets 0..last non-empty, with a 40-column bar scaled to the largest bucket.
 * unit is the column heading, e.g. "size (bytes)". Prints nothing for an empty histogram. */
void hist_print_log2(FILE *out, const __u64 *slots, int nslots, const char *unit);
/* The same with mark ("~" for estimates) before each non-zero count. */
void hist_print_log2_marked(FILE *out, const __u64 *slots, int nslots, const char *unit,
			    const char *mark);

#endif

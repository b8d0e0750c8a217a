/* rtmon's own process, as Prometheus' client libraries export it (process_* metrics): read from
 * /proc/self when a scrape asks. */
#ifndef RTMON_SELF_STATS_H
#define RTMON_SELF_STATS_H

#include <stdint.h>

struct self_stats {
	double cpu_seconds;      /* user + system */
	uint64_t resident_bytes; /* RSS */
	uint64_t virtual_bytes;
	double start_time_seconds; /* since the epoch */
	uint64_t open_fds, max_fds;
};

/* 0, or -errno when /proc/self could not be read. */
int self_stats_read(struct self_stats *st);

#endif

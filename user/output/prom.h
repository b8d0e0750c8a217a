/* The Prometheus text exposition format (version 0.0.4) and OpenMetrics 1.0 text, for rtmon
 * serve's /metrics: families with HELP and TYPE, samples with labels, log2 histograms. Label
 * values come from the target (its executable's path): they are escaped as both formats say
 * (backslash, double quote, newline) and kept valid UTF-8. */
#ifndef RTMON_PROM_H
#define RTMON_PROM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>

enum prom_format { PROM_TEXT, PROM_OPENMETRICS };

enum prom_type { PROM_COUNTER, PROM_GAUGE, PROM_HISTOGRAM };

struct prom_writer {
	FILE *out;
	enum prom_format fmt;
	const char
		*labels; /* put on every sample: 'pid="1",exe="/bin/x"' from prom_labels, or "" */
};

/* OpenMetrics when the Accept header names application/openmetrics-text, else the text format. */
enum prom_format prom_format_for_accept(const char *accept);
const char *prom_content_type(enum prom_format fmt);

/* Writes s as a label value's body (without the quotes): \ " and newline escaped, each byte that
 * is not part of well-formed UTF-8 written as U+FFFD. */
void prom_write_label_value(FILE *out, const char *s);

/* Renders n name/value pairs (kv[2i], kv[2i+1]) as 'k="v",...' into a malloc'd string for
 * struct prom_writer's labels. NULL on failure. */
char *prom_labels(const char *const *kv, int n);

/* Starts a family: HELP and TYPE (and UNIT in OpenMetrics when unit is non-NULL). name is the
 * family's name without _total; a counter's samples get it (prom_counter). */
void prom_family(const struct prom_writer *w, const char *name, enum prom_type type,
		 const char *unit, const char *help);

/* One sample of the family. extra is a further 'k="v"' label (already escaped) or NULL. */
void prom_counter(const struct prom_writer *w, const char *name, const char *extra, uint64_t v);
/* A counter that is not a whole number (process_cpu_seconds_total). */
void prom_counter_f(const struct prom_writer *w, const char *name, const char *extra, double v);
void prom_gauge(const struct prom_writer *w, const char *name, const char *extra, double v);

/* A histogram from log2 buckets (bpf/log2.h): bucket i of values in units of scale (1e-6: slots
 * count microseconds and the family is in seconds) holds values below 2^(i+1) * scale, so its le
 * is that; buckets past nle go to +Inf only. count is the sum of the slots; sum is in the
 * family's unit. */
void prom_log2_histogram(const struct prom_writer *w, const char *name, const __u64 *slots,
			 int nslots, int nle, double scale, double sum);

/* Ends the exposition (OpenMetrics' # EOF). */
void prom_finish(const struct prom_writer *w);

#endif

/* JSON lines output (docs/json.md): one object per line on stdout. */
#ifndef RTMON_JSON_H
#define RTMON_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include <stdio.h>
#include "output/hist.h"
#include <sys/types.h>

/* A JSON string literal, quoted and escaped; always valid UTF-8 (json_write_str, output/escape.h).
 */
void json_str(FILE *out, const char *s);

/* A JSON object written as a stream, one field at a time: json_begin writes '{"type":"TYPE"' and
 * the record's wall-clock time, ',"time":"2026-12-02T15:20:01.123456Z"' (RFC 3339, UTC), each
 * json_field_* writes ',"KEY":VALUE' (so a command's own fields, and report_target_end's, can
 * follow in any number), json_end writes '}' and the newline. Keys are rtmon's own; strings go
 * through json_str. */
void json_begin(FILE *out, const char *type);
/* The same for an event that happened at mono_ns on CLOCK_MONOTONIC (bpf_ktime_get_ns): its own
 * time, not when it was written. */
void json_begin_at(FILE *out, const char *type, uint64_t mono_ns);
/* Tests: every record gets this time (ns since the epoch); -1 for the clock again. */
void json_set_fixed_time(int64_t ns);
void json_field_u64(FILE *out, const char *key, uint64_t v);
void json_field_f(FILE *out, const char *key, double v, int decimals);
void json_field_str(FILE *out, const char *key, const char *s);
void json_field_bool(FILE *out, const char *key, bool v);
void json_field_i64(FILE *out, const char *key, int64_t v);
void json_field_null(FILE *out, const char *key);
void json_end(FILE *out);
/* A field whose value is an object: ',"KEY":{' then its fields, then json_object_close ('}'). */
void json_object_open(FILE *out, const char *key);
void json_object_close(FILE *out);
/* A field whose value is an array of objects: json_array_open, then per element
 * json_array_object_open, its fields and json_object_close, then json_array_close. */
void json_array_open(FILE *out, const char *key);
void json_array_object_open(FILE *out);
void json_array_close(FILE *out);
/* A field whose value is an array of n numbers. */
void json_field_u64_array(FILE *out, const char *key, const uint64_t *v, size_t n);
/* A double with 6 significant digits (printf's %g): fractions and percentages. */
void json_field_g(FILE *out, const char *key, double v);
/* A double written so that it reads back exactly (the fewest of 15 to 17 significant digits that
 * do, as Go's encoding/json writes a float64): a runtime's own figure compared with what it prints
 * itself. A value that is not finite is written as null (JSON has no NaN). */
void json_field_exact(FILE *out, const char *key, double v);

/* Begins a "hist" object (json_begin) with the fields every histogram has, so a command can add
 * its own and json_end it: "name":..,"unit":..,"pid":P|null,
 * "buckets":[{"lo":..,"hi":..,"count":..},..],"count":N,"sum":S,"mean":..,"p50":..,"p99":.., and
 * "min":..,"max":.. when range is known (may be NULL; the percentiles are kept within it). Empty
 * buckets are left out. */
void json_hist_begin(FILE *out, const char *name, const char *unit, pid_t pid, const __u64 *slots,
		     int nslots, uint64_t count, uint64_t sum, const struct hist_range *range);

#endif

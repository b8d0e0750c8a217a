/* JSON lines output (docs/json.md): one object per line on stdout. */
#ifndef RTMON_JSON_H
#define RTMON_JSON_H

#include <stdint.h>
#include <linux/types.h>
#include <stdio.h>
#include <sys/types.h>

/* A JSON string literal, quoted and escaped; always valid UTF-8 (json_write_str, output/escape.h). */
void json_str(FILE *out, const char *s);

/* The fields every "hist" object has, without braces, so a command can add its own:
 * "type":"hist","name":..,"unit":..,"pid":P|null,"buckets":[{"lo":..,"hi":..,"count":..},..],
 * "count":N,"sum":S,"mean":..,"p50":..,"p99":.. (empty buckets are left out). */
void json_hist_fields(FILE *out, const char *name, const char *unit, pid_t pid, const __u64 *slots,
		      int nslots, uint64_t count, uint64_t sum);

#endif

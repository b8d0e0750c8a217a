#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "output/hist.h"
#include "output/escape.h"
#include "output/json.h"
#include "output/wall_clock.h"

/* The next field is the first of a nested object: no comma before it. rtmon writes JSON from one
 * thread, one object at a time. */
static bool first_in_object;

void json_str(FILE *out, const char *s)
{
	json_write_str(out, s);
}

void json_hist_begin(FILE *out, const char *name, const char *unit, pid_t pid, const __u64 *slots,
		     int nslots, uint64_t count, uint64_t sum, const struct hist_range *range)
{
	bool first = true;

	json_begin(out, "hist");
	fputs(",\"name\":", out);
	json_str(out, name);
	fputs(",\"unit\":", out);
	json_str(out, unit);
	if (pid > 0)
		fprintf(out, ",\"pid\":%d", pid);
	else
		fputs(",\"pid\":null", out);
	fputs(",\"buckets\":[", out);
	for (int i = 0; i < nslots; i++) {
		if (!slots[i])
			continue;
		fprintf(out, "%s{\"lo\":%llu,\"hi\":%llu,\"count\":%llu}", first ? "" : ",",
			(unsigned long long)hist_lo(i), (unsigned long long)hist_hi(i),
			(unsigned long long)slots[i]);
		first = false;
	}
	fprintf(out, "],\"count\":%llu,\"sum\":%llu,\"mean\":%.1f,\"p50\":%.1f,\"p99\":%.1f",
		(unsigned long long)count, (unsigned long long)sum,
		count ? (double)sum / (double)count : 0.0,
		hist_percentile_in(slots, nslots, 0.50, range),
		hist_percentile_in(slots, nslots, 0.99, range));
	if (range && range->known && !range->bound_only && count)
		fprintf(out, ",\"min\":%.1f,\"max\":%.1f", range->min, range->max);
}

static int64_t fixed_time_ns = -1; /* json_set_fixed_time: tests */

void json_set_fixed_time(int64_t ns)
{
	fixed_time_ns = ns;
}

/* ,"time":"2026-12-02T15:20:01.123456Z" (RFC 3339, UTC, microseconds). The date and second are
 * formatted once per second: a stream of events pays for the microseconds only. */
static void write_time(FILE *out, int64_t ns)
{
	static time_t cached_sec = -1;
	static char prefix[32];
	time_t sec = (time_t)(ns / 1000000000);
	struct tm tm;

	if (sec != cached_sec) {
		gmtime_r(&sec, &tm);
		strftime(prefix, sizeof(prefix), "%Y-%m-%dT%H:%M:%S", &tm);
		cached_sec = sec;
	}
	fprintf(out, ",\"time\":\"%s.%06dZ\"", prefix, (int)(ns % 1000000000 / 1000));
}

static void begin_at_wall(FILE *out, const char *type, int64_t wall_ns)
{
	first_in_object = false;
	fputs_unlocked("{\"type\":", out);
	json_str(out, type);
	write_time(out, fixed_time_ns >= 0 ? fixed_time_ns : wall_ns);
}

void json_begin(FILE *out, const char *type)
{
	begin_at_wall(out, type, wall_clock_now_ns());
}

void json_begin_at(FILE *out, const char *type, uint64_t mono_ns)
{
	begin_at_wall(out, type, wall_clock_of_mono(mono_ns));
}

/* Keys are rtmon's own literals (plain ASCII, nothing to escape): written as they are, which keeps
 * a field as cheap as the printf it replaces. */
static void key(FILE *out, const char *k)
{
	if (first_in_object)
		first_in_object = false;
	else
		putc_unlocked(',', out);
	fputs_unlocked("\"", out);
	fputs_unlocked(k, out);
	fputs_unlocked("\":", out);
}

void json_field_u64(FILE *out, const char *k, uint64_t v)
{
	char buf[24], *p = buf + sizeof(buf);

	key(out, k);
	do /* digits from the right: cheaper than a printf per number */
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	fwrite_unlocked(p, 1, (size_t)(buf + sizeof(buf) - p), out);
}

void json_field_f(FILE *out, const char *k, double v, int decimals)
{
	key(out, k);
	fprintf(out, "%.*f", decimals, v);
}

void json_field_str(FILE *out, const char *k, const char *s)
{
	key(out, k);
	json_str(out, s);
}

void json_field_bool(FILE *out, const char *k, bool v)
{
	key(out, k);
	fputs_unlocked(v ? "true" : "false", out);
}

void json_field_i64(FILE *out, const char *k, int64_t v)
{
	if (v >= 0) {
		json_field_u64(out, k, (uint64_t)v);
		return;
	}
	key(out, k);
	fprintf(out, "%lld", (long long)v);
}

void json_object_open(FILE *out, const char *k)
{
	key(out, k);
	putc_unlocked('{', out);
	first_in_object = true;
}

void json_object_close(FILE *out)
{
	first_in_object = false;
	putc_unlocked('}', out);
}

void json_array_open(FILE *out, const char *k)
{
	key(out, k);
	putc_unlocked('[', out);
	first_in_object = true;
}

void json_array_object_open(FILE *out)
{
	if (first_in_object)
		first_in_object = false;
	else
		putc_unlocked(',', out);
	putc_unlocked('{', out);
	first_in_object = true;
}

void json_array_close(FILE *out)
{
	first_in_object = false;
	putc_unlocked(']', out);
}

void json_field_u64_array(FILE *out, const char *k, const uint64_t *v, size_t n)
{
	key(out, k);
	putc_unlocked('[', out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%llu", i ? "," : "", (unsigned long long)v[i]);
	putc_unlocked(']', out);
}

void json_field_g(FILE *out, const char *k, double v)
{
	key(out, k);
	fprintf(out, "%g", v);
}

void json_field_exact(FILE *out, const char *k, double v)
{
	char buf[32];

	key(out, k);
	if (!isfinite(v)) {
		fputs_unlocked("null", out);
		return;
	}
	for (int digits = 15; digits <= 17; digits++) {
		snprintf(buf, sizeof(buf), "%.*g", digits, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	fputs_unlocked(buf, out);
}

void json_field_null(FILE *out, const char *k)
{
	key(out, k);
	fputs_unlocked("null", out);
}

void json_end(FILE *out)
{
	first_in_object = false;
	fputs_unlocked("}\n", out);
}

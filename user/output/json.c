#include <stdbool.h>
#include "output/hist.h"
#include "output/escape.h"
#include "output/json.h"

void json_str(FILE *out, const char *s)
{
	json_write_str(out, s);
}

void json_hist_fields(FILE *out, const char *name, const char *unit, pid_t pid, const __u64 *slots,
		      int nslots, uint64_t count, uint64_t sum)
{
	bool first = true;

	fputs("\"type\":\"hist\",\"name\":", out);
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
		(unsigned long long)count, (unsigned long long)sum, count ? (double)sum / (double)count : 0.0,
		hist_percentile(slots, nslots, 0.50), hist_percentile(slots, nslots, 0.99));
}

void json_begin(FILE *out, const char *type)
{
	fputs("{\"type\":", out);
	json_str(out, type);
}

static void key(FILE *out, const char *k)
{
	fputc(',', out);
	json_str(out, k);
	fputc(':', out);
}

void json_field_u64(FILE *out, const char *k, uint64_t v)
{
	key(out, k);
	fprintf(out, "%llu", (unsigned long long)v);
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
	fputs(v ? "true" : "false", out);
}

void json_end(FILE *out)
{
	fputs("}\n", out);
}

void json_summary_begin(FILE *out, const char *command, uint64_t events, uint64_t lost, double secs,
			const char *end)
{
	json_begin(out, "summary");
	json_field_str(out, "command", command);
	json_field_u64(out, "events", events);
	json_field_u64(out, "lost", lost);
	json_field_f(out, "duration_s", secs, 3);
	json_field_str(out, "end", end);
}

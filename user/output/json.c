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

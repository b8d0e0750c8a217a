#include <string.h>
#include "output/hist.h"
#include "output/units.h"

uint64_t hist_lo(int slot)
{
	return slot == 0 ? 0 : 1ULL << slot;
}

uint64_t hist_hi(int slot)
{
	return slot >= 63 ? UINT64_MAX : (2ULL << slot) - 1;
}

uint64_t hist_total(const __u64 *slots, int nslots)
{
	uint64_t n = 0;

	for (int i = 0; i < nslots; i++)
		n += slots[i];
	return n;
}

double hist_percentile(const __u64 *slots, int nslots, double p)
{
	uint64_t total = hist_total(slots, nslots), seen = 0;
	double rank;

	if (!total)
		return 0;
	rank = p * (double)total;
	for (int i = 0; i < nslots; i++) {
		if (!slots[i])
			continue;
		if ((double)(seen + slots[i]) >= rank) {
			double lo = (double)hist_lo(i), width = (double)hist_hi(i) - lo + 1;
			double frac = (rank - (double)seen) / (double)slots[i];

			return lo + frac * width;
		}
		seen += slots[i];
	}
	return (double)hist_hi(nslots - 1);
}

struct hist_range hist_range_of(uint64_t max, uint64_t min_inv, double scale)
{
	struct hist_range r = { .known = min_inv != 0 };

	if (r.known) {
		r.min = (double)~min_inv * scale;
		r.max = (double)max * scale;
	}
	return r;
}

double hist_percentile_in(const __u64 *slots, int nslots, double p, const struct hist_range *r)
{
	double v = hist_percentile(slots, nslots, p);

	if (!r || !r->known || !hist_total(slots, nslots))
		return v;
	if (v < r->min)
		return r->min;
	return v > r->max ? r->max : v;
}

void lifetime_hist_add(struct lifetime_hist *a, const struct lifetime_hist *b, int sign)
{
	for (int i = 0; i < LOG2_SLOTS; i++)
		a->slots[i] += sign * b->slots[i];
	a->count += sign * b->count;
	a->sum_ns += sign * b->sum_ns;
	if (sign > 0) {
		if (b->max_ns > a->max_ns)
			a->max_ns = b->max_ns;
		if (b->min_ns_inv > a->min_ns_inv)
			a->min_ns_inv = b->min_ns_inv;
	}
}

struct hist_range lifetime_hist_range(const struct lifetime_hist *h)
{
	return hist_range_of(h->max_ns, h->min_ns_inv, 1e-3);
}

void hist_print_lifetime_stats(FILE *out, const struct lifetime_hist *h, bool extremes)
{
	struct hist_range r = lifetime_hist_range(h);
	char mean[UNITS_LEN], p50[UNITS_LEN], p99[UNITS_LEN], lo[UNITS_LEN], hi[UNITS_LEN];

	/* The buckets are microseconds; the summary in the unit that suits each value. */
	units_duration(h->count ? (double)h->sum_ns / (double)h->count : 0.0, mean, sizeof(mean));
	units_duration(1e3 * hist_percentile_in(h->slots, LOG2_SLOTS, 0.5, &r), p50, sizeof(p50));
	units_duration(1e3 * hist_percentile_in(h->slots, LOG2_SLOTS, 0.99, &r), p99, sizeof(p99));
	fprintf(out, "mean %s, p50 ~%s, p99 ~%s", mean, p50, p99);
	if (extremes && r.known && h->count) {
		units_duration(1e3 * r.min, lo, sizeof(lo));
		units_duration(1e3 * r.max, hi, sizeof(hi));
		fprintf(out, ", min %s, max %s", lo, hi);
	}
	fputc('\n', out);
}

static void print_bar(FILE *out, uint64_t v, uint64_t max, int width)
{
	int stars = max ? (int)((v * (uint64_t)width + max - 1) / max) : 0;

	if (stars > width)
		stars = width;
	fputc('|', out);
	for (int i = 0; i < width; i++)
		fputc(i < stars ? '*' : ' ', out);
	fputc('|', out);
}

void hist_print_log2(FILE *out, const __u64 *slots, int nslots, const char *unit)
{
	hist_print_log2_marked(out, slots, nslots, unit, "");
}

void hist_print_log2_marked(FILE *out, const __u64 *slots, int nslots, const char *unit,
			    const char *mark)
{
	int last = -1, w;
	uint64_t max = 0;

	for (int i = 0; i < nslots; i++) {
		if (slots[i])
			last = i;
		if (slots[i] > max)
			max = slots[i];
	}
	if (last < 0)
		return;
	/* Column width from the largest bound printed, so small histograms stay narrow. */
	w = snprintf(NULL, 0, "%llu", (unsigned long long)hist_hi(last));
	if (w < 5)
		w = 5;
	fprintf(out, "%*s : count    distribution\n", 2 * w + 4, unit);
	for (int i = 0; i <= last; i++) {
		char count[32];

		snprintf(count, sizeof(count), "%s%llu", slots[i] ? mark : "",
			 (unsigned long long)slots[i]);
		fprintf(out, "%*llu -> %-*llu : %-8s ", w, (unsigned long long)hist_lo(i), w,
			(unsigned long long)hist_hi(i), count);
		print_bar(out, slots[i], max, 40);
		fputc('\n', out);
	}
}

/* The text report of a profile: the top N stacks by one value, each with its values and their
 * shares, then its frames from the root down, the innermost last. Every string from the target
 * goes through text_safe. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "output/units.h"
#include "output/profile_impl.h"

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s && s[1] ? s + 1 : path;
}

static void write_frame(FILE *out, const struct profile_frame *f)
{
	char a[TEXT_SAFE_MAX], b[TEXT_SAFE_MAX], unknown[PROFILE_UNKNOWN_MAX];

	if (!f->func) {
		profile_frame_unknown(f, unknown, sizeof(unknown));
		fprintf(out, "    %s\n", text_safe(unknown, a, sizeof(a)));
		return;
	}
	fprintf(out, "    %s", text_safe(f->func, a, sizeof(a)));
	if (f->file && f->line)
		fprintf(out, "  %s:%" PRIu32, text_safe(f->file, b, sizeof(b)), f->line);
	else if (f->file)
		fprintf(out, "  %s", text_safe(f->file, b, sizeof(b)));
	else if (f->module)
		fprintf(out, "  [%s]", text_safe(base_name(f->module), b, sizeof(b)));
	fputs(f->inlined ? " (inlined)\n" : "\n", out);
}

static double share(int64_t v, int64_t total)
{
	return total > 0 ? 100.0 * (double)v / (double)total : 0.0;
}

/* A value in the unit a reader wants: bytes in B/KiB/MiB, nanoseconds in ns/us/ms/s, counts as
 * they are (--json and --pprof keep the integers). */
static const char *value_text(const struct profile *p, size_t type, int64_t v, char *out,
			      size_t len)
{
	const char *unit = profile_str(p, p->unit[type]);

	if (v >= 0 && !strcmp(unit, "bytes"))
		units_bytes((uint64_t)v, out, len);
	else if (v >= 0 && !strcmp(unit, "nanoseconds"))
		units_duration((double)v, out, len);
	else
		snprintf(out, len, "%" PRId64, v);
	return out;
}

static void write_sample(const struct profile *p, FILE *out, size_t rank, size_t sample,
			 size_t value, const int64_t *totals)
{
	const struct prof_sample *s = &p->samples[sample];
	const int64_t *v = profile_sample_values(p, sample);
	char a[TEXT_SAFE_MAX], b[TEXT_SAFE_MAX], num[UNITS_LEN];

	/* The chosen value first, then the others in their order. */
	fprintf(out, "#%zu %s %s (%.1f%%)", rank, profile_str(p, p->type[value]),
		value_text(p, value, v[value], num, sizeof(num)), share(v[value], totals[value]));
	for (size_t i = 0; i < p->ntypes; i++)
		if (i != value)
			fprintf(out, ", %s %s (%.1f%%)", profile_str(p, p->type[i]),
				value_text(p, i, v[i], num, sizeof(num)), share(v[i], totals[i]));
	for (uint32_t i = 0; i < s->nlabels; i++) {
		const struct prof_label *l = &p->labels[s->label_off + i];

		text_safe(profile_str(p, l->key), a, sizeof(a));
		if (l->str)
			fprintf(out, "  %s=%s", a, text_safe(profile_str(p, l->str), b, sizeof(b)));
		else
			fprintf(out, "  %s=%" PRId64, a, l->num);
	}
	putc('\n', out);
	for (uint32_t j = s->nlocs; j-- > 0;) {
		uint32_t loc = p->locs[s->loc_off + j];

		for (size_t k = profile_location_nframes(p, loc); k-- > 0;) {
			struct profile_frame f;

			profile_frame_get(p, loc, k, &f);
			write_frame(out, &f);
		}
	}
}

void profile_write_text(const struct profile *p, FILE *out, size_t value, size_t top)
{
	int64_t totals[PROFILE_TYPES_MAX];
	size_t *order, n;

	if (value >= p->ntypes)
		value = 0;
	for (size_t i = 0; i < p->ntypes; i++)
		totals[i] = profile_total(p, i);
	n = p->n_samples < top ? p->n_samples : top;
	char num[UNITS_LEN];

	fprintf(out, "Top %zu of %zu stacks by %s (%s %s in all", n, p->n_samples,
		profile_str(p, p->type[value]), profile_str(p, p->type[value]),
		value_text(p, value, totals[value], num, sizeof(num)));
	for (size_t i = 0; i < p->ntypes; i++)
		if (i != value)
			fprintf(out, ", %s %s", profile_str(p, p->type[i]),
				value_text(p, i, totals[i], num, sizeof(num)));
	fputs("), root first:\n", out);
	order = profile_samples_by_value(p, value);
	for (size_t i = 0; order && i < n; i++)
		write_sample(p, out, i + 1, order[i], value, totals);
	if (!order)
		fputs("(out of memory: stacks not shown)\n", out);
	free(order);
	if (p->lost_stacks || p->truncated_stacks)
		fprintf(out,
			"stacks lost %" PRIu64 " (a full stack map or a failed copy), "
			"truncated %" PRIu64 " (cut at the frame limit)\n",
			p->lost_stacks, p->truncated_stacks);
}

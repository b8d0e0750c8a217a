#include <stdlib.h>
#include <string.h>
#include "output/escape.h"
#include "output/prom.h"

enum prom_format prom_format_for_accept(const char *accept)
{
	return accept && strstr(accept, "application/openmetrics-text") ? PROM_OPENMETRICS
									: PROM_TEXT;
}

const char *prom_content_type(enum prom_format fmt)
{
	return fmt == PROM_OPENMETRICS
		       ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
		       : "text/plain; version=0.0.4; charset=utf-8";
}

void prom_write_label_value(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = utf8_seq_len(p);

		if (!n) {
			fputs("\xef\xbf\xbd", out); /* U+FFFD */
			p++;
			continue;
		}
		if (*p == '\\' || *p == '"')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else
			fwrite(p, 1, n, out);
		p += n;
	}
}

char *prom_labels(const char *const *kv, int n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (int i = 0; i < n; i++) {
		fprintf(f, "%s%s=\"", i ? "," : "", kv[2 * i]);
		prom_write_label_value(f, kv[2 * i + 1]);
		fputc('"', f);
	}
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* HELP text: backslash and newline escaped (both formats). */
static void write_help(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

static const char *const type_names[] = { "counter", "gauge", "histogram" };

void prom_family(const struct prom_writer *w, const char *name, enum prom_type type,
		 const char *unit, const char *help)
{
	/* The text format names a counter's family by its sample (_total), OpenMetrics without. */
	const char *suffix = type == PROM_COUNTER && w->fmt == PROM_TEXT ? "_total" : "";

	fprintf(w->out, "# HELP %s%s ", name, suffix);
	write_help(w->out, help);
	fprintf(w->out, "\n# TYPE %s%s %s\n", name, suffix, type_names[type]);
	if (unit && w->fmt == PROM_OPENMETRICS)
		fprintf(w->out, "# UNIT %s %s\n", name, unit);
}

static void sample_start(const struct prom_writer *w, const char *name, const char *suffix,
			 const char *extra)
{
	bool common = w->labels && *w->labels, more = extra && *extra;

	fprintf(w->out, "%s%s", name, suffix);
	if (common || more)
		fprintf(w->out, "{%s%s%s}", common ? w->labels : "", common && more ? "," : "",
			more ? extra : "");
}

void prom_counter(const struct prom_writer *w, const char *name, const char *extra, uint64_t v)
{
	sample_start(w, name, "_total", extra);
	fprintf(w->out, " %llu\n", (unsigned long long)v);
}

void prom_counter_f(const struct prom_writer *w, const char *name, const char *extra, double v)
{
	sample_start(w, name, "_total", extra);
	fprintf(w->out, " %.15g\n", v);
}

void prom_gauge(const struct prom_writer *w, const char *name, const char *extra, double v)
{
	sample_start(w, name, "", extra);
	fprintf(w->out, " %.15g\n", v);
}

void prom_log2_histogram(const struct prom_writer *w, const char *name, const __u64 *slots,
			 int nslots, int nle, double scale, double sum)
{
	uint64_t cum = 0, total = 0;
	char le[48];

	for (int i = 0; i < nslots; i++)
		total += slots[i];
	for (int i = 0; i < nle && i < nslots; i++) {
		cum += slots[i];
		snprintf(le, sizeof(le), "le=\"%.12g\"", (double)(2ULL << i) * scale);
		sample_start(w, name, "_bucket", le);
		fprintf(w->out, " %llu\n", (unsigned long long)cum);
	}
	sample_start(w, name, "_bucket", "le=\"+Inf\"");
	fprintf(w->out, " %llu\n", (unsigned long long)total);
	sample_start(w, name, "_sum", NULL);
	fprintf(w->out, " %.15g\n", sum);
	sample_start(w, name, "_count", NULL);
	fprintf(w->out, " %llu\n", (unsigned long long)total);
}

void prom_finish(const struct prom_writer *w)
{
	if (w->fmt == PROM_OPENMETRICS)
		fputs("# EOF\n", w->out);
}

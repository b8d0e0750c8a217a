/* Folded stacks, the input of flamegraph.pl, inferno and speedscope: one line per sample,
 * "root;caller;...;leaf VALUE". Those tools split a line at ';' and at its last space and read it
 * up to the newline, so a name must not hold ';', a newline or any other control character:
 * each such byte, '%' itself, and each byte that is not part of well-formed UTF-8 is written as
 * %XX (hex), which keeps every name readable and reversible (docs/profiles.md). */
#include <inttypes.h>
#include "output/profile_impl.h"

static void write_name(FILE *out, const char *s)
{
	const unsigned char *b = (const unsigned char *)s;

	while (*b) {
		size_t n = *b >= 0x80 ? utf8_seq_len(b) : 1;

		/* C1 controls (U+0080..U+009F) are two bytes, 0xc2 0x80..0x9f. */
		if (n == 2 && b[0] == 0xc2 && b[1] < 0xa0)
			n = 0;
		if (n > 1) {
			fwrite(b, 1, n, out);
			b += n;
		} else if (n == 0 || *b < 0x20 || *b == 0x7f || *b == ';' || *b == '%') {
			fprintf(out, "%%%02X", *b++);
		} else {
			putc(*b++, out);
		}
	}
}

static void write_frame(FILE *out, const struct profile_frame *f)
{
	char unknown[PROFILE_UNKNOWN_MAX];

	if (f->func) {
		write_name(out, f->func);
		return;
	}
	profile_frame_unknown(f, unknown, sizeof(unknown));
	write_name(out, unknown);
}

/* String labels (a thread name with --per-thread) come first, as root frames "key=value", so a
 * flame graph splits by them; numeric labels are pprof's only. */
static bool write_labels(const struct profile *p, FILE *out, const struct prof_sample *s)
{
	bool first = true;

	for (uint32_t i = 0; i < s->nlabels; i++) {
		const struct prof_label *l = &p->labels[s->label_off + i];

		if (!l->str)
			continue;
		if (!first)
			putc(';', out);
		write_name(out, profile_str(p, l->key));
		putc('=', out);
		write_name(out, profile_str(p, l->str));
		first = false;
	}
	return !first;
}

void profile_write_folded(const struct profile *p, FILE *out, size_t value)
{
	for (size_t i = 0; i < p->n_samples; i++) {
		const struct prof_sample *s = &p->samples[i];
		int64_t v = profile_sample_values(p, i)[value];
		bool any;

		/* Zero-valued stacks add nothing to a flame graph (e.g. bytes of a CPU sample). */
		if (!v)
			continue;
		any = write_labels(p, out, s);
		/* Root first: the outermost location, and in it the outermost inlining level. */
		for (uint32_t j = s->nlocs; j-- > 0;) {
			uint32_t loc = p->locs[s->loc_off + j];

			for (size_t k = profile_location_nframes(p, loc); k-- > 0;) {
				struct profile_frame f;

				profile_frame_get(p, loc, k, &f);
				if (any)
					putc(';', out);
				write_frame(out, &f);
				any = true;
			}
		}
		fprintf(out, " %" PRId64 "\n", v);
	}
}

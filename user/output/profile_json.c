/* JSON lines of a profile (docs/json.md, docs/profiles.md): one "stack" object per sample, then
 * one "profile" object with the value types, the totals and the stacks that were lost. */
#include "output/json.h"
#include "output/profile_impl.h"

static void str_or_null(FILE *out, const char *key, const char *s)
{
	if (s)
		json_field_str(out, key, s);
	else
		json_field_null(out, key);
}

static void write_frame(FILE *out, const struct profile_frame *f)
{
	json_array_object_open(out);
	str_or_null(out, "func", f->func);
	str_or_null(out, "file", f->file);
	if (f->line)
		json_field_u64(out, "line", f->line);
	else
		json_field_null(out, "line");
	str_or_null(out, "module", f->module);
	json_field_u64(out, "offset", f->offset);
	json_field_u64(out, "address", f->addr);
	json_field_bool(out, "inlined", f->inlined);
	json_object_close(out);
}

static void write_sample(const struct profile *p, FILE *out, size_t i)
{
	const struct prof_sample *s = &p->samples[i];
	const int64_t *v = profile_sample_values(p, i);

	json_begin(out, "stack");
	json_object_open(out, "values");
	for (size_t t = 0; t < p->ntypes; t++)
		json_field_i64(out, profile_str(p, p->type[t]), v[t]);
	json_object_close(out);
	/* Keys are unique in a sample (profile_add refuses a key given twice). */
	json_object_open(out, "labels");
	for (uint32_t j = 0; j < s->nlabels; j++) {
		const struct prof_label *l = &p->labels[s->label_off + j];

		if (l->str)
			json_field_str(out, profile_str(p, l->key), profile_str(p, l->str));
		else
			json_field_i64(out, profile_str(p, l->key), l->num);
	}
	json_object_close(out);
	json_array_open(out, "frames");
	for (uint32_t j = 0; j < s->nlocs; j++) {
		uint32_t loc = p->locs[s->loc_off + j];
		size_t n = profile_location_nframes(p, loc);

		for (size_t k = 0; k < n; k++) {
			struct profile_frame f;

			profile_frame_get(p, loc, k, &f);
			write_frame(out, &f);
		}
	}
	json_array_close(out);
	json_end(out);
}

void profile_write_json(const struct profile *p, FILE *out)
{
	for (size_t i = 0; i < p->n_samples; i++)
		write_sample(p, out, i);
	json_begin(out, "profile");
	json_array_open(out, "sample_types");
	for (size_t t = 0; t < p->ntypes; t++) {
		json_array_object_open(out);
		json_field_str(out, "type", profile_str(p, p->type[t]));
		json_field_str(out, "unit", profile_str(p, p->unit[t]));
		json_object_close(out);
	}
	json_array_close(out);
	json_object_open(out, "totals");
	for (size_t t = 0; t < p->ntypes; t++)
		json_field_i64(out, profile_str(p, p->type[t]), profile_total(p, t));
	json_object_close(out);
	json_field_u64(out, "stacks", p->n_samples);
	json_field_u64(out, "lost_stacks", p->lost_stacks);
	json_field_u64(out, "truncated_stacks", p->truncated_stacks);
	json_end(out);
}

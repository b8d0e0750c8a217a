/* The profile builder: everything is interned (strings, mappings, functions, locations), so a
 * stack is a short array of location ids and merging samples is one hash lookup. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "output/profile_impl.h"

/* Makes room for one more element in a PROF_ARRAY. */
#define PROF_RESERVE(p, name, more)                                                                \
	reserve((void **)&(p)->name, &(p)->cap_##name, (p)->n_##name + (more), sizeof(*(p)->name))

static int reserve(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 16;
	void *a;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	a = realloc(*arr, n * elem);
	if (!a)
		return -ENOMEM;
	*arr = a;
	*cap = n;
	return 0;
}

/* Strings. */

struct str_key {
	const struct profile *p;
	const char *s;
};

static bool str_eq(const void *ctx, uint32_t id)
{
	const struct str_key *k = ctx;

	return !strcmp(k->p->strs[id - 1], k->s);
}

/* The id of s in the string table (entry 0 is "", and so is NULL), or UINT32_MAX on out of
 * memory. The table behind str_tab holds ids + 1, since 0 means an empty slot. */
static uint32_t intern(struct profile *p, const char *s)
{
	struct str_key k = { p, s };
	uint64_t h;
	uint32_t id;
	char *copy;

	if (!s || !*s)
		return 0;
	h = id_hash_bytes(ID_HASH_SEED, s, strlen(s));
	id = id_table_find(&p->str_tab, h, str_eq, &k);
	if (id)
		return id - 1;
	if (PROF_RESERVE(p, strs, 1) || !(copy = strdup(s)))
		return UINT32_MAX;
	id = (uint32_t)p->n_strs;
	if (id_table_insert(&p->str_tab, h, id + 1)) {
		free(copy);
		return UINT32_MAX;
	}
	p->strs[p->n_strs++] = copy;
	return id;
}

struct profile *profile_new(const struct profile_value_type *types, size_t ntypes,
			    const struct profile_value_type *period_type, int64_t period)
{
	struct profile *p;
	uint32_t ids[2 * PROFILE_TYPES_MAX + 2];
	bool bad = false;

	if (!ntypes || ntypes > PROFILE_TYPES_MAX)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p || PROF_RESERVE(p, strs, 1) || !(p->strs[0] = strdup(""))) {
		profile_free(p);
		return NULL;
	}
	p->n_strs = 1;
	/* "" is entry 0 and found by intern() without a lookup. */
	p->ntypes = ntypes;
	p->default_value = -1;
	p->period = period;
	for (size_t i = 0; i < ntypes; i++) {
		ids[2 * i] = intern(p, types[i].type);
		ids[2 * i + 1] = intern(p, types[i].unit);
		p->type[i] = ids[2 * i];
		p->unit[i] = ids[2 * i + 1];
		bad |= ids[2 * i] == UINT32_MAX || ids[2 * i + 1] == UINT32_MAX;
	}
	if (period_type) {
		p->period_type = intern(p, period_type->type);
		p->period_unit = intern(p, period_type->unit);
		bad |= p->period_type == UINT32_MAX || p->period_unit == UINT32_MAX;
	}
	if (bad) {
		profile_free(p);
		return NULL;
	}
	return p;
}

void profile_free(struct profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_strs; i++)
		free(p->strs[i]);
	free(p->strs);
	free(p->maps);
	free(p->funcs);
	free(p->lines);
	free(p->locations);
	free(p->samples);
	free(p->locs);
	free(p->labels);
	free(p->values);
	id_table_free(&p->str_tab);
	id_table_free(&p->map_tab);
	id_table_free(&p->func_tab);
	id_table_free(&p->loc_tab);
	id_table_free(&p->sample_tab);
	free(p);
}

void profile_set_time(struct profile *p, int64_t time_ns, int64_t duration_ns)
{
	p->time_ns = time_ns;
	p->duration_ns = duration_ns;
}

void profile_scale_types(struct profile *p, const double *factors)
{
	for (size_t i = 0; i < p->n_samples * p->ntypes; i++) {
		double v = (double)p->values[i] * factors[i % p->ntypes];

		p->values[i] = v >= (double)INT64_MAX ? INT64_MAX : (int64_t)llround(v);
	}
}

void profile_scale(struct profile *p, double factor)
{
	double f[PROFILE_TYPES_MAX];

	for (size_t t = 0; t < p->ntypes; t++)
		f[t] = factor;
	profile_scale_types(p, f);
}

void profile_count_lost(struct profile *p, uint64_t lost_stacks, uint64_t truncated_stacks)
{
	p->lost_stacks += lost_stacks;
	p->truncated_stacks += truncated_stacks;
}

void profile_lost(const struct profile *p, uint64_t *lost_stacks, uint64_t *truncated_stacks)
{
	*lost_stacks = p->lost_stacks;
	*truncated_stacks = p->truncated_stacks;
}

void profile_set_default_value(struct profile *p, size_t value)
{
	if (value < p->ntypes)
		p->default_value = (long)value;
}

/* Mappings. */

struct map_key {
	const struct profile *p;
	struct prof_mapping m;
};

static bool map_key_eq(const void *ctx, uint32_t id)
{
	const struct map_key *k = ctx;
	const struct prof_mapping *m = &k->p->maps[id - 1];

	return m->start == k->m.start && m->limit == k->m.limit &&
	       m->file_offset == k->m.file_offset && m->file == k->m.file &&
	       m->build_id == k->m.build_id;
}

uint32_t profile_mapping(struct profile *p, uint64_t start, uint64_t limit, uint64_t file_offset,
			 const char *file, const char *build_id)
{
	struct map_key k = { p,
			     { start, limit, file_offset, intern(p, file), intern(p, build_id) } };
	uint64_t h = ID_HASH_SEED;
	uint32_t id;

	if (k.m.file == UINT32_MAX || k.m.build_id == UINT32_MAX)
		return 0;
	h = id_hash_u64(id_hash_u64(id_hash_u64(h, start), limit), file_offset);
	h = id_hash_u64(h, (uint64_t)k.m.file << 32 | k.m.build_id);
	id = id_table_find(&p->map_tab, h, map_key_eq, &k);
	if (id)
		return id;
	if (p->n_maps >= UINT32_MAX - 1 || PROF_RESERVE(p, maps, 1))
		return 0;
	id = (uint32_t)p->n_maps + 1;
	if (id_table_insert(&p->map_tab, h, id))
		return 0;
	p->maps[p->n_maps++] = k.m;
	return id;
}

/* Functions: interned by name and file. */

struct func_key {
	const struct profile *p;
	struct prof_function f;
};

static bool func_eq(const void *ctx, uint32_t id)
{
	const struct func_key *k = ctx;
	const struct prof_function *f = &k->p->funcs[id - 1];

	return f->name == k->f.name && f->file == k->f.file;
}

static uint32_t function(struct profile *p, const char *name, const char *file)
{
	struct func_key k = { p, { intern(p, name), intern(p, file) } };
	uint64_t h;
	uint32_t id;

	if (k.f.name == UINT32_MAX || k.f.file == UINT32_MAX)
		return 0;
	h = id_hash_u64(ID_HASH_SEED, (uint64_t)k.f.name << 32 | k.f.file);
	id = id_table_find(&p->func_tab, h, func_eq, &k);
	if (id)
		return id;
	if (p->n_funcs >= UINT32_MAX - 1 || PROF_RESERVE(p, funcs, 1))
		return 0;
	id = (uint32_t)p->n_funcs + 1;
	if (id_table_insert(&p->func_tab, h, id))
		return 0;
	p->funcs[p->n_funcs++] = k.f;
	return id;
}

/* Locations: interned by mapping and address. */

struct loc_key {
	const struct profile *p;
	uint32_t mapping;
	uint64_t addr;
};

static bool loc_eq(const void *ctx, uint32_t id)
{
	const struct loc_key *k = ctx;
	const struct prof_location *l = &k->p->locations[id - 1];

	return l->mapping == k->mapping && l->addr == k->addr;
}

void profile_frame_unknown(const struct profile_frame *f, char *buf, size_t len)
{
	const char *base = f->module ? strrchr(f->module, '/') : NULL;

	base = base ? base + 1 : f->module;
	snprintf(buf, len, "%s+0x%" PRIx64, base && *base ? base : "[unknown]", f->offset);
}

static uint64_t file_offset(const struct profile *p, uint32_t mapping, uint64_t addr)
{
	const struct prof_mapping *m;

	if (!mapping)
		return addr;
	m = &p->maps[mapping - 1];
	return addr - m->start + m->file_offset;
}

/* A line without a function but with a file (a line table without a symbol) is named as an
 * unknown frame is, so that every writer has a name for it. */
static uint32_t line_function(struct profile *p, uint32_t mapping, uint64_t addr,
			      const struct code_line *cl)
{
	struct profile_frame f = { .module = mapping ? p->strs[p->maps[mapping - 1].file] : NULL,
				   .offset = file_offset(p, mapping, addr) };
	char name[PROFILE_UNKNOWN_MAX];

	if (cl->func && *cl->func)
		return function(p, cl->func, cl->file);
	profile_frame_unknown(&f, name, sizeof(name));
	return function(p, name, cl->file);
}

uint32_t profile_location(struct profile *p, uint32_t mapping, uint64_t addr,
			  const struct code_line *lines, size_t nlines)
{
	struct loc_key k = { p, mapping, addr };
	struct prof_location l = { mapping, addr, p->n_lines, 0 };
	uint64_t h;
	uint32_t id;

	if (mapping > p->n_maps)
		return 0;
	h = id_hash_u64(id_hash_u64(ID_HASH_SEED, mapping), addr);
	id = id_table_find(&p->loc_tab, h, loc_eq, &k);
	if (id)
		return id;
	if (p->n_locations >= UINT32_MAX - 1 || PROF_RESERVE(p, lines, nlines))
		return 0;
	for (size_t i = 0; i < nlines; i++) {
		uint32_t fn;

		/* Neither function nor file: the symbolizer knew nothing at this level. */
		if ((!lines[i].func || !*lines[i].func) && (!lines[i].file || !*lines[i].file))
			continue;
		fn = line_function(p, mapping, addr, &lines[i]);
		if (!fn)
			return 0;
		p->lines[l.line_off + l.nlines++] = (struct prof_line){ fn, lines[i].line };
	}
	if (PROF_RESERVE(p, locations, 1))
		return 0;
	id = (uint32_t)p->n_locations + 1;
	if (id_table_insert(&p->loc_tab, h, id))
		return 0;
	p->n_lines += l.nlines;
	p->locations[p->n_locations++] = l;
	return id;
}

size_t profile_location_nframes(const struct profile *p, uint32_t loc)
{
	uint32_t n = p->locations[loc - 1].nlines;

	return n ? n : 1;
}

void profile_frame_get(const struct profile *p, uint32_t loc, size_t i, struct profile_frame *f)
{
	const struct prof_location *l = &p->locations[loc - 1];

	*f = (struct profile_frame){
		.module = l->mapping ? p->strs[p->maps[l->mapping - 1].file] : NULL,
		.addr = l->addr,
		.offset = file_offset(p, l->mapping, l->addr),
	};
	if (f->module && !*f->module)
		f->module = NULL;
	if (i < l->nlines) {
		const struct prof_line *ln = &p->lines[l->line_off + i];
		const struct prof_function *fn = &p->funcs[ln->function - 1];

		f->func = p->strs[fn->name];
		f->file = fn->file ? p->strs[fn->file] : NULL;
		f->line = ln->line;
		f->inlined = i + 1 < l->nlines;
	}
}

const char *profile_location_func(const struct profile *p, uint32_t loc)
{
	struct profile_frame f;

	if (!loc || loc > p->n_locations)
		return NULL;
	profile_frame_get(p, loc, 0, &f);
	return f.func;
}

uint32_t profile_location_copy(struct profile *dst, const struct profile *src, uint32_t loc)
{
	const struct prof_location *l;
	struct code_line lines[CODE_LINES_MAX];
	uint32_t mapping = 0;
	size_t n = 0;

	if (!loc || loc > src->n_locations)
		return 0;
	l = &src->locations[loc - 1];
	if (l->mapping) {
		const struct prof_mapping *m = &src->maps[l->mapping - 1];

		mapping = profile_mapping(dst, m->start, m->limit, m->file_offset,
					  src->strs[m->file], src->strs[m->build_id]);
		if (!mapping)
			return 0;
	}
	for (uint32_t i = 0; i < l->nlines && n < CODE_LINES_MAX; i++) {
		const struct prof_line *ln = &src->lines[l->line_off + i];
		const struct prof_function *fn = &src->funcs[ln->function - 1];

		lines[n++] = (struct code_line){ src->strs[fn->name],
						 fn->file ? src->strs[fn->file] : NULL, ln->line };
	}
	return profile_location(dst, mapping, l->addr, lines, n);
}

/* Samples: interned by stack and labels. */

struct sample_key {
	const struct profile *p;
	const uint32_t *locs;
	size_t nlocs;
	const struct prof_label *labels;
	size_t nlabels;
};

static bool label_same(const struct prof_label *a, const struct prof_label *b)
{
	return a->key == b->key && a->str == b->str && a->num == b->num &&
	       a->num_unit == b->num_unit;
}

static bool sample_eq(const void *ctx, uint32_t id)
{
	const struct sample_key *k = ctx;
	const struct prof_sample *s = &k->p->samples[id - 1];

	if (s->nlocs != k->nlocs || s->nlabels != k->nlabels ||
	    memcmp(&k->p->locs[s->loc_off], k->locs, k->nlocs * sizeof(*k->locs)))
		return false;
	for (size_t i = 0; i < k->nlabels; i++)
		if (!label_same(&k->p->labels[s->label_off + i], &k->labels[i]))
			return false;
	return true;
}

static const struct profile *sort_profile; /* for label_cmp: qsort has no context */

static int label_cmp(const void *a, const void *b)
{
	const struct prof_label *x = a, *y = b;

	return strcmp(sort_profile->strs[x->key], sort_profile->strs[y->key]);
}

static int64_t add_sat(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

/* The labels as interned and in key order, so that the same set in another order is the same
 * sample. */
static int canonical_labels(struct profile *p, const struct profile_label *labels, size_t n,
			    struct prof_label *out)
{
	for (size_t i = 0; i < n; i++) {
		if (!labels[i].key || !*labels[i].key)
			return -EINVAL;
		out[i] = (struct prof_label){ intern(p, labels[i].key), intern(p, labels[i].str),
					      labels[i].str ? 0 : labels[i].num,
					      labels[i].str ? 0 : intern(p, labels[i].num_unit) };
		if (out[i].key == UINT32_MAX || out[i].str == UINT32_MAX ||
		    out[i].num_unit == UINT32_MAX)
			return -ENOMEM;
	}
	sort_profile = p;
	qsort(out, n, sizeof(*out), label_cmp);
	for (size_t i = 1; i < n; i++)
		if (out[i].key == out[i - 1].key)
			return -EINVAL;
	return 0;
}

int profile_add(struct profile *p, const uint32_t *locs, size_t nlocs, const int64_t *values,
		const struct profile_label *labels, size_t nlabels)
{
	struct prof_label lab[PROFILE_LABELS_MAX];
	struct sample_key k = { p, locs, nlocs, lab, nlabels };
	struct prof_sample s = { p->n_locs, (uint32_t)nlocs, p->n_labels, (uint32_t)nlabels };
	uint64_t h = ID_HASH_SEED;
	int64_t *v;
	uint32_t id;
	int err;

	if (!nlocs || nlocs > UINT32_MAX || nlabels > PROFILE_LABELS_MAX)
		return -EINVAL;
	for (size_t i = 0; i < nlocs; i++)
		if (!locs[i] || locs[i] > p->n_locations)
			return -EINVAL;
	err = canonical_labels(p, labels, nlabels, lab);
	if (err)
		return err;
	h = id_hash_bytes(h, locs, nlocs * sizeof(*locs));
	for (size_t i = 0; i < nlabels; i++) /* field by field: a struct has padding */
		h = id_hash_u64(id_hash_u64(h, (uint64_t)lab[i].key << 32 | lab[i].str),
				(uint64_t)lab[i].num ^ (uint64_t)lab[i].num_unit << 48);
	id = id_table_find(&p->sample_tab, h, sample_eq, &k);
	if (!id) {
		if (p->n_samples >= UINT32_MAX - 1 || PROF_RESERVE(p, samples, 1) ||
		    PROF_RESERVE(p, locs, nlocs) || PROF_RESERVE(p, labels, nlabels) ||
		    PROF_RESERVE(p, values, p->ntypes))
			return -ENOMEM;
		id = (uint32_t)p->n_samples + 1;
		if (id_table_insert(&p->sample_tab, h, id))
			return -ENOMEM;
		memcpy(&p->locs[p->n_locs], locs, nlocs * sizeof(*locs));
		if (nlabels) /* labels[] may not exist yet: no memcpy to NULL */
			memcpy(&p->labels[p->n_labels], lab, nlabels * sizeof(*lab));
		memset(&p->values[p->n_values], 0, p->ntypes * sizeof(*p->values));
		p->n_locs += nlocs;
		p->n_labels += nlabels;
		p->n_values += p->ntypes;
		p->samples[p->n_samples++] = s;
	}
	v = &p->values[(id - 1) * p->ntypes];
	for (size_t i = 0; i < p->ntypes; i++)
		v[i] = add_sat(v[i], values[i]);
	return 0;
}

/* Readers. */

size_t profile_nsamples(const struct profile *p)
{
	return p->n_samples;
}

size_t profile_location_count(const struct profile *p)
{
	return p->n_locations;
}

size_t profile_ntypes(const struct profile *p)
{
	return p->ntypes;
}

struct profile_value_type profile_value_type_at(const struct profile *p, size_t value)
{
	return (struct profile_value_type){ p->strs[p->type[value]], p->strs[p->unit[value]] };
}

int64_t profile_total(const struct profile *p, size_t value)
{
	int64_t t = 0;

	for (size_t i = 0; i < p->n_samples; i++)
		t = add_sat(t, p->values[i * p->ntypes + value]);
	return t;
}

long profile_value_type_find(const struct profile_value_type *types, size_t ntypes,
			     const char *name)
{
	long found = -1;

	for (size_t i = 0; i < ntypes; i++)
		if (!strcmp(types[i].type, name))
			return (long)i;
	for (size_t i = 0; i < ntypes; i++)
		if (types[i].unit && !strcmp(types[i].unit, name))
			found = (long)i;
	return found;
}

void profile_value_type_names(const struct profile_value_type *types, size_t ntypes, char *buf,
			      size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ntypes && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", types[i].type);
	for (size_t i = 0; i < ntypes && off < len; i++) {
		bool dup = !types[i].unit || !*types[i].unit;

		/* Each name once: a unit named like a type ("bytes") or like an earlier unit. */
		for (size_t j = 0; j < ntypes && !dup; j++)
			dup = !strcmp(types[j].type, types[i].unit) ||
			      (j < i && types[j].unit && !strcmp(types[j].unit, types[i].unit));
		if (!dup)
			off += (size_t)snprintf(buf + off, len - off, ", %s", types[i].unit);
	}
}

/* The profile's value types as the list the two above take. */
static void value_types(const struct profile *p, struct profile_value_type *t)
{
	for (size_t i = 0; i < p->ntypes; i++)
		t[i] = profile_value_type_at(p, i);
}

long profile_value_index(const struct profile *p, const char *name)
{
	struct profile_value_type t[PROFILE_TYPES_MAX];

	value_types(p, t);
	return profile_value_type_find(t, p->ntypes, name);
}

void profile_value_names(const struct profile *p, char *buf, size_t len)
{
	struct profile_value_type t[PROFILE_TYPES_MAX];

	value_types(p, t);
	profile_value_type_names(t, p->ntypes, buf, len);
}

static const struct profile *order_profile; /* for by_value: qsort has no context */
static size_t order_value;

static int by_value(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int64_t vx = order_profile->values[x * order_profile->ntypes + order_value];
	int64_t vy = order_profile->values[y * order_profile->ntypes + order_value];

	if (vx != vy)
		return vx > vy ? -1 : 1;
	return x < y ? -1 : x > y;
}

size_t *profile_samples_by_value(const struct profile *p, size_t value)
{
	size_t *order = malloc((p->n_samples ? p->n_samples : 1) * sizeof(*order));

	if (!order)
		return NULL;
	for (size_t i = 0; i < p->n_samples; i++)
		order[i] = i;
	order_profile = p;
	order_value = value;
	qsort(order, p->n_samples, sizeof(*order), by_value);
	return order;
}

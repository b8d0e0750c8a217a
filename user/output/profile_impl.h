/* The profile's tables, for its writers (output/profile_*.c) only: commands use output/profile.h.
 * Every table is an array indexed by id - 1; strings are ids into one string table whose entry 0
 * is "" (pprof's string_table, so the pprof writer hands it over as it is). */
#ifndef RTMON_PROFILE_IMPL_H
#define RTMON_PROFILE_IMPL_H

#include "output/escape.h"
#include "output/id_table.h"
#include "output/profile.h"

#define PROFILE_TYPES_MAX 8

struct prof_mapping {
	uint64_t start, limit, file_offset;
	uint32_t file, build_id; /* strings */
};

struct prof_function {
	uint32_t name, file; /* strings; file 0: none */
};

struct prof_line {
	uint32_t function;
	uint32_t line;
};

struct prof_location {
	uint32_t mapping; /* 0: none */
	uint64_t addr;
	size_t line_off; /* into lines[], innermost first */
	uint32_t nlines; /* 0: not symbolized */
};

struct prof_label {
	uint32_t key, str; /* str 0: numeric */
	int64_t num;
	uint32_t num_unit;
};

struct prof_sample {
	size_t loc_off; /* into locs[], innermost first */
	uint32_t nlocs;
	size_t label_off; /* into labels[] */
	uint32_t nlabels;
};

/* A growable array: n used of cap. */
#define PROF_ARRAY(T, name)                                                                        \
	T *name;                                                                                   \
	size_t n_##name, cap_##name

struct profile {
	size_t ntypes;
	uint32_t type[PROFILE_TYPES_MAX], unit[PROFILE_TYPES_MAX];
	uint32_t period_type, period_unit;
	int64_t period;
	int64_t time_ns, duration_ns;
	uint64_t lost_stacks, truncated_stacks;
	long default_value; /* -1: unset */

	PROF_ARRAY(char *, strs);
	PROF_ARRAY(struct prof_mapping, maps);
	PROF_ARRAY(struct prof_function, funcs);
	PROF_ARRAY(struct prof_line, lines);
	PROF_ARRAY(struct prof_location, locations);
	PROF_ARRAY(struct prof_sample, samples);
	PROF_ARRAY(uint32_t, locs);
	PROF_ARRAY(struct prof_label, labels);
	PROF_ARRAY(int64_t, values); /* ntypes per sample */
	struct id_table str_tab, map_tab, func_tab, loc_tab, sample_tab;
};

/* One frame as every writer shows it: one inlining level of one location. */
struct profile_frame {
	const char *func;   /* NULL: not symbolized */
	const char *file;   /* NULL: unknown */
	uint32_t line;      /* 0: unknown */
	const char *module; /* the mapping's file, NULL without a mapping */
	uint64_t addr;
	uint64_t offset; /* file offset of addr in module (addr itself without a mapping) */
	bool inlined;    /* inlined into the next frame outwards */
};

/* The frames of a location, innermost first: max(1, nlines) of them. */
size_t profile_location_nframes(const struct profile *p, uint32_t loc);
void profile_frame_get(const struct profile *p, uint32_t loc, size_t i, struct profile_frame *f);
/* "module+0xOFFSET": the module's base name, or "[unknown]" without a mapping. */
#define PROFILE_UNKNOWN_MAX (TEXT_SAFE_MAX + 24)
void profile_frame_unknown(const struct profile_frame *f, char *buf, size_t len);

static inline const char *profile_str(const struct profile *p, uint32_t id)
{
	return p->strs[id];
}

static inline const int64_t *profile_sample_values(const struct profile *p, size_t sample)
{
	return &p->values[sample * p->ntypes];
}

/* Sample indexes ordered by value (descending; ties in the order the stacks were added). NULL on
 * out of memory; the caller frees it. */
size_t *profile_samples_by_value(const struct profile *p, size_t value);

#endif

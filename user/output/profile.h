/* A profile: call stacks with values, the one model that every stack command fills (profile,
 * malloc --stacks, heap) and every stack output writes (text top N, --folded, --pprof, --json).
 * It follows pprof's profile.proto, so that the pprof writer is a translation, not a second model:
 * mappings (a module's address range), locations (an address in a mapping, with one code_line per
 * inlining level, innermost first), samples (a stack of locations, innermost first, with one value
 * per value type and labels). Strings are copied in and owned by the profile. */
#ifndef RTMON_PROFILE_H
#define RTMON_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "binary/code_line.h"

/* pprof's ValueType: ("samples", "count"), ("cpu", "nanoseconds"), ("alloc_space", "bytes"), ... */
struct profile_value_type {
	const char *type;
	const char *unit;
};

struct profile_label {
	const char *key;
	const char *str; /* a string label, or NULL for a numeric one */
	int64_t num;
	const char *num_unit; /* numeric labels only; may be NULL */
};

struct profile;

/* A profile with ntypes values per sample (at most 8). period: pprof's period and period_type (e.g.
 * 10101010 ns of "cpu"; 0 and NULL when not sampled). NULL on out of memory. */
struct profile *profile_new(const struct profile_value_type *types, size_t ntypes,
			    const struct profile_value_type *period_type, int64_t period);
void profile_free(struct profile *p);

/* Start of the profile (ns since the epoch) and its duration; 0 = unset. */
void profile_set_time(struct profile *p, int64_t time_ns, int64_t duration_ns);

/* A module's mapping: runtime [start, limit), the file offset at start, the path (as the user
 * should see it) and the build id (hex, or NULL). Interned: the same arguments give the same id.
 * Returns an id > 0, or 0 on out of memory. */
uint32_t profile_mapping(struct profile *p, uint64_t start, uint64_t limit, uint64_t file_offset,
			 const char *file, const char *build_id);

/* A location: addr in mapping (0 = none), with nlines source lines, innermost first (0 lines: not
 * symbolized; writers then show module+0xoffset). Interned by (mapping, addr). Returns an id > 0,
 * or 0 on out of memory. */
uint32_t profile_location(struct profile *p, uint32_t mapping, uint64_t addr,
			  const struct code_line *lines, size_t nlines);

/* The innermost function of location loc (NULL: not symbolized or no such location). */
const char *profile_location_func(const struct profile *p, uint32_t loc);

/* Location loc of src made in dst, with its mapping and lines: a profile built from locations that
 * another one interned (serve's snapshots of heap's profile). Its id in dst, or 0 on out of memory
 * or an unknown location. */
uint32_t profile_location_copy(struct profile *dst, const struct profile *src, uint32_t loc);

/* Adds values to the sample of this stack (locations innermost first) and labels: a stack seen
 * before with the same labels (in any order) gets the values added, saturating at INT64_MAX.
 * 0, -ENOMEM, or -EINVAL: no location (count such a stack with profile_count_lost), an unknown
 * location id, more than PROFILE_LABELS_MAX labels, a label without a key or a key given twice. */
int profile_add(struct profile *p, const uint32_t *locs, size_t nlocs, const int64_t *values,
		const struct profile_label *labels, size_t nlabels);

/* Multiplies every value by factor, rounded: estimates from sampled counts (malloc --budget).
 * profile_scale_types: value type i by factors[i] (one per type given to profile_new). */
void profile_scale(struct profile *p, double factor);
void profile_scale_types(struct profile *p, const double *factors);

/* Counted by the command, written by every output: stacks the kernel could not record (a full
 * stack map, a failed copy) and stacks cut at the frame limit. */
void profile_count_lost(struct profile *p, uint64_t lost_stacks, uint64_t truncated_stacks);
void profile_lost(const struct profile *p, uint64_t *lost_stacks, uint64_t *truncated_stacks);

#define PROFILE_LABELS_MAX 8

/* The value type pprof shows first (its default_sample_type); unset, pprof takes the last. */
void profile_set_default_value(struct profile *p, size_t value);

/* Readers, for the writers and the tests. */
size_t profile_nsamples(const struct profile *p);
size_t profile_location_count(const struct profile *p); /* ids are 1 to this */
size_t profile_ntypes(const struct profile *p);
struct profile_value_type profile_value_type_at(const struct profile *p, size_t value);
/* The sum of one value over every sample (saturating). */
int64_t profile_total(const struct profile *p, size_t value);
/* The value type named name (--value): its type ("alloc_space"), else the last with that unit
 * ("bytes", "count"). -1 when none matches. */
long profile_value_index(const struct profile *p, const char *name);
/* "allocations, bytes": the names profile_value_index takes, for an error message. */
void profile_value_names(const struct profile *p, char *buf, size_t len);
/* The same two on a list of value types (for option parsing, before any profile exists). */
long profile_value_type_find(const struct profile_value_type *types, size_t ntypes,
			     const char *name);
void profile_value_type_names(const struct profile_value_type *types, size_t ntypes, char *buf,
			      size_t len);

/* The outputs. value: index of the value type shown (text, folded). */
void profile_write_text(const struct profile *p, FILE *out, size_t value, size_t top);
/* One line per stack: "root;caller;...;leaf VALUE" (flamegraph.pl, inferno, speedscope). */
void profile_write_folded(const struct profile *p, FILE *out, size_t value);
/* One {"type":"stack",...} JSON object per stack: values, frames innermost first. */
void profile_write_json(const struct profile *p, FILE *out);
/* A gzipped profile.proto that `go tool pprof` reads. 0, or -errno with a one-line message. */
int profile_write_pprof(const struct profile *p, const char *path, char *err, size_t errlen);
/* The same bytes in memory (serve's /debug/pprof/), malloc'ed. 0 or -ENOMEM. */
int profile_pprof_bytes(const struct profile *p, uint8_t **gz, size_t *gzlen);
/* Whether path can be written, checked before tracing (it is opened for writing, created if
 * missing, not truncated). 0, or -errno with a one-line message naming the path. */
int profile_pprof_check_path(const char *path, char *err, size_t errlen);

#endif

/* The profile as pprof's profile.proto (user/output/pprof.proto), gzipped, which is what
 * `go tool pprof` reads. The profile's tables already are pprof's (ids from 1, one string table
 * with "" first), so this is a translation into protobuf-c's message structs, packed, then
 * deflated with a gzip header. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "proto/pprof.pb-c.h"
#include "output/profile_impl.h"

typedef Perftools__Profiles__Profile PbProfile;
typedef Perftools__Profiles__ValueType PbValueType;
typedef Perftools__Profiles__Sample PbSample;
typedef Perftools__Profiles__Label PbLabel;
typedef Perftools__Profiles__Mapping PbMapping;
typedef Perftools__Profiles__Location PbLocation;
typedef Perftools__Profiles__Line PbLine;
typedef Perftools__Profiles__Function PbFunction;

/* Everything the message points to, freed in one place. */
struct pb {
	PbProfile prof;
	PbValueType types[PROFILE_TYPES_MAX], period_type;
	PbValueType *type_ptrs[PROFILE_TYPES_MAX];
	PbSample *samples, **sample_ptrs;
	uint64_t *loc_ids;
	PbLabel *labels, **label_ptrs;
	PbMapping *maps, **map_ptrs;
	PbLocation *locs, **loc_ptrs;
	PbLine *lines, **line_ptrs;
	PbFunction *funcs, **func_ptrs;
	char **strings;
	int64_t comments[2];
	char comment_text[2][128];
};

static void pb_free(struct pb *b)
{
	free(b->samples);
	free(b->sample_ptrs);
	free(b->loc_ids);
	free(b->labels);
	free(b->label_ptrs);
	free(b->maps);
	free(b->map_ptrs);
	free(b->locs);
	free(b->loc_ptrs);
	free(b->lines);
	free(b->line_ptrs);
	free(b->funcs);
	free(b->func_ptrs);
	free(b->strings);
}

/* calloc that does not fail on 0 elements. */
static void *alloc(size_t n, size_t size)
{
	return calloc(n ? n : 1, size);
}

static int pb_alloc(struct pb *b, const struct profile *p)
{
	b->samples = alloc(p->n_samples, sizeof(*b->samples));
	b->sample_ptrs = alloc(p->n_samples, sizeof(*b->sample_ptrs));
	b->loc_ids = alloc(p->n_locs, sizeof(*b->loc_ids));
	b->labels = alloc(p->n_labels, sizeof(*b->labels));
	b->label_ptrs = alloc(p->n_labels, sizeof(*b->label_ptrs));
	b->maps = alloc(p->n_maps, sizeof(*b->maps));
	b->map_ptrs = alloc(p->n_maps, sizeof(*b->map_ptrs));
	b->locs = alloc(p->n_locations, sizeof(*b->locs));
	b->loc_ptrs = alloc(p->n_locations, sizeof(*b->loc_ptrs));
	b->lines = alloc(p->n_lines, sizeof(*b->lines));
	b->line_ptrs = alloc(p->n_lines, sizeof(*b->line_ptrs));
	b->funcs = alloc(p->n_funcs, sizeof(*b->funcs));
	b->func_ptrs = alloc(p->n_funcs, sizeof(*b->func_ptrs));
	b->strings = alloc(p->n_strs + 2, sizeof(*b->strings));
	if (!b->samples || !b->sample_ptrs || !b->loc_ids || !b->labels || !b->label_ptrs ||
	    !b->maps || !b->map_ptrs || !b->locs || !b->loc_ptrs || !b->lines || !b->line_ptrs ||
	    !b->funcs || !b->func_ptrs || !b->strings)
		return -ENOMEM;
	return 0;
}

static void fill_samples(struct pb *b, const struct profile *p)
{
	static const PbSample sample_init = PERFTOOLS__PROFILES__SAMPLE__INIT;
	static const PbLabel label_init = PERFTOOLS__PROFILES__LABEL__INIT;

	for (size_t i = 0; i < p->n_labels; i++) {
		const struct prof_label *l = &p->labels[i];

		b->labels[i] = label_init;
		b->labels[i].key = l->key;
		b->labels[i].str = l->str;
		b->labels[i].num = l->num;
		b->labels[i].num_unit = l->num_unit;
		b->label_ptrs[i] = &b->labels[i];
	}
	for (size_t i = 0; i < p->n_locs; i++)
		b->loc_ids[i] = p->locs[i];
	for (size_t i = 0; i < p->n_samples; i++) {
		const struct prof_sample *s = &p->samples[i];
		PbSample *o = &b->samples[i];

		*o = sample_init;
		o->n_location_id = s->nlocs;
		o->location_id = &b->loc_ids[s->loc_off];
		o->n_value = p->ntypes;
		/* protobuf-c only reads what it packs. */
		o->value = (int64_t *)profile_sample_values(p, i);
		o->n_label = s->nlabels;
		o->label = &b->label_ptrs[s->label_off];
		b->sample_ptrs[i] = o;
	}
}

/* pprof symbolizes a mapping itself (from the file, when it can open it) unless these flags say
 * that every location in it already has what they name. */
static void mapping_flags(PbMapping *m, const struct profile *p, uint32_t id)
{
	bool any = false, funcs = true, files = true, lines = true;

	for (size_t i = 0; i < p->n_locations; i++) {
		const struct prof_location *l = &p->locations[i];

		if (l->mapping != id)
			continue;
		any = true;
		funcs &= l->nlines > 0;
		for (uint32_t j = 0; j < l->nlines; j++) {
			const struct prof_line *ln = &p->lines[l->line_off + j];

			files &= p->funcs[ln->function - 1].file != 0;
			lines &= ln->line != 0;
		}
	}
	m->has_functions = any && funcs;
	m->has_filenames = any && funcs && files;
	m->has_line_numbers = any && funcs && lines;
	/* The symbolizers give every inlining level they know of. */
	m->has_inline_frames = any && funcs;
}

static void fill_tables(struct pb *b, const struct profile *p)
{
	static const PbMapping map_init = PERFTOOLS__PROFILES__MAPPING__INIT;
	static const PbLocation loc_init = PERFTOOLS__PROFILES__LOCATION__INIT;
	static const PbLine line_init = PERFTOOLS__PROFILES__LINE__INIT;
	static const PbFunction func_init = PERFTOOLS__PROFILES__FUNCTION__INIT;

	for (size_t i = 0; i < p->n_maps; i++) {
		const struct prof_mapping *m = &p->maps[i];
		PbMapping *o = &b->maps[i];

		*o = map_init;
		o->id = i + 1;
		o->memory_start = m->start;
		o->memory_limit = m->limit;
		o->file_offset = m->file_offset;
		o->filename = m->file;
		o->build_id = m->build_id;
		mapping_flags(o, p, (uint32_t)(i + 1));
		b->map_ptrs[i] = o;
	}
	for (size_t i = 0; i < p->n_lines; i++) {
		b->lines[i] = line_init;
		b->lines[i].function_id = p->lines[i].function;
		b->lines[i].line = p->lines[i].line;
		b->line_ptrs[i] = &b->lines[i];
	}
	for (size_t i = 0; i < p->n_locations; i++) {
		const struct prof_location *l = &p->locations[i];
		PbLocation *o = &b->locs[i];

		*o = loc_init;
		o->id = i + 1;
		o->mapping_id = l->mapping;
		o->address = l->addr;
		o->n_line = l->nlines;
		o->line = &b->line_ptrs[l->line_off];
		b->loc_ptrs[i] = o;
	}
	for (size_t i = 0; i < p->n_funcs; i++) {
		PbFunction *o = &b->funcs[i];

		*o = func_init;
		o->id = i + 1;
		o->name = p->funcs[i].name;
		o->system_name = p->funcs[i].name;
		o->filename = p->funcs[i].file;
		b->func_ptrs[i] = o;
	}
}

static void fill_profile(struct pb *b, const struct profile *p)
{
	static const PbProfile prof_init = PERFTOOLS__PROFILES__PROFILE__INIT;
	static const PbValueType type_init = PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
	size_t nstr = p->n_strs, ncomments = 0;

	b->prof = prof_init;
	for (size_t i = 0; i < p->ntypes; i++) {
		b->types[i] = type_init;
		b->types[i].type = p->type[i];
		b->types[i].unit = p->unit[i];
		b->type_ptrs[i] = &b->types[i];
	}
	b->prof.n_sample_type = p->ntypes;
	b->prof.sample_type = b->type_ptrs;
	fill_samples(b, p);
	fill_tables(b, p);
	b->prof.n_sample = p->n_samples;
	b->prof.sample = b->sample_ptrs;
	b->prof.n_mapping = p->n_maps;
	b->prof.mapping = b->map_ptrs;
	b->prof.n_location = p->n_locations;
	b->prof.location = b->loc_ptrs;
	b->prof.n_function = p->n_funcs;
	b->prof.function = b->func_ptrs;
	memcpy(b->strings, p->strs, p->n_strs * sizeof(*b->strings));
	/* What was lost is said where pprof shows free text: `go tool pprof -comments`. */
	if (p->lost_stacks)
		snprintf(b->comment_text[ncomments++], sizeof(b->comment_text[0]),
			 "rtmon: %" PRIu64 " stacks lost (a full stack map or a failed copy)",
			 p->lost_stacks);
	if (p->truncated_stacks)
		snprintf(b->comment_text[ncomments++], sizeof(b->comment_text[0]),
			 "rtmon: %" PRIu64 " stacks truncated at the frame limit",
			 p->truncated_stacks);
	for (size_t i = 0; i < ncomments; i++) {
		b->strings[nstr] = b->comment_text[i];
		b->comments[i] = (int64_t)nstr++;
	}
	b->prof.n_string_table = nstr;
	b->prof.string_table = b->strings;
	b->prof.n_comment = ncomments;
	b->prof.comment = b->comments;
	b->prof.time_nanos = p->time_ns;
	b->prof.duration_nanos = p->duration_ns;
	if (p->period_type || p->period_unit) {
		b->period_type = type_init;
		b->period_type.type = p->period_type;
		b->period_type.unit = p->period_unit;
		b->prof.period_type = &b->period_type;
	}
	b->prof.period = p->period;
	if (p->default_value >= 0)
		b->prof.default_sample_type = p->type[p->default_value];
}

/* buf deflated with a gzip header and trailer (windowBits 16 + MAX_WBITS) into *out. */
static int gzip(const uint8_t *buf, size_t len, uint8_t **out, size_t *outlen)
{
	z_stream zs = { 0 };
	uLong bound;
	int rc;

	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	/* deflateBound leaves out the gzip header and trailer: 18 bytes, rounded up. */
	bound = deflateBound(&zs, len) + 64;
	*out = malloc(bound);
	if (!*out) {
		deflateEnd(&zs);
		return -ENOMEM;
	}
	zs.next_in = (Bytef *)buf;
	zs.avail_in = (uInt)len;
	zs.next_out = *out;
	zs.avail_out = (uInt)bound;
	rc = deflate(&zs, Z_FINISH);
	*outlen = zs.total_out;
	deflateEnd(&zs);
	if (rc != Z_STREAM_END) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int write_file(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), err = 0;

	if (fd < 0)
		return -errno;
	while (len && !err) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno != EINTR)
			err = -errno;
		else if (n > 0) {
			buf += n;
			len -= (size_t)n;
		}
	}
	if (close(fd) && !err)
		err = -errno;
	return err;
}

int profile_write_pprof(const struct profile *p, const char *path, char *err, size_t errlen)
{
	struct pb *b = calloc(1, sizeof(*b));
	uint8_t *packed = NULL, *gz = NULL;
	size_t len, gzlen = 0;
	int rc;

	rc = !b ? -ENOMEM : pb_alloc(b, p);
	if (!rc) {
		fill_profile(b, p);
		/* The profile's 32-bit ids and sizes keep this far below protobuf's 2 GiB limit
		 * only for profiles that fit in memory anyway; protobuf-c itself packs any size. */
		len = perftools__profiles__profile__get_packed_size(&b->prof);
		packed = malloc(len ? len : 1);
		rc = packed ? 0 : -ENOMEM;
	}
	if (!rc) {
		perftools__profiles__profile__pack(&b->prof, packed);
		rc = gzip(packed, len, &gz, &gzlen);
	}
	if (rc == -ENOMEM)
		snprintf(err, errlen, "cannot write the profile to %s: out of memory", path);
	if (!rc) {
		rc = write_file(path, gz, gzlen);
		if (rc)
			snprintf(err, errlen, "cannot write the profile to %s: %s", path,
				 strerror(-rc));
	}
	free(gz);
	free(packed);
	if (b)
		pb_free(b);
	free(b);
	return rc;
}

int profile_pprof_check_path(const char *path, char *err, size_t errlen)
{
	int fd;

	if (!path || !*path) {
		snprintf(err, errlen, "empty --pprof path: give the file to write the profile to");
		return -EINVAL;
	}
	/* Opened as it will be written (but not truncated: a trace that fails to start leaves an
	 * existing file as it was). */
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "cannot write the profile to %s: %s; give a writable path",
			 path, strerror(e));
		return -e;
	}
	close(fd);
	return 0;
}

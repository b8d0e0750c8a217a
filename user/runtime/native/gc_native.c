/* rtmon gc on native code: resolves the backend's functions in the target's files, puts an entry
 * and (for cycle and phase functions) a return probe on each, and turns the events of
 * bpf/native_gc.bpf.c into struct gc_record for user/commands/gc.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "binary/objfile.h"
#include "output/json.h"
#include "native_gc.skel.h"
#include "trace/skel_open.h"
#include "runtime/native/gc_native.h"
#include "runtime/go/goelf.h"
#include "trace/probe.h"
#include "binary/probe_site.h"
#include "output/target_report.h"

struct native_site {
	int file;        /* index in the target's image; -1: not found */
	uint64_t offset; /* file offset of the probe: the function's entry, or just past its
			    test/cmp */
	uint64_t vaddr;  /* the probe's address in the file's own layout */
};

struct native_gc {
	const struct native_spec *spec;
	struct native_gc_bpf *skel;
	struct probe_links pl;
	struct native_site sites[NATIVE_MAX_SITES];
	bool has_count;
	/* Totals for the summary, from the events. */
	uint64_t mark_only;     /* collections seen only by their mark */
	uint64_t no_collection; /* cycle calls during which the collector's count did not move */
	uint64_t outside;       /* phases called outside any cycle */
	uint64_t no_count;      /* cycle calls whose collector count could not be read */
	uint64_t timed;         /* cycle calls reported */
};

int native_find_func(const struct target *t, const char *sym)
{
	for (int i = 0; i < t->image.n; i++) {
		struct objfile ef;
		struct objfile_sym fn;
		char e2[256];
		int found;

		if (objfile_open(&ef, t->image.paths[i], e2, sizeof(e2)))
			continue;
		found = !objfile_find_func(&ef, sym, &fn);
		objfile_close(&ef);
		if (found)
			return i;
	}
	return -ENOENT;
}

/* The loader's lookup order: the first file that defines a function is the one the program calls.
 */
static void resolve_in_file(struct native_gc *g, struct objfile *ef, int file,
			    uint64_t *count_vaddr)
{
	const struct native_spec *sp = g->spec;

	for (int f = 0; f < sp->nfuncs; f++) {
		struct objfile_sym fn;
		uint64_t off;

		if (g->sites[f].file >= 0 || objfile_find_func(ef, sp->funcs[f].sym, &fn))
			continue;
		/* Past leading test/cmp instructions (which the kernel would single-step, ~30 us a
		 * hit) to the first one it emulates: every call still reaches it, with the stack
		 * pointer as at entry, so the return address is still where a return probe expects
		 * it. */
		off = probe_site_emulated(ef->path, fn.offset);
		g->sites[f] = (struct native_site){ .file = file,
						    .offset = off,
						    .vaddr = fn.vaddr + off - fn.offset };
		if (f == 0 && sp->count_sym)
			*count_vaddr = objfile_find_object(ef, sp->count_sym, &fn) ? 0 : fn.vaddr;
	}
}

static void name_absent(const struct target *t, const char *sym, char *err, size_t errlen)
{
	struct objfile ef;
	char e2[256];
	bool stripped = false;

	if (!objfile_open(&ef, t->image.paths[0], e2, sizeof(e2))) {
		stripped = !ef.has_symtab;
		objfile_close(&ef);
	}
	if (stripped)
		snprintf(err, errlen,
			 "no function %s in %s or its %d libraries: %s is stripped (no .symtab); "
			 "trace a build with symbols",
			 sym, t->exe, t->image.n - 1, t->exe);
	else
		snprintf(err, errlen,
			 "no function %s in %s or its %d libraries: check the name (nm %s)", sym,
			 t->exe, t->image.n - 1, t->exe);
}

/* Return probes crash Go code: refuse a function in a Go binary or a Go shared library. */
static int refuse_go(const struct target *t, int file, const char *sym, char *err, size_t errlen)
{
	struct go_info gi;

	if (go_read_buildinfo(t->image.paths[file], &gi, NULL, 0))
		return 0;
	snprintf(err, errlen,
		 "%s is Go code (%s, %s): rtmon never puts return probes on Go; trace Go's "
		 "own GC with rtmon gc and no --cycle",
		 sym, t->image.paths[file], gi.version);
	return -EPERM;
}

static int resolve(struct native_gc *g, const struct target *t, uint64_t *count_vaddr, char *err,
		   size_t errlen)
{
	const struct native_spec *sp = g->spec;
	int rc;

	for (int f = 0; f < NATIVE_MAX_SITES; f++)
		g->sites[f].file = -1;
	*count_vaddr = 0;
	for (int i = 0; i < t->image.n; i++) {
		struct objfile ef;
		char e2[256];

		if (objfile_open(&ef, t->image.paths[i], e2, sizeof(e2)))
			continue;
		resolve_in_file(g, &ef, i, count_vaddr);
		objfile_close(&ef);
	}
	for (int f = 0; f < sp->nfuncs; f++) {
		const struct native_site *s = &g->sites[f];

		if (s->file < 0 && sp->funcs[f].required) {
			name_absent(t, sp->funcs[f].sym, err, errlen);
			return -ENOENT;
		}
		if (s->file >= 0 && (rc = refuse_go(t, s->file, sp->funcs[f].sym, err, errlen)))
			return rc;
		for (int k = 0; k < f; k++) {
			if (s->file < 0 || g->sites[k].file != s->file ||
			    g->sites[k].offset != s->offset)
				continue;
			snprintf(err, errlen,
				 "%s and %s are the same function (one address): give it once",
				 sp->funcs[k].sym, sp->funcs[f].sym);
			return -EINVAL;
		}
	}
	return 0;
}

static int load(struct native_gc *g, struct gc_session *s, uint64_t count_vaddr, char *err,
		size_t errlen)
{
	const struct native_spec *sp = g->spec;
	struct target *t = s->t;
	int rc;

	g->skel = SKEL_OPEN(native_gc, t, "gc", err, errlen);
	if (!g->skel)
		return -errno;
	g->has_count = count_vaddr != 0;
	g->skel->rodata->has_count = g->has_count;
	for (int f = 0; f < sp->nfuncs; f++) {
		const struct native_site *site = &g->sites[f];
		bool same_file = site->file >= 0 && site->file == g->sites[0].file;

		if (site->file < 0)
			continue;
		g->skel->rodata->site_role[f] = (__u8)sp->funcs[f].role;
		if (g->has_count && same_file)
			g->skel->rodata->count_delta[f] = (__s64)(count_vaddr - site->vaddr);
	}
	probe_prepare_sites_prog(g->skel->progs.on_native_entry);
	probe_prepare_sites_prog(g->skel->progs.on_native_return);
	rc = native_gc_bpf__load(g->skel);
	if (rc)
		probe_load_error("gc", rc, err, errlen);
	return rc;
}

/* One uprobe_multi link per file for the entries, one for the returns. */
static int attach(struct native_gc *g, struct gc_session *s, char *err, size_t errlen)
{
	const struct native_spec *sp = g->spec;
	const struct target *t = s->t;
	pid_t pid = target_probe_pid(t);

	for (int i = 0; i < t->image.n; i++) {
		struct probe_site entries[NATIVE_MAX_SITES], returns[NATIVE_MAX_SITES];
		int ne = 0, nr = 0, rc;

		for (int f = 0; f < sp->nfuncs; f++) {
			if (g->sites[f].file != i)
				continue;
			entries[ne++] = (struct probe_site){ .offset = g->sites[f].offset,
							     .cookie = (uint64_t)f };
			if (sp->funcs[f].role != NR_MARK)
				returns[nr++] = entries[ne - 1];
		}
		if (ne && (rc = probe_attach_sites(&g->pl, g->skel->progs.on_native_entry, pid,
						   t->image.paths[i], entries, ne,
						   "the GC functions", err, errlen)))
			return rc;
		if (nr && (rc = probe_attach_return_sites(&g->pl, g->skel->progs.on_native_return,
							  pid, t->image.paths[i], returns, nr,
							  "the GC functions", err, errlen)))
			return rc;
	}
	return 0;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct gc_session *s = ctx;
	struct native_gc *g = s->priv;
	const struct native_spec *sp = g->spec;
	const struct native_event *e = data;
	struct gc_record r = { 0 };
	const struct native_func *f;

	if (size < sizeof(*e) || e->site >= sp->nfuncs)
		return 0;
	f = &sp->funcs[e->site];
	r.pid = (pid_t)e->tgid;
	r.cycle = e->cycle;
	r.start_ns = e->start_ns;
	r.dur_ns = e->dur_ns;
	r.gc = true;
	switch (e->kind) {
	case NE_CYCLE:
		if (e->flags & NEF_NO_COLLECTION) {
			g->no_collection++;
			return 0;
		}
		if (e->flags & NEF_NO_COUNT)
			g->no_count++;
		r.phase = r.label = sp->cycle_phase;
		r.trigger = sp->forced_trigger;
		/* The program waits in the collector for the whole call: that is the pause it sees.
		 */
		r.stw = true;
		r.cycle_start = r.cycle_end = true;
		g->timed++;
		break;
	case NE_PHASE:
		r.phase = r.label = f->phase;
		r.trigger = r.cycle ? sp->forced_trigger : NULL;
		if (!r.cycle)
			g->outside++;
		break;
	case NE_MARK:
		/* Only the start is seen: no exported function is left when the collection ends. */
		g->mark_only++;
		r.phase = r.label = sp->cycle_phase;
		r.trigger = sp->mark_trigger;
		r.cycle_start = r.cycle_end = true;
		r.incomplete = true;
		break;
	default:
		return 0;
	}
	if (sp->describe && e->kind == NE_CYCLE) {
		sp->describe(s, e, &r);
	} else {
		r.detail = e->kind == NE_MARK ? NULL : f->sym;
		gc_field_str(&r, "function", e->kind == NE_MARK ? NULL : f->sym);
	}
	gc_field_u64(&r, "tid", e->tid);
	if (g->has_count && e->kind != NE_PHASE)
		gc_field_u64(&r, "gc_no", e->count);
	gc_out_record(s->out, &r);
	return 0;
}

int native_open(struct gc_session *s, const struct native_spec *spec, char *err, size_t errlen)
{
	struct native_gc *g = calloc(1, sizeof(*g));
	uint64_t count_vaddr;
	int rc;

	if (!g) {
		snprintf(err, errlen, "out of memory: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	s->priv = g;
	g->spec = spec;
	rc = resolve(g, s->t, &count_vaddr, err, errlen);
	if (rc)
		return rc;
	if (spec->count_sym && !count_vaddr)
		report_error("rtmon gc", "warning: no %s beside %s: cycles are numbered from 1",
			     spec->count_sym, spec->funcs[0].sym);
	for (int f = 0; f < spec->nfuncs; f++)
		if (spec->funcs[f].role == NR_MARK && (g->sites[f].file < 0 || !count_vaddr))
			report_error("rtmon gc",
				     "warning: no %s: collections the program did not ask for are "
				     "not seen",
				     g->sites[f].file < 0 ? spec->funcs[f].sym : spec->count_sym);
	rc = load(g, s, count_vaddr, err, errlen);
	if (!rc)
		rc = attach(g, s, err, errlen);
	if (rc)
		return rc;
	s->rb = ring_buffer__new(bpf_map__fd(g->skel->maps.events), on_event, s, NULL);
	if (!s->rb) {
		rc = -errno;
		snprintf(err, errlen, "cannot set up the ring buffer: %s", strerror(errno));
	}
	return rc;
}

static const char *mark_func(const struct native_spec *sp)
{
	for (int f = 0; f < sp->nfuncs; f++)
		if (sp->funcs[f].role == NR_MARK)
			return sp->funcs[f].sym;
	return "the mark function";
}

static void read_counters(struct native_gc *g, uint64_t sums[NC_COUNT])
{
	if (!g || !g->skel || probe_sum_percpu_counters(g->skel->maps.counters, NC_COUNT, sums))
		memset(sums, 0, sizeof(uint64_t) * NC_COUNT);
}

void native_counters(struct gc_session *s, uint64_t *lost, uint64_t *hits)
{
	uint64_t sums[NC_COUNT];

	read_counters(s->priv, sums);
	*lost = sums[NC_LOST];
	*hits = sums[NC_HITS];
}

void native_summary(struct gc_session *s, FILE *out, bool json)
{
	struct native_gc *g = s->priv;
	const struct native_spec *sp;
	uint64_t c[NC_COUNT];

	if (!g)
		return;
	sp = g->spec;
	read_counters(g, c);
	if (json) {
		if (sp->mark_trigger) {
			json_field_u64(out, "untimed_collections", g->mark_only);
			json_field_u64(out, "mark_hits", c[NC_MARKS]);
			json_field_u64(out, "mark_repeats", c[NC_DUP_MARK]);
		}
		if (sp->count_sym) {
			json_field_u64(out, "calls_without_collection", g->no_collection);
			json_field_u64(out, "unreadable_count", g->no_count + c[NC_NO_COUNT]);
		}
		json_field_u64(out, "phases_outside_cycle", g->outside);
		json_field_u64(out, "nested_calls", c[NC_NESTED]);
		json_field_u64(out, "unreturned_calls", c[NC_UNRETURNED]);
		json_field_u64(out, "too_deep_calls", c[NC_TOO_DEEP]);
		return;
	}
	if (sp->mark_trigger)
		fprintf(out,
			"collections the program did not ask for (allocation, GC_init) %llu: start "
			"seen, not timed\n",
			(unsigned long long)g->mark_only);
	/* The mark probe relies on the collector pushing its own roots in every collection
	 * (libgc 8.2 does; older releases only in some configurations): say so when it never fired.
	 */
	if (sp->mark_trigger && g->timed && !c[NC_MARKS])
		fprintf(out,
			"warning: %s never ran during %llu collections: collections the program "
			"did not ask for are not seen with this collector build\n",
			mark_func(sp), (unsigned long long)g->timed);
	if (sp->count_sym && (g->no_collection || g->no_count))
		fprintf(out,
			"calls that collected nothing (collector disabled or stopped) %llu; count "
			"unreadable %llu\n",
			(unsigned long long)g->no_collection, (unsigned long long)g->no_count);
	if (g->outside || c[NC_NESTED] || c[NC_UNRETURNED] || c[NC_TOO_DEEP])
		fprintf(out,
			"phases outside a cycle %llu; nested calls (part of the outer call) %llu; "
			"returns not seen %llu; calls too deep to time %llu\n",
			(unsigned long long)g->outside, (unsigned long long)c[NC_NESTED],
			(unsigned long long)c[NC_UNRETURNED], (unsigned long long)c[NC_TOO_DEEP]);
}

void native_close(struct gc_session *s)
{
	struct native_gc *g = s->priv;

	ring_buffer__free(s->rb);
	s->rb = NULL;
	if (!g)
		return;
	probe_links_destroy(&g->pl);
	native_gc_bpf__destroy(g->skel);
	free(g);
	s->priv = NULL;
}

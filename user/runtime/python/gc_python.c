/* rtmon gc, CPython backend: the interpreter's USDT probes python:gc__start(generation) and
 * python:gc__done(collected), one record per collection; in a build without them, the entry and
 * return of the collector's main function (gc_func.c), which give the same two values. The
 * collector runs with the GIL held, so no Python code runs in the process meanwhile: each
 * collection is a pause for the histogram. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "runtime/usdt_gc_backend.h"
#include "runtime/python/gc_func.h"
#include "output/json.h"

enum py_stat { PS_GEN0, PS_GEN1, PS_GEN2, PS_COLLECTED };

static const struct gu_probe probes[] = {
	{ .name = "gc__start", .prog = "py_gc_start" },
	{ .name = "gc__done", .prog = "py_gc_done" },
};

static bool has_probes(const struct runtime_id *id)
{
	return usdt_probe_exists(id->lib, "python", "gc__start") &&
	       usdt_probe_exists(id->lib, "python", "gc__done");
}

/* A CPython that has the probes, to name in the refusal: Debian's build of the same minor version
 * when it is installed, else Debian's python3. */
static void suggest(const struct runtime_id *id, char *out, size_t len)
{
	int major, minor;

	snprintf(out, len, "/usr/bin/python3");
	if (sscanf(id->version, "%d.%d", &major, &minor) == 2) {
		char p[64];

		snprintf(p, sizeof(p), "/usr/bin/python%d.%d", major, minor);
		if (!access(p, X_OK) && usdt_probe_exists(p, "python", "gc__start"))
			snprintf(out, len, "%s", p);
	}
}

static int py_detect(struct gc_session *s, const char *exe, char *err, size_t errlen)
{
	struct py_gc_func fn;
	char other[64], why[512];

	(void)exe;
	if (s->id.kind != RUNTIME_PYTHON)
		return 0;
	snprintf(s->version, sizeof(s->version), "%s",
		 s->id.version[0] ? s->id.version : "unknown");
	snprintf(s->label, sizeof(s->label), "CPython %s", s->version);
	if (has_probes(&s->id) || !py_gc_func_find(&s->id, &fn, why, sizeof(why)))
		return 1;
	suggest(&s->id, other, sizeof(other));
	snprintf(err, errlen,
		 "%s is CPython %s built without USDT probes (--with-dtrace), and %s; use a build "
		 "with them, e.g. Debian's %s",
		 gc_target_name(s), s->version, why, other);
	return -ENOTSUP;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct gc_session *s = ctx;
	struct gu_state *g = s->priv;
	const struct gu_event *e = data;
	struct gc_record r = { 0 };
	char detail[64];

	if (size < sizeof(*e) || e->kind != GU_PY_COLLECT)
		return 0;
	r.pid = (pid_t)e->tgid;
	r.cycle = e->cycle;
	r.phase = "collect";
	r.label = "collect";
	r.start_ns = e->start_ns;
	r.dur_ns = e->dur_ns;
	r.stw = true;
	r.gc = true;
	r.cycle_start = true;
	r.cycle_end = true;
	/* -1: CPython 3.13's generation could not be read (GU_GEN_UNREAD; the summary warns). */
	if (e->generation < 0)
		snprintf(detail, sizeof(detail), "generation unknown, %lld collected",
			 (long long)e->collected);
	else
		snprintf(detail, sizeof(detail), "generation %lld, %lld collected",
			 (long long)e->generation, (long long)e->collected);
	r.detail = detail;
	gc_field_i64(&r, "generation", e->generation);
	gc_field_i64(&r, "collected", e->collected);
	if (e->generation >= 0 && e->generation <= 2)
		g->stats[PS_GEN0 + e->generation]++;
	if (e->collected > 0)
		g->stats[PS_COLLECTED] += (uint64_t)e->collected;
	gc_out_record(s->out, &r);
	return 0;
}

static int py_open(struct gc_session *s, char *err, size_t errlen)
{
	struct py_gc_func fn;
	struct gu_probe func[3];
	int rc, n = 0;

	if (has_probes(&s->id))
		return gu_open(s, "python", probes, sizeof(probes) / sizeof(probes[0]), on_event,
			       err, errlen);
	rc = py_gc_func_find(&s->id, &fn, err, errlen);
	if (rc)
		return rc;
	/* The entry probe last: a call it sees has its return probe armed (a call entered before is
	 * never begun: its return counts as unpaired) and, in 3.13, its generation probe too. */
	func[n++] = (struct gu_probe){ fn.sym, "py_gc_return", GU_RETURN, fn.offset };
	if (fn.gen_sym[0])
		func[n++] = (struct gu_probe){ fn.gen_sym, "py_gc_generation", GU_ENTRY,
					       fn.gen_offset };
	func[n++] = (struct gu_probe){ fn.sym, "py_gc_entry", GU_ENTRY, fn.offset };
	return gu_open(s, "python", func, n, on_event, err, errlen);
}

static void py_summary(struct gc_session *s, FILE *out, bool json)
{
	const struct gu_state *g = s->priv;
	const uint64_t *st = g->stats;

	if (json) {
		const uint64_t gens[3] = { st[PS_GEN0], st[PS_GEN1], st[PS_GEN2] };

		json_field_u64_array(out, "generations", gens, 3);
		json_field_u64(out, "collected", st[PS_COLLECTED]);
		json_field_u64(out, "unpaired", gu_counter(s, GU_UNPAIRED));
		json_field_u64(out, "nested_calls", gu_counter(s, GU_NESTED));
		json_field_u64(out, "calls_without_collection", gu_counter(s, GU_NO_COLLECTION));
		json_field_u64(out, "generation_unread", gu_counter(s, GU_GEN_UNREAD));
		return;
	}
	fprintf(out,
		"collections by generation: 0: %llu, 1: %llu, 2: %llu; objects collected %llu\n",
		(unsigned long long)st[PS_GEN0], (unsigned long long)st[PS_GEN1],
		(unsigned long long)st[PS_GEN2], (unsigned long long)st[PS_COLLECTED]);
	if (gu_counter(s, GU_NESTED))
		fprintf(out, "collector entered again during a collection (not timed): %llu\n",
			(unsigned long long)gu_counter(s, GU_NESTED));
	/* The probe on invoke_gc_callback checks its phase argument; a build whose compiler laid
	 * the arguments out otherwise fails that check. */
	if (gu_counter(s, GU_GEN_UNREAD))
		fprintf(out,
			"warning: the generation of %llu automatic collections could not be read "
			"(invoke_gc_callback's arguments are not (tstate, phase, generation) in "
			"this build): shown as unknown\n",
			(unsigned long long)gu_counter(s, GU_GEN_UNREAD));
}

const struct gc_runtime gc_runtime_python = {
	.name = "python",
	.display = "CPython",
	.pause_title = "GC pauses (collections, run with the GIL held)",
	.detail_header = "DETAIL",
	.detect = py_detect,
	.open = py_open,
	.counters = gu_counters,
	.summary = py_summary,
	.close = gu_close,
};

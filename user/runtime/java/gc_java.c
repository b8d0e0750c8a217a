/* rtmon gc, HotSpot backend: the JVM's USDT probes in libjvm.so. hotspot:gc__begin(is_full) and
 * gc__end bracket each GC operation the VM thread runs at a safepoint (Java threads stopped): one
 * "pause" record each. mem__pool__gc__begin/end give every memory pool's usage before and after a
 * collection: one "pool" record per pool, with the collector (GC memory manager) and pool names.
 * Each pause carries the collection's cause as the JVM names it (user/runtime/java/gc_cause.h),
 * read by the BPF side from where userspace found it in each JVM: at attach for -p, at
 * vm__init__end for a JVM started after attach, else at the process's first event. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include "proc/procinfo.h"
#include "usdt_gc.skel.h"
#include "runtime/usdt_gc_backend.h"
#include "runtime/java/gc_cause.h"
#include "output/json.h"
#include "output/units.h"

enum java_stat { JS_FULL, JS_OTHER, JS_POOLS };

static const struct gu_probe probes[] = {
	{ .name = "gc__begin", .prog = "jvm_gc_begin" },
	{ .name = "gc__end", .prog = "jvm_gc_end" },
	{ .name = "mem__pool__gc__begin", .prog = "jvm_pool_begin" },
	{ .name = "mem__pool__gc__end", .prog = "jvm_pool_end" },
	{ .name = "vm__init__end", .prog = "jvm_init_end" },
};

/* JVMs whose cause rtmon looked for (--binpath traces many): the oldest forgotten past this. */
#define JAVA_MAX_PROCS 256

/* s->rt_priv: finding each JVM's GC cause. */
struct java_gc {
	struct hs_vmstructs_file lib; /* s->id.lib's symbols */
	int lib_rc;                   /* 0, or why it has none (lib_err) */
	char lib_err[256];
	pid_t tried[JAVA_MAX_PROCS]; /* JVMs looked at, found or not */
	unsigned ntried;             /* tried[ntried % JAVA_MAX_PROCS] is the next */
};

enum find_when {
	FIND_FIRST, /* the process's first event: once per process */
	FIND_AGAIN, /* vm__init__end: the JVM has just started, perhaps with a PID seen before */
	FIND_QUIET, /* --binpath's JVMs at attach: a failure is said at the first event */
};

static bool tried(const struct java_gc *j, pid_t pid)
{
	for (unsigned i = 0; i < JAVA_MAX_PROCS && i < j->ntried; i++)
		if (j->tried[i] == pid)
			return true;
	return false;
}

/* Finds where JVM pid keeps its GC cause and tells the BPF side; a JVM whose cause cannot be found
 * is named once on stderr, its pauses have no cause. */
static void find_cause(struct gc_session *s, pid_t pid, enum find_when when)
{
	struct java_gc *j = s->rt_priv;
	struct gu_state *g = s->priv;
	char err[512];
	uint64_t addr;
	__u32 tgid = (__u32)pid;
	bool seen = tried(j, pid);
	int rc;

	if (seen && when != FIND_AGAIN)
		return;
	rc = j->lib_rc ? j->lib_rc : jvm_gc_cause_addr(&j->lib, pid, &addr, err, sizeof(err));
	if (!rc)
		rc = bpf_map_update_elem(bpf_map__fd(g->skel->maps.jvm_cause_addr), &tgid, &addr,
					 BPF_ANY)
			     ? -errno
			     : 0;
	if (rc && when == FIND_QUIET)
		return;
	if (!seen)
		j->tried[j->ntried++ % JAVA_MAX_PROCS] = pid;
	if (rc)
		fprintf(stderr, "rtmon gc: warning: PID %d: GC causes not known: %s\n", pid,
			j->lib_rc ? j->lib_err : err);
}

/* --binpath: the JVMs already running it, before their next collection. */
static void find_running(struct gc_session *s)
{
	struct stat want, st;
	pid_t *pids;
	size_t n;

	if (stat(s->t->exe, &want) || proc_list_pids(&pids, &n))
		return;
	for (size_t i = 0; i < n; i++)
		if (!proc_exe(pids[i], NULL, 0, &st) && st.st_dev == want.st_dev &&
		    st.st_ino == want.st_ino)
			find_cause(s, pids[i], FIND_QUIET);
	free(pids);
}

static int java_detect(struct gc_session *s, const char *exe, char *err, size_t errlen)
{
	(void)exe;
	if (s->id.kind != RUNTIME_JAVA)
		return 0;
	snprintf(s->version, sizeof(s->version), "%s",
		 s->id.version[0] ? s->id.version : "unknown");
	snprintf(s->label, sizeof(s->label), "HotSpot JVM %s", s->version);
	if (usdt_probe_exists(s->id.lib, "hotspot", "gc__begin") &&
	    usdt_probe_exists(s->id.lib, "hotspot", "mem__pool__gc__begin"))
		return 1;
	snprintf(err, errlen,
		 "%s is a JVM (%s, %s) without HotSpot's USDT probes (--enable-dtrace); use a "
		 "JDK built with them, e.g. Debian's openjdk-17-jre-headless",
		 gc_target_name(s), s->version, s->id.lib);
	return -ENOTSUP;
}

/* The pools that hold Java objects; the others are the JVM's code and class metadata (HotSpot's
 * non-heap pools: the CodeHeap segments, or CodeCache when the code cache is not segmented,
 * Metaspace, Compressed Class Space). */
static bool is_heap_pool(const char *pool)
{
	static const char *const non_heap[] = { "Code", "Metaspace", "Compressed Class Space" };

	for (size_t i = 0; i < sizeof(non_heap) / sizeof(non_heap[0]); i++)
		if (!strncmp(pool, non_heap[i], strlen(non_heap[i])))
			return false;
	return true;
}

static void pool_record(struct gc_session *s, const struct gu_event *e, struct gc_record *r,
			char *detail, size_t dlen)
{
	struct gu_state *g = s->priv;
	char before[16], after[16];

	r->phase = "pool";
	r->label = "pool";
	units_bytes(e->before.used, before, sizeof(before));
	units_bytes(e->after.used, after, sizeof(after));
	snprintf(detail, dlen, "%s: %s used %s -> %s", e->manager, e->pool, before, after);
	r->detail = detail;
	r->collector = e->manager;
	r->heap_pool = is_heap_pool(e->pool);
	r->heap_before = e->before.used;
	r->heap_after = e->after.used;
	gc_field_str(r, "collector", e->manager);
	gc_field_str(r, "pool", e->pool);
	gc_field_u64(r, "used_before", e->before.used);
	gc_field_u64(r, "used_after", e->after.used);
	gc_field_u64(r, "committed_before", e->before.committed);
	gc_field_u64(r, "committed_after", e->after.committed);
	gc_field_u64(r, "init", e->after.init);
	/* MemoryUsage's max is (size_t)-1 when the pool has no limit. */
	if (e->after.max == UINT64_MAX)
		gc_field_str(r, "max", NULL);
	else
		gc_field_u64(r, "max", e->after.max);
	g->stats[JS_POOLS]++;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct gc_session *s = ctx;
	struct gu_state *g = s->priv;
	struct gu_event e;
	struct gc_record r = { 0 };
	char detail[2 * GU_NAME_LEN + 64];

	if (size < sizeof(e))
		return 0;
	memcpy(&e, data, sizeof(e));
	e.manager[GU_NAME_LEN - 1] = e.pool[GU_NAME_LEN - 1] = 0;
	r.pid = (pid_t)e.tgid;
	r.cycle = e.cycle;
	r.start_ns = e.start_ns;
	r.dur_ns = e.dur_ns;
	r.gc = true;
	if (e.kind == GU_JVM_INIT) {
		find_cause(s, (pid_t)e.tgid, FIND_AGAIN);
		return 0;
	}
	find_cause(s, (pid_t)e.tgid, FIND_FIRST);
	if (e.kind == GU_JVM_PAUSE) {
		e.cause[GU_NAME_LEN - 1] = 0;
		r.phase = "pause";
		r.label = e.full ? "pause (full)" : "pause";
		r.cause = jvm_gc_cause_name(e.cause);
		r.detail = e.full ? "full collection" : "not full";
		r.stw = true;
		r.cycle_start = true;
		r.cycle_end = true;
		gc_field_str(&r, "cause", r.cause);
		gc_field_bool(&r, "full", e.full);
		g->stats[e.full ? JS_FULL : JS_OTHER]++;
	} else if (e.kind == GU_JVM_POOL) {
		pool_record(s, &e, &r, detail, sizeof(detail));
	} else {
		return 0;
	}
	gc_out_record(s->out, &r);
	return 0;
}

static int java_open(struct gc_session *s, char *err, size_t errlen)
{
	struct java_gc *j = calloc(1, sizeof(*j));
	int rc;

	if (!j) {
		snprintf(err, errlen, "out of memory: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	s->rt_priv = j;
	j->lib_rc = hs_vmstructs_file_open(&j->lib, s->id.lib, j->lib_err, sizeof(j->lib_err));
	rc = gu_open(s, "hotspot", probes, sizeof(probes) / sizeof(probes[0]), on_event, err,
		     errlen);
	/* A running JVM: its cause now, before its next collection. */
	if (!rc && s->t->kind == TARGET_PID)
		find_cause(s, s->t->pid, FIND_FIRST);
	else if (!rc && s->t->kind == TARGET_BINPATH)
		find_running(s);
	return rc;
}

static void java_close(struct gc_session *s)
{
	gu_close(s);
	free(s->rt_priv);
	s->rt_priv = NULL;
}

static void java_summary(struct gc_session *s, FILE *out, bool json)
{
	const struct gu_state *g = s->priv;
	const uint64_t *st = g->stats;

	if (json) {
		json_field_u64(out, "full", st[JS_FULL]);
		json_field_u64(out, "not_full", st[JS_OTHER]);
		json_field_u64(out, "pool_records", st[JS_POOLS]);
		json_field_u64(out, "unpaired", gu_counter(s, GU_UNPAIRED));
	} else
		fprintf(out, "GC operations: full %llu, not full %llu; pool records %llu\n",
			(unsigned long long)st[JS_FULL], (unsigned long long)st[JS_OTHER],
			(unsigned long long)st[JS_POOLS]);
}

const struct gc_runtime gc_runtime_java = {
	.name = "java",
	.display = "Java (HotSpot)",
	.pause_title = "GC pauses (GC operations at a safepoint)",
	.detail_header = "DETAIL",
	.causes = true,
	.detect = java_detect,
	.open = java_open,
	.counters = gu_counters,
	.summary = java_summary,
	.close = java_close,
};

/* rtmon gc, Go backend: probes in the Go runtime's GC functions (bpf/go_gc.bpf.c), events turned
 * into struct gc_record for user/commands/gc.c. Go binaries here are static (CGO_ENABLED=0): every
 * probe goes in the executable. No uretprobe ever: "return" probes sit on the function's RET
 * instructions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "go_gc.h"
#include "go_gc.skel.h"
#include "trace/skel_open.h"
#include "runtime/gc_backend.h"
#include "runtime/go/goelf.h"
#include "runtime/go/goinspect.h"
#include "trace/probe.h"
#include "output/target_report.h"
#include "proc/procmem.h"
#include <sys/stat.h>

/* More RETs than any of these functions has (Go 1.17 to 1.26: at most a handful each). */
#define MAX_RETS  64
#define MAX_SITES (8 + 2 * MAX_RETS)

struct go_gc {
	struct go_gc_bpf *skel;
	struct probe_links pl;
	struct go_info gi;
	bool legacy; /* Go <= 1.20: no stwReason argument */
	/* runtime.work.cycles and the gcStart probe: link-time addresses, and the probe's file
	 * offset (0: the counter was not found) */
	uint64_t cycles_vaddr, gcstart_vaddr, gcstart_off;
	/* The cycle's heap figures and the gcMarkTermination probe: link-time addresses for the
	 * BPF side (struct gc_event's heap; markterm_vaddr 0: not found) */
	uint64_t markterm_vaddr, heap_vaddr, goal_vaddr, cpu_frac_vaddr;
};

/* Where each site is: the function, and whether the probe goes on its body, its RETs, or its
 * direct calls to the function calls_to. */
struct go_site_spec {
	enum gc_site site;
	const char *func;
	bool rets;
	bool required;
	bool legacy_only;     /* Go <= 1.20 only */
	const char *calls_to; /* the CALLs to this function in func */
};

static const struct go_site_spec site_specs[] = {
	{ GS_GCSTART, "runtime.gcStart", false, true, false, NULL },
	{ GS_STW_STOP, "runtime.stopTheWorldWithSema", false, true, false, NULL },
	{ GS_STW_START_RET, "runtime.startTheWorldWithSema", true, true, false, NULL },
	{ GS_MARK_TERM, "runtime.gcMarkTermination", false, true, false, NULL },
	/* Without these, sweeps are only seen to end when the next cycle begins. The background
	 * sweeper parks (gopark, Go 1.17 to 1.26: once at its start, then once a cycle) only when
	 * isSweepDone(); freeSomeWbufs, probed before, runs on every turn of its loop while other
	 * sweepers finish: hundreds of hits a cycle on a program that allocates between sleeps. */
	{ GS_SWEEP_DONE, "runtime.bgsweep", false, false, false, "runtime.gopark" },
	{ GS_SWEEP_DONE, "runtime.mProf_PostSweep", false, false, false, NULL },
	{ GS_LEGACY_STW, "runtime.stopTheWorld", false, true, true, NULL },
	{ GS_LEGACY_STW_FUNC1, "runtime.stopTheWorld.func1", false, true, true, NULL },
};

/* runtime.stwReason values (Go 1.21 to 1.26) as the table shows them, and the strings Go <= 1.20
 * passed to stopTheWorld for the same stops. */
static const struct {
	const char *name;
	const char *legacy;
} stw_reasons[] = {
	{ "unknown", NULL },
	{ "GCMarkTerm", NULL },
	{ "GCSweepTerm", NULL },
	{ "WriteHeapDump", "write heap dump" },
	{ "GoroutineProfile", "profile" },
	{ "GoroutineProfileCleanup", "profile cleanup" },
	{ "AllGoroutinesStack", "stack trace" },
	{ "ReadMemStats", "read mem stats" },
	{ "AllThreadsSyscall", "doAllThreadsSyscall" },
	{ "GOMAXPROCS", "GOMAXPROCS" },
	{ "StartTrace", "start tracing" },
	{ "StopTrace", "stop tracing" },
	{ "CountPagesInUse", "CountPagesInUse" },
	{ "ReadMetricsSlow", "ReadMetricsSlow" },
	{ "ReadMemStatsSlow", "ReadMemStatsSlow" },
	{ "PageCachePagesLeaked", "PageCachePagesLeaked" },
	{ "ResetDebugLog", "ResetDebugLog" },
};

#define NREASONS (sizeof(stw_reasons) / sizeof(stw_reasons[0]))

static const char *const phase_json[GP_COUNT] = {
	[GP_SWEEP_TERM] = "sweep-term",
	[GP_MARK] = "mark",
	[GP_MARK_TERM] = "mark-term",
	[GP_SWEEP] = "sweep",
	[GP_MARK_RESTART] = "mark-term-restart",
	[GP_STW] = "stw",
};

static const char *const phase_label[GP_COUNT] = {
	[GP_SWEEP_TERM] = "sweep-term (STW)",     [GP_MARK] = "mark",
	[GP_MARK_TERM] = "mark-term (STW)",       [GP_SWEEP] = "sweep",
	[GP_MARK_RESTART] = "mark-restart (STW)", [GP_STW] = "stw",
};

static int go_detect(struct gc_session *s, const char *exe, char *err, size_t errlen)
{
	struct go_info gi;

	(void)err;
	(void)errlen;
	if (go_read_buildinfo(exe, &gi, NULL, 0))
		return 0;
	snprintf(s->version, sizeof(s->version), "%s", gi.version);
	return 1;
}

static const char *trigger_name(__u8 t)
{
	switch (t) {
	case GT_HEAP:
		return "heap";
	case GT_TIME:
		return "time";
	case GT_CYCLE:
		return "forced";
	default:
		return "unknown";
	}
}

/* The name a stop-the-world's reason has in the table: Go 1.21+ gives a number, older Go a string.
 */
static const char *reason_name(const struct gc_event *e, char *buf, size_t len)
{
	if (e->reason == STW_REASON_STRING) {
		char s[STW_REASON_LEN + 1];

		memcpy(s, e->reason_str, STW_REASON_LEN);
		s[STW_REASON_LEN] = 0;
		for (size_t i = 0; i < NREASONS; i++)
			if (stw_reasons[i].legacy && !strcmp(stw_reasons[i].legacy, s))
				return stw_reasons[i].name;
		snprintf(buf, len, "%s", s[0] ? s : "unknown");
		return buf;
	}
	if (e->reason < NREASONS)
		return stw_reasons[e->reason].name;
	snprintf(buf, len, "reason-%u", e->reason);
	return buf;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct gc_session *s = ctx;
	const struct gc_event *e = data;
	struct gc_record r = { 0 };
	char rbuf[STW_REASON_LEN + 16], label[STW_REASON_LEN + 48];

	if (size < sizeof(*e) || e->phase >= GP_COUNT)
		return 0;
	r.pid = (pid_t)e->tgid;
	r.start_ns = e->start_ns;
	r.dur_ns = e->dur_ns;
	r.phase = phase_json[e->phase];
	r.label = phase_label[e->phase];
	r.stw = e->phase == GP_SWEEP_TERM || e->phase == GP_MARK_TERM ||
		e->phase == GP_MARK_RESTART || e->phase == GP_STW;
	r.gc = e->phase != GP_STW;
	r.cycle_start = e->phase == GP_SWEEP_TERM;
	r.cycle_end = e->phase == GP_SWEEP;
	if (r.gc) {
		r.cycle = e->cycle;
		r.trigger = trigger_name(e->trigger);
	}
	if (r.stw)
		r.reason = reason_name(e, rbuf, sizeof(rbuf));
	if (e->flags & GE_HEAP) {
		r.heap_pool = r.heap_live_known = true;
		r.heap_before = e->heap[0];
		r.heap_after = e->heap[1];
		r.heap_live = e->heap[2];
		r.heap_goal = e->heap_goal;
		memcpy(&r.gc_cpu_fraction, &e->gc_cpu_fraction, sizeof(r.gc_cpu_fraction));
	}
	if (e->phase == GP_STW) {
		snprintf(label, sizeof(label), "stw (%s)", r.reason);
		r.label = label;
	}
	gc_out_record(s->out, &r);
	return 0;
}

/* Adds the probe sites of one function: its body (after the stack check, so that a morestack
 * re-run does not count twice) or each of its RETs. 0, or -errno with err set. */
static int add_sites(struct go_symtab *st, const struct go_site_spec *sp, struct probe_site *sites,
		     int *n, char *err, size_t errlen)
{
	uint64_t offs[MAX_RETS];
	int nret = 0, rc;

	if (sp->calls_to) {
		uint64_t calls[MAX_RETS], targets[MAX_RETS], to;
		int ncalls;

		rc = go_func_by_name(st, sp->calls_to, &to, NULL, NULL);
		if (rc)
			snprintf(err, errlen, "no function %s", sp->calls_to);
		if (!rc)
			rc = go_func_direct_calls(st, sp->func, calls, targets, MAX_RETS, &ncalls,
						  err, errlen);
		for (int i = 0; !rc && i < ncalls; i++)
			if (targets[i] == to)
				rc = go_vaddr_to_off(st, calls[i], &offs[nret++]);
		if (!rc && !nret) {
			snprintf(err, errlen, "%s has no call to %s", sp->func, sp->calls_to);
			rc = -ENOENT;
		}
	} else if (!sp->rets) {
		rc = go_func_body_site(st, sp->func, &offs[0], err, errlen);
		nret = 1;
	} else {
		rc = go_func_ret_sites(st, sp->func, offs, MAX_RETS, &nret, err, errlen);
		if (!rc && !nret) {
			snprintf(err, errlen, "%s has no RET instruction to probe", sp->func);
			rc = -ENOENT;
		}
	}
	if (rc)
		return rc;
	for (int i = 0; i < nret && *n < MAX_SITES; i++)
		sites[(*n)++] = (struct probe_site){ .offset = offs[i], .cookie = sp->site };
	return 0;
}

/* runtime.work.cycles, so that cycles carry the runtime's numbers (gctrace's "gc N"): read by the
 * BPF side at each gcStart, and by userspace at attach (-p) for a cycle already running. */
/* The link-time address and file offset of func's body probe (go_func_body_site). */
static int body_site_vaddr(struct go_symtab *st, const char *func, uint64_t *vaddr, uint64_t *off)
{
	uint64_t entry, entry_off;
	int rc = go_func_body_site(st, func, off, NULL, 0);

	if (!rc)
		rc = go_func_by_name(st, func, &entry, NULL, &entry_off);
	if (!rc)
		*vaddr = entry + (*off - entry_off);
	return rc;
}

static void find_cycles(struct go_gc *g, struct go_symtab *st)
{
	if (go_work_cycles_find(st, &g->cycles_vaddr) ||
	    body_site_vaddr(st, "runtime.gcStart", &g->gcstart_vaddr, &g->gcstart_off)) {
		fprintf(stderr,
			"rtmon gc: warning: the runtime's cycle counter (runtime.work.cycles) "
			"not found: cycles are numbered from 1 at attach\n");
		g->cycles_vaddr = 0;
		return;
	}
}

/* Where the cycle's heap figures are (struct gc_event's heap): runtime.work, memstats and
 * gcController as rtmon memstats finds them (.symtab, else the code), their members from DWARF or
 * the release's table. Without them cycles are shown without their heap. */
static void find_heap(struct go_gc *g, struct go_symtab *st, const char *exe)
{
	struct go_layout lay;
	struct go_mem_globals mg;
	char err[512] = "", why[600];
	uint64_t off;
	const int *o = lay.off;

	if (go_layout_get(exe, &g->gi, &lay, err, sizeof(err)) ||
	    go_mem_globals_find(st, &lay, &mg, err, sizeof(err)))
		snprintf(why, sizeof(why), "%s", err);
	else if (!mg.work || o[GF_WORK_HEAP0] < 0 || o[GF_WORK_HEAP1] != o[GF_WORK_HEAP0] + 8 ||
		 o[GF_WORK_HEAP2] != o[GF_WORK_HEAP0] + 16 || o[GF_MS_GC_CPU_FRACTION] < 0 ||
		 (o[GF_WORK_HEAPGOAL] < 0 && o[GF_GC_LASTHEAPGOAL] < 0))
		snprintf(why, sizeof(why), "Go %s: runtime.work is not laid out as rtmon expects",
			 g->gi.version);
	else if (body_site_vaddr(st, "runtime.gcMarkTermination", &g->markterm_vaddr, &off))
		snprintf(why, sizeof(why), "runtime.gcMarkTermination not found");
	else
		why[0] = 0;
	if (why[0]) {
		report_error("rtmon gc",
			     "warning: the runtime's heap figures not found (%s): cycles are shown "
			     "without their heap",
			     why);
		g->markterm_vaddr = 0;
		return;
	}
	g->heap_vaddr = mg.work + (uint64_t)o[GF_WORK_HEAP0];
	/* The goal gctrace prints: work.heapGoal to Go 1.18, gcController.lastHeapGoal after. */
	g->goal_vaddr = o[GF_WORK_HEAPGOAL] >= 0
				? mg.work + (uint64_t)o[GF_WORK_HEAPGOAL]
				: mg.gc_controller + (uint64_t)o[GF_GC_LASTHEAPGOAL];
	g->cpu_frac_vaddr = mg.memstats + (uint64_t)o[GF_MS_GC_CPU_FRACTION];
}

/* -p: the runtime's cycle count now, for the BPF side's record of the process (cycle_base). A
 * process rtmon started has run no cycle yet; --binpath's processes start from their first
 * gcStart seen. */
static void read_cycle_base(struct go_gc *g, const struct target *t)
{
	uint64_t code, addr;
	uint32_t cycles;
	struct stat sb;
	__u32 tgid = (__u32)t->pid;
	int rc;

	if (t->kind != TARGET_PID || !g->cycles_vaddr || stat(t->exe, &sb))
		return;
	if (proc_file_offset_addr(t->pid, sb.st_dev, sb.st_ino, g->gcstart_off, &code)) {
		fprintf(stderr,
			"rtmon gc: warning: %s not found in the maps of PID %d: cycles are "
			"numbered from its first cycle seen starting\n",
			t->exe, t->pid);
		return;
	}
	addr = g->cycles_vaddr + (code - g->gcstart_vaddr);
	rc = proc_mem_read(t->pid, addr, &cycles, sizeof(cycles));
	if (rc) {
		fprintf(stderr,
			"rtmon gc: warning: cannot read the runtime's cycle count at 0x%llx of "
			"PID %d: %s%s\n",
			(unsigned long long)addr, t->pid, strerror(-rc),
			rc == -EPERM || rc == -EACCES ? " (run rtmon as root)" : "");
		return;
	}
	bpf_map_update_elem(bpf_map__fd(g->skel->maps.cycle_base), &tgid, &cycles, BPF_ANY);
}

static int collect_sites(struct go_gc *g, const char *exe, struct probe_site *sites, int *n,
			 char *err, size_t errlen)
{
	struct go_symtab *st;
	int rc = go_symtab_open(exe, &st, err, errlen);

	if (rc)
		return rc;
	*n = 0;
	find_cycles(g, st);
	find_heap(g, st, exe);
	for (size_t i = 0; i < sizeof(site_specs) / sizeof(site_specs[0]); i++) {
		const struct go_site_spec *sp = &site_specs[i];
		char e2[512];

		if (sp->legacy_only && !g->legacy)
			continue;
		rc = add_sites(st, sp, sites, n, e2, sizeof(e2));
		if (rc && sp->required) {
			snprintf(
				err, errlen,
				"cannot probe %s in %s (%s): %s; rtmon gc supports Go 1.17 to 1.26",
				sp->func, exe, g->gi.version, e2);
			go_symtab_close(st);
			return rc;
		}
		if (rc)
			report_error("rtmon gc",
				     "warning: %s not probed (%s): sweeps end when the next cycle "
				     "begins",
				     sp->func, e2);
	}
	go_symtab_close(st);
	return 0;
}

static int load(struct go_gc *g, struct gc_session *s, char *err, size_t errlen)
{
	struct target *t = s->t;
	int rc;

	g->skel = SKEL_OPEN(go_gc, t, "gc", err, errlen);
	if (!g->skel)
		return -errno;
	g->skel->rodata->legacy_stw = g->legacy;
	g->skel->rodata->cycles_vaddr = g->cycles_vaddr;
	g->skel->rodata->gcstart_vaddr = g->gcstart_vaddr;
	g->skel->rodata->markterm_vaddr = g->markterm_vaddr;
	g->skel->rodata->heap_vaddr = g->heap_vaddr;
	g->skel->rodata->goal_vaddr = g->goal_vaddr;
	g->skel->rodata->cpu_frac_vaddr = g->cpu_frac_vaddr;
	probe_prepare_sites_prog(g->skel->progs.on_gc_site);
	rc = go_gc_bpf__load(g->skel);
	if (rc)
		probe_load_error("gc", rc, err, errlen);
	return rc;
}

static int go_open(struct gc_session *s, char *err, size_t errlen)
{
	struct probe_site sites[MAX_SITES];
	struct go_gc *g = calloc(1, sizeof(*g));
	pid_t pid = target_probe_pid(s->t);
	int n, rc;

	if (!g) {
		snprintf(err, errlen, "out of memory: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	s->priv = g;
	rc = go_read_buildinfo(s->t->exe, &g->gi, err, errlen);
	if (rc)
		return rc;
	g->legacy = g->gi.major == 1 && g->gi.minor <= 20;
	rc = collect_sites(g, s->t->exe, sites, &n, err, errlen);
	if (rc)
		return rc;
	rc = load(g, s, err, errlen);
	if (rc)
		return rc;
	rc = probe_attach_sites(&g->pl, g->skel->progs.on_gc_site, pid, s->t->exe, sites, n,
				"the Go runtime's GC functions", err, errlen);
	if (rc)
		return rc;
	/* After attaching: a cycle that starts from now on is seen at its gcStart. */
	read_cycle_base(g, s->t);
	return gc_session_ring(s, g->skel->maps.events, on_event, err, errlen);
}

static void go_counters(struct gc_session *s, uint64_t *lost, uint64_t *hits)
{
	struct go_gc *g = s->priv;
	uint64_t sums[GC_NCOUNTERS];

	*lost = *hits = 0;
	if (!g || !g->skel || probe_sum_percpu_counters(g->skel->maps.counters, GC_NCOUNTERS, sums))
		return;
	*lost = sums[GC_LOST];
	*hits = sums[GC_HITS];
}

static void go_close(struct gc_session *s)
{
	struct go_gc *g = s->priv;

	ring_buffer__free(s->rb);
	s->rb = NULL;
	if (!g)
		return;
	probe_links_destroy(&g->pl);
	go_gc_bpf__destroy(g->skel);
	free(g);
	s->priv = NULL;
}

const struct gc_runtime gc_runtime_go = {
	.name = "go",
	.display = "Go",
	.pause_title = "GC stop-the-world pauses",
	.triggers = true,
	.nongc_stops = true,
	.gc_cpu = true,
	.detect = go_detect,
	.open = go_open,
	.counters = go_counters,
	.close = go_close,
};

/* rtmon gc: garbage collection cycles of a managed runtime, one row (or JSON line) per phase or
 * collection, the pauses as a log2 histogram. The runtime-specific part (which probes, what their
 * events mean, the fields only that runtime has) is a struct gc_runtime
 * (user/runtime/gc_backend.h); this file owns everything else: options, target, detection order,
 * loop, table, JSON, histogram, totals. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include "cli/command.h"
#include "output/target_report.h"
#include "cli/commands.h"
#include "runtime/gc_backend.h"
#include "runtime/gc_detect.h"
#include "runtime/gc_stats.h"
#include "output/hist.h"
#include "output/json.h"
#include "output/summary.h"
#include "output/units.h"
#include "output/escape.h"
#include "output/wall_clock.h"
#include "trace/loop.h"
#include "cli/opts.h"
#include "trace/probe.h"
#include "proc/target.h"

/* Cycles whose phases are still arriving, per process (--binpath may trace several). */
#define MAX_OPEN_CYCLES 64

struct open_cycle {
	pid_t pid;
	unsigned cycle;
	const char *trigger;
	uint64_t start_ns;
	uint64_t stw_ns;
	unsigned stw_count;
	uint64_t mark_ns; /* the concurrent mark phase (Go's "mark") */
	bool heap_known;  /* heap pools were reported: their use before and after, summed */
	uint64_t heap_before, heap_after;
	char collector[96]; /* every collector that ran in it, in order: "PS Scavenge+PS MarkSweep"
			     */
	char last_collector[64];
	bool later_collection; /* a second collector's records came: heap_before is complete */
	char cause[64];        /* the collection's cause ("" when not known) */
	char detail[96];       /* the first record's DETAIL, for runtimes that name no collector */
	bool heap_live_known;  /* Go: the live heap, the goal and the GC's CPU share (gc_record) */
	uint64_t heap_live, heap_goal;
	double gc_cpu_fraction;
	bool incomplete;
	bool used;
};

/* rtmon gc's sink for the backend's records: the table or JSON lines, histogram and totals. */
struct gc_print {
	struct gc_out sink; /* first: the backend hands records to it */
	const struct common_opts *co;
	const struct target *t;
	const struct gc_runtime *rt;
	uint64_t t0_ns; /* CLOCK_MONOTONIC at attach: START(ms) counts from here */
	bool header_done;
	struct gc_stats all; /* whole run */
	struct gc_stats iv;  /* since the last -i report: only its pause histogram is printed */
	int interval_no;
	bool phases; /* --phases: a row per record; else a line per collection */
	struct open_cycle open[MAX_OPEN_CYCLES];
};

struct gc_args {
	struct common_opts co;
	struct gc_custom_args custom;
	bool phases;
};

enum { OPT_CYCLE = 0x2000, OPT_PHASE, OPT_PHASES };

static const struct argp_option gc_options[] = {
	{ "cycle", OPT_CYCLE, "SYM", 0,
	  "A native program's own collector: each call of the function SYM "
	  "is one GC cycle, timed by entry and return probes (not for Go)",
	  0 },
	{ "phase", OPT_PHASE, "NAME=SYM", 0,
	  "With --cycle: each call of the function SYM is phase NAME of "
	  "the cycle open on its thread; repeat for each phase",
	  0 },
	{ "phases", OPT_PHASES, NULL, 0,
	  "A row per GC phase, memory pool and non-GC stop-the-world, instead of one line per "
	  "collection",
	  0 },
	{ 0 },
};

static const char doc[] =
	"Garbage collection in a managed runtime, found from the target's files without flags: one "
	"line per collection (--phases: a row per phase, memory pool and non-GC stop) with its "
	"start and duration, and a log2 histogram of the pauses.\v"
	"Runtimes, in the order they are tried (docs/gc.md):\n"
	"  go      Go 1.17 to 1.26, plain, stripped or PIE: phases sweep-term, mark,\n"
	"          mark-term and sweep; the cycle's trigger (heap, time, forced =\n"
	"          runtime.GC()); stop-the-worlds that are not GC (ReadMemStats, ...)\n"
	"          labelled as such; each cycle's heap before, after, live and goal\n"
	"          and the GC's CPU share, as GODEBUG=gctrace=1 prints them. Uprobes,\n"
	"          never uretprobes.\n"
	"  python  CPython: its USDT probes (Debian's /usr/bin/python3.X), or in a\n"
	"          build without them (pyenv's 3.9 to 3.13) the collector function's\n"
	"          entry and return (gc_collect_main): one row per collection, its\n"
	"          generation and objects collected. The GIL is held throughout: each\n"
	"          collection is a pause.\n"
	"  java    HotSpot JVMs (JDK 17 and newer), libjvm.so's USDT probes: one row\n"
	"          per GC operation at a safepoint (full or not) with its cause as\n"
	"          -Xlog:gc names it (read from the JVM's perf data), and with --phases\n"
	"          per memory pool its collector and used bytes before and after.\n"
	"  node    Node.js 20 and 22 (V8): one row per collection, its kind\n"
	"          (scavenge, mark-compact, minor-mc/minor-ms) and V8's reason, from\n"
	"          entry and return probes on Heap::PerformGarbageCollection; the\n"
	"          isolate's JavaScript is stopped throughout: each is a pause.\n"
	"  boehm   programs using Boehm GC (libgc): the collections the program asks\n"
	"          for (GC_gcollect, GC_gcollect_and_unmap, GC_try_to_collect) timed;\n"
	"          those the collector starts itself (allocation, GC_init) counted and\n"
	"          numbered, not timed.\n"
	"  custom  any native program, with --cycle SYM [--phase NAME=SYM]...: no\n"
	"          detection.\n"
	"\n"
	"Examples:\n"
	"  rtmon gc -- ./app args            start ./app and follow its GC\n"
	"  rtmon gc -p 1234 -d 30            PID 1234 for 30 seconds\n"
	"  rtmon gc -b ./app -i 10           every ./app process; pauses each 10 s\n"
	"  rtmon gc -- python3.11 app.py     a CPython script's collections\n"
	"  rtmon gc -- java -jar app.jar     a JVM's GC operations and memory pools\n"
	"  rtmon gc -n node                  the node process's V8 collections\n"
	"  rtmon gc --json -p 1234           JSON lines (docs/json.md, docs/gc.md)\n"
	"  rtmon gc --cycle gc_collect --phase mark=gc_mark --phase sweep=gc_sweep -- ./app\n"
	"                                    ./app's own collector: cycles of gc_collect(), its "
	"phases";

static error_t parse_gc(int key, char *arg, struct argp_state *state)
{
	struct gc_args *a = state->input;
	char err[256];

	switch (key) {
	case ARGP_KEY_INIT:
		common_opts_init(state, &a->co);
		break;
	case OPT_CYCLE:
		a->custom.cycle = arg;
		return 0;
	case OPT_PHASES:
		a->phases = true;
		return 0;
	case OPT_PHASE:
		if (!gc_custom_add_phase(&a->custom, arg, err, sizeof(err)))
			return 0;
		argp_failure(state, 2, 0, "%s", err);
		return EINVAL;
	case ARGP_KEY_END:
		if (!gc_custom_check(&a->custom, err, sizeof(err)))
			return 0;
		argp_failure(state, 2, 0, "%s", err);
		return EINVAL;
	}
	return ARGP_ERR_UNKNOWN;
}

static const struct argp_child children[] = { { &common_argp, 0, NULL, 0 }, { 0 } };
static const struct argp gc_argp = { gc_options, parse_gc, NULL, doc, children, NULL, NULL };

/* -p and -- CMD report the process; --binpath's JSON says null (several processes together). */
static pid_t hist_pid(const struct gc_print *o)
{
	return target_report_pid(o->t);
}

static struct open_cycle *find_cycle(struct gc_print *o, pid_t pid, unsigned cycle, bool add)
{
	struct open_cycle *free_slot = NULL;

	for (int i = 0; i < MAX_OPEN_CYCLES; i++) {
		struct open_cycle *c = &o->open[i];

		if (c->used && c->pid == pid && c->cycle == cycle)
			return c;
		if (!c->used && !free_slot)
			free_slot = c;
	}
	/* Full: a process that died mid-cycle left records behind; reuse the first slot. */
	if (add && !free_slot)
		free_slot = &o->open[0];
	if (add)
		*free_slot = (struct open_cycle){ .pid = pid, .cycle = cycle, .used = true };
	return add ? free_slot : NULL;
}

static void print_header(struct gc_print *o)
{
	if (o->header_done || o->co->json)
		return;
	o->header_done = true;
	if (o->co->wall_clock)
		fputs(WALL_CLOCK_HEADING, stdout);
	if (o->t->kind == TARGET_BINPATH)
		printf("%-8s ", "PID");
	if (!o->phases) {
		printf("%-6s %-8s %10s %13s %10s %10s ", "CYCLE", "TRIGGER", "START(ms)",
		       "DURATION(us)", "STW(us)", "MARK(us)");
		if (o->rt->gc_cpu)
			printf("%7s ", "GC-CPU");
		printf(" %-23s %s\n", "HEAP", "COLLECTOR/DETAIL");
		return;
	}
	printf("%-6s %-8s %-24s %10s %13s", "CYCLE", "TRIGGER", "PHASE", "START(ms)",
	       "DURATION(us)");
	if (o->rt->detail_header)
		printf("  %s", o->rt->detail_header);
	putchar('\n');
}

static void print_row(struct gc_print *o, const struct gc_record *r)
{
	double start_ms = r->start_ns >= o->t0_ns ? (double)(r->start_ns - o->t0_ns) / 1e6
						  : -(double)(o->t0_ns - r->start_ns) / 1e6;
	char cyc[16], cause[96];

	print_header(o);
	if (o->co->wall_clock)
		wall_clock_print_column(stdout, r->start_ns);
	if (o->t->kind == TARGET_BINPATH)
		printf("%-8d ", (int)r->pid);
	snprintf(cyc, sizeof(cyc), r->cycle ? "%u" : "-", r->cycle);
	printf("%-6s %-8s %-24s %10.3f %13.1f", cyc, r->trigger ? r->trigger : "-", r->label,
	       start_ms, (double)r->dur_ns / 1e3);
	if (o->rt->detail_header)
		printf("  %s", r->detail ? r->detail : "-");
	/* The cause in parentheses, as on the line per collection. */
	if (r->cause)
		printf(" (%s)", text_safe(r->cause, cause, sizeof(cause)));
	puts(r->incomplete ? "  (end not seen)" : "");
}

/* The record's or the cycle's "cause": its name, or null when not known. */
static void json_cause(const char *cause)
{
	if (cause)
		json_field_str(stdout, "cause", cause);
	else
		json_field_null(stdout, "cause");
}

/* mono_ns: when it began (CLOCK_MONOTONIC, as the BPF side stamps it): the record's "time". */
static void json_head(const struct gc_print *o, const char *type, pid_t pid, uint64_t mono_ns)
{
	json_begin_at(stdout, type, mono_ns);
	json_field_i64(stdout, "pid", pid);
	json_field_str(stdout, "runtime", o->rt->name);
}

/* The runtime's own fields, after the common ones. */
static void print_fields(const struct gc_record *r)
{
	for (int i = 0; i < r->nfields && i < GC_MAX_FIELDS; i++) {
		const struct gc_field *f = &r->fields[i];

		switch (f->kind) {
		case GF_U64:
			json_field_u64(stdout, f->key, f->u);
			break;
		case GF_I64:
			json_field_i64(stdout, f->key, f->i);
			break;
		case GF_BOOL:
			json_field_bool(stdout, f->key, f->b);
			break;
		case GF_STR:
			if (f->s)
				json_field_str(stdout, f->key, f->s);
			else
				json_field_null(stdout, f->key);
			break;
		}
	}
}

static void print_json(struct gc_print *o, const struct gc_record *r)
{
	json_head(o, "gc", r->pid, r->start_ns);
	if (r->cycle)
		json_field_u64(stdout, "cycle", r->cycle);
	else
		json_field_null(stdout, "cycle");
	/* the phase may be a --phase NAME the user chose: escaped like any string */
	json_field_str(stdout, "phase", r->phase);
	json_field_u64(stdout, "start_ns", r->start_ns);
	json_field_u64(stdout, "dur_ns", r->dur_ns);
	if (r->trigger)
		json_field_str(stdout, "trigger", r->trigger);
	json_field_bool(stdout, "stw", r->stw);
	json_field_bool(stdout, "gc", r->gc);
	if (r->reason)
		json_field_str(stdout, "reason", r->reason);
	if (r->incomplete)
		json_field_bool(stdout, "incomplete", true);
	print_fields(r);
	json_end(stdout);
}

/* One line per collection (the default): its totals once its last record is in. */
static void print_cycle_row(struct gc_print *o, const struct open_cycle *c, uint64_t end_ns)
{
	double start_ms = c->start_ns >= o->t0_ns ? (double)(c->start_ns - o->t0_ns) / 1e6
						  : -(double)(o->t0_ns - c->start_ns) / 1e6;
	char cyc[16], mark[24] = "-", heap[80] = "-", before[16], after[16], coll[128], what[160];
	char live[16], goal[16], cpu[16] = "-";

	print_header(o);
	if (o->co->wall_clock)
		wall_clock_print_column(stdout, c->start_ns);
	if (o->t->kind == TARGET_BINPATH)
		printf("%-8d ", (int)c->pid);
	snprintf(cyc, sizeof(cyc), "%u", c->cycle);
	if (c->mark_ns)
		snprintf(mark, sizeof(mark), "%.1f", (double)c->mark_ns / 1e3);
	if (c->heap_known) {
		units_bytes(c->heap_before, before, sizeof(before));
		units_bytes(c->heap_after, after, sizeof(after));
		snprintf(heap, sizeof(heap), "%s -> %s", before, after);
	}
	/* Go: gctrace's "4->4->2 MB, 5 MB goal", in human units */
	if (c->heap_known && c->heap_live_known) {
		units_bytes(c->heap_live, live, sizeof(live));
		/* GOGC=off without a memory limit: the goal is the default limit's, about 2^63
		 * (JSON and gctrace give it as it is) */
		if (c->heap_goal >= 1ULL << 60)
			snprintf(goal, sizeof(goal), "none");
		else
			units_bytes(c->heap_goal, goal, sizeof(goal));
		snprintf(heap, sizeof(heap), "%s -> %s -> %s, goal %s", before, after, live, goal);
		snprintf(cpu, sizeof(cpu), "%.1f%%", 100 * c->gc_cpu_fraction);
	}
	/* The cause in parentheses after the collector, as -Xlog:gc writes it after the pause. */
	snprintf(what, sizeof(what), c->cause[0] ? "%s (%s)" : "%s",
		 c->collector[0] ? c->collector
		 : c->detail[0]  ? c->detail
				 : "-",
		 c->cause);
	printf("%-6s %-8s %10.3f %13.1f %10.1f %10s ", cyc, c->trigger ? c->trigger : "-", start_ms,
	       (double)(end_ns - c->start_ns) / 1e3, (double)c->stw_ns / 1e3, mark);
	if (o->rt->gc_cpu)
		printf("%7s ", cpu);
	printf(" %-23s %s%s\n", heap, text_safe(what, coll, sizeof(coll)),
	       c->incomplete ? "  (end not seen)" : "");
}

static void print_cycle_json(const struct gc_print *o, const struct open_cycle *c, uint64_t end_ns)
{
	json_head(o, "gc_cycle", c->pid, c->start_ns);
	json_field_u64(stdout, "cycle", c->cycle);
	/* Runtimes whose probes do not tell the trigger leave it out. */
	if (o->rt->triggers)
		json_field_str(stdout, "trigger", c->trigger ? c->trigger : "unknown");
	json_field_u64(stdout, "start_ns", c->start_ns);
	json_field_u64(stdout, "dur_ns", end_ns - c->start_ns);
	json_field_u64(stdout, "stw_ns", c->stw_ns);
	json_field_u64(stdout, "stw_count", c->stw_count);
	if (c->mark_ns)
		json_field_u64(stdout, "mark_ns", c->mark_ns);
	if (c->heap_known) {
		json_field_u64(stdout, "heap_before", c->heap_before);
		json_field_u64(stdout, "heap_after", c->heap_after);
	}
	if (c->heap_known && c->heap_live_known) {
		json_field_u64(stdout, "heap_live", c->heap_live);
		json_field_u64(stdout, "heap_goal", c->heap_goal);
		json_field_exact(stdout, "gc_cpu_fraction", c->gc_cpu_fraction);
	}
	if (c->collector[0])
		json_field_str(stdout, "collector", c->collector);
	if (o->rt->causes)
		json_cause(c->cause[0] ? c->cause : NULL);
	json_end(stdout);
}

/* Per-cycle totals: the cycle's first record opens it, the one marked cycle_end closes it. */
static void track_cycle(struct gc_print *o, const struct gc_record *r)
{
	struct open_cycle *c = find_cycle(o, r->pid, r->cycle, true);

	if (!c->start_ns || r->start_ns < c->start_ns)
		c->start_ns = r->start_ns;
	c->trigger = r->trigger;
	if (r->stw) {
		c->stw_ns += r->dur_ns;
		c->stw_count++;
	}
	if (r->phase && !strcmp(r->phase, "mark"))
		c->mark_ns += r->dur_ns;
	/* One pause may hold several collections, each a collector's records in a row (HotSpot's
	 * parallel collector runs System.gc() as a young collection, then a full one, in one GC
	 * operation): the heap before the first, after the last. */
	if (r->collector && c->last_collector[0] && strcmp(r->collector, c->last_collector)) {
		size_t n = strlen(c->collector);

		snprintf(c->collector + n, sizeof(c->collector) - n, "+%s", r->collector);
		c->later_collection = true;
		c->heap_after = 0;
	} else if (r->collector && !c->collector[0]) {
		snprintf(c->collector, sizeof(c->collector), "%s", r->collector);
	}
	if (r->collector)
		snprintf(c->last_collector, sizeof(c->last_collector), "%s", r->collector);
	if (r->heap_pool) {
		c->heap_known = true;
		if (!c->later_collection)
			c->heap_before += r->heap_before;
		c->heap_after += r->heap_after;
	}
	if (r->cause && !c->cause[0])
		snprintf(c->cause, sizeof(c->cause), "%s", r->cause);
	if (r->heap_live_known) {
		c->heap_live_known = true;
		c->heap_live = r->heap_live;
		c->heap_goal = r->heap_goal;
		c->gc_cpu_fraction = r->gc_cpu_fraction;
	}
	if (r->detail && !c->detail[0])
		snprintf(c->detail, sizeof(c->detail), "%s", r->detail);
	c->incomplete |= r->incomplete;
	if (r->cycle_end) {
		if (o->co->json)
			print_cycle_json(o, c, r->start_ns + r->dur_ns);
		else if (!o->phases)
			print_cycle_row(o, c, r->start_ns + r->dur_ns);
		c->used = false;
	}
}

static void print_record(struct gc_out *sink, const struct gc_record *r)
{
	struct gc_print *o = (struct gc_print *)sink;

	gc_stats_add(&o->all, r);
	gc_stats_add(&o->iv, r);
	if (o->co->json)
		print_json(o, r);
	else if (o->phases)
		print_row(o, r);
	if (r->gc && r->cycle)
		track_cycle(o, r);
	/* Rows are few (a handful per cycle) and a reader of a pipe wants them as they happen. */
	fflush(stdout);
}

static void print_hist(struct gc_print *o, const struct gc_stats *st)
{
	const __u64 *slots = st->slots;
	uint64_t n = st->pauses;
	struct hist_range range = { .known = n > 0,
				    .min = (double)st->pause_min_ns / 1e3,
				    .max = (double)st->pause_max_ns / 1e3 };

	if (o->co->json) {
		json_hist_begin(stdout, "gc_pause", "us", hist_pid(o), slots, LOG2_SLOTS, n,
				st->pause_sum_us, &range);
		json_field_str(stdout, "runtime", o->rt->name);
		if (o->interval_no)
			json_field_i64(stdout, "interval", o->interval_no);
		json_end(stdout);
		return;
	}
	if (!n) {
		printf("no GC pauses seen\n");
		return;
	}
	hist_print_log2(stdout, slots, LOG2_SLOTS, "pause (us)");
	char mean[UNITS_LEN], p50[UNITS_LEN], p99[UNITS_LEN], lo[UNITS_LEN], hi[UNITS_LEN];

	units_duration(1e3 * (double)st->pause_sum_us / (double)n, mean, sizeof(mean));
	units_duration(1e3 * hist_percentile_in(slots, LOG2_SLOTS, 0.5, &range), p50, sizeof(p50));
	units_duration(1e3 * hist_percentile_in(slots, LOG2_SLOTS, 0.99, &range), p99, sizeof(p99));
	units_duration(1e3 * range.min, lo, sizeof(lo));
	units_duration(1e3 * range.max, hi, sizeof(hi));
	printf("pauses %llu, mean %s, p50 ~%s, p99 ~%s, min %s, max %s\n", (unsigned long long)n,
	       mean, p50, p99, lo, hi);
}

static void on_interval(void *ctx)
{
	struct gc_print *o = ctx;

	o->interval_no++;
	if (!o->co->json)
		printf("\nGC pauses in interval %d:\n", o->interval_no);
	print_hist(o, &o->iv);
	memset(&o->iv, 0, sizeof(o->iv));
	fflush(stdout);
}

static void print_final(struct gc_print *o, struct gc_session *s, enum loop_end end, double secs)
{
	uint64_t lost = 0, hits = 0;

	o->rt->counters(s, &lost, &hits);
	if (!o->co->json)
		printf("\n%s in %s (%s):\n", o->rt->pause_title, o->t->label,
		       s->label[0] ? s->label : s->version);
	o->interval_no = 0;
	print_hist(o, &o->all);
	struct summary sum = { .out = stdout,
			       .json = o->co->json,
			       .command = "gc",
			       .events = o->all.events,
			       .lost = lost,
			       .secs = secs,
			       .end = loop_end_name(end),
			       .t = o->t };

	summary_begin(&sum);
	if (sum.json) {
		json_field_str(stdout, "runtime", o->rt->name);
		json_field_str(stdout, "version", s->version);
		json_field_u64(stdout, "cycles", o->all.cycles);
		json_field_u64(stdout, "gc_pauses", o->all.pauses);
		json_field_u64(stdout, "stw_total_ns", o->all.pause_ns);
		json_field_u64(stdout, "stw_max_ns", o->all.pause_max_ns);
		json_field_u64(stdout, "nongc_stw", o->all.nongc);
		json_field_u64(stdout, "nongc_stw_ns", o->all.nongc_ns);
		json_field_u64(stdout, "probe_hits", hits);
		json_field_str(stdout, "probe", s->probe_kind ? s->probe_kind : probe_sites_kind());
	} else {
		char total[UNITS_LEN], max[UNITS_LEN], nongc[UNITS_LEN];

		units_duration((double)o->all.pause_ns, total, sizeof(total));
		units_duration((double)o->all.pause_max_ns, max, sizeof(max));
		units_duration((double)o->all.nongc_ns, nongc, sizeof(nongc));
		printf("cycles %llu", (unsigned long long)o->all.cycles);
		if (o->rt->triggers)
			printf(" (forced %llu)", (unsigned long long)o->all.forced);
		printf(", GC pauses %llu, total %s %s, max %s", (unsigned long long)o->all.pauses,
		       o->rt->nongc_stops ? "STW pause" : "pause", total, max);
		if (o->rt->nongc_stops)
			printf("; non-GC stops %llu (%s)", (unsigned long long)o->all.nongc, nongc);
		putchar('\n');
	}
	if (o->rt->summary)
		o->rt->summary(s, stdout, sum.json);
	summary_end(&sum, NULL);
}

/* The first backend, in table order, that recognises the target; NULL after one error line: the
 * runtime was recognised but cannot be traced (the backend says why and what to do), or none
 * matched (the line lists the runtimes rtmon gc supports). */
static const struct gc_runtime *detect_runtime(struct gc_session *s)
{
	char names[128], kinds[256], err[1024];
	const struct gc_runtime *rt;
	int rc = gc_detect(s, &rt, err, sizeof(err));

	if (rc > 0)
		return rt;
	if (!rc) {
		gc_runtimes_describe(names, sizeof(names), kinds, sizeof(kinds));
		/* Name the executable when the label doesn't: a command found in PATH or a script's
		 * interpreter. */
		if (s->t->kind == TARGET_CMD && strncmp(s->t->label, s->t->exe, strlen(s->t->exe)))
			snprintf(err, sizeof(err),
				 "%s runs %s, which is not a %s program; runtimes supported: %s; "
				 "for a program's own collector, give --cycle SYM",
				 s->t->label, s->t->exe, kinds, names);
		else
			snprintf(err, sizeof(err),
				 "%s is not a %s program; runtimes supported: %s; for a "
				 "program's own collector, give --cycle SYM",
				 s->t->label, kinds, names);
	}
	/* a -p target that exits while its files are read looks like one without the runtime's
	 * probes: say that it exited instead */
	target_explain_attach_error(s->t, err, sizeof(err));
	report_error("rtmon gc", "%s", err);
	return NULL;
}

/* The steps command_trace takes for gc; the session is closed by the caller. */
struct gc_trace {
	struct gc_session *s;
	struct gc_print *o;
};

static int gc_attach(void *ctx, struct loop_ops *ops, char *err, size_t errlen)
{
	struct gc_trace *x = ctx;

	if (x->o->rt->open(x->s, err, errlen))
		return -1;
	ops->rb = x->s->rb;
	return 0;
}

static void gc_before_release(void *ctx)
{
	((struct gc_trace *)ctx)->o->t0_ns = loop_now_ns();
}

static void gc_report(void *ctx, enum loop_end end, double secs)
{
	struct gc_trace *x = ctx;

	print_final(x->o, x->s, end, secs);
}

static int trace(struct gc_session *s, struct gc_print *o, bool *ran)
{
	struct gc_trace x = { s, o };
	struct loop_ops ops = { .ctx = o, .on_interval = on_interval };
	const struct trace_steps steps = { "gc",      "GC cycles",       &x,
					   gc_attach, gc_before_release, gc_report };

	return command_trace(&steps, s->co, s->t, &ops, ran);
}

int cmd_gc(int argc, char **argv)
{
	struct gc_args args = { 0 };
	struct target t;
	struct gc_session s = { .co = &args.co, .custom = &args.custom, .t = &t };
	struct gc_print *o;
	bool ran;
	int rc;

	rc = command_start(&gc_argp, argc, argv, &args.co, &args, &t);
	if (rc)
		return rc;
	o = calloc(1, sizeof(*o));
	if (!o) {
		fprintf(stderr, "rtmon gc: %s\n", strerror(ENOMEM));
		target_close(&t, true);
		return 1;
	}
	o->sink.record = print_record;
	o->co = &args.co;
	o->phases = args.phases;
	o->t = &t;
	s.out = &o->sink;
	o->rt = args.custom.cycle ? gc_custom_runtime(&s) : detect_runtime(&s);
	if (!o->rt) {
		free(o);
		target_close(&t, true);
		return 1;
	}
	rc = trace(&s, o, &ran);
	o->rt->close(&s);
	target_close(&t, !ran);
	free(o);
	return rc;
}

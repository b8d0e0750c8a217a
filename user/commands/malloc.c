/* rtmon malloc: allocation sizes as a log2 histogram, counted in the kernel. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <math.h>
#include <bpf/bpf.h>
#include "trace/budget.h"
#include "output/target_report.h"
#include "commands/malloc_run.h"
#include "cli/command.h"
#include "cli/commands.h"
#include "binary/objfile.h"
#include "runtime/go/goelf.h"
#include "output/hist.h"
#include "output/json.h"
#include "trace/loop.h"
#include "alloc.h"
#include "alloc.skel.h"
#include "trace/skel_open.h"
#include "cli/opts.h"
#include "trace/probe.h"
#include "binary/probe_site.h"
#include "proc/target.h"

enum { OPT_BUDGET = 0x2000, OPT_LIVE, OPT_STACKS, OPT_MIN_AGE, OPT_UNWIND, OPT_PREFIX };

const char *const malloc_fn_names[AF_COUNT] = {
	[AF_MALLOC] = "malloc",
	[AF_CALLOC] = "calloc",
	[AF_REALLOC] = "realloc",
	[AF_ALIGNED_ALLOC] = "aligned_alloc",
	[AF_POSIX_MEMALIGN] = "posix_memalign",
	[AF_MEMALIGN] = "memalign",
	[AF_VALLOC] = "valloc",
	[AF_PVALLOC] = "pvalloc",
	[AF_FREE] = "free",
	[AF_MALLOCX] = "mallocx",
	[AF_RALLOCX] = "rallocx",
	[AF_XALLOCX] = "xallocx",
	[AF_DALLOCX] = "dallocx",
	[AF_SDALLOCX] = "sdallocx",
	[AF_TC_NEW] = "tc_new",
	[AF_TC_DELETE] = "tc_delete",
	[AF_CXX_NEW] = "operator_new",
	[AF_CXX_DELETE] = "operator_delete",
	[AF_MALLOCGC] = "mallocgc",
	[AF_MALLOCGC_SPECIALIZED] = "mallocgc_specialized",
	[AF_PYOBJ_MALLOC] = "PyObject_Malloc",
	[AF_PYOBJ_CALLOC] = "PyObject_Calloc",
	[AF_PYOBJ_REALLOC] = "PyObject_Realloc",
	[AF_PYOBJ_FREE] = "PyObject_Free",
};

static const char doc[] =
	"Histogram of allocation sizes: glibc malloc and compatible allocators in native "
	"programs, runtime.mallocgc in Go programs.\v"
	"Probes malloc, calloc (nmemb*size), realloc, aligned_alloc, posix_memalign, memalign, "
	"valloc, pvalloc and free in the executable (static builds) or in the library that "
	"provides malloc (libc.so.6, or an allocator loaded before it). Counts are kept in the "
	"kernel. jemalloc (mallocx, rallocx, xallocx, dallocx, sdallocx, its C++ operators) and "
	"tcmalloc (tc_new, tc_delete and their forms) are found without flags, linked or "
	"preloaded, with their own entry points counted too; a call the allocator makes to "
	"another of its probed functions is counted once. An allocator that exports only "
	"prefixed names (je_malloc) is traced with --allocator-prefix je_.\n\n"
	"CPython programs: the object allocator (PyObject_Malloc, PyObject_Calloc, "
	"PyObject_Realloc, PyObject_Free), from which most objects come without reaching malloc, "
	"is probed too and reported apart (allocator pymalloc; not with --live or --stacks).\n\n"
	"Go programs (found by their build info; stripped ones too) are traced at "
	"runtime.mallocgc: sizes as a log2 histogram and by the runtime's size classes, with "
	"allocations over 32 KiB apart.\n\n"
	"A probe hit costs the target about 0.45 to 1.2 us, depending on the machine (a "
	"malloc+free pair 0.9 to 2.4 us traced, 0.03 to 0.1 us untraced; docs/PERFORMANCE.md). "
	"--budget PCT bounds that: rtmon attaches and "
	"detaches its probes in duty cycles so that they take at most PCT "
	"percent of the target's CPU time, and reports estimates scaled from what it saw (marked "
	"~, with the sampled fraction). Without --budget every call is traced. rtmon thr, lat and "
	"gc need no budget: their probes fire once per thread or GC cycle, not per call (README, "
	"OVERHEAD).\n\n"
	"--stacks counts allocations and bytes per call stack (text: the top N, --top; --folded, "
	"--pprof FILE, --json): Go programs by frame pointers (the kernel's walk, "
	"counted in the kernel), native programs by copying the stack's top 16 KiB for "
	"DWARF unwinding, as rtmon profile does (a record per call: far dearer, "
	"docs/PERFORMANCE.md); --unwind chooses. --live --stacks: the blocks not freed per "
	"stack, with the oldest one's age; --min-age SEC keeps blocks at least that old "
	"(memleak's report).\n\n"
	"--live adds return probes on the allocating functions and a table of the blocks allocated "
	"while tracing and not freed yet (live allocations and bytes; with -i a level, not a "
	"delta). A return probe costs about as much again as the entry probe: an allocation costs "
	"the target about twice as much under --live (docs/malloc.md). Native programs only, and "
	"not with --budget.\n\n"
	"Examples:\n"
	"  rtmon malloc --binpath ./app      every process running ./app, also ones started later\n"
	"  rtmon malloc -p 1234 -d 10        PID 1234 for 10 seconds\n"
	"  rtmon malloc -i 1 -- ./app args   start ./app, print every second\n"
	"  rtmon malloc --budget 5 -p 1234   slow PID 1234 down by at most ~5%, estimated counts\n"
	"  rtmon malloc --live -p 1234       also the blocks allocated while tracing and not "
	"freed\n"
	"  rtmon malloc --stacks -p 1234     the top 10 allocating stacks\n"
	"  rtmon malloc --live --stacks --min-age 5 -p 1234   blocks not freed after 5 s, by "
	"stack\n"
	"  rtmon malloc --json -p 1234       JSON lines (docs/json.md)";

static const struct argp_option malloc_options[] = {
	{ "budget", OPT_BUDGET, "PCT", 0,
	  "Let the probes take at most PCT percent of the target's CPU time "
	  "(0 < PCT <= 100): duty-cycled probes, estimated counts",
	  0 },
	{ "live", OPT_LIVE, NULL, 0,
	  "Also count the blocks allocated while tracing and not freed (return "
	  "probes: about twice the cost per allocation; native programs only)",
	  0 },
	{ "stacks", OPT_STACKS, NULL, 0, "Count allocations and bytes per call stack", 0 },
	{ "min-age", OPT_MIN_AGE, "SEC", 0,
	  "With --live --stacks: only blocks allocated at least SEC seconds ago", 0 },
	{ "unwind", OPT_UNWIND, "fp|dwarf", 0,
	  "How --stacks takes stacks: frame pointers or DWARF CFI (default: fp for Go, else "
	  "dwarf)",
	  0 },
	{ "allocator-prefix", OPT_PREFIX, "PREFIX", 0,
	  "The allocator's functions are named PREFIXmalloc, PREFIXfree... (jemalloc built "
	  "with a prefix: je_)",
	  0 },
	{ 0 },
};

/* The options that need --stacks (or --live) and the combinations that cannot work. */
static int check_stack_options(struct malloc_args *a, struct argp_state *state)
{
	const char *needs = NULL;

	if (a->min_age_set && !a->live) {
		argp_failure(state, 2, 0,
			     "--min-age needs --live --stacks: it keeps the blocks not freed that "
			     "are older than SEC");
		return -1;
	}
	if (!a->stacks) {
		if (a->min_age_set)
			needs = "--min-age";
		else if (a->unwind)
			needs = "--unwind";
		else if (a->so.folded)
			needs = "--folded";
		else if (a->so.pprof)
			needs = "--pprof";
		else if (a->so.value_name)
			needs = "--value";
		else if (a->so.top != 10)
			needs = "--top";
		if (needs) {
			argp_failure(state, 2, 0, "%s needs --stacks: add it", needs);
			return -1;
		}
		return 0;
	}
	if (a->co.interval) {
		argp_failure(state, 2, 0,
			     "--stacks has no -i: it prints one profile at the end; use -d");
		return -1;
	}
	return 0;
}

static error_t parse_malloc(int key, char *arg, struct argp_state *state)
{
	struct malloc_args *a = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		common_opts_init(state, &a->co);
		a->so.types = malloc_stack_types(&a->so.ntypes);
		stack_opts_init(state, 1, &a->so, &a->co);
		return ARGP_ERR_UNKNOWN;
	case OPT_STACKS:
		a->stacks = true;
		return 0;
	case OPT_MIN_AGE:
		if (parse_seconds(arg, &a->min_age)) {
			argp_failure(
				state, 2, 0,
				"invalid --min-age '%s': give seconds, more than 0 (e.g. 5 or 0.5)",
				arg);
			return EINVAL;
		}
		a->min_age_set = true;
		return 0;
	case OPT_UNWIND:
		if (!strcmp(arg, "fp"))
			a->unwind = MALLOC_UNWIND_FP;
		else if (!strcmp(arg, "dwarf"))
			a->unwind = MALLOC_UNWIND_DWARF;
		else {
			argp_failure(state, 2, 0, "invalid --unwind '%s': give fp or dwarf", arg);
			return EINVAL;
		}
		return 0;
	case OPT_BUDGET:
		if (budget_parse_pct(arg, &a->budget)) {
			argp_failure(
				state, 2, 0,
				"invalid budget '%s': give a percentage of the target's CPU time, "
				"more than 0 and at most 100",
				arg);
			return EINVAL;
		}
		return 0;
	case OPT_LIVE:
		a->live = true;
		return 0;
	case OPT_PREFIX:
		if (!*arg || strlen(arg) > 32 ||
		    strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
				"KLMNOPQRSTUVWXYZ0123456789_") != strlen(arg)) {
			argp_failure(state, 2, 0,
				     "invalid --allocator-prefix '%s': give the start of the "
				     "allocator's function names, letters, digits and _ (e.g. je_)",
				     arg);
			return EINVAL;
		}
		a->allocator_prefix = arg;
		return 0;
	case ARGP_KEY_END:
		if (a->live && a->budget) {
			argp_failure(state, 2, 0,
				     "--live cannot be used with --budget: live bytes need every "
				     "allocation and free; drop one of them");
			return EINVAL;
		}
		return check_stack_options(a, state) ? EINVAL : ARGP_ERR_UNKNOWN;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static const struct argp_child children[] = {
	{ &common_argp, 0, NULL, 0 }, { &stack_argp, 0, "Stack output (with --stacks):", 3 }, { 0 }
};
static const struct argp malloc_argp = { malloc_options, parse_malloc, NULL, doc,
					 children,       NULL,         NULL };

/* Prints what was counted since the last report (everything, without -i) and remembers the totals.
 */
/* The object allocator's part of a report, after the allocator's: the same span. */
static void report_objects(struct malloc_run *r, const struct budget_span *sp)
{
	struct malloc_stats cur, delta, seen;

	if (malloc_read_group(r, ALLOC_GROUP_OBJECTS, &cur)) {
		fprintf(stderr, "rtmon malloc: cannot read the counters: %s\n", strerror(errno));
		return;
	}
	delta = cur;
	malloc_stats_subtract(&delta, &r->obj_base);
	seen = delta;
	if (sp)
		malloc_stats_estimate(&delta, &cur, sp);
	if (r->args->co.json)
		malloc_print_json(r, ALLOC_GROUP_OBJECTS, &delta, sp, &seen);
	else
		malloc_print_text(r, ALLOC_GROUP_OBJECTS, &delta, sp);
	r->obj_base = cur;
}

static void report(struct malloc_run *r)
{
	struct malloc_stats cur, delta, seen;
	struct budget_span span;

	if (malloc_read_stats(r, &cur)) {
		fprintf(stderr, "rtmon malloc: cannot read the counters: %s\n", strerror(errno));
		return;
	}
	delta = cur;
	malloc_stats_subtract(&delta, &r->base);
	/* Live allocations are a level: what is allocated now, not what changed in the interval. */
	delta.live_allocs = cur.live_allocs;
	delta.live_bytes = cur.live_bytes;
	seen = delta;
	if (r->budget) {
		budget_take_span(r->budget, &span);
		malloc_stats_estimate(&delta, &cur, &span);
	}
	r->report_count = delta.count;
	r->report_bytes = delta.bytes;
	if (r->args->co.interval)
		r->interval_no++;
	if (r->args->stacks && r->args->so.folded)
		; /* stdout holds the folded stacks only */
	else if (r->args->co.json)
		malloc_print_json(r, ALLOC_GROUP_MAIN, &delta, r->budget ? &span : NULL, &seen);
	else
		malloc_print_text(r, ALLOC_GROUP_MAIN, &delta, r->budget ? &span : NULL);
	if (r->nobj_sites)
		report_objects(r, r->budget ? &span : NULL);
	r->base = cur;
	r->total_table_full = cur.live_table_full;
	fflush(stdout);
}

static void on_interval(void *ctx)
{
	report(ctx);
}

static double on_tick(void *ctx)
{
	return budget_tick(((struct malloc_run *)ctx)->budget);
}

static void on_target_exit(void *ctx)
{
	budget_target_exited(((struct malloc_run *)ctx)->budget);
}

int cmd_malloc(int argc, char **argv)
{
	struct malloc_args args = { 0 };
	struct malloc_run r = { .args = &args };
	struct probe_links pl = { 0 };
	struct target t;
	struct loop_ops ops = { .ctx = &r, .on_interval = on_interval };
	enum loop_end end;
	char err[1024];
	int rc;

	rc = command_start(&malloc_argp, argc, argv, &args.co, &args, &t);
	if (rc)
		return rc;
	r.t = &t;
	r.pl = &pl;
	/* Go programs are recognised by their build info, which stripped binaries keep. */
	r.go = go_read_buildinfo(t.exe, &r.gi, NULL, 0) == 0;
	if (r.go && args.live) {
		report_error("rtmon malloc",
			     "--live is for native programs: %s is a Go program, whose heap is "
			     "garbage collected; use rtmon gc for its heap",
			     t.label);
		target_close(&t, true);
		return 2;
	}
	r.objects = true; /* CPython's object allocator too, if the target has one */
	if (args.stacks)
		r.stack_copy = args.unwind == MALLOC_UNWIND_DWARF ||
			       (args.unwind == MALLOC_UNWIND_AUTO && !r.go);
	if (malloc_collect_open(&r, "malloc", err, sizeof(err)))
		goto fail;
	if (args.stacks) {
		if (malloc_stacks_open(&r, err, sizeof(err)))
			goto fail;
		ops.rb = malloc_stacks_ring(&r);
	}
	if (r.budget) {
		ops.timers[0] = (struct loop_timer){ on_tick, budget_next_tick(r.budget) };
		ops.on_target_exit = on_target_exit;
	}
	if (t.kind == TARGET_PID) /* a -- CMD is read once it has exec'd */
		malloc_stacks_watch(&r);
	loop_setup_done();
	report_tracing(&t, "allocations");
	r.start_s = loop_now_s();
	if (target_release(&t, err, sizeof(err)))
		goto fail;
	if (t.kind == TARGET_CMD) {
		malloc_stacks_watch(&r);
		malloc_collect_runtime_open(&r);
	}
	end = loop_run(&args.co, &t, &ops);
	report(&r);
	r.stacks_lost_kernel = r.base.stacks_lost;
	if (args.stacks && malloc_stacks_report(&r, stdout, err, sizeof(err)))
		report_error("rtmon malloc", "%s", err);
	malloc_print_summary(&r, end);
	rc = command_finish("rtmon malloc", &args.co, &t, end);
	malloc_stacks_close(&r);
	malloc_collect_close(&r);
	target_close(&t, false);
	return rc;
fail:
	report_error("rtmon malloc", "%s", err);
	malloc_stacks_close(&r);
	malloc_collect_close(&r);
	target_close(&t, true);
	return 1;
}

/* rtmon heap: a Go program's heap profile, taken from outside (stack/heap_profile.h: the runtime's
 * own sampling seen at its probes, one trap per sampled allocation), written in the four forms of
 * output/profile.h. serve's /debug/pprof/heap takes the same profile. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/stack_opts.h"
#include "output/profile.h"
#include "output/summary.h"
#include "stack/heap_profile.h"

#define RATE_EVERY_S 1.0
#define DEFAULT_RATE (512 * 1024)

struct heap_args {
	struct common_opts co;
	struct stack_opts so; /* --folded, --pprof, --top, --value */
};

struct heap_run {
	struct heap_args *args;
	struct target *t;
	struct go_heap *gh;
};

static const char doc[] =
	"A Go program's heap profile, taken from outside: the Go runtime samples one allocation "
	"per runtime.MemProfileRate bytes (512 KiB unless the program sets it) and records its "
	"stack; rtmon probes where it does (runtime.mProf_Malloc, and runtime.mProf_Free when a "
	"sampled object is swept), so the cost is one trap per sampled allocation, not per "
	"allocation. Per stack: alloc_objects, alloc_space, inuse_objects and inuse_space, scaled "
	"with the program's MemProfileRate as runtime/pprof scales them. Objects sampled before "
	"tracing began are not known: inuse counts only what was sampled while tracing (the "
	"frees of earlier objects are counted apart). Go 1.17 to 1.26, stripped and PIE builds "
	"too.\v"
	"--folded, --pprof FILE, --top N and --value NAME choose the output (docs/profiles.md): "
	"--value count (the default) or bytes shows inuse_objects or inuse_space, or name any of "
	"the four. A program that does not link runtime.MemProfile (runtime/pprof) runs with "
	"MemProfileRate 0 and samples nothing; rtmon says so. See docs/heap.md.\n\n"
	"Examples:\n"
	"  rtmon heap -p 1234 -d 30                 thirty seconds of PID 1234\n"
	"  rtmon heap --value bytes -- ./app args   start ./app; bytes in use per stack\n"
	"  rtmon heap --folded -p 1234              folded stacks (flamegraph.pl)\n"
	"  rtmon heap --pprof heap.pb.gz -p 1234    and a file for go tool pprof\n"
	"  rtmon heap --json -p 1234                JSON lines (docs/profiles.md)";

static error_t parse_heap(int key, char *arg, struct argp_state *state)
{
	struct heap_args *a = state->input;

	(void)arg;
	switch (key) {
	case ARGP_KEY_INIT:
		common_opts_init(state, &a->co);
		stack_opts_init(state, 1, &a->so, &a->co);
		return ARGP_ERR_UNKNOWN;
	case ARGP_KEY_END:
		if (a->co.interval) {
			argp_failure(state, 2, 0,
				     "heap has no -i: it prints one profile at the end; use -d");
			return EINVAL;
		}
		return ARGP_ERR_UNKNOWN;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static const struct argp_child children[] = { { &common_argp, 0, NULL, 0 },
					      { &stack_argp, 0, NULL, 1 },
					      { 0 } };
/* No options of its own: NULL, not an empty array, whose buffers glibc's argp leaks in --help
 * (make_hol). */
static const struct argp heap_argp = { NULL, parse_heap, NULL, doc, children, NULL, NULL };

static double read_rates(void *ctx)
{
	go_heap_read_rates(((struct heap_run *)ctx)->gh);
	return loop_now_s() + RATE_EVERY_S;
}

static int heap_attach(void *ctx, struct loop_ops *ops, char *err, size_t errlen)
{
	struct heap_run *r = ctx;
	int rc = go_heap_open(&r->gh, r->t, "heap", 0, err, errlen);

	ops->rb = rc ? NULL : go_heap_ring(r->gh);
	ops->timers[0] = (struct loop_timer){ read_rates, loop_now_s() + RATE_EVERY_S };
	return rc ? -1 : 0;
}

static void heap_before_release(void *ctx)
{
	go_heap_started(((struct heap_run *)ctx)->gh);
}

/* The facts a reader needs to trust the numbers, on stderr (stdout may be folded stacks). */
static void notes(const struct heap_run *r, const struct go_heap_counts *c)
{
	if (c->sc.unnamed)
		fprintf(stderr,
			"rtmon heap: %llu addresses had no symbol (first in %s): shown as "
			"module+0xoffset\n",
			(unsigned long long)c->sc.unnamed, c->sc.unnamed_file);
	if (c->oom)
		fprintf(stderr, "rtmon heap: out of memory: some samples are missing\n");
	if (c->rate == 0)
		fprintf(stderr,
			"rtmon heap: %s runs with runtime.MemProfileRate 0: its runtime samples no "
			"allocation (a program that does not link runtime.MemProfile, through "
			"runtime/pprof for instance, has it off); set runtime.MemProfileRate in "
			"the program\n",
			r->t->label);
	else if (c->rate < 0)
		fprintf(stderr,
			"rtmon heap: runtime.MemProfileRate of %s could not be read: values are "
			"scaled with the runtime's default, %d\n",
			r->t->label, DEFAULT_RATE);
	if (r->t->kind != TARGET_CMD)
		fprintf(stderr,
			"rtmon heap: objects sampled before tracing began are not known: inuse "
			"counts the %llu sampled while tracing and not freed (%llu frees of "
			"earlier objects left out)\n",
			(unsigned long long)c->live, (unsigned long long)c->frees_untraced);
}

static void heap_report(void *ctx, enum loop_end end, double secs)
{
	struct heap_run *r = ctx;
	struct go_heap_counts c;
	struct profile *prof;
	char err[512];
	struct summary s = { .out = r->args->so.folded ? stderr : stdout,
			     .json = r->args->co.json,
			     .command = "heap",
			     .events_noun = "probe hits",
			     .secs = secs,
			     .end = loop_end_name(end),
			     .t = r->t };

	go_heap_read_rates(r->gh);
	go_heap_get_counts(r->gh, &c);
	notes(r, &c);
	prof = go_heap_profile(r->gh);
	if (!prof)
		fprintf(stderr, "rtmon heap: out of memory: no profile\n");
	else if (stack_output_write(&r->args->so, prof, stdout, err, sizeof(err)))
		fprintf(stderr, "rtmon heap: %s\n", err);
	profile_free(prof);
	s.events = c.hits;
	s.lost = c.lost;
	summary_begin(&s);
	summary_count(&s, "sampled_allocs", "sampled allocations", c.allocs);
	summary_count(&s, "sampled_frees", "frees", c.frees);
	summary_count(&s, "live", "live", c.live);
	summary_count(&s, "frees_untraced", "frees of objects sampled before tracing",
		      c.frees_untraced);
	summary_line_end(&s);
	if (c.rate >= 0)
		summary_count(&s, "memprofilerate", "MemProfileRate", (uint64_t)c.rate);
	summary_count(&s, "stacks_lost", "stacks lost", c.sc.lost);
	summary_count(&s, "stacks_truncated", "truncated", c.sc.truncated);
	summary_end(&s, NULL);
}

int cmd_heap(int argc, char **argv)
{
	struct heap_args args = {
		.so = { .types = go_heap_types, .ntypes = GH_NTYPES, .value = GH_INUSE_OBJECTS }
	};
	struct heap_run r = { .args = &args };
	struct target t;
	struct loop_ops ops = { .ctx = &r };
	const struct trace_steps steps = { "heap",      "the Go heap profile", &r,
					   heap_attach, heap_before_release,   heap_report };
	bool ran;
	int rc;

	rc = command_start(&heap_argp, argc, argv, &args.co, &args, &t);
	if (rc)
		return rc;
	r.t = &t;
	rc = command_trace(&steps, &args.co, &t, &ops, &ran);
	go_heap_close(r.gh);
	target_close(&t, !ran);
	return rc;
}

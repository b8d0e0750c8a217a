/* rtmon profile: CPU time by stack, sampled by stack/cpu_profile.c (serve's /debug/pprof/profile
 * takes the same profile) in the event loop, and written in the four forms of output/profile.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/stack_opts.h"
#include "output/profile.h"
#include "output/summary.h"
#include "stack/cpu_profile.h"

enum { OPT_PER_THREAD = 0x2000, OPT_KERNEL, OPT_UNWIND };

#define DEFAULT_HZ 49
#define MAX_HZ     10000

/* The profile's values (stack/cpu_profile.c makes them), also what --value chooses from. */
static const struct profile_value_type value_types[] = { { "samples", "count" },
							 { "cpu", "nanoseconds" } };

struct profile_args {
	struct common_opts co;
	struct stack_opts so; /* --folded, --pprof, --top, --value */
	struct cpu_profile_opts o;
};

struct profile_run {
	struct profile_args *args;
	struct target *t;
	struct cpu_profile *cp;
};

static const char doc[] =
	"CPU time by call stack: the target's threads are sampled on CPU HZ times a second "
	"(-F, default 49) with their user stacks (and kernel stacks with --kernel).\v"
	"Stacks of Go programs are taken by the kernel's frame-pointer walk (Go on amd64 keeps "
	"frame pointers: exact and cheap). Native programs are mostly built without frame "
	"pointers (Debian's glibc, python3.11): each sample copies the top 16 KiB of the stack and "
	"the registers, and rtmon unwinds them with the DWARF CFI in .eh_frame, as perf "
	"--call-graph dwarf does. --unwind fp or dwarf chooses. Frames are named from the ELF "
	"symbols (Go: .gopclntab), with file:line from DWARF line tables when present; a frame "
	"nothing names is shown as module+0xoffset. --folded, --pprof FILE, --top N and --value "
	"NAME choose the output (docs/profiles.md); with --folded the summary goes to stderr. "
	"See docs/profile.md.\n\n"
	"Examples:\n"
	"  rtmon profile -p 1234 -d 10               ten seconds of PID 1234\n"
	"  rtmon profile -F 999 -- ./app args        start ./app, 999 samples a second\n"
	"  rtmon profile --per-thread -n app         one stack per thread name\n"
	"  rtmon profile --folded -p 1234            folded stacks (flamegraph.pl)\n"
	"  rtmon profile --pprof cpu.pb.gz -p 1234   and a file for go tool pprof\n"
	"  rtmon profile --json -p 1234              JSON lines (docs/profiles.md)";

static const struct argp_option profile_options[] = {
	{ "frequency", 'F', "HZ", 0, "Samples per second of CPU time (default 49, at most 10000)",
	  0 },
	{ "per-thread", OPT_PER_THREAD, NULL, 0, "Split stacks by thread name", 0 },
	{ "kernel", OPT_KERNEL, NULL, 0, "Kernel frames too, above the user frames", 0 },
	{ "unwind", OPT_UNWIND, "fp|dwarf", 0,
	  "How user stacks are taken: frame pointers or DWARF CFI (default: fp for Go, else dwarf)",
	  0 },
	{ 0 },
};

static error_t parse_profile(int key, char *arg, struct argp_state *state)
{
	struct profile_args *a = state->input;
	char *end;
	unsigned long v;

	switch (key) {
	case ARGP_KEY_INIT:
		common_opts_init(state, &a->co);
		stack_opts_init(state, 1, &a->so, &a->co);
		return ARGP_ERR_UNKNOWN;
	case 'F':
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || end == arg || *end || !v || v > MAX_HZ || arg[0] == '-') {
			argp_failure(state, 2, 0,
				     "invalid frequency '%s': give samples per second, 1 to %d",
				     arg, MAX_HZ);
			return EINVAL;
		}
		a->o.hz = (unsigned)v;
		return 0;
	case OPT_PER_THREAD:
		a->o.per_thread = true;
		return 0;
	case OPT_KERNEL:
		a->o.kernel = true;
		return 0;
	case OPT_UNWIND:
		if (!strcmp(arg, "fp"))
			a->o.unwind = CPU_UNWIND_FP;
		else if (!strcmp(arg, "dwarf"))
			a->o.unwind = CPU_UNWIND_DWARF;
		else {
			argp_failure(state, 2, 0, "invalid --unwind '%s': give fp or dwarf", arg);
			return EINVAL;
		}
		return 0;
	case ARGP_KEY_END:
		if (a->co.interval) {
			argp_failure(state, 2, 0,
				     "profile has no -i: it prints one profile at the end; use -d");
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
static const struct argp profile_argp = { profile_options, parse_profile, NULL, doc,
					  children,        NULL,          NULL };

static int profile_attach(void *ctx, struct loop_ops *ops, char *err, size_t errlen)
{
	struct profile_run *r = ctx;
	int rc = cpu_profile_open(&r->cp, r->t, &r->args->o, "profile", err, errlen);

	ops->rb = r->cp ? cpu_profile_ring(r->cp) : NULL;
	return rc;
}

static void profile_before_release(void *ctx)
{
	cpu_profile_started(((struct profile_run *)ctx)->cp);
}

static void profile_report(void *ctx, enum loop_end end, double secs)
{
	struct profile_run *r = ctx;
	struct cpu_profile_counts c;
	struct profile *prof;
	char err[512];
	/* Folded stacks are a file for flamegraph.pl and its kind: nothing else on stdout. */
	struct summary s = { .out = r->args->so.folded ? stderr : stdout,
			     .json = r->args->co.json,
			     .command = "profile",
			     .events_noun = "samples",
			     .secs = secs,
			     .end = loop_end_name(end),
			     .t = r->t };

	cpu_profile_finish(r->cp, secs, &c);
	prof = cpu_profile_result(r->cp);
	if (c.sc.unnamed)
		fprintf(stderr,
			"rtmon profile: %llu addresses had no symbol (first in %s): shown as "
			"module+0xoffset\n",
			(unsigned long long)c.sc.unnamed, c.sc.unnamed_file);
	if (c.oom)
		fprintf(stderr, "rtmon profile: out of memory: some samples are missing\n");
	if (stack_output_write(&r->args->so, prof, stdout, err, sizeof(err)))
		fprintf(stderr, "rtmon profile: %s\n", err);
	s.events = c.samples;
	s.lost = c.lost;
	summary_begin(&s);
	summary_count(&s, "stacks_lost", "stacks lost", c.sc.lost);
	summary_count(&s, "stacks_truncated", "truncated", c.sc.truncated);
	summary_count(&s, "hz", "at Hz", r->args->o.hz);
	summary_end(&s, c.dwarf ? " (DWARF unwinding)" : " (frame pointers)");
}

int cmd_profile(int argc, char **argv)
{
	struct profile_args args = { .o.hz = DEFAULT_HZ,
				     .so = { .types = value_types, .ntypes = 2 } };
	struct profile_run r = { .args = &args };
	struct target t;
	struct loop_ops ops = { .ctx = &r };
	const struct trace_steps steps = { "profile",      "CPU samples",          &r,
					   profile_attach, profile_before_release, profile_report };
	bool ran;
	int rc;

	rc = command_start(&profile_argp, argc, argv, &args.co, &args, &t);
	if (rc)
		return rc;
	r.t = &t;
	rc = command_trace(&steps, &args.co, &t, &ops, &ran);
	cpu_profile_close(r.cp);
	target_close(&t, !ran);
	return rc;
}

/* rtmon profile: CPU time by stack. A CPU-clock perf event on each CPU samples what runs there HZ
 * times a second; samples of the target's threads carry their user stack (bpf/cpu_samples.bpf.c),
 * which the stack layer (user/stack/) unwinds and symbolizes into a profile (output/profile.h):
 * samples/count and cpu/nanoseconds per stack, one period (1e9/HZ ns) per sample. */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/stack_opts.h"
#include "cpu_samples.h"
#include "cpu_samples.skel.h"
#include "output/profile.h"
#include "output/summary.h"
#include "runtime/go/goelf.h"
#include "stack/stacks.h"
#include "trace/skel_open.h"

enum { OPT_PER_THREAD = 0x2000, OPT_KERNEL, OPT_UNWIND };
enum unwind_mode { UNWIND_AUTO, UNWIND_FP, UNWIND_DWARF };

#define DEFAULT_HZ 49
#define MAX_HZ     10000
#define MAX_CPUS   1024

/* The profile's values, also what --value chooses from (samples is the default). */
static const struct profile_value_type value_types[] = { { "samples", "count" },
							 { "cpu", "nanoseconds" } };

struct profile_args {
	struct common_opts co;
	struct stack_opts so; /* --folded, --pprof, --top, --value */
	unsigned hz;
	bool per_thread, kernel;
	enum unwind_mode unwind;
};

struct profile_run {
	struct profile_args *args;
	struct target *t;
	struct cpu_samples_bpf *skel;
	struct ring_buffer *rb;
	struct profile *prof;
	struct stacks *stacks;
	struct go_symtab *go;
	bool copy; /* the DWARF path: stacks are copied */
	int64_t period_ns;
	int ncpus;
	int fds[MAX_CPUS];
	struct bpf_link *links[MAX_CPUS];
	int add_failed; /* -ENOMEM from the profile */
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
		a->hz = (unsigned)v;
		return 0;
	case OPT_PER_THREAD:
		a->per_thread = true;
		return 0;
	case OPT_KERNEL:
		a->kernel = true;
		return 0;
	case OPT_UNWIND:
		if (!strcmp(arg, "fp"))
			a->unwind = UNWIND_FP;
		else if (!strcmp(arg, "dwarf"))
			a->unwind = UNWIND_DWARF;
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

static int on_sample(void *ctx, void *data, size_t size)
{
	struct profile_run *r = ctx;
	const struct cpu_sample *cs = data;
	const size_t head = USER_STACK_SIZE_NO_COPY(struct cpu_sample);
	struct profile_label labels[2];
	int64_t values[2] = { 1, r->period_ns };
	size_t nlabels = 0;
	int rc;

	if (size < head || ((cs->us.flags & USF_COPY) && size < head + cs->us.copy_len))
		return 0;
	labels[nlabels++] = (struct profile_label){ .key = "pid", .num = cs->tgid };
	if (r->args->per_thread)
		labels[nlabels++] = (struct profile_label){ .key = "thread", .str = cs->comm };
	rc = stacks_add(r->stacks, (pid_t)cs->tgid, &cs->us, (const uint64_t *)cs->kips,
			cs->nkips < CPU_SAMPLE_KERNEL_IPS ? cs->nkips : CPU_SAMPLE_KERNEL_IPS,
			values, labels, nlabels);
	if (rc)
		r->add_failed = rc;
	return 0;
}

static int perf_open_cpu(int cpu, int64_t period_ns)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.sample_period = (uint64_t)period_ns,
	};

	return (int)syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/* One event per CPU, every process: the BPF program keeps the target's samples. */
static int attach_cpus(struct profile_run *r, char *err, size_t errlen)
{
	int n = libbpf_num_possible_cpus(), attached = 0;

	if (n <= 0 || n > MAX_CPUS)
		n = n <= 0 ? 1 : MAX_CPUS;
	for (int cpu = 0; cpu < n; cpu++) {
		int fd = perf_open_cpu(cpu, r->period_ns);

		r->fds[cpu] = fd;
		if (fd < 0) {
			if (errno == ENODEV) /* an offline CPU */
				continue;
			snprintf(err, errlen, "cannot open a CPU-clock perf event on CPU %d: %s",
				 cpu, strerror(errno));
			return -1;
		}
		r->links[cpu] = bpf_program__attach_perf_event(r->skel->progs.on_sample, fd);
		if (!r->links[cpu]) {
			snprintf(err, errlen, "cannot attach the sampling program on CPU %d: %s",
				 cpu, strerror(errno));
			return -1;
		}
		attached++;
	}
	r->ncpus = n;
	if (!attached) {
		snprintf(err, errlen, "no CPU could be sampled");
		return -1;
	}
	return 0;
}

/* Go keeps frame pointers on amd64: the kernel's walk is exact there. */
static void choose_unwind(struct profile_run *r)
{
	struct go_info gi;
	char err[256];
	bool go = !go_read_buildinfo(r->t->exe, &gi, NULL, 0);

	if (go && go_symtab_open(r->t->exe, &r->go, err, sizeof(err)))
		r->go = NULL;
	if (r->args->unwind == UNWIND_AUTO)
		r->copy = !go;
	else
		r->copy = r->args->unwind == UNWIND_DWARF;
}

static int setup(struct profile_run *r, char *err, size_t errlen)
{
	static const struct profile_value_type period_type = { "cpu", "nanoseconds" };
	int rc;

	r->period_ns = 1000000000LL / r->args->hz;
	choose_unwind(r);
	r->prof = profile_new(value_types, 2, &period_type, r->period_ns);
	r->stacks = r->prof ? stacks_new(r->prof, &r->t->image, r->go) : NULL;
	if (!r->stacks) {
		snprintf(err, errlen, "cannot set up the profile: %s", strerror(ENOMEM));
		return -1;
	}
	r->skel = SKEL_OPEN(cpu_samples, r->t, "profile", err, errlen);
	if (!r->skel)
		return -1;
	r->skel->rodata->stack_copy = r->copy;
	r->skel->rodata->kernel_stack = r->args->kernel;
	rc = cpu_samples_bpf__load(r->skel);
	if (rc) {
		probe_load_error("profile", rc, err, errlen);
		return -1;
	}
	r->rb = ring_buffer__new(bpf_map__fd(r->skel->maps.samples), on_sample, r, NULL);
	if (!r->rb) {
		snprintf(err, errlen, "cannot set up the ring buffer: %s", strerror(errno));
		return -1;
	}
	return attach_cpus(r, err, errlen);
}

static void cleanup(struct profile_run *r, bool kill_child)
{
	for (int cpu = 0; cpu < r->ncpus; cpu++) {
		bpf_link__destroy(r->links[cpu]);
		if (r->fds[cpu] >= 0)
			close(r->fds[cpu]);
	}
	ring_buffer__free(r->rb);
	cpu_samples_bpf__destroy(r->skel);
	stacks_free(r->stacks);
	profile_free(r->prof);
	if (r->go)
		go_symtab_close(r->go);
	target_close(r->t, kill_child);
}

static int profile_attach(void *ctx, struct loop_ops *ops, char *err, size_t errlen)
{
	struct profile_run *r = ctx;
	int rc = setup(r, err, errlen);

	ops->rb = r->rb;
	return rc;
}

static void profile_before_release(void *ctx)
{
	struct profile_run *r = ctx;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	profile_set_time(r->prof, (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec, 0);
}

static void profile_report(void *ctx, enum loop_end end, double secs)
{
	struct profile_run *r = ctx;
	uint64_t c[CS_NCOUNTERS] = { 0 };
	struct stacks_counts sc;
	struct timespec ts;
	char err[512];
	/* Folded stacks are a file for flamegraph.pl and its kind: nothing else on stdout. */
	struct summary s = { .out = r->args->so.folded ? stderr : stdout,
			     .json = r->args->co.json,
			     .command = "profile",
			     .events_noun = "samples",
			     .secs = secs,
			     .end = loop_end_name(end),
			     .t = r->t };

	probe_sum_percpu_counters(r->skel->maps.counters, CS_NCOUNTERS, c);
	stacks_get_counts(r->stacks, &sc);
	clock_gettime(CLOCK_REALTIME, &ts);
	profile_set_time(r->prof, (int64_t)((ts.tv_sec - secs) * 1e9) + ts.tv_nsec,
			 (int64_t)(secs * 1e9));
	profile_count_lost(r->prof, c[CS_LOST] + sc.lost, sc.truncated);
	if (sc.unnamed)
		fprintf(stderr,
			"rtmon profile: %llu addresses had no symbol (first in %s): shown as "
			"module+0xoffset\n",
			(unsigned long long)sc.unnamed, sc.unnamed_file);
	if (r->add_failed)
		fprintf(stderr, "rtmon profile: out of memory: some samples are missing\n");
	if (stack_output_write(&r->args->so, r->prof, stdout, err, sizeof(err)))
		fprintf(stderr, "rtmon profile: %s\n", err);
	s.events = c[CS_SAMPLES];
	s.lost = c[CS_LOST];
	summary_begin(&s);
	summary_count(&s, "stacks_lost", "stacks lost", sc.lost);
	summary_count(&s, "stacks_truncated", "truncated", sc.truncated);
	summary_count(&s, "hz", "at Hz", r->args->hz);
	summary_end(&s, r->copy ? " (DWARF unwinding)" : " (frame pointers)");
}

int cmd_profile(int argc, char **argv)
{
	struct profile_args args = { .hz = DEFAULT_HZ,
				     .so = { .types = value_types, .ntypes = 2 } };
	struct profile_run r = { .args = &args };
	struct target t;
	struct loop_ops ops = { .ctx = &r };
	const struct trace_steps steps = { "profile",      "CPU samples",          &r,
					   profile_attach, profile_before_release, profile_report };
	bool ran;
	int rc;

	for (int i = 0; i < MAX_CPUS; i++)
		r.fds[i] = -1;
	rc = command_start(&profile_argp, argc, argv, &args.co, &args, &t);
	if (rc)
		return rc;
	r.t = &t;
	rc = command_trace(&steps, &args.co, &t, &ops, &ran);
	cleanup(&r, !ran);
	return rc;
}

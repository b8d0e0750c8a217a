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
#include "output/hist.h"
#include "output/json.h"
#include "trace/loop.h"
#include "cli/opts.h"
#include "trace/probe.h"
#include "proc/target.h"

/* Backends in detection order. A new runtime adds its struct gc_runtime here. */
static const struct gc_runtime *const runtimes[] = { &gc_runtime_go, &gc_runtime_python,
						     &gc_runtime_java, &gc_runtime_boehm };

#define NRUNTIMES (sizeof(runtimes) / sizeof(runtimes[0]))

/* Cycles whose phases are still arriving, per process (--binpath may trace several). */
#define MAX_OPEN_CYCLES 64

struct open_cycle {
	pid_t pid;
	unsigned cycle;
	const char *trigger;
	uint64_t start_ns;
	uint64_t stw_ns;
	unsigned stw_count;
	bool used;
};

struct gc_out {
	const struct common_opts *co;
	const struct target *t;
	const struct gc_runtime *rt;
	uint64_t t0_ns; /* CLOCK_MONOTONIC at attach: START(ms) counts from here */
	bool header_done;
	__u64 slots[LOG2_SLOTS];  /* GC pauses in us, whole run */
	__u64 islots[LOG2_SLOTS]; /* the same, since the last -i report */
	uint64_t pause_sum_us, ipause_sum_us, pauses, ipauses;
	uint64_t pause_ns, pause_max_ns;
	uint64_t cycles, forced;
	uint64_t nongc, nongc_ns;
	uint64_t events;
	int interval_no;
	struct open_cycle open[MAX_OPEN_CYCLES];
};

struct gc_args {
	struct common_opts co;
	struct gc_custom_args custom;
};

enum { OPT_CYCLE = 0x2000, OPT_PHASE };

static const struct argp_option gc_options[] = {
	{ "cycle", OPT_CYCLE, "SYM", 0,
	  "A native program's own collector: each call of the function SYM "
	  "is one GC cycle, timed by entry and return probes (not for Go)",
	  0 },
	{ "phase", OPT_PHASE, "NAME=SYM", 0,
	  "With --cycle: each call of the function SYM is phase NAME of "
	  "the cycle open on its thread; repeat for each phase",
	  0 },
	{ 0 },
};

static const char doc[] =
	"Garbage collection in a managed runtime, found from the target's files without flags: one "
	"row per GC phase or collection with its start and duration, and a log2 histogram of the "
	"pauses.\v"
	"Runtimes, in the order they are tried (docs/gc.md):\n"
	"  go      Go 1.17 to 1.26, plain, stripped or PIE: phases sweep-term, mark,\n"
	"          mark-term and sweep; the cycle's trigger (heap, time, forced =\n"
	"          runtime.GC()); stop-the-worlds that are not GC (ReadMemStats, ...)\n"
	"          labelled as such. Uprobes, never uretprobes.\n"
	"  python  CPython built with USDT probes (Debian's /usr/bin/python3.X): one\n"
	"          row per collection, its generation and objects collected. The GIL\n"
	"          is held throughout: each collection is a pause.\n"
	"  java    HotSpot JVMs (JDK 17 and newer), libjvm.so's USDT probes: one row\n"
	"          per GC operation at a safepoint (full or not), and per memory pool\n"
	"          its collector and used bytes before and after.\n"
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
static pid_t hist_pid(const struct gc_out *o)
{
	return target_report_pid(o->t);
}

static struct open_cycle *find_cycle(struct gc_out *o, pid_t pid, unsigned cycle, bool add)
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

static void print_header(struct gc_out *o)
{
	if (o->header_done || o->co->json)
		return;
	o->header_done = true;
	if (o->t->kind == TARGET_BINPATH)
		printf("%-8s ", "PID");
	printf("%-6s %-8s %-24s %10s %13s", "CYCLE", "TRIGGER", "PHASE", "START(ms)",
	       "DURATION(us)");
	if (o->rt->detail_header)
		printf("  %s", o->rt->detail_header);
	putchar('\n');
}

static void print_row(struct gc_out *o, const struct gc_record *r)
{
	double start_ms = r->start_ns >= o->t0_ns ? (double)(r->start_ns - o->t0_ns) / 1e6
						  : -(double)(o->t0_ns - r->start_ns) / 1e6;
	char cyc[16];

	print_header(o);
	if (o->t->kind == TARGET_BINPATH)
		printf("%-8d ", (int)r->pid);
	snprintf(cyc, sizeof(cyc), r->cycle ? "%u" : "-", r->cycle);
	printf("%-6s %-8s %-24s %10.3f %13.1f", cyc, r->trigger ? r->trigger : "-", r->label,
	       start_ms, (double)r->dur_ns / 1e3);
	if (o->rt->detail_header)
		printf("  %s", r->detail ? r->detail : "-");
	puts(r->incomplete ? "  (end not seen)" : "");
}

static void json_head(const struct gc_out *o, const char *type, pid_t pid)
{
	json_begin(stdout, type);
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

static void print_json(struct gc_out *o, const struct gc_record *r)
{
	json_head(o, "gc", r->pid);
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

static void print_cycle_json(const struct gc_out *o, const struct open_cycle *c, uint64_t end_ns)
{
	json_head(o, "gc_cycle", c->pid);
	json_field_u64(stdout, "cycle", c->cycle);
	/* Runtimes whose probes do not tell the trigger leave it out. */
	if (o->rt->triggers)
		json_field_str(stdout, "trigger", c->trigger ? c->trigger : "unknown");
	json_field_u64(stdout, "start_ns", c->start_ns);
	json_field_u64(stdout, "dur_ns", end_ns - c->start_ns);
	json_field_u64(stdout, "stw_ns", c->stw_ns);
	json_field_u64(stdout, "stw_count", c->stw_count);
	json_end(stdout);
}

static void count_pause(struct gc_out *o, const struct gc_record *r)
{
	uint64_t us = r->dur_ns / 1000;
	unsigned slot = log2_slot(us) & (LOG2_SLOTS - 1);

	o->slots[slot]++;
	o->islots[slot]++;
	o->pauses++;
	o->ipauses++;
	o->pause_sum_us += us;
	o->ipause_sum_us += us;
	o->pause_ns += r->dur_ns;
	if (r->dur_ns > o->pause_max_ns)
		o->pause_max_ns = r->dur_ns;
}

/* Per-cycle totals: the cycle's first record opens it, the one marked cycle_end closes it. */
static void track_cycle(struct gc_out *o, const struct gc_record *r)
{
	struct open_cycle *c = find_cycle(o, r->pid, r->cycle, true);

	if (!c->start_ns || r->start_ns < c->start_ns)
		c->start_ns = r->start_ns;
	c->trigger = r->trigger;
	if (r->stw) {
		c->stw_ns += r->dur_ns;
		c->stw_count++;
	}
	if (r->cycle_start) {
		o->cycles++;
		if (r->trigger && !strcmp(r->trigger, "forced"))
			o->forced++;
	}
	if (r->cycle_end) {
		if (o->co->json)
			print_cycle_json(o, c, r->start_ns + r->dur_ns);
		c->used = false;
	}
}

void gc_out_record(struct gc_out *o, const struct gc_record *r)
{
	o->events++;
	if (r->gc && r->stw)
		count_pause(o, r);
	if (!r->gc && r->stw) {
		o->nongc++;
		o->nongc_ns += r->dur_ns;
	}
	if (o->co->json)
		print_json(o, r);
	else
		print_row(o, r);
	if (r->gc && r->cycle)
		track_cycle(o, r);
	/* Rows are few (a handful per cycle) and a reader of a pipe wants them as they happen. */
	fflush(stdout);
}

static void print_hist(struct gc_out *o, const __u64 *slots, uint64_t n, uint64_t sum_us)
{
	if (o->co->json) {
		putchar('{');
		json_hist_fields(stdout, "gc_pause", "us", hist_pid(o), slots, LOG2_SLOTS, n,
				 sum_us);
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
}

static void on_interval(void *ctx)
{
	struct gc_out *o = ctx;

	o->interval_no++;
	if (!o->co->json)
		printf("\nGC pauses in interval %d:\n", o->interval_no);
	print_hist(o, o->islots, o->ipauses, o->ipause_sum_us);
	memset(o->islots, 0, sizeof(o->islots));
	o->ipauses = o->ipause_sum_us = 0;
	fflush(stdout);
}

static void print_final(struct gc_out *o, struct gc_session *s, enum loop_end end, double secs)
{
	uint64_t lost = 0, hits = 0;

	o->rt->counters(s, &lost, &hits);
	if (!o->co->json)
		printf("\n%s in %s (%s):\n", o->rt->pause_title, o->t->label,
		       s->label[0] ? s->label : s->version);
	o->interval_no = 0;
	print_hist(o, o->slots, o->pauses, o->pause_sum_us);
	if (o->co->json) {
		json_summary_begin(stdout, "gc", o->events, lost, secs, loop_end_name(end));
		json_field_str(stdout, "runtime", o->rt->name);
		json_field_str(stdout, "version", s->version);
		json_field_u64(stdout, "cycles", o->cycles);
		json_field_u64(stdout, "gc_pauses", o->pauses);
		json_field_u64(stdout, "stw_total_ns", o->pause_ns);
		json_field_u64(stdout, "stw_max_ns", o->pause_max_ns);
		json_field_u64(stdout, "nongc_stw", o->nongc);
		json_field_u64(stdout, "nongc_stw_ns", o->nongc_ns);
		json_field_u64(stdout, "probe_hits", hits);
		json_field_str(stdout, "probe", s->probe_kind ? s->probe_kind : probe_sites_kind());
		if (o->rt->summary)
			o->rt->summary(s, stdout, true);
		report_target_end(stdout, o->t, true);
		json_end(stdout);
	} else {
		printf("cycles %llu", (unsigned long long)o->cycles);
		if (o->rt->triggers)
			printf(" (forced %llu)", (unsigned long long)o->forced);
		printf(", GC pauses %llu, total %s %.1f us, max %.1f us",
		       (unsigned long long)o->pauses, o->rt->nongc_stops ? "STW pause" : "pause",
		       (double)o->pause_ns / 1e3, (double)o->pause_max_ns / 1e3);
		if (o->rt->nongc_stops)
			printf("; non-GC stops %llu (%.1f us)", (unsigned long long)o->nongc,
			       (double)o->nongc_ns / 1e3);
		putchar('\n');
		if (o->rt->summary)
			o->rt->summary(s, stdout, false);
		printf("%llu events in %.1f s, %llu lost", (unsigned long long)o->events, secs,
		       (unsigned long long)lost);
		report_target_end(stdout, o->t, false);
		putchar('\n');
	}
	fflush(stdout);
}

int gc_session_ring(struct gc_session *s, struct bpf_map *events, ring_buffer_sample_fn fn,
		    char *err, size_t errlen)
{
	int rc;

	s->rb = ring_buffer__new(bpf_map__fd(events), fn, s, NULL);
	if (s->rb)
		return 0;
	rc = -errno;
	snprintf(err, errlen, "cannot set up the ring buffer: %s", strerror(errno));
	return rc;
}

/* The first backend, in table order, that recognises the target; NULL after one error line: the
 * runtime was recognised but cannot be traced (the backend says why and what to do), or none
 * matched (the line lists the runtimes rtmon gc supports). */
static const struct gc_runtime *detect_runtime(struct gc_session *s)
{
	char names[128] = "", kinds[256] = "", err[1024];
	/* A running process names its libraries in /proc/PID/maps (a JVM dlopens libjvm.so); a held
	 * -- CMD child has not exec'd yet, so its file's own dependencies and layout are read. */
	pid_t pid = s->t->kind == TARGET_PID ? s->t->pid : 0;

	if (runtime_identify(s->t->exe, pid, &s->id, err, sizeof(err))) {
		target_explain_attach_error(s->t, err, sizeof(err));
		report_error("rtmon gc", "%s", err);
		return NULL;
	}
	for (size_t i = 0; i < NRUNTIMES; i++) {
		int rc = runtimes[i]->detect(s, s->t->exe, err, sizeof(err));

		if (rc > 0)
			return runtimes[i];
		if (rc < 0) {
			/* a -p target that exits while its files are read looks like one without
			 * the runtime's probes: say that it exited instead */
			target_explain_attach_error(s->t, err, sizeof(err));
			report_error("rtmon gc", "%s", err);
			return NULL;
		}
	}
	for (size_t i = 0; i < NRUNTIMES; i++) {
		size_t nl = strlen(names), kl = strlen(kinds);
		const char *sep = !i ? "" : i + 1 == NRUNTIMES ? " or " : ", ";

		snprintf(names + nl, sizeof(names) - nl, "%s%s", i ? ", " : "", runtimes[i]->name);
		snprintf(kinds + kl, sizeof(kinds) - kl, "%s%s", sep, runtimes[i]->display);
	}
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
	target_explain_attach_error(s->t, err, sizeof(err));
	report_error("rtmon gc", "%s", err);
	return NULL;
}

/* The steps command_trace takes for gc; the session is closed by the caller. */
struct gc_trace {
	struct gc_session *s;
	struct gc_out *o;
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

static int trace(struct gc_session *s, struct gc_out *o, bool *ran)
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
	struct gc_out *o;
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
	o->co = &args.co;
	o->t = &t;
	s.out = o;
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

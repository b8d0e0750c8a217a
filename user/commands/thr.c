/* rtmon thr: a table of threads created and exited in the target, from a ring buffer. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "cli/command.h"
#include "output/target_report.h"
#include "cli/commands.h"
#include "runtime/go/goroutine.h"
#include "output/escape.h"
#include "output/json.h"
#include "output/summary.h"
#include "output/wall_clock.h"
#include "trace/loop.h"
#include "cli/opts.h"
#include "trace/probe.h"
#include "binary/symbolize.h"
#include "proc/target.h"
#include "threads.h"
#include "thread_events.skel.h"
#include "trace/skel_open.h"
#include "runtime/java/thr_java.h"
#include "trace/thread_track.h"
#include "trace/thread_table.h"
#include "trace/reorder.h"

/* How long a row waits for older rows from the other ring buffer (docs/thr.md): several drain
 * periods (10 ms), and more than a goroutine create's record lags its time (newproc1 to runqput).
 */
#define THR_ORDER_WINDOW_NS (50ull * 1000 * 1000)

struct thr_args {
	struct common_opts co;
};

/* Java identity of a thread (JVM targets), from hotspot:thread__start or thread__stop. */
struct java_id {
	int64_t tid;
	bool known;
	bool daemon;
	char name[THR_JAVA_NAME_LEN];
};

/* Threads seen created and not yet exited, by TID: exit records carry neither parent nor start
 * routine (the kernel side keeps no per-thread map, to stay cheap), so they are joined here; so is
 * a JVM thread's Java name and id. The tid comes first: thread_table keys records by it. */
struct live {
	uint32_t tid;
	uint32_t ptid;
	uint64_t start_addr;
	uint32_t has_start;
	struct thr_start start;
	struct java_id java;
};
_Static_assert(offsetof(struct live, tid) == 0, "thread_table keys a record by its first field");

struct thr_run {
	struct thr_args *args;
	struct thread_table live; /* of struct live */
	struct target *t;
	struct thread_events_bpf *skel;
	struct symbolizer *sym;
	struct gr_run gr;     /* Go targets: goroutine rows */
	struct thr_java java; /* JVM targets: Java names and ids on the exit rows */
	uint64_t start_ns;    /* CLOCK_MONOTONIC when tracing began: the TIME column's zero */
	uint64_t events;      /* records consumed */
	uint64_t iv_created, iv_exited; /* this interval, for -i */
	unsigned pending_lines;         /* lines in stdout's buffer: see line_done */
	int interval_no;
	struct reorder rows; /* of struct thr_row, by ts_ns, until THR_ORDER_WINDOW_NS old */
};

/* A row waiting in r->rows: a thread's (joined with its create, its start routine named) or a
 * goroutine's. */
struct thr_row {
	bool goroutine;
	union {
		struct {
			struct thr_event e;
			struct java_id java;
			char start[256];
		} thread;
		struct gr_event g;
	};
};

static const char doc[] =
	"Threads created and exited in any program (native threads, Go's goroutines, a JVM's Java "
	"threads): one row per event, with the thread's name, its start routine, its parent and, "
	"at exit, its lifetime.\v"
	"Sees every thread, raw clone() threads too, from the kernel's task_newtask and "
	"sched_process_exit tracepoints; a uprobe on pthread_create (in the executable or the "
	"library that provides it) adds the start routine. Threads that return, call pthread_exit, "
	"are cancelled or end with the process are all seen. A thread that started before tracing "
	"has its lifetime from the kernel's start time; the exit of a main thread (TID = PID) has "
	"none. "
	"The summary counts threads created, exited, still alive, and events lost. On a Go program "
	"(1.17 to 1.26) goroutines get rows too: goid, start function, parent goid and lifetime; "
	"with -p the goroutines already alive are listed first, once (alive), read from the "
	"process's memory without stopping it. "
	"On a HotSpot JVM, the exit rows of Java threads show their Java name, id and daemon flag "
	"(hotspot:thread__start/stop USDT probes).\n\n"
	"Examples:\n"
	"  rtmon thr --binpath ./app      every process running ./app, also ones started later\n"
	"  rtmon thr -p 1234 -d 10        PID 1234 for 10 seconds\n"
	"  rtmon thr -- ./app args        start ./app and trace it until it ends\n"
	"  rtmon thr -- java -jar app.jar a JVM: Java thread names and ids on exit rows\n"
	"  rtmon thr --json -p 1234       JSON lines (docs/thr.md)";

static error_t parse_thr(int key, char *arg, struct argp_state *state)
{
	struct thr_args *a = state->input;

	(void)arg;
	if (key == ARGP_KEY_INIT)
		common_opts_init(state, &a->co);
	return ARGP_ERR_UNKNOWN;
}

static const struct argp_child children[] = { { &common_argp, 0, NULL, 0 }, { 0 } };
static const struct argp thr_argp = { NULL, parse_thr, NULL, doc, children, NULL, NULL };

/* Create records are remembered; exit records get the parent and start routine of their create, and
 * the Java identity (*java) when the thread was a Java thread. */
static void join(struct thr_run *r, struct thr_event *e, struct java_id *java)
{
	struct live l = { .tid = e->tid,
			  .ptid = e->ptid,
			  .start_addr = e->start_addr,
			  .has_start = e->flags & THR_F_START,
			  .start = e->start };

	java->known = false;
	if (e->kind == THR_EV_CREATE) {
		/* Out of memory: this thread's exit is shown without parent and start. */
		(void)thread_table_put(&r->live, &l);
		return;
	}
	if (!thread_table_take(&r->live, e->tid, &l))
		return;
	*java = l.java;
	e->ptid = l.ptid;
	if (l.has_start) {
		e->flags |= THR_F_START;
		e->start_addr = l.start_addr;
		e->start = l.start;
	}
}

static void start_name(struct thr_run *r, const struct thr_event *e, char *out, size_t len)
{
	if (e->flags & THR_F_START)
		tt_start_name(r->sym, &e->start, (pid_t)e->pid, out, len);
	else
		out[0] = '\0';
}

static void print_json_event(const struct thr_event *e, const char *start,
			     const struct java_id *java)
{
	bool exit = e->kind == THR_EV_EXIT;

	json_begin_at(stdout, "thread", e->ts_ns);
	json_field_str(stdout, "event", exit ? "exit" : "create");
	json_field_u64(stdout, "pid", e->pid);
	json_field_u64(stdout, "tid", e->tid);
	if (e->ptid)
		json_field_u64(stdout, "ptid", e->ptid);
	else
		json_field_null(stdout, "ptid");
	json_field_u64(stdout, "ts_ns", e->ts_ns);
	json_field_str(stdout, "name", e->name);
	if (start[0])
		json_field_str(stdout, "start", start);
	else
		json_field_null(stdout, "start");
	if (exit && (e->flags & THR_F_LIFETIME))
		json_field_u64(stdout, "lifetime_ns", e->lifetime_ns);
	else if (exit)
		json_field_null(stdout, "lifetime_ns");
	if (exit)
		json_field_bool(stdout, "main", e->tid == e->pid);
	if (exit && (e->flags & THR_F_BEFORE))
		json_field_bool(stdout, "started_before_tracing", true);
	if (java->known) {
		json_field_i64(stdout, "java_tid", java->tid);
		json_field_str(stdout, "java_name", java->name);
		json_field_bool(stdout, "java_daemon", java->daemon);
	}
	json_end(stdout);
}

static void print_text_event(const struct thr_run *r, const struct thr_event *e, const char *start,
			     const struct java_id *java)
{
	char ptid[16] = "-", life[32] = "-", name[sizeof(e->name)], sym[1024], jname[1024];
	double t = e->ts_ns >= r->start_ns ? (double)(e->ts_ns - r->start_ns) / 1e9 : 0.0;

	if (e->ptid)
		snprintf(ptid, sizeof(ptid), "%u", e->ptid);
	if (e->kind == THR_EV_EXIT && (e->flags & THR_F_LIFETIME))
		snprintf(life, sizeof(life), "%llu", (unsigned long long)(e->lifetime_ns / 1000));
	if (r->args->co.wall_clock)
		wall_clock_print_column(stdout, e->ts_ns);
	printf("%-10.6f %7u %7u %-6s %7s %12s  %-16s %s", t, e->pid, e->tid,
	       e->kind == THR_EV_EXIT ? "exit" : "create", ptid, life,
	       text_safe(e->name, name, sizeof(name)),
	       start[0] ? text_safe(start, sym, sizeof(sym)) : "-");
	if (r->java.active && java->known)
		printf("  #%lld \"%s\"%s", (long long)java->tid,
		       text_safe(java->name, jname, sizeof(jname)), java->daemon ? " daemon" : "");
	else if (r->java.active)
		fputs("  -", stdout);
	putchar('\n');
}

/* hotspot:thread__start/stop: no row of its own; the thread's exit row shows it (merged by OS tid).
 * thread__stop comes later and wins: the name may have changed (Thread.setName). */
static void on_java_event(struct thr_run *r, const void *data, size_t size)
{
	struct thr_java_event e;
	struct live *l;

	if (size < sizeof(e))
		return;
	memcpy(&e, data, sizeof(e));
	e.java_name[THR_JAVA_NAME_LEN - 1] = '\0';
	if (e.base.kind == THR_EV_JAVA_START)
		r->java.started++;
	else
		r->java.stopped++;
	l = thread_table_get(&r->live, e.base.tid);
	if (!l) {
		/* Created before tracing began: an entry that only carries the Java identity. */
		(void)thread_table_put(&r->live, &(struct live){ .tid = e.base.tid });
		l = thread_table_get(&r->live, e.base.tid);
		if (!l)
			return;
	}
	l->java.known = true;
	l->java.tid = e.java_tid;
	l->java.daemon = e.base.flags & THR_F_DAEMON;
	memcpy(l->java.name, e.java_name, sizeof(l->java.name));
}

/* stdout is written in whole lines, a few at a time: the target of -- CMD shares it, and a block
 * flushed mid-line would let its output land inside one of ours. 8 lines stay below PIPE_BUF
 * (4096), so each write is also atomic against the target's writes to a pipe. */
static void line_done(struct thr_run *r)
{
	if (++r->pending_lines >= 8) {
		fflush(stdout);
		r->pending_lines = 0;
	}
}

static void print_row(void *ctx, void *item)
{
	struct thr_run *r = ctx;
	struct thr_row *row = item;

	if (row->goroutine) {
		gr_print_event(&r->gr, &row->g, r->args->co.json, r->start_ns);
	} else {
		const struct thr_event *e = &row->thread.e;

		if (e->kind == THR_EV_CREATE)
			r->iv_created++;
		else
			r->iv_exited++;
		if (r->args->co.json)
			print_json_event(e, row->thread.start, &row->thread.java);
		else
			print_text_event(r, e, row->thread.start, &row->thread.java);
	}
	line_done(r);
}

/* Into the time-ordered queue; printed at once if it has no room. */
static void queue_row(struct thr_run *r, uint64_t ts_ns, struct thr_row *row)
{
	if (reorder_push(&r->rows, ts_ns, row))
		print_row(r, row);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct thr_run *r = ctx;
	struct thr_row row = { .goroutine = false };
	struct thr_event *e = &row.thread.e;

	if (size < sizeof(*e))
		return 0;
	memcpy(e, data, sizeof(*e));
	e->name[THR_NAME_LEN - 1] = '\0';
	r->events++;
	if (e->kind == THR_EV_JAVA_START || e->kind == THR_EV_JAVA_STOP) {
		on_java_event(r, data, size);
		return 0;
	}
	/* Joined and named now, in ring order: a create always precedes its exit there. */
	join(r, e, &row.thread.java);
	start_name(r, e, row.thread.start, sizeof(row.thread.start));
	queue_row(r, e->ts_ns, &row);
	return 0;
}

static int on_goroutine(void *ctx, void *data, size_t size)
{
	struct thr_run *r = ctx;
	struct thr_row row = { .goroutine = true };

	if (size < sizeof(row.g))
		return 0;
	memcpy(&row.g, data, sizeof(row.g));
	r->events++;
	gr_alive_event(&r->gr, &row.g);
	queue_row(r, row.g.ts_ns, &row);
	return 0;
}

/* After each drain: the rows older than the window go out, in time order. */
static double on_tick(void *ctx)
{
	struct thr_run *r = ctx;
	uint64_t now = loop_now_ns();

	if (now > THR_ORDER_WINDOW_NS)
		reorder_release(&r->rows, now - THR_ORDER_WINDOW_NS, print_row, r);
	fflush(stdout);
	r->pending_lines = 0;
	return loop_now_s() + 0.01;
}

static void on_interval(void *ctx)
{
	struct thr_run *r = ctx;

	on_tick(r); /* the counts are of the rows printed */
	r->interval_no++;
	if (r->args->co.json) {
		json_begin(stdout, "interval");
		json_field_str(stdout, "command", "thr");
		json_field_i64(stdout, "interval", r->interval_no);
		json_field_u64(stdout, "created", r->iv_created);
		json_field_u64(stdout, "exited", r->iv_exited);
		json_end(stdout);
	} else {
		printf("-- interval %d: created %llu, exited %llu\n", r->interval_no,
		       (unsigned long long)r->iv_created, (unsigned long long)r->iv_exited);
	}
	r->iv_created = r->iv_exited = 0;
	fflush(stdout);
}

static void print_summary(struct thr_run *r, enum loop_end end, double secs)
{
	uint64_t c[TC_COUNT];
	unsigned long long alive, created, exited, unknown, before, attaching, lost;

	if (tt_read_counters(r->skel->maps.tt_counters, c))
		fprintf(stderr, "rtmon thr: cannot read the counters: %s\n", strerror(errno));
	created = c[TC_CREATED];
	exited = c[TC_EXITED];
	unknown = c[TC_EXITED_UNTRACKED];
	before = c[TC_EXITED_BEFORE];
	attaching = c[TC_EXITED_ATTACHING];
	/* Threads' events only: goroutines have their own count (gr_print_summary). */
	lost = c[TC_LOST];
	/* Threads seen created whose exit was not seen yet. */
	alive = created > exited - unknown - before - attaching
			? created - (exited - unknown - before - attaching)
			: 0;
	struct summary s = { .out = stdout,
			     .json = r->args->co.json,
			     .command = "thr",
			     .events = r->events,
			     .lost = lost,
			     .secs = secs,
			     .end = loop_end_name(end),
			     .t = r->t };

	summary_begin(&s);
	summary_count(&s, "created", "created", created);
	summary_count(&s, "exited", "exited", exited);
	summary_count(&s, "alive", "alive", alive);
	summary_count(&s, NULL, "lost", lost);
	summary_count(&s, "exited_unknown_lifetime", NULL, unknown);
	summary_count(&s, "exited_before_tracing", NULL, before);
	summary_count(&s, "exited_created_while_attaching", NULL, attaching);
	summary_line_end(&s);
	if (!s.json)
		tt_print_unknown(stdout, unknown, before, attaching, "lifetime unknown");
	gr_print_summary(&r->gr, r->skel->maps.gr_counters, &s);
	if (r->java.active && s.json) {
		json_field_u64(stdout, "java_threads_started", r->java.started);
		json_field_u64(stdout, "java_threads_stopped", r->java.stopped);
	} else if (r->java.active) {
		printf("Java threads (HotSpot %s): started %llu, stopped %llu\n", r->java.version,
		       (unsigned long long)r->java.started, (unsigned long long)r->java.stopped);
	}
	summary_end(&s, NULL);
}

static int load(struct thr_run *r, char *err, size_t errlen)
{
	int rc;

	r->skel = SKEL_OPEN(thread_events, r->t, "thr", err, errlen);
	if (!r->skel)
		return -1;
	gr_open(&r->gr, "thr", r->t);
	r->gr.wall_clock = r->args->co.wall_clock;
	r->skel->rodata->gr_cfg = r->gr.cfg;
	gr_prepare(&r->gr, r->skel->progs.on_go_site);
	thr_java_open(&r->java, "thr", r->t);
	thr_java_prepare(&r->java, r->skel->progs.on_java_thread_start,
			 r->skel->progs.on_java_thread_stop);
	rc = thread_events_bpf__load(r->skel);
	if (rc) {
		probe_load_error("thr", rc, err, errlen);
		return -1;
	}
	return 0;
}

static int setup(struct thr_run *r, struct probe_links *pl, struct ring_buffer **rb, char *err,
		 size_t errlen)
{
	struct tt_progs progs;

	if (load(r, err, errlen))
		return -1;
	r->sym = symbolizer_new(&r->t->image);
	*rb = ring_buffer__new(bpf_map__fd(r->skel->maps.events), on_event, r, NULL);
	if (*rb && r->gr.active &&
	    ring_buffer__add(*rb, bpf_map__fd(r->skel->maps.gr_events), on_goroutine, r)) {
		ring_buffer__free(*rb);
		*rb = NULL;
	}
	if (!r->sym || !*rb) {
		snprintf(err, errlen, "cannot set up the event buffer: %s",
			 strerror(errno ? errno : ENOMEM));
		return -1;
	}
	progs = (struct tt_progs){ r->skel->progs.on_pthread_create, r->skel->progs.on_newtask,
				   r->skel->progs.on_exit, &r->skel->bss->tt_attach_ns,
				   &r->skel->bss->tt_trace_start_ns };
	if (tt_attach("thr", r->t, &progs, true, pl, err, errlen) ||
	    gr_attach(&r->gr, r->skel->progs.on_go_site, r->skel->maps.gr_wrappers, r->t, pl, err,
		      errlen) ||
	    thr_java_attach(&r->java, r->skel->progs.on_java_thread_start,
			    r->skel->progs.on_java_thread_stop, r->t, err, errlen))
		return -1;
	return 0;
}

static void print_header(const struct thr_run *r)
{
	if (!r->args->co.json && r->args->co.wall_clock)
		fputs(WALL_CLOCK_HEADING, stdout);
	if (!r->args->co.json)
		printf("%-10s %7s %7s %-6s %7s %12s  %-16s %s%s\n", "TIME(s)", "PID", "TID",
		       "EVENT", "PTID", "LIFETIME(us)", "NAME", "START",
		       r->java.active ? "  JAVA" : "");
	fflush(stdout);
}

static void cleanup(struct thr_run *r, struct probe_links *pl, struct ring_buffer *rb,
		    bool kill_child)
{
	probe_links_destroy(pl);
	/* USDT links before their object: libbpf returns their spec ids to the object's USDT
	 * manager. */
	thr_java_close(&r->java);
	ring_buffer__free(rb);
	thread_events_bpf__destroy(r->skel);
	symbolizer_free(r->sym);
	gr_close(&r->gr);
	thread_table_free(&r->live);
	reorder_free(&r->rows);
	target_close(r->t, kill_child);
}

/* The steps command_trace takes for thr. */
struct thr_trace {
	struct thr_run *r;
	struct probe_links pl;
	struct ring_buffer *rb;
};

static int thr_attach(void *ctx, struct loop_ops *ops, char *err, size_t errlen)
{
	struct thr_trace *x = ctx;

	if (setup(x->r, &x->pl, &x->rb, err, errlen))
		return -1;
	/* -p on a Go program: the goroutines already alive, once, with the probes live */
	gr_read_alive(&x->r->gr, x->r->t, loop_now_ns());
	ops->rb = x->rb;
	return 0;
}

static void thr_before_release(void *ctx)
{
	struct thr_trace *x = ctx;

	/* Full buffering (a pipe's default) with a buffer that 8 lines never fill: flushes come
	 * from line_done only, between lines. A terminal stays line-buffered. */
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	print_header(x->r);
	x->r->start_ns = loop_now_ns();
	gr_print_alive(&x->r->gr, x->r->args->co.json, x->r->start_ns);
	fflush(stdout);
}

static void thr_report(void *ctx, enum loop_end end, double secs)
{
	struct thr_run *r = ((struct thr_trace *)ctx)->r;

	reorder_release(&r->rows, UINT64_MAX, print_row, r);
	print_summary(r, end, secs);
}

int cmd_thr(int argc, char **argv)
{
	struct thr_args args = { 0 };
	struct thr_run r = { .args = &args, .live = THREAD_TABLE_INIT(sizeof(struct live)) };
	struct thr_trace x = { .r = &r };
	struct target t;
	struct loop_ops ops = { .ctx = &r, .on_interval = on_interval };
	const struct trace_steps steps = { "thr",      "threads",          &x,
					   thr_attach, thr_before_release, thr_report };
	bool ran;
	int rc;

	rc = command_start(&thr_argp, argc, argv, &args.co, &args, &t);
	if (rc)
		return rc;
	r.t = &t;
	reorder_init(&r.rows, sizeof(struct thr_row));
	ops.timers[0] = (struct loop_timer){ on_tick, loop_now_s() + 0.01 };
	rc = command_trace(&steps, &args.co, &t, &ops, &ran);
	cleanup(&r, &x.pl, x.rb, !ran);
	return rc;
}

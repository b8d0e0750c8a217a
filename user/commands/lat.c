/* rtmon lat: thread lifetimes (create to exit) as log2 histograms in microseconds, counted in the
 * kernel; one per start routine with --by-start. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <bpf/bpf.h>
#include "cli/command.h"
#include "output/target_report.h"
#include "cli/commands.h"
#include "runtime/go/goroutine.h"
#include "output/escape.h"
#include "output/hist.h"
#include "output/json.h"
#include "output/summary.h"
#include "trace/loop.h"
#include "cli/opts.h"
#include "trace/probe.h"
#include "binary/symbolize.h"
#include "runtime/runtime_id.h"
#include "proc/target.h"
#include "threads.h"
#include "trace/thread_track.h"
#include "trace/lifetimes.h"
#include "thread_lifetimes.skel.h"

enum { OPT_BY_START = 0x2000 };

struct lat_args {
	struct common_opts co;
	bool by_start;
};

/* One kernel histogram as read at a report. */
struct lat_entry {
	struct thr_start key;
	struct lifetime_hist h;
};

struct lat_snapshot {
	struct lat_entry *e;
	size_t n;
};

/* One histogram printed: the kernel's entries merged by start routine name (processes of one binary
 * share it; addresses of one routine in different processes differ). */
struct lat_group {
	char name[256];
	struct lifetime_hist h;
};

/* While a -p or -- CMD target lives, how often the loop looks whether threads were created (a
 * counter read), and how often at most it then reads the process's maps for libraries the
 * symbolizer does not know yet (dlopen). Histograms are keyed at thread exit, often when the
 * process ends: the files must be held open before, for the report to name them. */
#define LAT_TICK_S      0.02
#define LAT_MAPS_READ_S 0.1

struct lat_run {
	struct lat_args *args;
	struct target *t;
	struct lifetimes lt; /* the BPF object, and on Go targets goroutine lifetimes too */
	struct symbolizer *sym;
	uint64_t maps_created;    /* threads created when the maps were last read */
	double maps_read_s;       /* when they were (0: never) */
	struct lat_snapshot base; /* at the last report: -i prints the difference */
	uint64_t base_untracked, base_before, base_attaching;
	int interval_no;
};

static const char doc[] =
	"Histogram of thread lifetimes (thread creation to exit) in microseconds, in any program "
	"(a Go program's goroutines get their own), with count, mean, p50, p99, min and max.\v"
	"Threads are seen by the kernel's task_newtask and sched_process_exit tracepoints (raw "
	"clone() threads too); the histogram is kept in the kernel. --by-start gives one histogram "
	"per start routine, taken from a uprobe on pthread_create and named from the executable's "
	"or library's symbols. Threads that were already running when tracing began are counted "
	"with their lifetime from the kernel's start time; main threads (TID = PID) only in the "
	"summary. On a Go program (1.17 to 1.26) goroutine "
	"lifetimes get their own histogram (per start function with --by-start).\n\n"
	"Examples:\n"
	"  rtmon lat --binpath ./app         every process running ./app, also ones started later\n"
	"  rtmon lat --by-start -p 1234      PID 1234, one histogram per start routine\n"
	"  rtmon lat -i 1 -- ./app args      start ./app, print and reset every second\n"
	"  rtmon lat --json -p 1234          JSON lines (docs/thr.md)";

static const struct argp_option lat_options[] = {
	{ "by-start", OPT_BY_START, NULL, 0, "One histogram per thread start routine", 0 },
	{ 0 },
};

static error_t parse_lat(int key, char *arg, struct argp_state *state)
{
	struct lat_args *a = state->input;

	(void)arg;
	switch (key) {
	case ARGP_KEY_INIT:
		common_opts_init(state, &a->co);
		return ARGP_ERR_UNKNOWN;
	case OPT_BY_START:
		a->by_start = true;
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static const struct argp_child children[] = { { &common_argp, 0, NULL, 0 }, { 0 } };
static const struct argp lat_argp = { lat_options, parse_lat, NULL, doc, children, NULL, NULL };

static int snapshot_push(struct lat_snapshot *s, const struct thr_start *key,
			 const struct lifetime_hist *h)
{
	struct lat_entry *n = realloc(s->e, (s->n + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	s->e = n;
	s->e[s->n].key = *key;
	s->e[s->n].h = *h;
	s->n++;
	return 0;
}

/* Entries are never deleted in the kernel: a report reads them all and subtracts the previous
 * snapshot, so a thread ending during the read is counted in this report or the next, never lost.
 */
static int snapshot_read(struct lat_run *r, struct lat_snapshot *s)
{
	int fd = bpf_map__fd(r->lt.skel->maps.hists);
	struct thr_start key, next, *prev = NULL;
	struct lifetime_hist h;

	s->e = NULL;
	s->n = 0;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &h))
			continue;
		if (snapshot_push(s, &key, &h))
			return -ENOMEM;
	}
	return errno == ENOENT ? 0 : -errno;
}

static const struct lifetime_hist *snapshot_find(const struct lat_snapshot *s,
						 const struct thr_start *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (!memcmp(&s->e[i].key, key, sizeof(*key)))
			return &s->e[i].h;
	return NULL;
}

static void key_name(struct lat_run *r, const struct thr_start *key, char *out, size_t len)
{
	static const struct thr_start zero;

	if (!r->args->by_start)
		snprintf(out, len, "all");
	else if (!memcmp(key, &zero, sizeof(zero)))
		snprintf(out, len, "[unknown]"); /* not created by pthread_create (raw clone) */
	else
		tt_start_name(r->sym, key, r->t->pid, out, len);
}

/* The loop's timer while a -p or -- CMD target lives: after threads were created, the files the
 * process maps code from, read while the maps can still say where they are. */
static double watch_libraries(void *ctx)
{
	struct lat_run *r = ctx;
	double now = loop_now_s();
	uint64_t c[TC_COUNT];

	if (!tt_read_counters(r->lt.skel->maps.tt_counters, c) &&
	    c[TC_CREATED] != r->maps_created &&
	    (!r->maps_read_s || now - r->maps_read_s >= LAT_MAPS_READ_S)) {
		symbolizer_add_maps(r->sym, r->t->pid);
		r->maps_created = c[TC_CREATED];
		r->maps_read_s = now;
	}
	return now + LAT_TICK_S;
}

static int group_add(struct lat_group **g, size_t *n, const char *name,
		     const struct lifetime_hist *h)
{
	struct lat_group *ng;

	for (size_t i = 0; i < *n; i++) {
		if (!strcmp((*g)[i].name, name)) {
			lifetime_hist_add(&(*g)[i].h, h, 1);
			return 0;
		}
	}
	ng = realloc(*g, (*n + 1) * sizeof(*ng));
	if (!ng)
		return -ENOMEM;
	*g = ng;
	memset(&ng[*n], 0, sizeof(ng[*n]));
	snprintf(ng[*n].name, sizeof(ng[*n].name), "%s", name);
	lifetime_hist_add(&ng[*n].h, h, 1);
	(*n)++;
	return 0;
}

static int cmp_group(const void *a, const void *b)
{
	const struct lat_group *x = a, *y = b;

	if (x->h.count != y->h.count)
		return x->h.count > y->h.count ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The difference cur - base, merged by name, busiest first. */
static int build_groups(struct lat_run *r, const struct lat_snapshot *cur, struct lat_group **g,
			size_t *n)
{
	*g = NULL;
	*n = 0;
	for (size_t i = 0; i < cur->n; i++) {
		const struct lifetime_hist *old = snapshot_find(&r->base, &cur->e[i].key);
		struct lifetime_hist d = cur->e[i].h;
		char name[256];

		if (old)
			lifetime_hist_add(&d, old, -1);
		if (!d.count)
			continue;
		key_name(r, &cur->e[i].key, name, sizeof(name));
		if (group_add(g, n, name, &d))
			return -ENOMEM;
	}
	if (*n > 1)
		qsort(*g, *n, sizeof(**g), cmp_group);
	return 0;
}

static void print_stats_text(const struct lifetime_hist *h, bool extremes)
{
	printf("threads %llu, ", (unsigned long long)h->count);
	hist_print_lifetime_stats(stdout, h, extremes);
}

static void print_text(struct lat_run *r, const struct lat_group *g, size_t n, uint64_t untracked,
		       uint64_t before, uint64_t attaching)
{
	char sym[1024];

	if (r->interval_no) {
		time_t now = time(NULL);
		char ts[32];

		strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&now));
		printf("\n%s (interval %d)\n", ts, r->interval_no);
	}
	printf("Thread lifetimes in %s:\n", r->t->label);
	if (!n)
		printf("no thread exits seen\n");
	for (size_t i = 0; i < n; i++) {
		if (r->args->by_start)
			printf("%sstart routine: %s\n", i ? "\n" : "",
			       text_safe(g[i].name, sym, sizeof(sym)));
		hist_print_log2(stdout, g[i].h.slots, LOG2_SLOTS, "lifetime (us)");
		print_stats_text(&g[i].h, !r->interval_no);
	}
	tt_print_unknown(stdout, untracked, before, attaching, "not counted");
}

static void print_json_group(struct lat_run *r, const struct lat_group *g)
{
	struct hist_range range = lifetime_hist_range(&g->h);

	range.bound_only = r->interval_no > 0;
	json_hist_begin(stdout, "thread_lifetime", "us", target_report_pid(r->t), g->h.slots,
			LOG2_SLOTS, g->h.count, g->h.sum_ns / 1000, &range);
	if (r->args->by_start) {
		fputs(",\"start\":", stdout);
		json_str(stdout, g->name);
	}
	if (r->interval_no)
		json_field_i64(stdout, "interval", r->interval_no);
	puts("}");
}

static void print_json(struct lat_run *r, const struct lat_group *g, size_t n)
{
	static const struct lat_group empty = { .name = "all" };

	/* Without --by-start there is always one histogram, empty or not. */
	if (!n && !r->args->by_start)
		print_json_group(r, &empty);
	for (size_t i = 0; i < n; i++)
		print_json_group(r, &g[i]);
}

static void report(struct lat_run *r)
{
	struct lat_snapshot cur;
	struct lat_group *g = NULL;
	uint64_t c[TC_COUNT];
	size_t n = 0;

	if (snapshot_read(r, &cur) || build_groups(r, &cur, &g, &n) ||
	    tt_read_counters(r->lt.skel->maps.tt_counters, c)) {
		fprintf(stderr, "rtmon lat: cannot read the histograms: %s\n", strerror(errno));
		free(cur.e);
		free(g);
		return;
	}
	if (r->args->co.interval)
		r->interval_no++;
	if (r->args->co.json)
		print_json(r, g, n);
	else
		print_text(r, g, n, c[TC_EXITED_UNTRACKED] - r->base_untracked,
			   c[TC_EXITED_BEFORE] - r->base_before,
			   c[TC_EXITED_ATTACHING] - r->base_attaching);
	gr_lat_report(&r->lt.gr, r->lt.skel->maps.gr_hists, r->args->by_start, r->args->co.json,
		      target_report_pid(r->t), r->t->label, r->interval_no);
	free(r->base.e);
	r->base = cur;
	r->base_untracked = c[TC_EXITED_UNTRACKED];
	r->base_before = c[TC_EXITED_BEFORE];
	r->base_attaching = c[TC_EXITED_ATTACHING];
	free(g);
	fflush(stdout);
}

static void on_interval(void *ctx)
{
	report(ctx);
}

static void print_summary(struct lat_run *r, enum loop_end end, double secs)
{
	uint64_t c[TC_COUNT];
	unsigned long long counted, lost;

	if (tt_read_counters(r->lt.skel->maps.tt_counters, c)) {
		fprintf(stderr, "rtmon lat: cannot read the counters: %s\n", strerror(errno));
		return;
	}
	counted = c[TC_EXITED] - c[TC_EXITED_UNTRACKED];
	lost = c[TC_TRACK_FULL] + c[TC_HIST_FULL];
	struct summary s = { .out = stdout,
			     .json = r->args->co.json,
			     .command = "lat",
			     .events = c[TC_CREATED] + c[TC_EXITED],
			     .lost = lost,
			     .secs = secs,
			     .end = loop_end_name(end),
			     .t = r->t };

	summary_begin(&s);
	summary_count(&s, "created", "created", c[TC_CREATED]);
	summary_count(&s, "exited", "exited", c[TC_EXITED]);
	summary_count(&s, NULL, "lifetimes counted", counted);
	summary_count(&s, "exited_unknown_lifetime", NULL, c[TC_EXITED_UNTRACKED]);
	summary_count(&s, "exited_before_tracing", NULL, c[TC_EXITED_BEFORE]);
	summary_count(&s, "exited_created_while_attaching", NULL, c[TC_EXITED_ATTACHING]);
	gr_print_summary(&r->lt.gr, r->lt.skel->maps.gr_counters, &s);
	summary_end(&s, NULL);
}

/* A binary's image holds its DT_NEEDED closure only; a JVM's threads start in libjvm.so, which its
 * launcher dlopens: known in advance from the JDK's layout, held open for the report. (A -p
 * process's image comes from its maps, which list it.) */
static void add_runtime_lib(struct lat_run *r)
{
	struct runtime_id id;
	char err[256];

	if (!r->args->by_start || r->t->kind == TARGET_PID)
		return;
	if (!runtime_identify(r->t->exe, 0, &id, err, sizeof(err)) && id.kind == RUNTIME_JAVA &&
	    id.lib[0])
		symbolizer_add_path(r->sym, id.lib);
}

static int setup(struct lat_run *r, struct probe_links *pl, char *err, size_t errlen)
{
	if (lifetimes_open(&r->lt, "lat", r->t, r->args->by_start, pl, err, errlen))
		return -1;
	r->sym = symbolizer_new(&r->t->image);
	if (!r->sym) {
		snprintf(err, errlen, "cannot set up symbols: %s", strerror(ENOMEM));
		return -1;
	}
	add_runtime_lib(r);
	return 0;
}

static void cleanup(struct lat_run *r, struct probe_links *pl, bool kill_child)
{
	probe_links_destroy(pl);
	lifetimes_close(&r->lt);
	symbolizer_free(r->sym);
	free(r->base.e);
	target_close(r->t, kill_child);
}

/* The steps command_trace takes for lat. */
struct lat_trace {
	struct lat_run *r;
	struct probe_links pl;
};

static int lat_attach(void *ctx, struct loop_ops *ops, char *err, size_t errlen)
{
	struct lat_trace *x = ctx;

	/* The histograms are kept in the kernel: no ring buffer. */
	if (setup(x->r, &x->pl, err, errlen))
		return -1;
	if (x->r->args->by_start && x->r->t->pid > 0) {
		ops->timers[0] = (struct loop_timer){ watch_libraries, loop_now_s() + LAT_TICK_S };
	}
	return 0;
}

static void lat_report(void *ctx, enum loop_end end, double secs)
{
	struct lat_trace *x = ctx;

	report(x->r);
	print_summary(x->r, end, secs);
}

int cmd_lat(int argc, char **argv)
{
	struct lat_args args = { 0 };
	struct lat_run r = { .args = &args };
	struct lat_trace x = { .r = &r };
	struct target t;
	struct loop_ops ops = { .ctx = &r, .on_interval = on_interval };
	const struct trace_steps steps = { "lat", "thread lifetimes", &x, lat_attach,
					   NULL,  lat_report };
	bool ran;
	int rc;

	rc = command_start(&lat_argp, argc, argv, &args.co, &args, &t);
	if (rc)
		return rc;
	r.t = &t;
	rc = command_trace(&steps, &args.co, &t, &ops, &ran);
	cleanup(&r, &x.pl, !ran);
	return rc;
}

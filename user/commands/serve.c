/* rtmon serve: an exporter. The collectors of serve_collect.c run on the target while an HTTP
 * server in its own thread answers GET /metrics (serve_metrics.c) and the /debug/pprof/ paths
 * (serve_pprof.c). A target that ends leaves its last values served until Ctrl-C or SIGTERM, so a
 * scraper sees how it ended. docs/serve.md. */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli/command.h"
#include "cli/commands.h"
#include "commands/serve_board.h"
#include "commands/serve_procs.h"
#include "commands/serve_metrics.h"
#include "commands/serve_pprof.h"
#include "http/server.h"
#include "output/prom.h"
#include "trace/budget.h"
#include "trace/loop.h"

/* How often the loop publishes what the collectors counted: a scrape sees values this old. */
#define PUBLISH_S  0.1
#define TRIM_TICKS 10 /* malloc_trim once a second */
/* --all and --binpath: how often /proc is scanned for processes started and exited. */
#define RESCAN_S 1.0

enum { OPT_LISTEN = 0x2000, OPT_NO_PPROF, OPT_ALL, OPT_MALLOC_BUDGET };

struct serve_args {
	struct common_opts co;
	const char *listen;
	bool no_pprof;
	double malloc_budget; /* --malloc-budget PCT; 0: no malloc collector */
};

static const struct argp_option serve_options[] = {
	{ "listen", OPT_LISTEN, "ADDR:PORT", 0,
	  "Where to serve (default 127.0.0.1:9477; ':PORT' or 'PORT' is 127.0.0.1, port 0 picks a "
	  "free one)",
	  0 },
	{ "no-pprof", OPT_NO_PPROF, NULL, 0, "No /debug/pprof/ paths (they answer 404)", 0 },
	{ "all", OPT_ALL, NULL, 0,
	  "Every process rtmon ps marks as traced fully (the target), found again every second",
	  0 },
	{ "malloc-budget", OPT_MALLOC_BUDGET, "PCT", 0,
	  "Also malloc's sizes and calls, its probes taking at most PCT percent of the "
	  "target's CPU time (0 < PCT <= 100; estimated counts, as rtmon malloc --budget; "
	  "-p, -n, -- CMD)",
	  0 },
	{ 0 },
};

static const char doc[] =
	"Serves the target's runtime metrics for Prometheus: GC cycles and pauses, threads and (on "
	"Go) goroutines created and exited with their lifetimes, and rtmon's own process.\v"
	"GET /metrics answers in the Prometheus text format, or OpenMetrics when the Accept header "
	"asks for application/openmetrics-text. Every family is labelled pid, exe and runtime, one "
	"series per process: --all and --binpath find their processes every second (a new one is "
	"traced from then on, an exited one's series go). "
	"GET /debug/pprof/profile?seconds=N (a CPU profile), /debug/pprof/goroutine?debug=0|1|2 "
	"and /debug/pprof/heap (Go: rtmon heap's profile, collected since serve attached) answer "
	"as Go's net/http/pprof, for go tool pprof; ?pid=N chooses the process with "
	"--all and --binpath. "
	"When the target ends, its last values are served until Ctrl-C or SIGTERM. docs/serve.md "
	"has the families, the pprof paths, a scrape config and PromQL.\n\n"
	"Examples:\n"
	"  rtmon serve -p 1234                          127.0.0.1:9477/metrics\n"
	"  rtmon serve --listen 0.0.0.0:9477 -n myapp   on every address\n"
	"  rtmon serve --all                            every process rtmon traces fully\n"
	"  rtmon serve --listen :0 -- ./app args        a free port, named on stderr";

static error_t parse_serve(int key, char *arg, struct argp_state *state)
{
	struct serve_args *a = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		common_opts_init(state, &a->co);
		return ARGP_ERR_UNKNOWN;
	case OPT_LISTEN:
		a->listen = arg;
		return 0;
	case OPT_NO_PPROF:
		a->no_pprof = true;
		return 0;
	case OPT_ALL:
		a->co.all = true;
		return 0;
	case OPT_MALLOC_BUDGET:
		if (budget_parse_pct(arg, &a->malloc_budget)) {
			argp_failure(
				state, 2, 0,
				"invalid --malloc-budget '%s': give a percentage of the target's "
				"CPU time, more than 0 and at most 100",
				arg);
			return EINVAL;
		}
		return 0;
	case ARGP_KEY_END:
		if (a->malloc_budget && (a->co.all || a->co.binpath)) {
			argp_failure(state, 2, 0,
				     "--malloc-budget traces one process: give it with -p, -n or "
				     "-- CMD, not with %s",
				     a->co.all ? "--all" : "--binpath");
			return EINVAL;
		}
		return ARGP_ERR_UNKNOWN;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static const struct argp_child children[] = { { &common_argp, 0, NULL, 0 }, { 0 } };
static const struct argp serve_argp = {
	serve_options, parse_serve, NULL, doc, children, NULL, NULL
};

/* The paths served: one handler each. The pprof ones name what they wait for. */
#define MAX_ROUTES 8

struct serve_run {
	struct serve_args *args;
	struct target *t;
	struct serve_procs procs;
	struct serve_board board;
	struct serve_metrics metrics;
	struct serve_pprof pprof;
	struct http_route routes[MAX_ROUTES];
	size_t nroutes;
	int fd;
	char bound[300];
	struct http_server *http;
	enum loop_end end;
	unsigned long ticks; /* serve_tick calls, for the malloc_trim period */
};

static void add_routes(struct serve_run *r)
{
	/* the pprof paths take seconds (a profile) or a process's memory (goroutines): workers */
	const struct http_route pprof[] = {
		{ "/debug/pprof/profile", serve_pprof_profile, &r->pprof, true },
		{ "/debug/pprof/goroutine", serve_pprof_goroutine, &r->pprof, true },
		{ "/debug/pprof/heap", serve_pprof_heap, &r->pprof, true },
	};

	r->routes[r->nroutes++] =
		(struct http_route){ "/metrics", serve_metrics_handler, &r->metrics, false };
	if (r->args->no_pprof)
		return;
	r->pprof.pid = r->t->kind == TARGET_BINPATH || r->t->kind == TARGET_ALL ? 0 : r->t->pid;
	r->pprof.scan = r->pprof.pid ? NULL : r->args->co.all ? "--all" : "--binpath";
	r->pprof.board = &r->board;
	for (size_t i = 0; i < sizeof(pprof) / sizeof(pprof[0]); i++)
		r->routes[r->nroutes++] = pprof[i];
}

static double serve_tick(void *ctx)
{
	struct serve_run *r = ctx;

	serve_procs_publish(&r->procs);
	/* Every scrape builds its body (tens of KiB) in the HTTP threads' malloc arenas; glibc
	 * keeps the freed pages, so RSS would climb to the arenas' high-water mark and stay there.
	 * Giving them back once a second keeps a long-running serve's RSS its live memory, so that
	 * a leak, and only a leak, shows as growth (test_serve_load). */
	if (++r->ticks % TRIM_TICKS == 0)
		malloc_trim(0);
	return loop_now_s() + PUBLISH_S;
}

static double serve_rescan(void *ctx)
{
	struct serve_run *r = ctx;

	serve_procs_rescan(&r->procs);
	return loop_now_s() + RESCAN_S;
}

static double serve_budget_tick(void *ctx)
{
	return budget_tick(serve_procs_budget(&((struct serve_run *)ctx)->procs));
}

static void serve_target_exit(void *ctx)
{
	budget_target_exited(serve_procs_budget(&((struct serve_run *)ctx)->procs));
}

static int serve_attach(void *ctx, struct loop_ops *ops, char *err, size_t errlen)
{
	struct serve_run *r = ctx;
	struct budget *b;

	r->procs.malloc_pct = r->args->malloc_budget;
	if (serve_procs_attach(&r->procs, ops, err, errlen))
		return -1;
	/* two timers: the snapshot published every 100 ms, and --malloc-budget's duty cycle */
	ops->timers[0] = (struct loop_timer){ serve_tick, loop_now_s() + PUBLISH_S };
	if ((b = serve_procs_budget(&r->procs))) {
		ops->timers[2] = (struct loop_timer){ serve_budget_tick, budget_next_tick(b) };
		ops->on_target_exit = serve_target_exit;
	}
	if (r->procs.scan) {
		ops->timers[1] = (struct loop_timer){ serve_rescan, loop_now_s() + RESCAN_S };
		fprintf(stderr, "rtmon serve: %zu processes traced\n",
			serve_procs_count(&r->procs));
	}
	r->http = http_serve(r->fd, r->routes, r->nroutes, err, errlen);
	if (!r->http)
		return -1;
	r->fd = -1; /* the server owns it now */
	fprintf(stderr, "rtmon serve: serving http://%s/metrics\n", r->bound);
	return 0;
}

static void serve_report(void *ctx, enum loop_end end, double secs)
{
	struct serve_run *r = ctx;

	(void)secs;
	serve_procs_publish(&r->procs);
	r->end = end;
}

/* After the target ended: its last values stay served until a signal (or the end of -d). */
static void linger(const struct serve_run *r, double start_s)
{
	sigset_t set;
	double left = r->args->co.duration ? start_s + r->args->co.duration - loop_now_s() : 0;

	fprintf(stderr, "rtmon serve: %s ended; serving its last values until Ctrl-C\n",
		r->t->label);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (!r->args->co.duration) {
		while (sigwaitinfo(&set, NULL) < 0 && errno == EINTR)
			;
		return;
	}
	if (left > 0) {
		struct timespec ts = { (time_t)left, (long)((left - (double)(time_t)left) * 1e9) };

		sigtimedwait(&set, NULL, &ts);
	}
}

int cmd_serve(int argc, char **argv)
{
	struct serve_args args = { .listen = "127.0.0.1:9477" };
	struct target t;
	struct serve_run *r;
	struct loop_ops ops = { 0 };
	struct trace_steps steps = { "serve", "runtime metrics", NULL, serve_attach,
				     NULL,    serve_report };
	unsigned long long served = 0;
	char err[1024];
	double start_s;
	bool ran = false;
	int rc;

	rc = command_start(&serve_argp, argc, argv, &args.co, &args, &t);
	if (rc)
		return rc;
	r = calloc(1, sizeof(*r));
	if (!r) {
		fprintf(stderr, "rtmon serve: %s\n", strerror(ENOMEM));
		target_close(&t, true);
		return 1;
	}
	r->args = &args;
	r->t = &t;
	serve_board_init(&r->board);
	r->metrics.board = &r->board;
	add_routes(r);
	rc = http_listen(args.listen, &r->fd, r->bound, sizeof(r->bound), err, sizeof(err));
	if (rc) {
		fprintf(stderr, "rtmon serve: %s\n", err);
		target_close(&t, true);
		serve_board_close(&r->board);
		free(r);
		return rc == -EINVAL ? 2 : 1;
	}
	if (serve_procs_init(&r->procs, &args.co, &t, &r->board, err, sizeof(err))) {
		fprintf(stderr, "rtmon serve: %s\n", err);
		close(r->fd);
		target_close(&t, true);
		serve_board_close(&r->board);
		free(r);
		return 1;
	}
	serve_procs_prepare(&r->procs);
	steps.ctx = r;
	ops.ctx = r;
	start_s = loop_now_s();
	rc = command_trace(&steps, &args.co, &t, &ops, &ran);
	if (!rc && ran && r->end == END_TARGET_EXIT)
		linger(r, start_s);
	http_stop(r->http, &served);
	if (r->fd >= 0)
		close(r->fd);
	if (ran)
		fprintf(stderr, "rtmon serve: %llu requests answered\n", served);
	serve_procs_close(&r->procs);
	serve_board_close(&r->board);
	target_close(&t, !ran);
	free(r);
	return rc;
}

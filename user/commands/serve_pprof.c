#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include "commands/serve_pprof.h"
#include "output/profile.h"
#include "runtime/go/goinspect.h"
#include "runtime/go/goroutine_dump.h"
#include "stack/cpu_profile.h"
#include "stack/heap_profile.h"

/* A whole number in [lo, hi], digits only. */
static bool parse_num(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 9)
		return false;
	v = strtol(s, &end, 10);
	if (v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static int reply_line(struct http_reply *rp, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int reply_line(struct http_reply *rp, unsigned status, const char *fmt, ...)
{
	char line[1100];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return http_reply_text(rp, status, line);
}

static bool served(struct serve_board *b, pid_t pid)
{
	struct serve_entry *v;
	size_t n;
	bool found = false;

	if (serve_board_read(b, &v, &n))
		return false;
	for (size_t i = 0; i < n && !found; i++)
		found = v[i].pid == pid;
	serve_entries_free(v, n);
	return found;
}

/* The process asked for: ?pid=, which must be one served. 0 with *pid, or 1 when rp holds a 4xx
 * (-1: out of memory). */
static int choose_pid(const struct serve_pprof *sp, const struct http_request *rq,
		      struct http_reply *rp, pid_t *pid)
{
	const char *q = http_query(rq, "pid");
	long v;

	if (!q && !sp->scan) {
		*pid = sp->pid;
		return 0;
	}
	if (!q)
		return reply_line(rp, 400,
				  "give the process with ?pid=N: rtmon serve %s serves several "
				  "(the pid labels of /metrics)",
				  sp->scan)
			       ?: 1;
	if (!parse_num(q, 1, INT_MAX, &v))
		return http_reply_text(rp, 400,
				       "bad pid: give a process id, one of the pid labels of "
				       "/metrics")
			       ?: 1;
	if (sp->scan ? !served(sp->board, (pid_t)v) : v != sp->pid)
		return reply_line(rp, 404,
				  "PID %ld is not served: give one of the pid labels of /metrics",
				  v)
			       ?: 1;
	*pid = (pid_t)v;
	return 0;
}

static unsigned status_of(int rc)
{
	if (rc == -ESRCH || rc == -ENOENT)
		return 404;
	if (rc == -EACCES || rc == -EPERM)
		return 403;
	return 500;
}

static int reply_profile(struct http_reply *rp, const struct profile *prof)
{
	uint8_t *gz;
	size_t len;

	if (profile_pprof_bytes(prof, &gz, &len))
		return -1;
	free(rp->body);
	rp->body = (char *)gz;
	rp->len = len;
	rp->status = 200;
	rp->content_type = "application/octet-stream"; /* as net/http/pprof */
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Samples for secs on this thread (the worker's), polling the ring; stops early when the server
 * stops or the process exits. Returns the seconds sampled. */
static double sample(struct cpu_profile *cp, const struct http_request *rq, pid_t pid, double secs)
{
	double start = now_s(), end = start + secs, t;

	cpu_profile_started(cp);
	while ((t = now_s()) < end && !http_request_cancelled(rq)) {
		int ms = (int)((end - t) * 1000) + 1;

		ring_buffer__poll(cpu_profile_ring(cp), ms < 100 ? ms : 100);
		if (kill(pid, 0) && errno == ESRCH)
			break;
	}
	ring_buffer__consume(cpu_profile_ring(cp));
	return now_s() - start;
}

int serve_pprof_profile(void *ctx, const struct http_request *rq, struct http_reply *rp)
{
	const struct serve_pprof *sp = ctx;
	const struct cpu_profile_opts o = { .hz = SERVE_PPROF_HZ };
	const char *q = http_query(rq, "seconds");
	struct common_opts co = { 0 };
	struct cpu_profile_counts c;
	struct cpu_profile *cp = NULL;
	struct target *t;
	char err[1024];
	long secs = SERVE_PPROF_DEFAULT_SECONDS;
	pid_t pid;
	int rc;

	if (q && !parse_num(q, 1, SERVE_PPROF_MAX_SECONDS, &secs))
		return reply_line(rp, 400, "bad seconds: give a whole number from 1 to %d",
				  SERVE_PPROF_MAX_SECONDS);
	rc = choose_pid(sp, rq, rp, &pid);
	if (rc)
		return rc < 0 ? -1 : 0;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	/* opened as -p PID, as serve opens each process it finds */
	co.pid = pid;
	rc = target_open(t, &co, err, sizeof(err));
	if (rc) {
		free(t);
		return http_reply_text(rp, status_of(rc), err);
	}
	if (cpu_profile_open(&cp, t, &o, "serve", err, sizeof(err))) {
		rc = http_reply_text(rp, 500, err);
	} else {
		cpu_profile_finish(cp, sample(cp, rq, pid, (double)secs), &c);
		rc = reply_profile(rp, cpu_profile_result(cp));
	}
	cpu_profile_close(cp);
	target_close(t, false);
	free(t);
	return rc;
}

int serve_pprof_goroutine(void *ctx, const struct http_request *rq, struct http_reply *rp)
{
	const struct serve_pprof *sp = ctx;
	const char *q = http_query(rq, "debug");
	struct go_frame_cache cache;
	struct go_goroutine *gs;
	struct go_proc p;
	struct profile *prof;
	char err[1024];
	long debug = 0;
	size_t n, len = 0;
	char *text = NULL;
	FILE *f;
	pid_t pid;
	int rc;

	if (q && !parse_num(q, 0, 2, &debug))
		return http_reply_text(rp, 400, "bad debug: give 0 (a profile), 1 or 2 (text)");
	rc = choose_pid(sp, rq, rp, &pid);
	if (rc)
		return rc < 0 ? -1 : 0;
	rc = go_proc_open(pid, &p, err, sizeof(err));
	if (!rc)
		rc = go_read_goroutines(&p, &gs, &n, err, sizeof(err));
	if (rc) {
		go_proc_close(&p);
		/* not a Go program, or a release rtmon does not know: the request's, not ours */
		return http_reply_text(rp, rc == -ENOEXEC || rc == -ENOTSUP ? 400 : status_of(rc),
				       err);
	}
	go_frame_cache_init(&cache, &p);
	if (debug == 0) {
		prof = go_goroutine_profile(&cache, gs, n);
		rc = prof ? reply_profile(rp, prof) : -1;
		profile_free(prof);
	} else if ((f = open_memstream(&text, &len))) {
		if (debug == 1)
			go_write_goroutine_counts(f, &cache, gs, n);
		else
			go_write_goroutines(f, &cache, gs, n);
		rc = fclose(f) ? -1 : 0;
		if (!rc) {
			free(rp->body);
			rp->body = text;
			rp->len = len;
			rp->status = 200;
			rp->content_type = NULL; /* text/plain; charset=utf-8, as Go's */
		} else {
			free(text);
		}
	} else {
		rc = -1;
	}
	go_frame_cache_free(&cache);
	free(gs);
	go_proc_close(&p);
	return rc;
}

/* Go's own handler takes gc=1 (a collection first: rtmon never changes the target), debug=N
 * (legacy text) and seconds=N (a delta profile): only the profile as it stands is given. */
int serve_pprof_heap(void *ctx, const struct http_request *rq, struct http_reply *rp)
{
	const struct serve_pprof *sp = ctx;
	const char *debug = http_query(rq, "debug");
	struct profile *prof;
	char why[600];
	pid_t pid;
	int rc;

	if (http_query(rq, "gc") || http_query(rq, "seconds"))
		return http_reply_text(
			rp, 400,
			"gc= and seconds= are not taken: rtmon reads the heap profile "
			"as it stands, and never runs the target's collector");
	if (debug && strcmp(debug, "0"))
		return http_reply_text(rp, 400, "bad debug: give 0 (a profile)");
	rc = choose_pid(sp, rq, rp, &pid);
	if (rc)
		return rc < 0 ? -1 : 0;
	rc = serve_board_heap_profile(sp->board, pid, &prof, why, sizeof(why));
	if (rc == -ENOENT)
		return reply_line(rp, 400, "no heap profile of PID %d: %s", (int)pid,
				  *why ? why : "it is not traced yet");
	if (rc)
		return -1;
	profile_set_default_value(prof, GH_INUSE_SPACE); /* as Go's own: inuse_space */
	rc = reply_profile(rp, prof);
	profile_free(prof);
	return rc;
}

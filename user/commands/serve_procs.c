#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <unistd.h>
#include "commands/serve_procs.h"
#include "output/escape.h"
#include "output/prom.h"

struct serve_proc {
	struct target own; /* a scanned process, opened as -p PID */
	struct target *t;  /* own, or the command's target */
	struct serve_collect c;
	char *labels;
	struct serve_snapshot last;
	bool attached; /* false: it could not be traced (said once); kept so it is not retried */
	bool seen;     /* listed by the last scan */
	dev_t dev;     /* a scanned process's executable when it was found */
	ino_t ino;
	struct serve_board *board; /* where its heap profile collector is offered */
};

/* Offers the process's heap profile to /debug/pprof/heap, or says why there is none. */
static void heap_offer(struct serve_proc *sp)
{
	serve_board_heap_set(sp->board, sp->t->pid, sp->c.heap, sp->c.heap ? NULL : sp->c.heap_why);
}

/* --binpath: only the file's processes are analysed at all */
static bool runs_the_file(void *ctx, const struct stat *exe)
{
	const struct serve_procs *p = ctx;

	return exe->st_dev == p->dev && exe->st_ino == p->ino;
}

int serve_procs_init(struct serve_procs *p, const struct common_opts *co, struct target *t,
		     struct serve_board *board, char *err, size_t errlen)
{
	struct stat st;

	memset(p, 0, sizeof(*p));
	p->co = co;
	p->t = t;
	p->board = board;
	p->scan = t->kind == TARGET_ALL || t->kind == TARGET_BINPATH;
	if (t->kind == TARGET_BINPATH) {
		if (stat(t->exe, &st)) {
			snprintf(err, errlen, "cannot read %s: %s", t->exe, strerror(errno));
			return -1;
		}
		p->dev = st.st_dev;
		p->ino = st.st_ino;
		p->ps.want = runs_the_file;
		p->ps.want_ctx = p;
	}
	return 0;
}

/* pid, exe (the file's own path, whether the target named it relatively or as /proc/PID/exe) and
 * runtime. */
static int make_labels(struct serve_proc *sp)
{
	char pid[16], exe[PATH_MAX];
	const char *kv[6];

	snprintf(pid, sizeof(pid), "%d", (int)sp->t->pid);
	if (!realpath(sp->t->exe, exe))
		snprintf(exe, sizeof(exe), "%s", sp->t->exe);
	kv[0] = "pid", kv[1] = pid, kv[2] = "exe", kv[3] = exe, kv[4] = "runtime",
	kv[5] = sp->c.runtime;
	sp->labels = prom_labels(kv, 3);
	return sp->labels ? 0 : -1;
}

static struct serve_proc *proc_new(struct serve_procs *p)
{
	struct serve_proc *sp;

	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		struct serve_proc **nv = realloc(p->v, cap * sizeof(*nv));

		if (!nv)
			return NULL;
		p->v = nv;
		p->cap = cap;
	}
	sp = calloc(1, sizeof(*sp));
	if (sp) {
		sp->board = p->board;
		p->v[p->n++] = sp;
	}
	return sp;
}

static void proc_free(struct serve_proc *sp)
{
	/* off the board first: an HTTP thread may be taking its profile */
	if (sp->t)
		serve_board_heap_set(sp->board, sp->t->pid, NULL, NULL);
	if (sp->attached || sp->c.lt.skel || sp->c.rt)
		serve_collect_close(&sp->c);
	if (sp->t == &sp->own)
		target_close(&sp->own, false);
	free(sp->labels);
	free(sp);
}

void serve_procs_prepare(struct serve_procs *p)
{
	struct serve_proc *sp;

	if (p->scan || !(sp = proc_new(p)))
		return;
	sp->t = p->t;
	serve_collect_init(&sp->c, p->co, sp->t, false);
}

/* A process found by a scan: opened by its PID and traced like -p. A failure is said once, unless
 * the process just went away. */
static void proc_attach_scanned(struct serve_procs *p, const struct ps_row *r)
{
	pid_t pid = r->pid;
	struct common_opts co = { .pid = pid };
	struct loop_ops ops = { 0 };
	struct serve_proc *sp = proc_new(p);
	char err[1024], safe[TEXT_SAFE_MAX];
	int rc;

	if (!sp)
		return;
	sp->t = &sp->own;
	sp->seen = true;
	sp->dev = r->ee->dev;
	sp->ino = r->ee->ino;
	rc = target_open(&sp->own, &co, err, sizeof(err));
	if (!rc) {
		serve_collect_init(&sp->c, p->co, sp->t, true);
		rc = serve_collect_attach(&sp->c, &ops, err, sizeof(err));
		if (!rc && make_labels(sp) == 0) {
			sp->attached = true;
			heap_offer(sp);
			serve_collect_read(&sp->c, &sp->last);
			return;
		}
		/* the collectors of a process that failed go now: only its PID is kept */
		serve_collect_close(&sp->c);
		memset(&sp->c, 0, sizeof(sp->c));
	}
	if (rc != -ENOENT && rc != -ESRCH && !target_exited(sp->t) && kill(pid, 0) == 0)
		fprintf(stderr, "rtmon serve: note: PID %d not traced: %s\n", (int)pid,
			text_safe(err, safe, sizeof(safe)));
}

static struct serve_proc *find(struct serve_procs *p, pid_t pid)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i]->t->pid == pid)
			return p->v[i];
	return NULL;
}

static bool wanted(const struct serve_procs *p, const struct ps_row *r)
{
	if (r->pid == getpid())
		return false;
	if (p->t->kind == TARGET_ALL)
		return ps_row_traced(r);
	return r->ee->dev == p->dev && r->ee->ino == p->ino;
}

void serve_procs_rescan(struct serve_procs *p)
{
	size_t keep = 0;

	if (!p->scan || ps_rescan(&p->ps))
		return;
	for (size_t i = 0; i < p->n; i++)
		p->v[i]->seen = false;
	for (size_t i = 0; i < p->ps.n; i++) {
		const struct ps_row *r = &p->ps.rows[i];
		struct serve_proc *sp;

		if (!wanted(p, r))
			continue;
		sp = find(p, r->pid);
		/* the same process running another executable (it called exec) is traced anew: its
		 * old collectors go now, its new ones come with the next scan */
		if (sp)
			sp->seen = sp->dev == r->ee->dev && sp->ino == r->ee->ino;
		else
			proc_attach_scanned(p, r);
	}
	/* gone from /proc, or a PID that now names another process: its series go */
	for (size_t i = 0; i < p->n; i++) {
		struct serve_proc *sp = p->v[i];

		if (!sp->seen || (sp->attached && target_exited(sp->t)))
			proc_free(sp);
		else
			p->v[keep++] = sp;
	}
	p->n = keep;
}

int serve_procs_attach(struct serve_procs *p, struct loop_ops *ops, char *err, size_t errlen)
{
	struct serve_proc *sp;

	if (p->scan) {
		serve_procs_rescan(p);
		serve_procs_publish(p);
		return 0;
	}
	if (!p->n) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -1;
	}
	sp = p->v[0];
	if (serve_collect_attach(&sp->c, ops, err, errlen))
		return -1;
	if (p->malloc_pct && serve_collect_malloc(&sp->c, p->malloc_pct, err, errlen))
		return -1;
	if (make_labels(sp)) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -1;
	}
	sp->attached = true;
	heap_offer(sp);
	serve_procs_publish(p);
	return 0;
}

void serve_procs_publish(struct serve_procs *p)
{
	struct serve_entry *v = calloc(p->n ? p->n : 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return;
	for (size_t i = 0; i < p->n; i++) {
		struct serve_proc *sp = p->v[i];

		if (!sp->attached)
			continue;
		/* the loop drains the one target's ring; a scanned process's is drained here */
		if (p->scan && sp->c.s.rb)
			ring_buffer__consume(sp->c.s.rb);
		serve_collect_heap_drain(&sp->c);
		serve_collect_read(&sp->c, &sp->last);
		v[n].labels = sp->labels;
		v[n].pid = sp->t->pid;
		v[n++].snap = sp->last;
	}
	serve_board_publish(p->board, v, n);
	free(v); /* the labels are the processes' own */
}

size_t serve_procs_count(const struct serve_procs *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		n += p->v[i]->attached;
	return n;
}

struct budget *serve_procs_budget(const struct serve_procs *p)
{
	return !p->scan && p->n ? p->v[0]->c.m.budget : NULL;
}

void serve_procs_close(struct serve_procs *p)
{
	for (size_t i = 0; i < p->n; i++)
		proc_free(p->v[i]);
	free(p->v);
	ps_free(&p->ps);
	memset(p, 0, sizeof(*p));
}

/* rtmon serve's collectors, run together on one target: GC cycles and pauses (the same backends as
 * rtmon gc, counted with struct gc_stats) and thread and goroutine lifetimes (the same BPF object
 * as rtmon lat). The event loop reads what they counted into a snapshot (serve_collect_read) and
 * publishes the snapshots of every traced process together (serve_board.h). */
#ifndef RTMON_SERVE_COLLECT_H
#define RTMON_SERVE_COLLECT_H

#include <stdbool.h>
#include "commands/malloc_run.h"
#include "stack/heap_profile.h"
#include "runtime/gc_backend.h"
#include "runtime/gc_stats.h"
#include "trace/lifetimes.h"
#include "trace/loop.h"

struct serve_snapshot {
	bool have_gc; /* a GC backend traces the target */
	bool have_go; /* goroutines are traced */
	struct gc_stats gc;
	uint64_t gc_lost, gc_hits;
	struct lifetime_hist threads;
	uint64_t tc[TC_COUNT];
	struct lifetime_hist goroutines;
	uint64_t grc[GRC_COUNT];
	/* --malloc-budget: estimated as the budget scales them (exact when sampled is 1) */
	bool have_malloc;
	bool malloc_fn[AF_COUNT]; /* the functions probed */
	struct malloc_stats malloc;
	uint64_t malloc_hits;  /* calls counted, not estimated */
	double malloc_sampled; /* the share of the target's work seen live, (0, 1] */
	bool malloc_uncertain; /* the budget's scale_uncertain */
	bool have_heap;        /* Go: the heap profile's collector runs */
	uint64_t heap_hits, heap_lost;
};

struct serve_collect {
	struct gc_out sink; /* first: the GC backend's records arrive here */
	struct gc_session s;
	const struct gc_runtime *rt; /* NULL: no GC collector */
	struct gc_stats gc;          /* the loop's own, published by copy */
	struct lifetimes lt;
	struct probe_links pl;
	char runtime[16]; /* the runtime label: "go", "python", "native", ... */
	/* --malloc-budget: rtmon malloc's collector under its duty cycle (m.budget) */
	struct malloc_args margs;
	struct malloc_run m;
	struct probe_links mpl;
	struct malloc_stats mbase, mest; /* counted at the last read; estimated since the start */
	/* Go: the heap profile of /debug/pprof/heap (rtmon heap's collector); NULL with heap_why */
	struct go_heap *heap;
	char heap_why[512];
};

/* Before attach: finds the GC backend (none is fine: unless quiet, a note on stderr says why when
 * the runtime was recognised but cannot be traced). */
void serve_collect_init(struct serve_collect *c, const struct common_opts *co, struct target *t,
			bool quiet);
/* Loads and attaches every collector; ops->rb gets the GC ring. 0, or -1 with one line in err.
 * A Go target's heap profile collector is attached too; when it cannot be (another runtime, a
 * release without the functions) heap_why says why, and the rest is served. */
int serve_collect_attach(struct serve_collect *c, struct loop_ops *ops, char *err, size_t errlen);
/* After attach: malloc under a budget of pct percent of the target's CPU (c->m.budget then runs
 * the duty cycle: the caller puts budget_tick on a loop timer). 0, or -1 with one line in err. */
int serve_collect_malloc(struct serve_collect *c, double pct, char *err, size_t errlen);
/* On the loop's thread: drains the heap profile's ring (its stacks are named now, while the process
 * runs). */
void serve_collect_heap_drain(struct serve_collect *c);
/* On the loop's thread: what the collectors counted so far. A failed read leaves *out as it was
 * (the last values: a counter never goes back). */
void serve_collect_read(struct serve_collect *c, struct serve_snapshot *out);
void serve_collect_close(struct serve_collect *c);

#endif

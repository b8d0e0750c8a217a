#include <stdlib.h>
#include "commands/serve_metrics.h"
#include "output/prom.h"
#include "proc/self_stats.h"

/* Histogram buckets exported: le up to 2^32 us (71 minutes); longer values are in +Inf only. */
#define NLE 32
#define US  1e-6
/* malloc's size buckets: le up to 2^40 bytes (1 TiB) */
#define NLE_BYTES 40

/* One family's samples for every process for which cond holds: body sees the process's snapshot
 * as n_ and a writer with its labels as w. */
#define FOR_EACH_PROC(w0, v, n, cond, body)                                                        \
	for (size_t i_ = 0; i_ < (n); i_++) {                                                      \
		const struct serve_snapshot *n_ = &(v)[i_].snap;                                   \
		struct prom_writer w_ = *(w0);                                                     \
		const struct prom_writer *w = &w_;                                                 \
		w_.labels = (v)[i_].labels;                                                        \
		if (cond)                                                                          \
			body;                                                                      \
	}

struct procs {
	const struct serve_entry *v;
	size_t n;
	bool any_gc, any_go, any_malloc;
};

static void write_gc(const struct prom_writer *w0, const struct procs *p)
{
	prom_family(w0, "rtmon_gc_cycles", PROM_COUNTER, NULL, "GC cycles begun in the target.");
	FOR_EACH_PROC(w0, p->v, p->n, n_->have_gc,
		      prom_counter(w, "rtmon_gc_cycles", NULL, n_->gc.cycles));
	prom_family(w0, "rtmon_gc_pause_seconds", PROM_HISTOGRAM, "seconds",
		    "GC pauses (stop-the-world phases of GC cycles) in the target.");
	FOR_EACH_PROC(w0, p->v, p->n, n_->have_gc,
		      prom_log2_histogram(w, "rtmon_gc_pause_seconds", n_->gc.slots, LOG2_SLOTS,
					  NLE, US, (double)n_->gc.pause_ns / 1e9));
}

static void write_threads(const struct prom_writer *w0, const struct procs *p)
{
	prom_family(w0, "rtmon_threads_created", PROM_COUNTER, NULL,
		    "Threads created in the target while traced.");
	FOR_EACH_PROC(w0, p->v, p->n, true,
		      prom_counter(w, "rtmon_threads_created", NULL, n_->tc[TC_CREATED]));
	prom_family(w0, "rtmon_threads_exited", PROM_COUNTER, NULL,
		    "Threads of the target that exited while traced, its main thread included.");
	FOR_EACH_PROC(w0, p->v, p->n, true,
		      prom_counter(w, "rtmon_threads_exited", NULL, n_->tc[TC_EXITED]));
	prom_family(w0, "rtmon_thread_lifetime_seconds", PROM_HISTOGRAM, "seconds",
		    "Lifetimes of the threads seen both created and exited.");
	FOR_EACH_PROC(w0, p->v, p->n, true,
		      prom_log2_histogram(w, "rtmon_thread_lifetime_seconds", n_->threads.slots,
					  LOG2_SLOTS, NLE, US, (double)n_->threads.sum_ns / 1e9));
}

static double goroutines_alive(const struct serve_snapshot *n)
{
	uint64_t known_exits = n->grc[GRC_EXITED] - n->grc[GRC_EXITED_UNTRACKED];

	return (double)(n->grc[GRC_CREATED] > known_exits ? n->grc[GRC_CREATED] - known_exits : 0);
}

static void write_goroutines(const struct prom_writer *w0, const struct procs *p)
{
	prom_family(w0, "rtmon_goroutines_created", PROM_COUNTER, NULL,
		    "Goroutines created in the target while traced.");
	FOR_EACH_PROC(w0, p->v, p->n, n_->have_go,
		      prom_counter(w, "rtmon_goroutines_created", NULL, n_->grc[GRC_CREATED]));
	prom_family(w0, "rtmon_goroutines_exited", PROM_COUNTER, NULL,
		    "Goroutines of the target that exited while traced.");
	FOR_EACH_PROC(w0, p->v, p->n, n_->have_go,
		      prom_counter(w, "rtmon_goroutines_exited", NULL, n_->grc[GRC_EXITED]));
	prom_family(w0, "rtmon_goroutines", PROM_GAUGE, NULL,
		    "Goroutines created while traced that have not exited yet.");
	FOR_EACH_PROC(w0, p->v, p->n, n_->have_go,
		      prom_gauge(w, "rtmon_goroutines", NULL, goroutines_alive(n_)));
	prom_family(w0, "rtmon_goroutine_lifetime_seconds", PROM_HISTOGRAM, "seconds",
		    "Lifetimes of the goroutines seen both created and exited.");
	FOR_EACH_PROC(w0, p->v, p->n, n_->have_go,
		      prom_log2_histogram(w, "rtmon_goroutine_lifetime_seconds",
					  n_->goroutines.slots, LOG2_SLOTS, NLE, US,
					  (double)n_->goroutines.sum_ns / 1e9));
}

static void write_malloc_calls(const struct prom_writer *w, const struct serve_snapshot *n)
{
	char fn[64];

	for (int f = 0; f < AF_COUNT; f++) {
		if (!n->malloc_fn[f])
			continue;
		snprintf(fn, sizeof(fn), "function=\"%s\"", malloc_fn_names[f]);
		prom_counter(w, "rtmon_malloc_calls", fn, n->malloc.calls[f]);
	}
}

/* --malloc-budget: estimates, as rtmon malloc --budget scales them; the sampled ratio says by how
 * much. */
static void write_malloc(const struct prom_writer *w0, const struct procs *p)
{
	prom_family(w0, "rtmon_malloc_size_bytes", PROM_HISTOGRAM, "bytes",
		    "Sizes requested by allocating calls (estimated when "
		    "rtmon_malloc_sampled_ratio < 1).");
	FOR_EACH_PROC(w0, p->v, p->n, n_->have_malloc,
		      prom_log2_histogram(w, "rtmon_malloc_size_bytes", n_->malloc.slots,
					  LOG2_SLOTS, NLE_BYTES, 1, (double)n_->malloc.bytes));
	prom_family(w0, "rtmon_malloc_calls", PROM_COUNTER, NULL,
		    "Calls of each allocation function probed (estimated when "
		    "rtmon_malloc_sampled_ratio < 1).");
	FOR_EACH_PROC(w0, p->v, p->n, n_->have_malloc, write_malloc_calls(w, n_));
	prom_family(w0, "rtmon_malloc_sampled_ratio", PROM_GAUGE, NULL,
		    "Share of the target's work seen with the malloc probes attached "
		    "(--malloc-budget's duty cycle); the rtmon_malloc_ families are scaled by its "
		    "inverse: 1 is exact.");
	FOR_EACH_PROC(w0, p->v, p->n, n_->have_malloc,
		      prom_gauge(w, "rtmon_malloc_sampled_ratio", NULL, n_->malloc_sampled));
	prom_family(w0, "rtmon_malloc_scale_uncertain", PROM_GAUGE, NULL,
		    "1 when the malloc probes took so much of the target's CPU while attached that "
		    "the scale of the estimates is uncertain (their distribution is not).");
	FOR_EACH_PROC(w0, p->v, p->n, n_->have_malloc,
		      prom_gauge(w, "rtmon_malloc_scale_uncertain", NULL, n_->malloc_uncertain));
}

/* What the kernel could not hand over or store, and how often the probes fired, per collector. */
static void write_health(const struct prom_writer *w0, const struct procs *p)
{
	prom_family(w0, "rtmon_lost_events", PROM_COUNTER, NULL,
		    "Events the kernel could not hand over or store (ring or map full), by "
		    "collector.");
	FOR_EACH_PROC(w0, p->v, p->n, true, {
		if (n_->have_gc)
			prom_counter(w, "rtmon_lost_events", "collector=\"gc\"", n_->gc_lost);
		prom_counter(w, "rtmon_lost_events", "collector=\"threads\"",
			     n_->tc[TC_LOST] + n_->tc[TC_TRACK_FULL] + n_->tc[TC_HIST_FULL]);
		if (n_->have_go)
			prom_counter(w, "rtmon_lost_events", "collector=\"goroutines\"",
				     n_->grc[GRC_LOST] + n_->grc[GRC_TRACK_FULL] +
					     n_->grc[GRC_HIST_FULL]);
		if (n_->have_heap)
			prom_counter(w, "rtmon_lost_events", "collector=\"heap\"", n_->heap_lost);
	});
	prom_family(w0, "rtmon_probe_hits", PROM_COUNTER, NULL,
		    "Times the collector's probes ran for the target, by collector.");
	FOR_EACH_PROC(w0, p->v, p->n, true, {
		if (n_->have_gc)
			prom_counter(w, "rtmon_probe_hits", "collector=\"gc\"", n_->gc_hits);
		prom_counter(w, "rtmon_probe_hits", "collector=\"threads\"",
			     n_->tc[TC_CREATED] + n_->tc[TC_EXITED]);
		if (n_->have_go)
			prom_counter(w, "rtmon_probe_hits", "collector=\"goroutines\"",
				     n_->grc[GRC_CREATED] + n_->grc[GRC_EXITED]);
		if (n_->have_malloc)
			prom_counter(w, "rtmon_probe_hits", "collector=\"malloc\"",
				     n_->malloc_hits);
		if (n_->have_heap)
			prom_counter(w, "rtmon_probe_hits", "collector=\"heap\"", n_->heap_hits);
	});
}

/* rtmon's own process, with the names Prometheus' client libraries use (no target labels). */
static void write_self(const struct prom_writer *w0)
{
	struct prom_writer w = *w0;
	struct self_stats st;

	if (self_stats_read(&st))
		return;
	w.labels = "";
	prom_family(&w, "process_cpu_seconds", PROM_COUNTER, "seconds",
		    "User and system CPU time rtmon spent.");
	prom_counter_f(&w, "process_cpu_seconds", NULL, st.cpu_seconds);
	prom_family(&w, "process_resident_memory_bytes", PROM_GAUGE, "bytes",
		    "rtmon's resident memory size.");
	prom_gauge(&w, "process_resident_memory_bytes", NULL, (double)st.resident_bytes);
	prom_family(&w, "process_virtual_memory_bytes", PROM_GAUGE, "bytes",
		    "rtmon's virtual memory size.");
	prom_gauge(&w, "process_virtual_memory_bytes", NULL, (double)st.virtual_bytes);
	prom_family(&w, "process_start_time_seconds", PROM_GAUGE, "seconds",
		    "When rtmon started, in seconds since the epoch.");
	prom_gauge(&w, "process_start_time_seconds", NULL, st.start_time_seconds);
	prom_family(&w, "process_open_fds", PROM_GAUGE, NULL, "rtmon's open file descriptors.");
	prom_gauge(&w, "process_open_fds", NULL, (double)st.open_fds);
	prom_family(&w, "process_max_fds", PROM_GAUGE, NULL,
		    "rtmon's limit of open file descriptors.");
	prom_gauge(&w, "process_max_fds", NULL, (double)st.max_fds);
}

int serve_metrics_handler(void *ctx, const struct http_request *rq, struct http_reply *rp)
{
	struct serve_metrics *m = ctx;
	struct serve_entry *v;
	struct procs p = { 0 };
	struct prom_writer w;
	size_t n;
	FILE *f;

	if (serve_board_read(m->board, &v, &n))
		return -1;
	p.v = v, p.n = n;
	for (size_t i = 0; i < n; i++) {
		p.any_gc |= v[i].snap.have_gc;
		p.any_go |= v[i].snap.have_go;
		p.any_malloc |= v[i].snap.have_malloc;
	}
	w.fmt = prom_format_for_accept(http_header(rq, "Accept"));
	w.labels = "";
	f = open_memstream(&rp->body, &rp->len);
	if (!f) {
		serve_entries_free(v, n);
		return -1;
	}
	w.out = f;
	if (p.any_gc)
		write_gc(&w, &p);
	write_threads(&w, &p);
	if (p.any_go)
		write_goroutines(&w, &p);
	if (p.any_malloc)
		write_malloc(&w, &p);
	write_health(&w, &p);
	write_self(&w);
	prom_finish(&w);
	serve_entries_free(v, n);
	if (fclose(f)) {
		free(rp->body);
		rp->body = NULL;
		return -1;
	}
	rp->content_type = prom_content_type(w.fmt);
	return 0;
}

#include <stdlib.h>
#include "commands/serve_metrics.h"
#include "output/prom.h"
#include "proc/self_stats.h"

/* Histogram buckets exported: le up to 2^32 us (71 minutes); longer values are in +Inf only. */
#define NLE 32
#define US  1e-6

/* One family's samples for every process that has it: E is each entry, W a writer with its
 * labels. */
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
	bool any_gc, any_go;
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

#include <stdlib.h>
#include "commands/serve_metrics.h"
#include "output/prom.h"
#include "proc/self_stats.h"

/* Histogram buckets exported: le up to 2^32 us (71 minutes); longer values are in +Inf only. */
#define NLE 32
#define US  1e-6

static void write_gc(const struct prom_writer *w, const struct serve_snapshot *n)
{
	prom_family(w, "rtmon_gc_cycles", PROM_COUNTER, NULL, "GC cycles begun in the target.");
	prom_counter(w, "rtmon_gc_cycles", NULL, n->gc.cycles);
	prom_family(w, "rtmon_gc_pause_seconds", PROM_HISTOGRAM, "seconds",
		    "GC pauses (stop-the-world phases of GC cycles) in the target.");
	prom_log2_histogram(w, "rtmon_gc_pause_seconds", n->gc.slots, LOG2_SLOTS, NLE, US,
			    (double)n->gc.pause_ns / 1e9);
}

static void write_threads(const struct prom_writer *w, const struct serve_snapshot *n)
{
	prom_family(w, "rtmon_threads_created", PROM_COUNTER, NULL,
		    "Threads created in the target while traced.");
	prom_counter(w, "rtmon_threads_created", NULL, n->tc[TC_CREATED]);
	prom_family(w, "rtmon_threads_exited", PROM_COUNTER, NULL,
		    "Threads of the target that exited while traced, its main thread included.");
	prom_counter(w, "rtmon_threads_exited", NULL, n->tc[TC_EXITED]);
	prom_family(w, "rtmon_thread_lifetime_seconds", PROM_HISTOGRAM, "seconds",
		    "Lifetimes of the threads seen both created and exited.");
	prom_log2_histogram(w, "rtmon_thread_lifetime_seconds", n->threads.slots, LOG2_SLOTS, NLE,
			    US, (double)n->threads.sum_ns / 1e9);
}

static void write_goroutines(const struct prom_writer *w, const struct serve_snapshot *n)
{
	uint64_t known_exits = n->grc[GRC_EXITED] - n->grc[GRC_EXITED_UNTRACKED];

	prom_family(w, "rtmon_goroutines_created", PROM_COUNTER, NULL,
		    "Goroutines created in the target while traced.");
	prom_counter(w, "rtmon_goroutines_created", NULL, n->grc[GRC_CREATED]);
	prom_family(w, "rtmon_goroutines_exited", PROM_COUNTER, NULL,
		    "Goroutines of the target that exited while traced.");
	prom_counter(w, "rtmon_goroutines_exited", NULL, n->grc[GRC_EXITED]);
	prom_family(w, "rtmon_goroutines", PROM_GAUGE, NULL,
		    "Goroutines created while traced that have not exited yet.");
	prom_gauge(w, "rtmon_goroutines", NULL,
		   (double)(n->grc[GRC_CREATED] > known_exits ? n->grc[GRC_CREATED] - known_exits
							      : 0));
	prom_family(w, "rtmon_goroutine_lifetime_seconds", PROM_HISTOGRAM, "seconds",
		    "Lifetimes of the goroutines seen both created and exited.");
	prom_log2_histogram(w, "rtmon_goroutine_lifetime_seconds", n->goroutines.slots, LOG2_SLOTS,
			    NLE, US, (double)n->goroutines.sum_ns / 1e9);
}

/* What the kernel could not hand over or store, and how often the probes fired, per collector. */
static void write_health(const struct prom_writer *w, const struct serve_snapshot *n)
{
	prom_family(w, "rtmon_lost_events", PROM_COUNTER, NULL,
		    "Events the kernel could not hand over or store (ring or map full), by "
		    "collector.");
	if (n->have_gc)
		prom_counter(w, "rtmon_lost_events", "collector=\"gc\"", n->gc_lost);
	prom_counter(w, "rtmon_lost_events", "collector=\"threads\"",
		     n->tc[TC_LOST] + n->tc[TC_TRACK_FULL] + n->tc[TC_HIST_FULL]);
	if (n->have_go)
		prom_counter(w, "rtmon_lost_events", "collector=\"goroutines\"",
			     n->grc[GRC_LOST] + n->grc[GRC_TRACK_FULL] + n->grc[GRC_HIST_FULL]);
	prom_family(w, "rtmon_probe_hits", PROM_COUNTER, NULL,
		    "Times the collector's probes ran for the target, by collector.");
	if (n->have_gc)
		prom_counter(w, "rtmon_probe_hits", "collector=\"gc\"", n->gc_hits);
	prom_counter(w, "rtmon_probe_hits", "collector=\"threads\"",
		     n->tc[TC_CREATED] + n->tc[TC_EXITED]);
	if (n->have_go)
		prom_counter(w, "rtmon_probe_hits", "collector=\"goroutines\"",
			     n->grc[GRC_CREATED] + n->grc[GRC_EXITED]);
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
	struct serve_snapshot n;
	struct prom_writer w;
	FILE *f;

	serve_collect_read(m->c, &n);
	w.fmt = prom_format_for_accept(http_header(rq, "Accept"));
	w.labels = m->labels;
	f = open_memstream(&rp->body, &rp->len);
	if (!f)
		return -1;
	w.out = f;
	if (n.have_gc)
		write_gc(&w, &n);
	write_threads(&w, &n);
	if (n.have_go)
		write_goroutines(&w, &n);
	write_health(&w, &n);
	write_self(&w);
	prom_finish(&w);
	if (fclose(f)) {
		free(rp->body);
		rp->body = NULL;
		return -1;
	}
	rp->content_type = prom_content_type(w.fmt);
	return 0;
}

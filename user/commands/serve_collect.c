#include <stdio.h>
#include <string.h>
#include "commands/serve_collect.h"
#include "runtime/gc_detect.h"
#include "runtime/go/goelf.h"

/* The heap profile's record ring for each Go process served: 0, rtmon heap's 16 MiB. A 1 MiB ring
 * (about 850 sampled allocations between the loop's 10 ms drains) cut the load test's RSS from 82
 * to 21 MiB, but a program at MemProfileRate=1 then lost records in bursts under the sanitizers
 * (test_serve_pprof's 3,000 allocations: 2,872 seen). Sizing it by the target's own rate is the
 * fix still to make; until then the ring that loses nothing. Losses are counted either way
 * (rtmon_lost_events_total, collector "heap"). */
#define SERVE_HEAP_RING_BYTES 0

static void on_gc_record(struct gc_out *sink, const struct gc_record *r)
{
	struct serve_collect *c = (struct serve_collect *)sink;

	gc_stats_add(&c->gc, r);
}

void serve_collect_init(struct serve_collect *c, const struct common_opts *co, struct target *t,
			bool quiet)
{
	char err[1024];

	memset(c, 0, sizeof(*c));
	c->sink.record = on_gc_record;
	c->s = (struct gc_session){ .co = co, .t = t, .out = &c->sink };
	c->margs.co = *co;
	if (gc_detect(&c->s, &c->rt, err, sizeof(err)) < 0) {
		target_explain_attach_error(t, err, sizeof(err));
		if (!quiet)
			fprintf(stderr, "rtmon serve: note: no GC metrics: %s\n", err);
		c->rt = NULL;
	}
	snprintf(c->runtime, sizeof(c->runtime), "%s",
		 c->rt ? c->rt->name : runtime_kind_name(c->s.id.kind));
}

/* The heap profile costs a trap per sampled allocation: always on for Go. */
static void attach_heap(struct serve_collect *c)
{
	if (!go_heap_open(&c->heap, c->s.t, "serve", SERVE_HEAP_RING_BYTES, c->heap_why,
			  sizeof(c->heap_why))) {
		go_heap_started(c->heap);
		return;
	}
	go_heap_close(c->heap);
	c->heap = NULL;
}

int serve_collect_attach(struct serve_collect *c, struct loop_ops *ops, char *err, size_t errlen)
{
	if (c->rt && c->rt->open(&c->s, err, errlen))
		return -1;
	ops->rb = c->s.rb;
	if (lifetimes_open(&c->lt, "serve", c->s.t, false, &c->pl, err, errlen))
		return -1;
	attach_heap(c);
	/* the loop drains the heap records with the GC's (scanned processes: serve_procs_publish)
	 */
	if (c->heap && !ops->rb)
		ops->rb = go_heap_ring(c->heap);
	else if (c->heap && go_heap_ring_add(c->heap, ops->rb))
		fprintf(stderr,
			"rtmon serve: note: the heap records are drained every 100 ms only\n");
	return 0;
}

void serve_collect_heap_drain(struct serve_collect *c)
{
	if (c->heap)
		ring_buffer__consume(go_heap_ring(c->heap));
}

int serve_collect_malloc(struct serve_collect *c, double pct, char *err, size_t errlen)
{
	c->margs.budget = pct;
	c->m.args = &c->margs;
	c->m.t = c->s.t;
	c->m.pl = &c->mpl;
	/* Go programs are recognised by their build info: runtime.mallocgc */
	c->m.go = go_read_buildinfo(c->s.t->exe, &c->m.gi, NULL, 0) == 0;
	return malloc_collect_open(&c->m, "serve", err, errlen);
}

/* What the allocation probes counted since the last read, scaled by the budget's span, added to
 * the estimates: a counter that only grows, however the scale changes. */
static void read_malloc(struct serve_collect *c, struct serve_snapshot *n)
{
	struct malloc_stats cur, delta;
	struct budget_span sp;

	if (!malloc_read_stats(&c->m, &cur)) {
		delta = cur;
		malloc_stats_subtract(&delta, &c->mbase);
		budget_take_span(c->m.budget, &sp);
		malloc_stats_estimate(&delta, &cur, &sp);
		malloc_stats_add(&c->mest, &delta);
		c->mbase = cur;
	}
	budget_run_span(c->m.budget, &sp);
	n->have_malloc = true;
	n->malloc = c->mest;
	n->malloc_sampled = sp.estimated ? sp.sampled_fraction : 1;
	n->malloc_uncertain = sp.scale_uncertain;
	for (int f = 0; f < AF_COUNT; f++)
		n->malloc_hits += c->mbase.calls[f];
	for (int i = 0; i < c->m.nsites; i++)
		n->malloc_fn[AF_OF_COOKIE(c->m.sites[i].cookie)] = true;
}

void serve_collect_read(struct serve_collect *c, struct serve_snapshot *out)
{
	struct serve_snapshot n = { .have_gc = c->rt != NULL, .have_go = c->lt.gr.active };

	if (c->rt)
		c->rt->counters(&c->s, &n.gc_lost, &n.gc_hits);
	n.gc = c->gc;
	if (c->m.budget)
		read_malloc(c, &n);
	if (c->heap) {
		struct go_heap_counts hc;

		go_heap_get_counts(c->heap, &hc);
		n.have_heap = true;
		n.heap_hits = hc.hits;
		n.heap_lost = hc.lost;
	}
	/* a failed read keeps the last values: a counter never goes back */
	if (!c->lt.skel || lifetimes_read(&c->lt, &n.threads, n.tc, &n.goroutines, n.grc))
		return;
	*out = n;
}

void serve_collect_close(struct serve_collect *c)
{
	probe_links_destroy(&c->pl);
	if (c->m.pl)
		malloc_collect_close(&c->m);
	if (c->rt)
		c->rt->close(&c->s);
	lifetimes_close(&c->lt);
	go_heap_close(c->heap);
	c->heap = NULL;
}

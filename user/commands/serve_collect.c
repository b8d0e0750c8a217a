#include <stdio.h>
#include <string.h>
#include "commands/serve_collect.h"
#include "runtime/gc_detect.h"

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
	if (gc_detect(&c->s, &c->rt, err, sizeof(err)) < 0) {
		target_explain_attach_error(t, err, sizeof(err));
		if (!quiet)
			fprintf(stderr, "rtmon serve: note: no GC metrics: %s\n", err);
		c->rt = NULL;
	}
	snprintf(c->runtime, sizeof(c->runtime), "%s",
		 c->rt ? c->rt->name : runtime_kind_name(c->s.id.kind));
}

int serve_collect_attach(struct serve_collect *c, struct loop_ops *ops, char *err, size_t errlen)
{
	if (c->rt && c->rt->open(&c->s, err, errlen))
		return -1;
	ops->rb = c->s.rb;
	return lifetimes_open(&c->lt, "serve", c->s.t, false, &c->pl, err, errlen);
}

void serve_collect_read(struct serve_collect *c, struct serve_snapshot *out)
{
	struct serve_snapshot n = { .have_gc = c->rt != NULL, .have_go = c->lt.gr.active };

	if (c->rt)
		c->rt->counters(&c->s, &n.gc_lost, &n.gc_hits);
	n.gc = c->gc;
	/* a failed read keeps the last values: a counter never goes back */
	if (!c->lt.skel || lifetimes_read(&c->lt, &n.threads, n.tc, &n.goroutines, n.grc))
		return;
	*out = n;
}

void serve_collect_close(struct serve_collect *c)
{
	probe_links_destroy(&c->pl);
	if (c->rt)
		c->rt->close(&c->s);
	lifetimes_close(&c->lt);
}

/* goroutine_alive.c - rtmon thr -p on a Go program: the goroutines already alive when rtmon
 * attached, read once from the process with rtmon stack's reader (goroutines.c: read-only, the
 * process never stops), so that the rows and the alive count include them and not only the
 * goroutines created after attach. See goroutine.h and docs/thr.md. */
#include <stdlib.h>
#include <string.h>

#include "output/target_report.h"
#include "runtime/go/goinspect.h"
#include "runtime/go/goroutine.h"

static int cmp_goid(const void *a, const void *b)
{
	const struct gr_alive *x = a, *y = b;

	return x->goid < y->goid ? -1 : x->goid > y->goid;
}

void gr_read_alive(struct gr_run *g, const struct target *t, uint64_t t_ns)
{
	struct go_goroutine *gs = NULL;
	struct go_proc p;
	size_t n = 0;
	char err[1024];

	if (!g->active || t->kind != TARGET_PID)
		return;
	if (go_proc_open(t->pid, &p, err, sizeof(err))) {
		report_error("rtmon thr",
			     "warning: the goroutines alive at attach are not listed: %s", err);
		return;
	}
	if (go_read_goroutines(&p, &gs, &n, err, sizeof(err)) ||
	    !(g->alive = calloc(n ? n : 1, sizeof(*g->alive)))) {
		report_error("rtmon thr",
			     "warning: the goroutines alive at attach are not listed: %s",
			     gs ? "out of memory" : err);
		free(gs);
		go_proc_close(&p);
		return;
	}
	for (size_t i = 0; i < n; i++)
		g->alive[i] = (struct gr_alive){
			.goid = gs[i].goid,
			.parent_goid = gs[i].parent_goid,
			.start_pc = gs[i].startpc - p.bias,
			.flags = (gs[i].system ? GR_F_SYSTEM : 0) |
				 (p.lay.off[GF_G_PARENTGOID] >= 0 ? GR_F_PARENT : 0),
		};
	free(gs);
	go_proc_close(&p);
	g->nalive = n;
	g->listed = true;
	g->alive_pid = t->pid;
	g->alive_ns = t_ns;
	qsort(g->alive, n, sizeof(*g->alive), cmp_goid);
}

void gr_print_alive(struct gr_run *g, bool json, uint64_t t0_ns)
{
	for (size_t i = 0; g->listed && i < g->nalive; i++) {
		const struct gr_alive *a = &g->alive[i];
		struct gr_event e = { .ts_ns = g->alive_ns,
				      .goid = a->goid,
				      .parent_goid = a->parent_goid,
				      .start_pc = a->start_pc,
				      .pid = (__u32)g->alive_pid,
				      .kind = GR_EV_ALIVE,
				      .flags = (__u8)(GR_F_BEFORE | a->flags) };

		gr_print_event(g, &e, json, t0_ns);
	}
}

void gr_alive_event(struct gr_run *g, struct gr_event *e)
{
	struct gr_alive key = { .goid = e->goid }, *a;

	if (!g->listed || e->kind == GR_EV_ALIVE)
		return;
	a = bsearch(&key, g->alive, g->nalive, sizeof(*g->alive), cmp_goid);
	if (!a || a->gone)
		return;
	/* Created while rtmon attached, after its probes were live: its create was seen, so the
	 * kernel side follows it and counts it; not counted here again. */
	a->gone = true;
	g->alive_gone++;
	if (e->kind != GR_EV_EXIT || (e->flags & GR_F_KNOWN))
		return;
	e->flags |= GR_F_BEFORE | a->flags;
	e->start_pc = a->start_pc;
	e->parent_goid = a->parent_goid;
}

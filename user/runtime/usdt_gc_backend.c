/* rtmon gc: the part the USDT backends share (user/runtime/usdt_gc_backend.h): load
 * bpf/usdt_gc.bpf.c with the programs one runtime needs, attach them with libbpf's USDT support (or
 * as function probes, trace/probe.c), read the counters. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "usdt_gc.skel.h"
#include "trace/skel_open.h"
#include "runtime/usdt_gc_backend.h"
#include "trace/probe.h"

static bool wanted(const struct gu_probe *probes, int n, const char *prog)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(probes[i].prog, prog))
			return true;
	return false;
}

static int load(struct gu_state *g, struct gc_session *s, const struct gu_probe *probes, int n,
		char *err, size_t errlen)
{
	struct bpf_program *prog;
	int rc;

	g->skel = SKEL_OPEN(usdt_gc, s->t, "gc", err, errlen);
	if (!g->skel)
		return -errno;
	/* The other runtime's programs are not loaded: less verifier work, quicker attach. */
	bpf_object__for_each_program(prog, g->skel->obj)
		bpf_program__set_autoload(prog, wanted(probes, n, bpf_program__name(prog)));
	for (int i = 0; i < n; i++) {
		prog = bpf_object__find_program_by_name(g->skel->obj, probes[i].prog);
		if (prog && probes[i].kind != GU_USDT)
			probe_prepare_sites_prog(prog);
	}
	rc = usdt_gc_bpf__load(g->skel);
	if (rc)
		probe_load_error("gc", rc, err, errlen);
	return rc;
}

static int attach(struct gu_state *g, struct gc_session *s, const char *provider,
		  const struct gu_probe *p, char *err, size_t errlen)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(g->skel->obj, p->prog);
	pid_t pid = target_probe_pid(s->t);
	struct bpf_link *link;
	int rc;

	if (!prog || g->nlinks >= GU_MAX_LINKS) {
		snprintf(err, errlen, "internal error: no program %s for %s:%s", p->prog, provider,
			 p->name);
		return -EINVAL;
	}
	if (p->kind != GU_USDT) {
		struct probe_site site = { .offset = p->offset };

		return (p->kind == GU_RETURN ? probe_attach_return_sites : probe_attach_sites)(
			&g->pl, prog, pid, s->id.lib, &site, 1, p->name, err, errlen);
	}
	link = bpf_program__attach_usdt(prog, pid, s->id.lib, provider, p->name, NULL);
	rc = link ? 0 : -errno;
	if (rc) {
		snprintf(err, errlen, "cannot attach to the USDT probe %s:%s in %s: %s", provider,
			 p->name, s->id.lib, strerror(-rc));
		return rc;
	}
	g->links[g->nlinks++] = link;
	return 0;
}

int gu_open(struct gc_session *s, const char *provider, const struct gu_probe *probes, int n,
	    ring_buffer_sample_fn on_event, char *err, size_t errlen)
{
	struct gu_state *g = calloc(1, sizeof(*g));
	int rc;

	if (!g) {
		snprintf(err, errlen, "out of memory: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	s->priv = g;
	/* Function probes: NULL, the summary names the kind of uprobe (probe_sites_kind). */
	s->probe_kind = n && probes[0].kind == GU_USDT ? "usdt" : NULL;
	rc = load(g, s, probes, n, err, errlen);
	for (int i = 0; !rc && i < n; i++)
		rc = attach(g, s, provider, &probes[i], err, errlen);
	if (rc)
		return rc;
	return gc_session_ring(s, g->skel->maps.events, on_event, err, errlen);
}

static int read_counters(struct gc_session *s, uint64_t sums[GU_NCOUNTERS])
{
	struct gu_state *g = s->priv;

	memset(sums, 0, sizeof(uint64_t) * GU_NCOUNTERS);
	if (!g || !g->skel)
		return -ENOENT;
	return probe_sum_percpu_counters(g->skel->maps.counters, GU_NCOUNTERS, sums);
}

void gu_counters(struct gc_session *s, uint64_t *lost, uint64_t *hits)
{
	uint64_t sums[GU_NCOUNTERS];

	read_counters(s, sums);
	*lost = sums[GU_LOST];
	*hits = sums[GU_HITS];
}

uint64_t gu_counter(struct gc_session *s, enum gu_counter c)
{
	uint64_t sums[GU_NCOUNTERS];

	read_counters(s, sums);
	return sums[c];
}

void gu_close(struct gc_session *s)
{
	struct gu_state *g = s->priv;

	ring_buffer__free(s->rb);
	s->rb = NULL;
	if (!g)
		return;
	for (int i = 0; i < g->nlinks; i++)
		bpf_link__destroy(g->links[i]);
	probe_links_destroy(&g->pl);
	usdt_gc_bpf__destroy(g->skel);
	free(g);
	s->priv = NULL;
}

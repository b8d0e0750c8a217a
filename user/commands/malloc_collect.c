/* The allocation collector of rtmon malloc, which rtmon serve --malloc-budget runs too: the BPF
 * object, the probe sites, --budget's duty cycle, and reading and scaling the counters. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "commands/malloc_run.h"
#include "runtime/go/goinspect.h"
#include "alloc.skel.h"
#include "trace/skel_open.h"

int malloc_read_group(const struct malloc_run *r, int group, struct malloc_stats *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	struct malloc_stats *percpu;
	__u64 *out = (__u64 *)sum;
	__u32 key = (__u32)group;
	int rc;

	memset(sum, 0, sizeof(*sum));
	if (ncpu < 0)
		return ncpu;
	percpu = calloc((size_t)ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	rc = bpf_map_lookup_elem(bpf_map__fd(r->skel->maps.stats), &key, percpu);
	if (rc) {
		rc = -errno;
		free(percpu);
		return rc;
	}
	for (int c = 0; c < ncpu; c++) {
		const __u64 *w = (const __u64 *)&percpu[c];

		for (size_t i = 0; i < STATS_WORDS; i++) {
			if (!stats_word_is_extreme(i))
				out[i] += w[i];
			else if (w[i] > out[i])
				out[i] = w[i];
		}
	}
	free(percpu);
	return 0;
}

int malloc_read_stats(const struct malloc_run *r, struct malloc_stats *sum)
{
	return malloc_read_group(r, ALLOC_GROUP_MAIN, sum);
}

void malloc_stats_subtract(struct malloc_stats *a, const struct malloc_stats *b)
{
	__u64 *x = (__u64 *)a;
	const __u64 *y = (const __u64 *)b;

	for (size_t i = 0; i < STATS_WORDS; i++)
		if (!stats_word_is_extreme(i))
			x[i] -= y[i];
}

void malloc_stats_add(struct malloc_stats *a, const struct malloc_stats *b)
{
	__u64 *x = (__u64 *)a;
	const __u64 *y = (const __u64 *)b;

	for (size_t i = 0; i < STATS_WORDS; i++) {
		if (!stats_word_is_extreme(i))
			x[i] += y[i];
		else if (y[i] > x[i])
			x[i] = y[i];
	}
}

static bool stats_word_is_bytes(size_t i)
{
	return i == offsetof(struct malloc_stats, bytes) / sizeof(__u64) ||
	       i == offsetof(struct malloc_stats, go_large_bytes) / sizeof(__u64);
}

/* --budget: counted * own_scale + run_total * run_scale, rounded (budget.h); bytes by the byte
 * scales. */
void malloc_stats_estimate(struct malloc_stats *delta, const struct malloc_stats *run_total,
			   const struct budget_span *sp)
{
	__u64 *x = (__u64 *)delta;
	const __u64 *run = (const __u64 *)run_total;

	for (size_t i = 0; i < STATS_WORDS; i++) {
		bool b = stats_word_is_bytes(i);

		if (!stats_word_is_extreme(i))
			x[i] = (__u64)llround(
				(double)x[i] * (b ? sp->own_scale_bytes : sp->own_scale) +
				(double)run[i] * (b ? sp->run_scale_bytes : sp->run_scale));
	}
}

/* budget_hooks.runtime_counts: Go's MemStats.Mallocs and TotalAlloc, read from the target. */
static int runtime_counts(void *ctx, double *count, double *bytes)
{
	struct malloc_run *r = ctx;
	uint64_t n, nb;
	int rc;

	if (!r->gar)
		return -ENOENT; /* not open yet (-- CMD before its exec), or not readable */
	if ((rc = go_alloc_read(r->gar, &n, &nb)))
		return rc;
	*count = (double)n;
	*bytes = (double)nb;
	return 0;
}

/* budget_hooks.seen: the allocations counted so far, and their bytes as TotalAlloc counts them:
 * small ones by their size class; large ones as requested (the runtime rounds them up to its 8 KiB
 * pages, less than 1/4 more). */
static int seen_count(void *ctx, double *count, double *bytes)
{
	struct malloc_stats s;
	int rc = malloc_read_stats(ctx, &s);

	if (rc)
		return rc;
	*count = (double)s.count;
	*bytes = (double)s.go_large_bytes;
	for (int c = 0; c < GO_NUM_SIZE_CLASSES; c++)
		*bytes += (double)s.go_classes[c] * go_class_size[c];
	return 0;
}

void malloc_collect_runtime_open(struct malloc_run *r)
{
	char err[512];

	if (!r->budget || !r->go || r->gar || r->t->kind == TARGET_BINPATH)
		return;
	if (!(r->gp = calloc(1, sizeof(*r->gp)))) {
		snprintf(err, sizeof(err), "out of memory");
	} else if (go_proc_open(r->t->pid, r->gp, err, sizeof(err))) {
		free(r->gp);
		r->gp = NULL;
	} else if (go_alloc_reader_open(r->gp, &r->gar, err, sizeof(err))) {
		go_proc_close(r->gp);
		free(r->gp);
		r->gp = NULL;
	} else {
		return;
	}
	if (r->args->co.verbose)
		fprintf(stderr,
			"rtmon: budget: the runtime's allocation count cannot be read (%s): the "
			"sampled fraction is measured by the target's CPU time\n",
			err);
}

/* budget_hooks.cost_ns: what the calls counted so far cost the target, by the kind of site hit. */
static int hits_cost_ns(void *ctx, double *ns)
{
	struct malloc_run *r = ctx;
	struct malloc_stats s;

	*ns = 0;
	for (int g = ALLOC_GROUP_MAIN; g < ALLOC_GROUP_COUNT; g++) {
		int rc = g == ALLOC_GROUP_CALIBRATE ? 0 : malloc_read_group(r, g, &s);

		if (rc)
			return rc;
		for (int f = 0; g != ALLOC_GROUP_CALIBRATE && f < AF_COUNT; f++)
			*ns += (double)s.calls[f] * r->hit_ns[f];
	}
	return 0;
}

/* --budget: what a hit costs on this machine, then the probes (live first), then the controller. */
static int start_budget(struct malloc_run *r, const struct budget_hooks *hooks, char *err,
			size_t errlen)
{
	bool any_stepped = false;
	int rc;

	for (int i = 0; i < r->nsites; i++)
		any_stepped |= !r->site_emulated[AF_OF_COOKIE(r->sites[i].cookie)];
	for (int i = 0; i < r->nobj_sites; i++)
		any_stepped |= !r->site_emulated[AF_OF_COOKIE(r->obj_sites[i].cookie)];
	rc = budget_calibrate(r->skel->progs.on_alloc_call,
			      (r->go ? AF_MALLOCGC : AF_MALLOC) | AF_CALIBRATE, any_stepped,
			      &r->costs, err, errlen);
	if (rc)
		return rc;
	for (int f = 0; f < AF_COUNT; f++)
		r->hit_ns[f] = r->site_emulated[f] ? r->costs.emulated_ns : r->costs.stepped_ns;
	rc = malloc_attach_sites(r, err, errlen);
	if (rc)
		return rc;
	return budget_new(&r->budget, r->args->budget, r->t, hooks, r->args->co.verbose, err,
			  errlen);
}

int malloc_collect_open(struct malloc_run *r, const char *cmd, char *err, size_t errlen)
{
	struct budget_hooks hooks = { .ctx = r,
				      .attach = malloc_attach_sites,
				      .detach = malloc_detach_sites,
				      .cost_ns = hits_cost_ns,
				      .runtime_counts = runtime_counts,
				      .seen = seen_count };
	int rc;

	r->skel = SKEL_OPEN(alloc, r->t, cmd, err, errlen);
	if (!r->skel)
		return -1;
	probe_prepare_sites_prog(r->skel->progs.on_alloc_call);
	probe_prepare_sites_prog(r->skel->progs.on_alloc_return);
	r->skel->rodata->track_live = r->args->live;
	r->skel->rodata->track_stacks = r->args->stacks;
	r->skel->rodata->stack_copy = r->stack_copy;
	if (!r->args->stacks || r->stack_copy) {
		bpf_map__set_max_entries(r->skel->maps.stack_walks, 1);
		bpf_map__set_max_entries(r->skel->maps.stack_counts, 1);
	}
	if (!r->stack_copy) /* new stacks only, 16 bytes each */
		bpf_map__set_max_entries(r->skel->maps.stack_recs,
					 r->args->stacks ? 1 << 20 : 4096);
	if (!r->args->live) { /* the tables cost nothing then (they allocate on insert), but keep
				 them small */
		bpf_map__set_max_entries(r->skel->maps.live_blocks, 1);
		bpf_map__set_max_entries(r->skel->maps.live_calls, 1);
	}
	/* Before the load: a Go build's experiment decides what mallocgc counts (rodata), the sites
	 * whether frames of forwarding calls are kept. */
	if (malloc_find_sites(r, err, errlen))
		return -1;
	if (!r->has_forwarders)
		bpf_map__set_max_entries(r->skel->maps.fwd_frames, 1);
	r->skel->rodata->go_specialized = r->go_specialized;
	r->skel->rodata->realloc_forwards = r->realloc_forwards;
	r->skel->rodata->has_forwarders = r->has_forwarders;
	rc = alloc_bpf__load(r->skel);
	if (rc) {
		probe_load_error(cmd, rc, err, errlen);
		return -1;
	}
	if (r->args->budget) {
		if (start_budget(r, &hooks, err, errlen))
			return -1;
		if (r->t->kind == TARGET_PID)
			malloc_collect_runtime_open(r);
		return 0;
	}
	return malloc_attach_sites(r, err, errlen) ? -1 : 0;
}

void malloc_collect_close(struct malloc_run *r)
{
	probe_links_destroy(r->pl);
	budget_free(r->budget);
	r->budget = NULL;
	go_alloc_reader_close(r->gar);
	r->gar = NULL;
	if (r->gp) {
		go_proc_close(r->gp);
		free(r->gp);
		r->gp = NULL;
	}
	alloc_bpf__destroy(r->skel);
	r->skel = NULL;
}

#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
/* the skeleton after lifetimes.h: its rodata uses struct gr_config (goroutines.h) */
#include "trace/lifetimes.h"
#include "thread_lifetimes.skel.h"
#include "trace/loop.h"
#include "trace/skel_open.h"
#include "trace/thread_track.h"

int lifetimes_open(struct lifetimes *l, const char *cmd, const struct target *t, bool by_start,
		   struct probe_links *pl, char *err, size_t errlen)
{
	struct tt_progs progs;
	int rc;

	l->skel = SKEL_OPEN(thread_lifetimes, t, cmd, err, errlen);
	if (!l->skel)
		return -1;
	l->skel->rodata->by_start = by_start;
	gr_open(&l->gr, cmd, t);
	l->skel->rodata->gr_cfg = l->gr.cfg;
	gr_prepare(&l->gr, l->skel->progs.on_go_site);
	rc = thread_lifetimes_bpf__load(l->skel);
	if (rc) {
		probe_load_error(cmd, rc, err, errlen);
		return -1;
	}
	progs = (struct tt_progs){ l->skel->progs.on_pthread_create, l->skel->progs.on_newtask,
				   l->skel->progs.on_exit, &l->skel->bss->tt_attach_ns,
				   &l->skel->bss->tt_trace_start_ns };
	/* Without by_start the start routine is not needed: no uprobe, so nothing is added to
	 * pthread_create. */
	if (tt_attach(cmd, t, &progs, by_start, pl, err, errlen) ||
	    gr_attach(&l->gr, l->skel->progs.on_go_site, l->skel->maps.gr_wrappers, t, pl, err,
		      errlen))
		return -1;
	return 0;
}

/* The entry under the all-zero key; a missing one (nothing counted yet) reads as zero. */
static int read_zero_key(struct bpf_map *map, const void *key, void *val, size_t len)
{
	if (!bpf_map_lookup_elem(bpf_map__fd(map), key, val))
		return 0;
	memset(val, 0, len);
	return errno == ENOENT ? 0 : -errno;
}

int lifetimes_read(const struct lifetimes *l, struct lifetime_hist *threads, uint64_t tc[TC_COUNT],
		   struct lifetime_hist *goroutines, uint64_t grc[GRC_COUNT])
{
	static const struct thr_start zero_start;
	int rc;

	rc = read_zero_key(l->skel->maps.hists, &zero_start, threads, sizeof(*threads));
	if (!rc)
		rc = tt_read_counters(l->skel->maps.tt_counters, tc);
	if (!rc) {
		rc = gr_read_hist(l->skel->maps.gr_hists, 0, goroutines);
		if (rc == -ENOENT)
			rc = 0; /* nothing counted yet: zeros */
	}
	if (!rc)
		rc = gr_read_counters(l->skel->maps.gr_counters, grc);
	return rc;
}

void lifetimes_close(struct lifetimes *l)
{
	thread_lifetimes_bpf__destroy(l->skel);
	l->skel = NULL;
	gr_close(&l->gr);
}

/* What one probe hit costs on this machine, measured at start-up for --budget: rtmon probes a
 * function of its own with the command's BPF program (attached the same way, uprobe_multi or
 * classic) and times calls of it with and without the probe. Two functions, one per kind of probed
 * instruction: the kernel emulates a push (about 0.5 us a hit here) and single-steps a test out of
 * line (about 30 us). The cookie makes the program do all a target's hit does, counting apart
 * (bpf/alloc.h AF_CALIBRATE). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "proc/procinfo.h"
#include "trace/budget.h"
#include "trace/loop.h"
#include "trace/probe.h"

#if defined(__x86_64__)
/* Hand-written so that the probed instruction is known whatever the compiler does. */
__asm__(".text\n"
	".globl rtmon_calib_emulated\n.type rtmon_calib_emulated,@function\n"
	"rtmon_calib_emulated:\n\tpush %rbp\n\tpop %rbp\n\tret\n"
	".size rtmon_calib_emulated, .-rtmon_calib_emulated\n"
	".globl rtmon_calib_stepped\n.type rtmon_calib_stepped,@function\n"
	"rtmon_calib_stepped:\n\ttest %rdi,%rdi\n\tret\n"
	".size rtmon_calib_stepped, .-rtmon_calib_stepped\n");
void rtmon_calib_emulated(void);
void rtmon_calib_stepped(void);
#else
__attribute__((noinline)) void rtmon_calib_emulated(void)
{
	__asm__ volatile("" ::: "memory");
}
__attribute__((noinline)) void rtmon_calib_stepped(void)
{
	__asm__ volatile("" ::: "memory");
}
#endif

struct self_query {
	uint64_t addr, *offset;
	char *path;
	size_t pathlen;
};

static int holds_addr(const struct proc_maps_line *m, void *ctx)
{
	struct self_query *q = ctx;

	if (q->addr < m->start || q->addr >= m->end)
		return 0;
	snprintf(q->path, q->pathlen, "%s", m->path);
	*q->offset = q->addr - m->start + m->pgoff;
	return 1;
}

/* The file and offset of code at addr in rtmon's own image, from /proc/self/maps. */
static int self_offset(void (*fn)(void), char *path, size_t pathlen, uint64_t *offset)
{
	struct self_query q = {
		.addr = (uintptr_t)fn, .offset = offset, .path = path, .pathlen = pathlen
	};
	FILE *f = fopen("/proc/self/maps", "re");
	int rc;

	if (!f)
		return -errno;
	rc = proc_maps_each(f, holds_addr, &q);
	fclose(f);
	return rc < 0 ? rc : rc ? 0 : -ENOENT;
}

/* The fastest of `blocks` timings of n calls, per call: the minimum leaves out preemption. */
static double ns_per_call(void (*volatile fn)(void), int n, int blocks)
{
	double best = 1e18;

	for (int b = 0; b < blocks; b++) {
		uint64_t t0 = loop_now_ns();

		for (int i = 0; i < n; i++)
			fn();
		double per = (double)(loop_now_ns() - t0) / n;

		if (per < best)
			best = per;
	}
	return best;
}

/* Closing a uprobe link waits for RCU grace periods (30 to 70 ms here) after the probe is already
 * gone: let a thread wait for that instead of rtmon's start-up. */
static void *close_links(void *arg)
{
	struct probe_links *pl = arg;

	probe_links_destroy(pl);
	free(pl);
	return NULL;
}

static void destroy_later(struct probe_links *pl)
{
	pthread_t th;

	if (pthread_create(&th, NULL, close_links, pl)) {
		close_links(pl);
		return;
	}
	pthread_detach(th);
}

/* One link for both functions: each attach waits for an RCU grace period (about 8 ms here). */
int budget_calibrate(struct bpf_program *prog, uint64_t cookie, bool want_stepped,
		     struct budget_costs *out, char *err, size_t errlen)
{
	void (*fns[2])(void) = { rtmon_calib_emulated, rtmon_calib_stepped };
	/* 8 x 500 emulated hits, about 4 ms; 4 x 100 single-stepped ones, about 12 ms. */
	static const int calls[2] = { 500, 100 }, blocks[2] = { 8, 4 };
	struct probe_site sites[2];
	struct probe_links *pl;
	double off[2], on[2];
	char path[4096];
	int n = want_stepped ? 2 : 1, rc;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < n; i++) {
		sites[i].cookie = cookie;
		rc = self_offset(fns[i], path, sizeof(path),
				 &sites[i].offset); /* one file: rtmon */
		if (rc) {
			snprintf(err, errlen, "cannot find rtmon's own code in /proc/self/maps: %s",
				 strerror(-rc));
			return rc;
		}
		off[i] = ns_per_call(fns[i], calls[i], blocks[i]);
	}
	pl = calloc(1, sizeof(*pl));
	if (!pl) {
		snprintf(err, errlen, "cannot calibrate: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	rc = probe_attach_sites(pl, prog, getpid(), path, sites, n, "rtmon's calibration functions",
				err, errlen);
	if (rc) {
		free(pl);
		return rc;
	}
	for (int i = 0; i < n; i++)
		on[i] = ns_per_call(fns[i], calls[i], blocks[i]);
	destroy_later(pl);
	out->emulated_ns = on[0] > off[0] ? on[0] - off[0] : 0;
	if (want_stepped)
		out->stepped_ns = on[1] > off[1] ? on[1] - off[1] : 0;
	return 0;
}

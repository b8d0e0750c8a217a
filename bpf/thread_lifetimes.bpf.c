// SPDX-License-Identifier: GPL-2.0
/* rtmon lat: log2 histograms of thread lifetimes (create to exit) in microseconds, counted in the
 * kernel, one per start routine with --by-start. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "thread_track.bpf.h"
#include "goroutine.bpf.h"
#include "map_helpers.bpf.h"
#include "extremes.bpf.h"

/* Set by userspace before load: key histograms by start routine. */
const volatile bool by_start = false;

/* Key: where threads start (file + offset, or address + tgid); all zero without --by-start. One
 * hash map rather than a per-CPU one: exits are at most some 100,000 a second, so an atomic add is
 * cheap. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct thr_start);
	__type(value, struct lifetime_hist);
} hists SEC(".maps");

static __always_inline struct lifetime_hist *hist_for(const struct thr_start *key)
{
	static const struct lifetime_hist zero;

	return lookup_or_init(&hists, key, &zero);
}

SEC("uprobe")
int BPF_KPROBE(on_pthread_create, void *thread, void *attr, void *start_routine)
{
	return tt_on_pthread_create((__u64)start_routine);
}

SEC("tp_btf/task_newtask")
int BPF_PROG(on_newtask, struct task_struct *task, __u64 clone_flags)
{
	struct tt_thread th;

	tt_on_newtask(task, clone_flags, by_start, &th);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *task, bool group_dead)
{
	struct thr_start key = {};
	struct lifetime_hist *h;
	__u64 lifetime;
	bool known, before;

	/* Main threads (the process's own lifetime) stay out of the histogram (userspace reports
	 * how many from the counters); threads that started before tracing are in it, their
	 * lifetime from task->start_time, under the all-zero start key (not known). Without
	 * --by-start every thread goes to the all-zero key. */
	if (!tt_on_exit(task, by_start, &known, &before, &lifetime, &key))
		return 0;
	if (group_dead)
		gr_on_process_exit(task->tgid);
	if (!known && !before)
		return 0;
	h = hist_for(&key);
	if (!h) {
		tt_count(TC_HIST_FULL);
		return 0;
	}
	__sync_fetch_and_add(&h->slots[log2_slot(lifetime / 1000) & (LOG2_SLOTS - 1)], 1);
	__sync_fetch_and_add(&h->count, 1);
	__sync_fetch_and_add(&h->sum_ns, lifetime);
	extremes_add_atomic(&h->max_ns, &h->min_ns_inv, lifetime);
	return 0;
}

/* Go targets: goroutine lifetimes, keyed by start PC (link-time address; 0 without --by-start).
 * Per CPU: a goroutine exit adds to its own CPU's copy without an atomic operation, and the
 * histogram's cache line does not move between CPUs that end goroutines at the same time
 * (userspace sums the copies). Allocated per start function as it first ends a goroutine: a
 * preallocated per-CPU map would take 16,384 x 544 bytes per CPU (19 MB on 2 CPUs). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct lifetime_hist);
} gr_hists SEC(".maps");

SEC("uprobe")
int on_go_site(struct pt_regs *ctx)
{
	static const struct lifetime_hist zero;
	struct gr_event e = {};
	struct lifetime_hist *h;
	__u64 key;

	if (gr_handle(ctx, &e) != GR_EV_EXIT || !(e.flags & GR_F_KNOWN))
		return 0;
	key = by_start ? e.start_pc : 0;
	h = lookup_or_init(&gr_hists, &key, &zero);
	if (!h) {
		gr_count(GRC_HIST_FULL);
		return 0;
	}
	h->slots[log2_slot(e.lifetime_ns / 1000) & (LOG2_SLOTS - 1)]++;
	h->count++;
	h->sum_ns += e.lifetime_ns;
	extremes_add_percpu(&h->max_ns, &h->min_ns_inv, e.lifetime_ns);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

/* Goroutine create/exit tracking for Go targets, shared by thread_events.bpf.c and
 * thread_lifetimes.bpf.c.
 *
 * Three uprobes in the Go runtime, one program on one uprobe_multi link, told apart by cookie (enum
 * gr_site); never a uretprobe (they crash Go programs), no RET probe (single-stepped, ~25 us):
 *   runtime.newproc1 body     on g0, under systemstack in newproc's closure: RAX = fn (start PC =
 *                             *fn), RBX = callergp (RDI on Go 1.17). Stashed on the OS thread.
 *   CALL runqput in           same thread, right after newproc1 returned: RBX = newg, which now has
 *   runtime.newproc.func1     its goid and is not yet runnable, so its exit comes later. The stash
 *                             plus the goid make the create; the live map remembers it by (tgid,
 * goid). runtime.goexit1 body      on the exiting goroutine (R14 = g): its goid ends the live
 * entry. newproc1 is also called without a runqput after it (coroutines, Go 1.23+): that stash is
 * simply overwritten by the next newproc1 on the thread. Each site is an instruction the kernel
 * emulates (push rbp, call rel32): about 1 us a hit, and only once per go statement or goroutine
 * exit. Each file that includes this header gets its own maps. */
#ifndef RTMON_GOROUTINE_BPF_H
#define RTMON_GOROUTINE_BPF_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "goroutines.h"
#include "percpu_counters.bpf.h"
#include "target_filter.bpf.h"

const volatile struct gr_config gr_cfg = {};

/* newproc1's findings, on the OS thread that runs it, until the runqput call in the same closure.
 */
struct gr_pending {
	__u64 ts_ns;
	__u64 start_pc;
	__u64 wrapper_pc;
	__u64 parent_goid;
	__u64 valid;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct gr_pending);
} gr_pend SEC(".maps");

/* Goroutines seen created and not yet exited. Goroutines parked forever are never deleted: a plain
 * hash (not LRU, which could evict a live one) with room for many; when full, the exit is
 * untracked. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 262144);
	__type(key, struct gr_key);
	__type(value, struct gr_live);
} gr_lives SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GR_WRAPPERS_MAX);
	__type(key, __u64);
	__type(value, __u32);
} gr_wrappers SEC(".maps");

PERCPU_COUNTERS(gr_counters, GRC_COUNT);

static __always_inline void gr_count(__u32 idx)
{
	counter_inc(&gr_counters, idx);
}

static __always_inline __u64 gr_goid(__u64 g)
{
	__u64 goid = 0;

	if (g)
		bpf_probe_read_user(&goid, sizeof(goid), (const void *)(g + gr_cfg.goid_off));
	return goid;
}

static __always_inline void gr_on_newproc1(struct pt_regs *ctx)
{
	struct gr_pending *p = bpf_task_storage_get(&gr_pend, bpf_get_current_task_btf(), 0,
						    BPF_LOCAL_STORAGE_GET_F_CREATE);
	/* Both loaded, then chosen: a ctx field picked by a conditional offset fails the verifier.
	 */
	__u64 fn = ctx->ax, pc = 0, rbx = ctx->bx, rdi = ctx->di, callergp, bias;

	if (!p)
		return;
	barrier_var(rdi);
	callergp = gr_cfg.callergp_rdi ? rdi : rbx;
	if (fn)
		bpf_probe_read_user(&pc, sizeof(pc), (const void *)fn);
	p->ts_ns = bpf_ktime_get_ns();
	/* The kernel sets the IP to the probed address before running the program: the difference
	 * to the link-time address is the load bias (PIE), 0 otherwise. */
	bias = PT_REGS_IP(ctx) - gr_cfg.newproc1_vaddr;
	p->start_pc = pc ? pc - bias : 0;
	p->wrapper_pc = 0;
	if (gr_cfg.captured_wrappers && p->start_pc) {
		/* The wrapper's callee is a function value in its closure: name what it runs. */
		__u32 *off = bpf_map_lookup_elem(&gr_wrappers, &p->start_pc);
		__u64 inner = 0, ipc = 0;

		if (off && !bpf_probe_read_user(&inner, sizeof(inner), (const void *)(fn + *off)) &&
		    inner && !bpf_probe_read_user(&ipc, sizeof(ipc), (const void *)inner) && ipc) {
			p->wrapper_pc = p->start_pc;
			p->start_pc = ipc - bias;
		}
	}
	p->parent_goid = gr_goid(callergp);
	p->valid = 1;
}

/* Fills *e for a create (the goid is known now) or an exit; returns its enum gr_kind, or 0. */
static __always_inline int gr_handle(struct pt_regs *ctx, struct gr_event *e)
{
	__u64 site = bpf_get_attach_cookie(ctx), id = bpf_get_current_pid_tgid();
	struct gr_key key = { .tgid = id >> 32 };
	struct gr_pending *p;
	struct gr_live live, *l;

	if (!current_is_target())
		return 0;
	if (site == GR_SITE_NEWPROC1) {
		gr_on_newproc1(ctx);
		return 0;
	}
	e->pid = id >> 32;
	e->tid = (__u32)id;
	if (site == GR_SITE_RUNQPUT) {
		p = bpf_task_storage_get(&gr_pend, bpf_get_current_task_btf(), 0, 0);
		if (!p || !p->valid)
			return 0; /* attached between newproc1 and here */
		p->valid = 0;
		key.goid = gr_goid(ctx->bx);
		if (!key.goid)
			return 0;
		live.create_ns = p->ts_ns;
		live.start_pc = p->start_pc;
		live.wrapper_pc = p->wrapper_pc;
		live.parent_goid = p->parent_goid;
		if (bpf_map_update_elem(&gr_lives, &key, &live, BPF_ANY))
			gr_count(GRC_TRACK_FULL);
		gr_count(GRC_CREATED);
		e->kind = GR_EV_CREATE;
		e->ts_ns = live.create_ns;
		e->goid = key.goid;
		e->parent_goid = live.parent_goid;
		e->start_pc = live.start_pc;
		e->wrapper_pc = live.wrapper_pc;
		return GR_EV_CREATE;
	}
	if (site != GR_SITE_GOEXIT1)
		return 0;
	key.goid = gr_goid(ctx->r14);
	if (!key.goid)
		return 0;
	e->kind = GR_EV_EXIT;
	e->ts_ns = bpf_ktime_get_ns();
	e->goid = key.goid;
	gr_count(GRC_EXITED);
	l = bpf_map_lookup_elem(&gr_lives, &key);
	if (!l) {
		gr_count(GRC_EXITED_UNTRACKED);
		return GR_EV_EXIT;
	}
	e->flags = GR_F_KNOWN;
	e->lifetime_ns = e->ts_ns > l->create_ns ? e->ts_ns - l->create_ns : 0;
	e->parent_goid = l->parent_goid;
	e->start_pc = l->start_pc;
	e->wrapper_pc = l->wrapper_pc;
	bpf_map_delete_elem(&gr_lives, &key);
	return GR_EV_EXIT;
}

static long gr_forget_cb(struct bpf_map *map, struct gr_key *key, struct gr_live *val, void *ctx)
{
	if (key->tgid == *(__u32 *)ctx)
		bpf_map_delete_elem(map, key);
	return 0;
}

/* At a traced process's end (sched_process_exit with group_dead): goroutines still parked then
 * never exit; their entries go, so that --binpath over many processes does not fill the map. */
static __always_inline void gr_on_process_exit(__u32 tgid)
{
	if (gr_cfg.goid_off)
		bpf_for_each_map_elem(&gr_lives, gr_forget_cb, &tgid, 0);
}

#endif

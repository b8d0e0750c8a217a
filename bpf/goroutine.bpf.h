/* Goroutine create/exit tracking for Go targets, shared by thread_events.bpf.c and
 * thread_lifetimes.bpf.c.
 *
 * Two uprobes in the Go runtime per goroutine, one program on one uprobe_multi link, told apart by
 * cookie (enum gr_site); never a uretprobe (they crash Go programs), no RET probe (single-stepped,
 * ~25 us):
 *   create   the CALL runqput in runtime.newproc.func1 (on g0, right after newproc1 returned), or
 *            the 5-byte NOP just before it when the compiler put one there: RBX = the new g, not
 *            yet runnable, so its exit comes later. Everything the create needs is in it: goid,
 *            startpc, parentGoid (Go 1.21+), and sched.ctxt, the go statement's funcval (what a
 *            captured wrapper runs). The table of live goroutines remembers it.
 *   goexit1  body, on the exiting goroutine (R14 = g): its goid ends the live entry.
 *   newproc1 body, Go 1.17 to 1.20 only (their g has no parentGoid): RBX (RDI on 1.17) =
 *            callergp, whose goid is stashed on the OS thread for the create site. newproc1
 *            called without a runqput after it (coroutines, Go 1.23+) has no such probe.
 * Each site is an instruction the kernel emulates (push rbp, call rel32) or, better, a 5-byte NOP,
 * which the kernel rewrites into a call of its uprobe trampoline after the first hit (a syscall
 * instead of an int3 trap: docs/PERFORMANCE.md). Each file that includes this header gets its own
 * maps. */
#ifndef RTMON_GOROUTINE_BPF_H
#define RTMON_GOROUTINE_BPF_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "goroutines.h"
#include "percpu_counters.bpf.h"
#include "target_filter.bpf.h"

const volatile struct gr_config gr_cfg = {};

/* newproc1's callergp goid (Go 1.17 to 1.20), on the OS thread that runs it, until the create
 * site in the same closure. */
struct gr_pending {
	__u64 parent_goid;
	__u64 valid;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct gr_pending);
} gr_pend SEC(".maps");

/* Goroutines seen created and not yet exited, first in a table indexed by goid (GR_SLOTS slots,
 * the low bits of the goid): an array lookup the verifier inlines, on slots that follow each other
 * as goids do. The live map behind it takes a goroutine whose slot is held by another still alive
 * (one that lived through GR_SLOTS creations, or one of another process under --binpath). On the
 * goroutine bench the live map's insert, lookup and delete cost about 0.3 us a probe hit (bpf
 * run-time statistics), most of it cache misses on the buckets of its 262,144 slots; the table
 * costs nearly nothing. */
#define GR_SLOTS 65536

struct gr_slot {
	__u64 goid; /* 0: free; claimed with a compare-and-swap */
	__u32 tgid; /* written after the claim, cleared before the release */
	__u32 pad;
	struct gr_live live;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GR_SLOTS);
	__type(key, __u32);
	__type(value, struct gr_slot);
} gr_slots SEC(".maps");

/* Goroutines parked forever are never deleted: a plain hash (not LRU, which could evict a live
 * one) with room for many; when full, the exit is untracked. */
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

/* The 8 bytes at addr in the target, or 0. */
static __always_inline __u64 gr_read(__u64 addr)
{
	__u64 v = 0;

	bpf_probe_read_user(&v, sizeof(v), (const void *)addr);
	return v;
}

/* The 8-byte field at off in the struct at address at; 0 when there is none or no such field
 * (off 0: the release has no such field). */
static __always_inline __u64 gr_field(__u64 at, __u32 off)
{
	return at && off ? gr_read(at + off) : 0;
}

static __always_inline void gr_on_newproc1(struct pt_regs *ctx)
{
	struct gr_pending *p = bpf_task_storage_get(&gr_pend, bpf_get_current_task_btf(), 0,
						    BPF_LOCAL_STORAGE_GET_F_CREATE);
	/* Both loaded, then chosen: a ctx field picked by a conditional offset fails the verifier.
	 */
	__u64 rbx = ctx->bx, rdi = ctx->di;

	if (!p)
		return;
	barrier_var(rdi);
	p->parent_goid = gr_field(gr_cfg.callergp_rdi ? rdi : rbx, gr_cfg.goid_off);
	p->valid = 1;
}

/* The parent's goid: the new g's own parentGoid (Go 1.21+, already read into *parent), else
 * newproc1's stash on this thread; false when the stash is missing (tracing began between newproc1
 * and here). */
static __always_inline bool gr_parent(__u64 *parent)
{
	struct gr_pending *p;

	if (gr_cfg.parentgoid_off)
		return true;
	p = bpf_task_storage_get(&gr_pend, bpf_get_current_task_btf(), 0, 0);
	if (!p || !p->valid)
		return false;
	p->valid = 0;
	*parent = p->parent_goid;
	return true;
}

/* The word of the new g's fields read at once (span) that holds the field at off. */
#define GR_SPAN_WORD(span, off) ((span)[(((off)-gr_cfg.span_off) >> 3) & (GR_SPAN_WORDS - 1)])

/* The create site: fills *live from the new g at RBX; its goid, or 0. */
static __always_inline __u64 gr_on_create(struct pt_regs *ctx, struct gr_live *live)
{
	__u64 newg = ctx->bx, span[GR_SPAN_WORDS] = {}, goid, pc, bias;
	__u32 len = gr_cfg.span_len;

	/* Every field in one read: a bpf_probe_read_user costs about 90 ns here, whatever it
	 * copies (bpf run-time statistics). */
	if (!newg || !len || len > sizeof(span) ||
	    bpf_probe_read_user(span, len, (const void *)(newg + gr_cfg.span_off)))
		return 0;
	goid = GR_SPAN_WORD(span, gr_cfg.goid_off);
	live->parent_goid = gr_cfg.parentgoid_off ? GR_SPAN_WORD(span, gr_cfg.parentgoid_off) : 0;
	if (!goid || !gr_parent(&live->parent_goid))
		return 0;
	live->create_ns = bpf_ktime_get_ns();
	/* The kernel sets the IP to the probed address before running the program: the difference
	 * to the link-time address is the load bias (PIE), 0 otherwise. */
	bias = PT_REGS_IP(ctx) - gr_cfg.create_vaddr;
	pc = GR_SPAN_WORD(span, gr_cfg.startpc_off);
	live->start_pc = pc ? pc - bias : 0;
	live->wrapper_pc = 0;
	if (gr_cfg.captured_wrappers && live->start_pc) {
		/* The wrapper's callee is a function value in its closure (the funcval the go
		 * statement passed, still in sched.ctxt): name what it runs. */
		__u32 *off = bpf_map_lookup_elem(&gr_wrappers, &live->start_pc);
		__u64 fn = GR_SPAN_WORD(span, gr_cfg.ctxt_off), inner, ipc;

		if (off && fn && (inner = gr_field(fn, *off)) && (ipc = gr_read(inner))) {
			live->wrapper_pc = live->start_pc;
			live->start_pc = ipc - bias;
		}
	}
	return goid;
}

/* Remembers a goroutine just created until its exit. Its slot is claimed before anything else is
 * written; its exit runs after this program has returned (the new g is not runnable yet). */
static __always_inline void gr_remember(const struct gr_key *key, const struct gr_live *live)
{
	__u32 idx = key->goid & (GR_SLOTS - 1);
	struct gr_slot *s = bpf_map_lookup_elem(&gr_slots, &idx);

	if (s && __sync_val_compare_and_swap(&s->goid, 0, key->goid) == 0) {
		s->live = *live;
		/* Last: until then an exit of the same goid in another process (its entry in the
		 * live map) sees tgid 0, not a match. */
		*(volatile __u32 *)&s->tgid = key->tgid;
		return;
	}
	if (bpf_map_update_elem(&gr_lives, key, live, BPF_ANY))
		gr_count(GRC_TRACK_FULL);
}

/* At a goroutine's exit: what was remembered at its create, forgotten now; false if nothing was. */
static __always_inline bool gr_take(const struct gr_key *key, struct gr_live *out)
{
	__u32 idx = key->goid & (GR_SLOTS - 1);
	struct gr_slot *s = bpf_map_lookup_elem(&gr_slots, &idx);
	struct gr_live *l;

	if (s && s->goid == key->goid && s->tgid == key->tgid) {
		*out = s->live;
		*(volatile __u32 *)&s->tgid = 0;
		__sync_lock_test_and_set(&s->goid, 0); /* release: an atomic exchange */
		return true;
	}
	l = bpf_map_lookup_elem(&gr_lives, key);
	if (!l)
		return false;
	*out = *l;
	bpf_map_delete_elem(&gr_lives, key);
	return true;
}

/* Fills *e for a create or an exit; returns its enum gr_kind, or 0. */
static __always_inline int gr_handle(struct pt_regs *ctx, struct gr_event *e)
{
	__u64 site = bpf_get_attach_cookie(ctx), id = bpf_get_current_pid_tgid();
	struct gr_key key = { .tgid = id >> 32 };
	struct gr_live live;

	if (!current_is_target())
		return 0;
	if (site == GR_SITE_NEWPROC1) {
		gr_on_newproc1(ctx);
		return 0;
	}
	e->pid = id >> 32;
	e->tid = (__u32)id;
	if (site == GR_SITE_CREATE) {
		key.goid = gr_on_create(ctx, &live);
		if (!key.goid)
			return 0;
		gr_remember(&key, &live);
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
	key.goid = gr_field(ctx->r14, gr_cfg.goid_off);
	if (!key.goid)
		return 0;
	e->kind = GR_EV_EXIT;
	e->ts_ns = bpf_ktime_get_ns();
	e->goid = key.goid;
	gr_count(GRC_EXITED);
	if (!gr_take(&key, &live)) {
		gr_count(GRC_EXITED_UNTRACKED);
		return GR_EV_EXIT;
	}
	e->flags = GR_F_KNOWN;
	e->lifetime_ns = e->ts_ns > live.create_ns ? e->ts_ns - live.create_ns : 0;
	e->parent_goid = live.parent_goid;
	e->start_pc = live.start_pc;
	e->wrapper_pc = live.wrapper_pc;
	return GR_EV_EXIT;
}

static long gr_forget_cb(struct bpf_map *map, struct gr_key *key, struct gr_live *val, void *ctx)
{
	if (key->tgid == *(__u32 *)ctx)
		bpf_map_delete_elem(map, key);
	return 0;
}

static long gr_free_slot_cb(struct bpf_map *map, __u32 *idx, struct gr_slot *s, void *ctx)
{
	if (s->goid && s->tgid == *(__u32 *)ctx) {
		s->tgid = 0;
		__sync_lock_test_and_set(&s->goid, 0);
	}
	return 0;
}

/* At a traced process's end (sched_process_exit with group_dead): goroutines still parked then
 * never exit; their entries go, so that --binpath over many processes does not fill the map, nor
 * a later process with the same PID find them. Only under --binpath: a PID's probes (-p, -- CMD)
 * see no other process, and the walk of both maps cost the exiting target about 5 ms. */
static __always_inline void gr_on_process_exit(__u32 tgid)
{
	if (!gr_cfg.goid_off || target_tgid)
		return;
	bpf_for_each_map_elem(&gr_lives, gr_forget_cb, &tgid, 0);
	bpf_for_each_map_elem(&gr_slots, gr_free_slot_cb, &tgid, 0);
}

#endif

// SPDX-License-Identifier: GPL-2.0
/* rtmon gc (Go): follows each traced process through its GC cycles with uprobes on a few runtime
 * functions (never uretprobes: they crash Go programs), and emits one ring buffer event per phase
 * or stop-the-world that ended. Userspace (user/runtime/go/gc_go.c) formats them.
 *
 * A cycle, as seen here:
 *   gcStart body            remember the trigger (kind, and n for runtime.GC())
 *   stopTheWorldWithSema    STW begins; its reason says sweep termination, mark termination or
 * other startTheWorldWithSema   (at its RETs) STW ends: sweep-term ends -> mark begins; mark-term
 * ends -> mark and mark-term are emitted, sweep begins gcMarkTermination       seen inside a
 * mark-term STW: it is the final one (else marking resumed) bgsweep's gopark calls   the background
 * sweeper parks once the sweep is done (isSweepDone): sweep ends mProf_PostSweep runtime.GC()
 * finished sweeping (it sweeps itself; bgsweep may lag) next sweep termination  at the latest:
 * gcStart finishes any sweep before stopping the world Not sweepone's RETs (RAX == ~0 when
 * drained): sweepone runs once per span, and a uprobe on a RET instruction costs ~25 us a hit here
 * (see docs/gc.md).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "go_gc.h"
#include "percpu_counters.bpf.h"
#include "ringbuf_batch.bpf.h"
#include "map_helpers.bpf.h"
#include "target_filter.bpf.h"

/* GC events are few (a handful per cycle): 256 KiB holds thousands, far more than a 10 ms drain
 * period can produce. */
#define RING_BYTES (256 << 10)
/* Past this much unread data the consumer is woken at once instead of at its next 10 ms poll. */
#define WAKE_BYTES (RING_BYTES / 4)

/* Go <= 1.20: stopTheWorldWithSema takes no reason; userspace sets this and the BPF side infers the
 * reason from runtime.stopTheWorld (non-GC) and the cycle's state. */
const volatile bool legacy_stw = false;
/* Link-time addresses of the runtime's cycle counter (runtime.work.cycles, a uint32 gcStart adds
 * one to as the cycle begins) and of the gcStart probe: at gcStart the counter is read at
 * cycles_vaddr + (IP - gcstart_vaddr), so that cycles carry the runtime's own numbers (gctrace's
 * "gc N"). 0: not found, cycles counted from cycle_base. */
const volatile __u64 cycles_vaddr = 0;
const volatile __u64 gcstart_vaddr = 0;
/* Link-time addresses of the cycle's heap figures (runtime.work.heap0, the goal gctrace prints,
 * memstats.gc_cpu_fraction: see struct gc_event) and of the gcMarkTermination probe, whose hit
 * gives the process's load bias (PIE) for reading them. markterm_vaddr 0: not read. */
const volatile __u64 markterm_vaddr = 0;
const volatile __u64 heap_vaddr = 0;
const volatile __u64 goal_vaddr = 0;
const volatile __u64 cpu_frac_vaddr = 0;

/* CS_MARK_TERM: gcMarkTermination ran in this stop. The world restarts inside
 * startTheWorldWithSema, before its RETs where rtmon sees it: the sweep may end in between
 * (CS_DRAINED). */
enum cycle_state { CS_IDLE, CS_MARK, CS_MARK_TERM, CS_DRAINED, CS_SWEEP };

/* Per traced process: the runtime serialises stop-the-worlds (worldsema) and GC phases, so one
 * record per process is enough. */
struct gc_state {
	__u64 stw_start;
	__u64 mark_start;
	__u64 sweep_start;
	__u64 drain_ns; /* CS_DRAINED: when the sweep list was found empty */
	__u64 state;    /* enum cycle_state; 64 bits: clang 14's BPF target has no 32-bit cmpxchg */
	__u64 bias;     /* run-time - link-time address, from the last gcMarkTermination hit */
	__u32 cycle;
	__u32 pend_n;     /* trigger.n of the last gcStart (runtime.GC(): the cycle's number) */
	__u32 pend_cycle; /* work.cycles + 1 at the last gcStart: the number of the cycle it starts
			   */
	__u32 pad;
	__u8 in_stw;
	__u8 stw_reason;
	__u8 term_seen;    /* gcMarkTermination ran during this STW */
	__u8 mark_seen;    /* this cycle's sweep termination was seen: its mark phase has a start */
	__u8 trigger;      /* of the current cycle */
	__u8 pend_trigger; /* of the last gcStart, not yet consumed by a sweep termination */
	__u8 has_pend;
	__u8 legacy_nongc; /* Go <= 1.20: the next stop comes from runtime.stopTheWorld */
	char legacy_reason[STW_REASON_LEN];
	char stw_reason_str[STW_REASON_LEN];
};

RINGBUF_MAP(events, RING_BYTES);

/* LRU: processes that exit leave their record behind; old ones are evicted, never block new ones.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct gc_state);
} states SEC(".maps");

/* -p: the runtime's work.cycles when rtmon attached (userspace reads it), so that a cycle already
 * running then, whose gcStart was not seen, has its number too. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} cycle_base SEC(".maps");

PERCPU_COUNTERS(counters, GC_NCOUNTERS);

static __always_inline struct gc_state *state_get(__u32 tgid, bool create)
{
	static const struct gc_state zero;
	struct gc_state *st = bpf_map_lookup_elem(&states, &tgid);
	__u32 *base;

	if (st || !create)
		return st;
	st = lookup_or_init(&states, &tgid, &zero);
	base = bpf_map_lookup_elem(&cycle_base, &tgid);
	if (st && base)
		st->cycle = *base;
	return st;
}

/* The cycle's heap figures into a mark termination's event, read at the process's addresses: the
 * reads cost no probe hit. */
static __always_inline void read_heap(const struct gc_state *st, struct gc_event *e)
{
	e->heap[0] = e->heap[1] = e->heap[2] = e->heap_goal = e->gc_cpu_fraction = 0;
	if (!markterm_vaddr || e->phase != GP_MARK_TERM)
		return;
	if (bpf_probe_read_user(e->heap, sizeof(e->heap), (const void *)(heap_vaddr + st->bias)) ||
	    bpf_probe_read_user(&e->heap_goal, sizeof(e->heap_goal),
				(const void *)(goal_vaddr + st->bias)) ||
	    bpf_probe_read_user(&e->gc_cpu_fraction, sizeof(e->gc_cpu_fraction),
				(const void *)(cpu_frac_vaddr + st->bias)))
		return;
	e->flags |= GE_HEAP;
}

static __always_inline void emit(struct gc_state *st, __u32 tgid, __u8 phase, __u64 start,
				 __u64 end, __u8 flags)
{
	struct gc_event *e = rb_reserve(&events, sizeof(*e), &counters, GC_LOST);

	if (!e)
		return;
	e->tgid = tgid;
	e->start_ns = start;
	e->dur_ns = end > start ? end - start : 0;
	e->phase = phase;
	e->flags = flags;
	e->cycle = phase == GP_STW ? 0 : st->cycle;
	e->trigger = st->trigger;
	e->reason = phase == GP_MARK || phase == GP_SWEEP ? 0 : st->stw_reason;
	__builtin_memcpy(e->reason_str, st->stw_reason_str, STW_REASON_LEN);
	read_heap(st, e);
	rb_submit_batched(&events, e, WAKE_BYTES);
}

static __always_inline void on_gcstart(struct gc_state *st, struct pt_regs *ctx)
{
	__u64 kind = ctx->ax;

	st->pend_trigger = kind <= GT_CYCLE ? (__u8)kind : GT_UNKNOWN;
	st->pend_n = (__u32)ctx->cx;
	st->pend_cycle = 0;
	if (cycles_vaddr) {
		__u32 c;

		if (!bpf_probe_read_user(
			    &c, sizeof(c),
			    (const void *)(cycles_vaddr + (PT_REGS_IP(ctx) - gcstart_vaddr))))
			st->pend_cycle = c + 1;
	}
	st->has_pend = 1;
}

/* Go <= 1.20 has no stwReason: a stop from runtime.stopTheWorld is not GC (its reason string was
 * saved at its entry); a GC stop during marking is mark termination, otherwise sweep termination.
 */
static __always_inline __u8 legacy_reason(struct gc_state *st)
{
	if (st->legacy_nongc) {
		st->legacy_nongc = 0;
		__builtin_memcpy(st->stw_reason_str, st->legacy_reason, STW_REASON_LEN);
		return STW_REASON_STRING;
	}
	return st->state == CS_MARK ? STW_GC_MARK_TERM : STW_GC_SWEEP_TERM;
}

static __always_inline void on_stw_stop(struct gc_state *st, __u32 tgid, struct pt_regs *ctx,
					__u64 now)
{
	__u8 reason;

	st->stw_reason_str[0] = 0;
	reason = legacy_stw ? legacy_reason(st) : (__u8)ctx->ax;
	/* A new cycle before the sweep was seen to end (allocating goroutines finished it while the
	 * background sweeper waited for a CPU): gcStart completes any sweep before this stop, so
	 * the sweep ended by now at the latest. */
	if (reason == STW_GC_SWEEP_TERM && st->state == CS_SWEEP &&
	    __sync_val_compare_and_swap(&st->state, (__u64)CS_SWEEP, (__u64)CS_IDLE) == CS_SWEEP)
		emit(st, tgid, GP_SWEEP, st->sweep_start, now, 0);
	st->in_stw = 1;
	st->stw_start = now;
	st->stw_reason = reason;
	st->term_seen = 0;
}

static __always_inline void end_sweep_term(struct gc_state *st, __u32 tgid, __u64 now)
{
	/* The runtime's own number, read at gcStart; else the one runtime.GC() passes; else the
	 * count goes on (from cycle_base, or 0, at attach). */
	if (st->has_pend && st->pend_cycle)
		st->cycle = st->pend_cycle;
	else if (st->has_pend && st->pend_trigger == GT_CYCLE && st->pend_n)
		st->cycle = st->pend_n;
	else
		st->cycle++;
	st->trigger = st->has_pend ? st->pend_trigger : GT_UNKNOWN;
	st->has_pend = 0;
	emit(st, tgid, GP_SWEEP_TERM, st->stw_start, now, 0);
	st->state = CS_MARK;
	st->mark_seen = 1;
	st->mark_start = now;
}

static __always_inline void end_mark_term(struct gc_state *st, __u32 tgid, __u64 now)
{
	if (!st->term_seen) {
		/* gcMarkDone found more work and restarted the world: still marking, but a pause.
		 */
		emit(st, tgid, GP_MARK_RESTART, st->stw_start, now, 0);
		return;
	}
	if (st->mark_seen)
		emit(st, tgid, GP_MARK, st->mark_start, st->stw_start, 0);
	st->mark_seen = 0;
	emit(st, tgid, GP_MARK_TERM, st->stw_start, now, 0);
	st->sweep_start = now;
	if (__sync_val_compare_and_swap(&st->state, (__u64)CS_MARK_TERM, (__u64)CS_SWEEP) ==
	    CS_MARK_TERM)
		return;
	/* Drained before startTheWorldWithSema returned (small heaps: the restarted Ps sweep at
	 * once). */
	st->state = CS_IDLE;
	emit(st, tgid, GP_SWEEP, now, st->drain_ns > now ? st->drain_ns : now, 0);
}

static __always_inline void on_stw_end(struct gc_state *st, __u32 tgid, struct pt_regs *ctx,
				       __u64 now)
{
	__u64 restarted = ctx->ax;

	if (!st->in_stw) /* attached while the world was stopped */
		return;
	/* startTheWorldWithSema returns the runtime's nanotime() (CLOCK_MONOTONIC,
	 * bpf_ktime_get_ns's clock) taken once every P has an M again: the pause's end by the
	 * runtime's own account, before wakep and the statistics. Anything implausible falls back
	 * to the RET's time. */
	if (restarted >= st->stw_start && restarted <= now)
		now = restarted;
	st->in_stw = 0;
	/* gcMarkTermination runs only inside the final mark-termination stop: trust it over a
	 * reason inferred for Go <= 1.20 (rtmon may have attached during marking). */
	if (st->term_seen && st->stw_reason == STW_GC_SWEEP_TERM)
		st->stw_reason = STW_GC_MARK_TERM;
	if (st->stw_reason == STW_GC_SWEEP_TERM)
		end_sweep_term(st, tgid, now);
	else if (st->stw_reason == STW_GC_MARK_TERM)
		end_mark_term(st, tgid, now);
	else
		emit(st, tgid, GP_STW, st->stw_start, now, 0);
}

static __always_inline void on_legacy_stw(struct gc_state *st, struct pt_regs *ctx)
{
	/* runtime.stopTheWorld(reason string): data pointer in RAX, length in RBX. */
	__u64 n = ctx->bx;

	if (n > STW_REASON_LEN - 1)
		n = STW_REASON_LEN - 1;
	n &= STW_REASON_LEN - 1;
	if (bpf_probe_read_user(st->legacy_reason, n, (const void *)ctx->ax))
		n = 0;
	st->legacy_reason[n & (STW_REASON_LEN - 1)] = 0;
}

/* One program for every site: userspace attaches it with the enum gc_site as the cookie, so all
 * sites share one uprobe_multi link. */
SEC("uprobe")
int on_gc_site(struct pt_regs *ctx)
{
	__u64 site = bpf_get_attach_cookie(ctx);
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	/* Only the sites that can begin something create a process's record. */
	bool create = site == GS_GCSTART || site == GS_STW_STOP || site == GS_LEGACY_STW ||
		      site == GS_LEGACY_STW_FUNC1;
	struct gc_state *st;
	__u64 now;

	if (!current_is_target())
		return 0;
	st = state_get(tgid, create);
	if (!st)
		return 0;
	counter_inc(&counters, GC_HITS);
	now = bpf_ktime_get_ns();
	switch (site) {
	case GS_GCSTART:
		on_gcstart(st, ctx);
		break;
	case GS_STW_STOP:
		on_stw_stop(st, tgid, ctx, now);
		break;
	case GS_STW_START_RET:
		on_stw_end(st, tgid, ctx, now);
		break;
	case GS_MARK_TERM:
		if (st->in_stw) {
			st->term_seen = 1;
			st->state = CS_MARK_TERM;
			/* the mark termination this STW ends, whose event reads the heap figures */
			st->bias = PT_REGS_IP(ctx) - markterm_vaddr;
		}
		break;
	case GS_SWEEP_DONE:
		/* Compare-and-swap: the end of the sweep races with the world restart seen on
		 * another CPU; exactly one of them ends the phase. */
		if (st->state == CS_SWEEP &&
		    __sync_val_compare_and_swap(&st->state, (__u64)CS_SWEEP, (__u64)CS_IDLE) ==
			    CS_SWEEP)
			emit(st, tgid, GP_SWEEP, st->sweep_start, now, 0);
		else if (st->state == CS_MARK_TERM &&
			 __sync_val_compare_and_swap(&st->state, (__u64)CS_MARK_TERM,
						     (__u64)CS_DRAINED) == CS_MARK_TERM)
			st->drain_ns = now;
		break;
	case GS_LEGACY_STW:
		on_legacy_stw(st, ctx);
		break;
	case GS_LEGACY_STW_FUNC1:
		st->legacy_nongc = 1;
		break;
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

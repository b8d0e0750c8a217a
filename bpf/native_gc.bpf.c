// SPDX-License-Identifier: GPL-2.0
/* rtmon gc for native code (Boehm GC, --cycle/--phase): an entry and a return probe on each chosen
 * function, dispatched by cookie (the site number). Each call of a cycle function is one GC cycle;
 * each call of a phase function is one phase, belonging to the cycle open on its thread (else to
 * the one open in its process). Boehm's collections that start inside allocation, where no exported
 * function is entered and left, are seen by an entry-only probe in their mark (NR_MARK).
 * Return probes are for native code only: userspace refuses Go, where they crash the program.
 *
 * Matching returns to entries uses the stack pointer: at entry it points at the return address,
 * after the return it is 8 bytes higher. A timed call whose entry sp is below the current one has
 * returned without its return probe firing (longjmp; or the kernel's limit of 64 pending return
 * probes per thread) and is dropped. Recursive calls are not timed on their own: only the outermost
 * call is. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "native_gc.h"
#include "percpu_counters.bpf.h"
#include "ringbuf_batch.bpf.h"
#include "map_helpers.bpf.h"
#include "target_filter.bpf.h"

/* Events are few (one per cycle or phase): 256 KiB holds thousands, more than a 10 ms drain period
 * sees unless a phase function is called in a tight loop. */
#define RING_BYTES (256 << 10)
#define WAKE_BYTES (RING_BYTES / 4)

/* Set by userspace before load, per site (the cookie). */
const volatile __u8 site_role[NATIVE_MAX_SITES];
/* The collector's count (Boehm's GC_gc_no) at the site's function address plus this; only when
 * has_count. Same ELF file, so the load bias cancels out: PIE and non-PIE alike. */
const volatile __s64 count_delta[NATIVE_MAX_SITES];
const volatile bool has_count = false;

struct frame {
	__u64 sp; /* at entry: where the return address is */
	__u64 start_ns;
	__u64 count_addr; /* has_count: the collector's count in this process */
	__u64 count;      /* its value at entry */
	__u64 args[NATIVE_ARGS];
	__u32 cycle;
	__u16 site;
	__u8 role;
	__u8 count_ok;
};

struct thread_frames {
	__u32 depth;
	__u32 pad;
	struct frame f[NATIVE_MAX_FRAMES];
};

struct proc_state {
	__u64 last_mark;  /* has_count: the last collection (count + 1) whose mark was seen */
	__u64 next_cycle; /* without a collector count: cycles numbered from 1 at attach */
	__u64 open_cycle; /* the cycle open in the process, for phases that run on another thread */
};

RINGBUF_MAP(events, RING_BYTES);

/* LRU: threads and processes that exit leave their records behind; old ones are evicted. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64); /* pid_tgid: one thread */
	__type(value, struct thread_frames);
} threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct proc_state);
} procs SEC(".maps");

PERCPU_COUNTERS(counters, NC_COUNT);

static __always_inline struct proc_state *proc_get(__u32 tgid)
{
	static const struct proc_state zero;

	return lookup_or_init(&procs, &tgid, &zero);
}

static __always_inline bool read_count(__u64 addr, __u64 *val)
{
	if (!bpf_probe_read_user(val, sizeof(*val), (const void *)addr))
		return true;
	counter_inc(&counters, NC_NO_COUNT);
	return false;
}

/* Drops the timed calls entered below sp (deeper in the stack): they returned unseen. */
static __always_inline void drop_returned(struct thread_frames *th, __u64 sp)
{
	for (int i = 0; i < NATIVE_MAX_FRAMES; i++) {
		__u32 d = th->depth;

		if (!d || d > NATIVE_MAX_FRAMES ||
		    th->f[(d - 1) & (NATIVE_MAX_FRAMES - 1)].sp >= sp)
			break;
		th->depth = d - 1;
		counter_inc(&counters, NC_UNRETURNED);
	}
}

static __always_inline void emit(__u64 id, __u8 kind, __u16 site, __u32 cycle, __u64 start,
				 __u64 end, __u64 cnt, __u8 flags, const __u64 *args)
{
	struct native_event *e = rb_reserve(&events, sizeof(*e), &counters, NC_LOST);

	if (!e)
		return;
	e->tgid = id >> 32;
	e->tid = (__u32)id;
	e->start_ns = start;
	e->dur_ns = end > start ? end - start : 0;
	e->count = cnt;
	e->cycle = cycle;
	e->site = site;
	e->kind = kind;
	e->flags = flags;
	for (int i = 0; i < NATIVE_ARGS; i++)
		e->args[i] = args ? args[i] : 0;
	rb_submit_batched(&events, e, WAKE_BYTES);
}

/* Boehm: a collection's mark began. Inside a timed cycle call on this thread it belongs to that
 * call; otherwise it is a collection the program did not ask for (allocation, GC_init): reported
 * once, numbered by the collector's own count. */
static __always_inline void on_mark(struct pt_regs *ctx, __u64 id, __u16 site, __u64 now)
{
	struct thread_frames *th = bpf_map_lookup_elem(&threads, &id);
	struct proc_state *ps;
	__u64 cnt = 0;
	bool in_cycle = false;

	if (th) {
		drop_returned(th, PT_REGS_SP(ctx));
		for (int i = 0; i < NATIVE_MAX_FRAMES; i++)
			if (i < th->depth && th->f[i].role == NR_CYCLE)
				in_cycle = true;
	}
	if (!has_count || !read_count(PT_REGS_IP(ctx) + count_delta[site], &cnt))
		return;
	ps = proc_get(id >> 32);
	if (!ps)
		return;
	/* The count moves when the collection ends: during the mark it is the previous
	 * collection's. */
	if (ps->last_mark == cnt + 1) {
		counter_inc(&counters, NC_DUP_MARK);
		return;
	}
	ps->last_mark = cnt + 1;
	if (!in_cycle)
		emit(id, NE_MARK, site, (__u32)(cnt + 1), now, now, cnt + 1, 0, NULL);
}

/* The cycle this call belongs to: a cycle call gets a new number; a phase the innermost cycle open
 * on its thread, else the one open in its process, else none (0). */
static __always_inline void number_frame(struct frame *fr, struct thread_frames *th, __u32 tgid,
					 struct pt_regs *ctx)
{
	struct proc_state *ps = proc_get(tgid);

	if (fr->role == NR_CYCLE) {
		if (has_count) {
			fr->count_addr =
				PT_REGS_IP(ctx) + count_delta[fr->site & (NATIVE_MAX_SITES - 1)];
			fr->count_ok = read_count(fr->count_addr, &fr->count);
			fr->cycle = fr->count_ok ? (__u32)(fr->count + 1) : 0;
		} else if (ps) {
			fr->cycle = (__u32)__sync_fetch_and_add(&ps->next_cycle, 1) + 1;
		}
		if (ps)
			ps->open_cycle = fr->cycle;
		return;
	}
	for (int i = NATIVE_MAX_FRAMES - 1; i >= 0; i--) {
		if (i < th->depth && th->f[i].role == NR_CYCLE) {
			fr->cycle = th->f[i].cycle;
			return;
		}
	}
	fr->cycle = ps ? ps->open_cycle : 0;
}

SEC("uprobe")
int on_native_entry(struct pt_regs *ctx)
{
	static const struct thread_frames zero;
	__u64 site = bpf_get_attach_cookie(ctx);
	__u64 id = bpf_get_current_pid_tgid();
	__u64 sp = PT_REGS_SP(ctx), now;
	struct thread_frames *th;
	struct frame *fr;
	__u8 role;
	__u32 d;

	if (site >= NATIVE_MAX_SITES || !current_is_target())
		return 0;
	counter_inc(&counters, NC_HITS);
	now = bpf_ktime_get_ns();
	role = site_role[site];
	if (role == NR_MARK) {
		counter_inc(&counters, NC_MARKS);
		on_mark(ctx, id, (__u16)site, now);
		return 0;
	}
	if (role != NR_CYCLE && role != NR_PHASE)
		return 0;
	th = lookup_or_init(&threads, &id, &zero);
	if (!th)
		return 0;
	drop_returned(th, sp);
	/* Every frame left is a caller of this call (or its tail-caller, at the same sp). */
	for (int i = 0; i < NATIVE_MAX_FRAMES; i++) {
		if (i >= th->depth)
			break;
		if (th->f[i].site == site || (role == NR_CYCLE && th->f[i].role == NR_CYCLE)) {
			counter_inc(&counters, NC_NESTED);
			return 0;
		}
	}
	d = th->depth;
	if (d >= NATIVE_MAX_FRAMES) {
		counter_inc(&counters, NC_TOO_DEEP);
		return 0;
	}
	fr = &th->f[d & (NATIVE_MAX_FRAMES - 1)];
	fr->sp = sp;
	fr->start_ns = now;
	fr->site = (__u16)site;
	fr->role = role;
	fr->count_addr = fr->count = 0;
	fr->count_ok = 0;
	fr->cycle = 0;
	fr->args[0] = PT_REGS_PARM1(ctx);
	fr->args[1] = PT_REGS_PARM2(ctx);
	fr->args[2] = PT_REGS_PARM3(ctx);
	number_frame(fr, th, id >> 32, ctx);
	th->depth = d + 1;
	return 0;
}

SEC("uretprobe")
int on_native_return(struct pt_regs *ctx)
{
	__u64 site = bpf_get_attach_cookie(ctx);
	__u64 id = bpf_get_current_pid_tgid();
	__u64 entry_sp = PT_REGS_SP(ctx) - 8, now = bpf_ktime_get_ns(), after = 0;
	struct thread_frames *th;
	struct proc_state *ps;
	struct frame fr;
	__u8 kind, flags = 0;
	__u32 d;

	if (site >= NATIVE_MAX_SITES || !current_is_target())
		return 0;
	counter_inc(&counters, NC_HITS);
	th = bpf_map_lookup_elem(&threads, &id);
	if (!th)
		return 0;
	drop_returned(th, entry_sp);
	d = th->depth;
	if (!d || d > NATIVE_MAX_FRAMES)
		return 0;
	fr = th->f[(d - 1) & (NATIVE_MAX_FRAMES - 1)];
	/* Not the timed call: an inner recursive one, or one entered before rtmon attached. */
	if (fr.sp != entry_sp || fr.site != site)
		return 0;
	th->depth = d - 1;
	kind = fr.role == NR_CYCLE ? NE_CYCLE : NE_PHASE;
	if (kind == NE_CYCLE) {
		ps = bpf_map_lookup_elem(&procs, &(__u32){ id >> 32 });
		if (ps && ps->open_cycle == fr.cycle)
			ps->open_cycle = 0;
		if (has_count && (!fr.count_ok || !read_count(fr.count_addr, &after)))
			flags |= NEF_NO_COUNT;
		else if (has_count && after == fr.count)
			flags |= NEF_NO_COLLECTION;
		/* The collection that ended last in the call (an incremental collector may finish
		 * one in progress first, then run another). */
		else if (has_count)
			fr.cycle = (__u32)after;
	}
	emit(id, kind, fr.site, fr.cycle, fr.start_ns, now, after, flags, fr.args);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

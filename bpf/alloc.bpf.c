// SPDX-License-Identifier: GPL-2.0
/* rtmon malloc: a log2 histogram of allocation sizes, aggregated in the kernel (no event per call).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "alloc.h"
#include "target_filter.bpf.h"
#include "extremes.bpf.h"
#include "ringbuf_batch.bpf.h"
#include "user_stack.bpf.h"

/* --live: also track which blocks are still allocated (return probes on the allocating functions).
 */
const volatile bool track_live = false;
/* --stacks: each allocating call's user stack; stack_copy: copied for DWARF unwinding (else the
 * kernel's frame-pointer walk, counted here per stack). */
const volatile bool track_stacks = false;
const volatile bool stack_copy = false;
/* Go built with GOEXPERIMENT=sizespecializedmalloc: mallocgc passes requests up to
 * GO_SPECIALIZED_MAX bytes on to specialized functions, which are probed and count them. */
const volatile bool go_specialized = false;
/* glibc's realloc passes realloc(NULL, n) to malloc and realloc(p, 0) to free through their public
 * entry points, which count them. jemalloc's and tcmalloc's do it inside: realloc counts them. */
const volatile bool realloc_forwards = true;
/* By enum alloc_group: the allocator's counts, --budget's calibration hits on rtmon's own code, the
 * object allocator's counts. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ALLOC_GROUP_COUNT);
	__type(key, __u32);
	__type(value, struct malloc_stats);
} stats SEC(".maps");

/* A calibration hit does all a target's hit does (the filter included) and counts under key 1, so
 * that
 * --budget measures the whole cost of a hit. */
static __always_inline struct malloc_stats *target_stats(__u64 fn, bool calibrating)
{
	bool target = current_is_target();
	__u32 key = calibrating ? ALLOC_GROUP_CALIBRATE : alloc_fn_group(fn);

	if (!target && !calibrating)
		return NULL;
	return bpf_map_lookup_elem(&stats, &key);
}

/* Some site has AF_FORWARDS: every hit checks whether it is inside one. */
const volatile bool has_forwarders = false;

/* AF_FORWARDS: the frame of the last forwarding call, per thread (bpf/alloc.h). Userspace shrinks
 * it to one entry when no site forwards. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct fwd_frame);
} fwd_frames SEC(".maps");

/* How many threads have a frame in fwd_frames: while none has, a hit needs no lookup there. In
 * a program that never calls a forwarding function (glibc's realloc is one) every malloc and
 * free hit saves the hash lookup, about 35 ns (kernel.bpf_stats_enabled on the bench workload).
 * A frame is forgotten at the thread's next hit (or at the forwarder's return under --live), so
 * the count comes back to 0; a thread that ends inside a forwarder leaves it above 0, which only
 * costs the lookup again. */
__u64 fwd_active = 0;

static __always_inline void forget_frame(__u64 *id)
{
	if (!bpf_map_delete_elem(&fwd_frames, id))
		__sync_fetch_and_add(&fwd_active, -1);
}

static __always_inline void forwarder_enter(struct pt_regs *ctx, __u64 fn, __u64 cookie)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 lo = PT_REGS_IP(ctx) - ((cookie >> AF_FWD_SKIP_SHIFT) & AF_FWD_SKIP_MAX);
	struct fwd_frame f = {
		.sp = PT_REGS_SP(ctx),
		.fn = fn,
		.lo = lo,
		.hi = lo + (cookie >> AF_FWD_SIZE_SHIFT),
	};

	if (bpf_probe_read_user(&f.ret, sizeof(f.ret), (void *)f.sp))
		return;
	if (!bpf_map_update_elem(&fwd_frames, &id, &f, BPF_NOEXIST))
		__sync_fetch_and_add(&fwd_active, 1);
	else
		bpf_map_update_elem(&fwd_frames, &id, &f, BPF_EXIST);
}

/* True when this hit is a call made inside the thread's last forwarding call, still running
 * (bpf/alloc.h: struct fwd_frame). A frame we are not below any more is forgotten. */
static __always_inline bool nested_in_forwarder(struct pt_regs *ctx, __u64 fn)
{
	__u64 id = bpf_get_current_pid_tgid(), ret = 0, sp = PT_REGS_SP(ctx), ip = PT_REGS_IP(ctx);
	struct fwd_frame *f;

	if (!has_forwarders || !*(volatile __u64 *)&fwd_active)
		return false;
	f = bpf_map_lookup_elem(&fwd_frames, &id);
	/* pymalloc passes its large blocks to malloc: malloc's own group counts those calls */
	if (!f || alloc_fn_group(f->fn) != alloc_fn_group(fn) ||
	    bpf_probe_read_user(&ret, sizeof(ret), (void *)sp))
		return false;
	if (sp < f->sp)
		return ret >= f->lo && ret < f->hi; /* the frame stays: it may call in again */
	/* A tail jump: another function with the forwarder's frame (the same function there is a
	 * new call from the same call site). Under --live the return address is the uretprobe's
	 * trampoline by now: the frame is forgotten at the forwarder's return instead
	 * (forwarder_return), never stale. */
	if (sp == f->sp && (ip < f->lo || ip >= f->hi) && (track_live || ret == f->ret)) {
		forget_frame(&id);
		return true;
	}
	forget_frame(&id);
	return false;
}

/* --live: a forwarding function returns (its return popped: sp is one word above its frame). */
static __always_inline void forwarder_return(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct fwd_frame *f;

	if (!has_forwarders)
		return;
	f = bpf_map_lookup_elem(&fwd_frames, &id);
	if (f && PT_REGS_SP(ctx) == f->sp + 8)
		forget_frame(&id);
}

/* A nested call (nested_in_forwarder): counted apart; under --live, an allocation made inside
 * takes the place of the outer call's entry, as glibc's inner mallocs do (live_enter). */
static __always_inline bool count_nested(struct pt_regs *ctx, __u64 fn, bool calib)
{
	struct malloc_stats *s;

	if (!nested_in_forwarder(ctx, fn))
		return false;
	s = target_stats(fn, calib);
	if (s)
		s->nested++;
	return true;
}

/* Counts one allocating call; returns the stats it updated (NULL when the caller is not a target),
 * so callers can add to them without filtering twice. */
static __always_inline struct malloc_stats *record_alloc(__u64 fn, __u64 size, bool calib)
{
	struct malloc_stats *s = target_stats(fn, calib);

	if (!s || fn >= AF_COUNT) /* for the verifier: cookies come from rtmon's own enum */
		return NULL;
	s->calls[fn]++;
	s->count++;
	s->bytes += size;
	s->slots[log2_slot(size) & (LOG2_SLOTS - 1)]++;
	extremes_add_percpu(&s->size_max, &s->size_min_inv, size);
	return s;
}

/* --stacks, frame-pointer path: the stacks, and what each (process, stack, caller) allocated,
 * counted here: no event per call. Userspace shrinks the maps it does not use to one entry. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, ALLOC_STACK_IDS);
	__type(key, __u64); /* the walk's hash */
	__type(value, struct alloc_stack_walk);
} stack_walks SEC(".maps");

/* The walk being taken (too large for the BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct alloc_stack_walk);
} walk_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ALLOC_STACK_KEYS);
	__type(key, struct alloc_stack_key);
	__type(value, struct alloc_stack_value);
} stack_counts SEC(".maps");

/* --stacks: the frame-pointer path announces each new stack here (a struct alloc_stack_key); the
 * DWARF path sends a record per call (a struct alloc_stack_rec), 17 KiB each: 32 MiB holds about
 * 1900 between the 10 ms drains (about 190,000 calls a second); more are counted as lost stacks.
 * Userspace makes the ring 1 MiB for the frame-pointer path. */
#define STACK_RING_BYTES (32 << 20)
#define STACK_WAKE_BYTES (STACK_RING_BYTES / 8)
RINGBUF_MAP(stack_recs, STACK_RING_BYTES);

/* The DWARF path's record number: unique per CPU (the clock moves between two probe hits). */
static __always_inline __u64 stack_seq(void)
{
	return (bpf_ktime_get_ns() & ((1ULL << 52) - 1)) |
	       ((__u64)bpf_get_smp_processor_id() << 52);
}

/* A stack seen for the first time: userspace names its frames at once, while the process runs
 * (once it has exited its mappings are gone). Once per stack: the wakeup costs nothing per call. */
static __always_inline void stack_announce(const struct alloc_stack_key *k)
{
	struct alloc_stack_key *n = bpf_ringbuf_reserve(&stack_recs, sizeof(*n), 0);

	if (!n) /* named at the report instead, if the process still runs then */
		return;
	*n = *k;
	bpf_ringbuf_submit(n, BPF_RB_FORCE_WAKEUP);
}

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL

/* The frame-pointer walk at a function's entry (bpf/alloc.h: struct alloc_stack_walk); returns its
 * hash. A frame pointer that is not 8-byte aligned, does not grow towards the stack's base or
 * cannot be read ends the walk (code without frame pointers). */
static __always_inline __u64 walk_fp(struct pt_regs *ctx, struct alloc_stack_walk *w)
{
	__u64 bp = PT_REGS_FP(ctx), h = FNV_OFFSET, frame[2], caller = 0;
	__u32 n = 1;
	int i;

	w->ips[0] = PT_REGS_IP(ctx);
	h = (h ^ w->ips[0]) * FNV_PRIME;
	if (!bpf_probe_read_user(&caller, sizeof(caller), (void *)PT_REGS_SP(ctx)) && caller) {
		w->ips[1] = caller;
		h = (h ^ caller) * FNV_PRIME;
		n = 2;
	}
	for (i = 0; i < USER_STACK_MAX_IPS - 2; i++) {
		if (!bp || (bp & 7) || bpf_probe_read_user(frame, sizeof(frame), (void *)bp) ||
		    !frame[1])
			break;
		/* a probe after the prologue: the caller is the chain's first frame */
		if (i || frame[1] != caller) {
			w->ips[n & (ALLOC_WALK_MAX - 1)] = frame[1];
			h = (h ^ frame[1]) * FNV_PRIME;
			n++;
		}
		if (frame[0] <= bp)
			break;
		bp = frame[0];
	}
	w->nips = n;
	w->full = i == USER_STACK_MAX_IPS - 2;
	return h;
}

/* Records the stack of an allocating call of size bytes; k says where it is, for --live. */
static __always_inline void stack_record(struct pt_regs *ctx, struct malloc_stats *s, __u32 fn,
					 __u64 size, bool calib, struct alloc_stack_key *k)
{
	struct alloc_stack_value zero = { 0 }, *v;
	struct alloc_stack_walk *w;
	struct alloc_stack_rec *rec;
	__u32 z = 0;

	k->tgid = bpf_get_current_pid_tgid() >> 32;
	k->walked = 0;
	k->id = 0;
	if (stack_copy) {
		rec = bpf_ringbuf_reserve(&stack_recs, sizeof(*rec), 0);
		if (!rec) {
			s->stacks_lost++;
			return;
		}
		rec->size = size;
		rec->seq = stack_seq();
		rec->tgid = k->tgid;
		rec->fn = fn;
		user_stack_capture(ctx, ctx, &rec->us, true, true);
		k->id = rec->seq;
		if (calib) /* the cost of a hit is measured, nothing is reported */
			bpf_ringbuf_discard(rec, BPF_RB_NO_WAKEUP);
		else
			rb_submit_batched(&stack_recs, rec, STACK_WAKE_BYTES);
		return;
	}
	w = bpf_map_lookup_elem(&walk_scratch, &z);
	if (!w) {
		s->stacks_lost++;
		return;
	}
	k->id = walk_fp(ctx, w);
	k->walked = 1;
	if (calib)
		return;
	v = bpf_map_lookup_elem(&stack_counts, k);
	if (!v) {
		/* a new stack: its frames first (another process may have the same walk) */
		bpf_map_update_elem(&stack_walks, &k->id, w, BPF_NOEXIST);
		if (!bpf_map_update_elem(&stack_counts, k, &zero, BPF_NOEXIST))
			stack_announce(k);
		v = bpf_map_lookup_elem(&stack_counts, k);
		if (!v) {
			s->stacks_lost++;
			return;
		}
	}
	__sync_fetch_and_add(&v->count, 1);
	__sync_fetch_and_add(&v->bytes, size);
}

/* --live. Userspace shrinks both maps to one entry without --live. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, LIVE_TABLE_ENTRIES);
	__type(key, struct live_key);
	__type(value, struct live_block);
} live_blocks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, LIVE_CALLS_ENTRIES);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct live_call);
} live_calls SEC(".maps");

/* Takes (tgid, ptr) out of the table: true, with the block, if it was there. */
static __always_inline bool live_remove(struct malloc_stats *s, __u32 tgid, __u64 ptr,
					struct live_block *b)
{
	struct live_key k = { .tgid = tgid, .ptr = ptr };
	struct live_block *v = bpf_map_lookup_elem(&live_blocks, &k);

	if (!v)
		return false;
	*b = *v;
	if (bpf_map_delete_elem(&live_blocks, &k))
		return false;
	s->live_allocs--;
	s->live_bytes -= b->size;
	return true;
}

static __always_inline void live_insert(struct malloc_stats *s, __u32 tgid, __u64 ptr,
					const struct live_block *b)
{
	struct live_key k = { .tgid = tgid, .ptr = ptr };
	struct live_block old;

	/* Already there: its free was not seen (an allocator path rtmon does not probe). Replace
	 * it. */
	live_remove(s, tgid, ptr, &old);
	if (bpf_map_update_elem(&live_blocks, &k, b, BPF_NOEXIST)) {
		s->live_table_full++;
		return;
	}
	s->live_allocs++;
	s->live_bytes += b->size;
}

/* At an allocating call's entry: what its return needs. glibc calls malloc from within realloc and
 * memalign in some cases; the inner call replaces the outer one's entry and its return consumes it,
 * so the outer return finds nothing and does nothing: the block is counted once. A nested call
 * (count_nested) took no stack of its own: its block keeps the outer call's. */
static __always_inline void live_enter(struct malloc_stats *s, __u32 fn, __u64 size, __u64 arg,
				       const struct alloc_stack_key *key, bool nested)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct live_call c = { .size = size, .arg = arg, .fn = fn, .key = *key }, *outer;
	struct live_block old;

	if (nested && track_stacks && (outer = bpf_map_lookup_elem(&live_calls, &id)))
		c.key = outer->key;

	/* realloc releases the old block inside the call, where another thread may get the same
	 * address back: take it out of the table now, and put it back if realloc fails. */
	if ((fn == AF_REALLOC || fn == AF_RALLOCX) && arg && live_remove(s, id >> 32, arg, &old)) {
		c.old_found = 1;
		c.old_size = old.size;
		c.old_time_ns = old.time_ns;
		c.old_key = old.key;
	}
	if (bpf_map_update_elem(&live_calls, &id, &c, BPF_ANY))
		s->live_table_full++;
}

static __always_inline void live_free(struct malloc_stats *s, __u64 ptr)
{
	struct live_block b;

	if (!live_remove(s, bpf_get_current_pid_tgid() >> 32, ptr, &b))
		s->frees_untracked++;
}

/* Go's register ABI passes the first integer argument in RAX (amd64), X0 (arm64). */
#if defined(__TARGET_ARCH_x86)
#define GO_ARG1(ctx) ((ctx)->ax)
#else
#define GO_ARG1(ctx) PT_REGS_PARM1(ctx)
#endif

static __always_inline int record_go_alloc(struct pt_regs *ctx, __u64 fn, bool calib)
{
	__u64 size = GO_ARG1(ctx);
	struct alloc_stack_key key;
	struct malloc_stats *s;
	unsigned int cls;

	if (fn == AF_MALLOCGC && (!size || (go_specialized && size <= GO_SPECIALIZED_MAX))) {
		/* Size 0 returns the zero base: Go counts no allocation (MemStats.Mallocs), nor do
		 * we. A small request under the experiment is counted where it goes next. */
		s = target_stats(fn, calib);
		if (!s)
			return 0;
		s->calls[AF_MALLOCGC]++; /* a probe hit all the same (--budget's cost) */
		if (!size)
			s->go_zero_size++;
		return 0;
	}
	s = record_alloc(fn, size, calib);
	if (!s)
		return 0;
	if (track_stacks)
		stack_record(ctx, s, fn, size, calib, &key);
	cls = go_size_class(size);
	if (cls > GO_CLASS_LARGE)
		return 0;
	s->go_classes[cls]++;
	if (cls == GO_CLASS_LARGE)
		s->go_large_bytes += size;
	return 0;
}

/* One program for every allocator function: userspace attaches it at each function's address with
 * the function's enum alloc_fn as the cookie, so all sites of a file share one uprobe_multi link.
 */
SEC("uprobe")
int BPF_KPROBE(on_alloc_call, unsigned long a0, unsigned long a1, unsigned long a2)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u64 fn = AF_OF_COOKIE(cookie);
	bool calib = cookie & AF_CALIBRATE;
	bool forwards = cookie & AF_FORWARDS;
	struct alloc_stack_key key = { 0 };
	struct malloc_stats *s;
	__u64 size, arg = 0;

	switch (fn) {
	case AF_MALLOC:
	case AF_VALLOC:
	case AF_PVALLOC:
	case AF_MALLOCX:
	case AF_TC_NEW:
	case AF_CXX_NEW:
	case AF_PYOBJ_MALLOC:
		size = a0;
		goto alloc;
	case AF_CALLOC:
	case AF_PYOBJ_CALLOC:
		size = (__u64)a0 * a1;
		goto alloc;
	case AF_RALLOCX: /* ptr is never NULL, size never 0 (jemalloc's API) */
	case AF_PYOBJ_REALLOC:
		size = a1;
		arg = a0;
		goto alloc;
	case AF_ALIGNED_ALLOC:
	case AF_MEMALIGN:
		size = a1;
		goto alloc;
	case AF_POSIX_MEMALIGN:
		size = a2;
		arg = a0;
		goto alloc;
	case AF_REALLOC:
		/* glibc forwards realloc(NULL, n) to malloc and realloc(p, 0) to free, through the
		 * entry points rtmon probes: those calls are counted there, not twice. */
		if ((a0 && a1) || (!realloc_forwards && a1)) {
			size = a1;
			arg = a0;
			goto alloc;
		}
		if (!realloc_forwards && a0)
			goto release; /* realloc(p, 0) frees p */
		break;
	case AF_FREE:
	case AF_DALLOCX:
	case AF_SDALLOCX:
	case AF_TC_DELETE:
	case AF_CXX_DELETE:
	case AF_PYOBJ_FREE:
		if (!a0)
			return 0;
		goto release;
	case AF_XALLOCX:
		break;
	case AF_MALLOCGC:
	case AF_MALLOCGC_SPECIALIZED:
		return record_go_alloc(ctx, fn, calib);
	default:
		return 0;
	}
	if (count_nested(ctx, fn, calib))
		return 0;
	s = target_stats(fn, calib);
	if (s && fn < AF_COUNT)
		s->calls[fn]++;
	return 0;
release:
	/* The cookie again at each label: in every case above the verifier knows fn's value, so
	 * each case's path to here would be verified apart; fetched again, the old values are dead
	 * and the paths merge (12,927 -> 10,576 instructions verified for glibc's sites, a fifth of
	 * the load time of this program, the largest part of rtmon malloc's attach). */
	cookie = bpf_get_attach_cookie(ctx);
	fn = AF_OF_COOKIE(cookie);
	calib = cookie & AF_CALIBRATE;
	forwards = cookie & AF_FORWARDS;
	if (count_nested(ctx, fn, calib))
		return 0; /* the outer call freed it */
	s = target_stats(fn, calib);
	if (!s || fn >= AF_COUNT)
		return 0;
	s->calls[fn]++;
	s->frees++;
	if (track_live && !calib)
		live_free(s, a0);
	if (forwards)
		forwarder_enter(ctx, fn, cookie);
	return 0;
alloc:
	cookie = bpf_get_attach_cookie(ctx); /* as at release: */
	fn = AF_OF_COOKIE(cookie);
	calib = cookie & AF_CALIBRATE;
	forwards = cookie & AF_FORWARDS;
	if (count_nested(ctx, fn, calib)) {
		s = target_stats(fn, calib);
		if (s && track_live && !calib)
			live_enter(s, fn, size, arg, &key, true);
		return 0;
	}
	if (forwards)
		forwarder_enter(ctx, fn, cookie);
	s = record_alloc(fn, size, calib);
	if (s && track_stacks)
		stack_record(ctx, s, (__u32)fn, size, calib, &key);
	if (s && track_live && !calib)
		live_enter(s, fn, size, arg, &key, false);
	return 0;
}

/* --live: the same functions' returns (native code only: never a uretprobe on Go). */
SEC("uretprobe")
int BPF_KRETPROBE(on_alloc_return, unsigned long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct live_call *c = bpf_map_lookup_elem(&live_calls, &id);
	struct live_call call;
	struct live_block b;
	struct malloc_stats *s;
	__u32 zero = 0;
	__u64 ptr = ret, fn = AF_OF_COOKIE(bpf_get_attach_cookie(ctx));

	forwarder_return(ctx);
	/* A forwarding free's return (only its frame to forget), or an allocation's whose entry was
	 * not seen (before attach) or whose inner call already took it. */
	if (!c || fn == AF_FREE || fn == AF_DALLOCX || fn == AF_SDALLOCX || fn == AF_TC_DELETE ||
	    fn == AF_CXX_DELETE)
		return 0;
	call = *c;
	bpf_map_delete_elem(&live_calls, &id);
	s = bpf_map_lookup_elem(&stats, &zero); /* the entry filtered: this thread is a target's */
	if (!s)
		return 0;
	if (call.fn == AF_POSIX_MEMALIGN) {
		ptr = 0;
		if (ret == 0 && bpf_probe_read_user(&ptr, sizeof(ptr), (void *)call.arg))
			ptr = 0;
	}
	if (!ptr) { /* failed: a failed realloc leaves the old block allocated */
		if ((call.fn == AF_REALLOC || call.fn == AF_RALLOCX) && call.old_found) {
			b = (struct live_block){ call.old_size, call.old_time_ns, call.old_key };
			live_insert(s, id >> 32, call.arg, &b);
		}
		return 0;
	}
	if ((call.fn == AF_REALLOC || call.fn == AF_RALLOCX) && call.arg && !call.old_found)
		s->frees_untracked++; /* realloc released a block allocated before tracing */
	b = (struct live_block){ call.size, bpf_ktime_get_ns(), call.key };
	live_insert(s, id >> 32, ptr, &b);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

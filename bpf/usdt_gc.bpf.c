// SPDX-License-Identifier: GPL-2.0
/* rtmon gc (CPython, HotSpot): the runtimes' own USDT probes, attached by libbpf
 * (bpf_program__attach_usdt: the perf uprobe PMU, no tracefs; it sets CPython's semaphores). Each
 * begin probe remembers its time on the thread; the matching end probe emits one event with the
 * duration. Collections are few (CPython's youngest generation: at most thousands a second), so the
 * cost is a couple of uprobe hits per collection.
 *
 *   python:gc__start(int generation)        python:gc__done(Py_ssize_t collected)
 *   hotspot:gc__begin(bool is_full)         hotspot:gc__end()
 *   hotspot:mem__pool__gc__begin/end(char *manager, int len, char *pool, int len,
 *                                    size_t init, size_t used, size_t committed, size_t max)
 *   hotspot:vm__init__end()
 * HotSpot fires the pool probes for every memory pool, in one loop before the collection and one
 * after, on the thread that runs it (the VM thread for the stop-the-world collectors).
 *
 * A CPython built without the probes gets an entry and a return probe on the collector's main
 * function instead (user/runtime/python/gc_func.c: gc_collect_main, collect in 3.9), which takes
 * the generation as its second argument and returns what gc__done reports: the same event.
 * CPython is native code, so a return probe is safe there. In 3.13 an automatic collection enters
 * it with GENERATION_AUTO (-1) and the generation chosen inside is first seen as an argument of
 * invoke_gc_callback(tstate, "start", generation, stats); a call that chose none returns at once.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>
#include "usdt_gc.h"
#include "percpu_counters.bpf.h"
#include "ringbuf_batch.bpf.h"
#include "map_helpers.bpf.h"
#include "target_filter.bpf.h"

/* A few events per collection: 1 MiB holds thousands, more than a 10 ms drain period sees. */
#define RING_BYTES (1 << 20)
#define WAKE_BYTES (RING_BYTES / 4)

struct begin {
	__u64 ts;
	__u64 sp; /* function probes: the stack pointer at entry (where the return address is); 0 */
	__s64 arg; /* generation (CPython), is_full (HotSpot) */
	__u32 cycle;
	__u32 cause_pool; /* HotSpot: the cause was read at the collection's first pool probe */
	char cause[GU_NAME_LEN]; /* HotSpot: the GC cause */
};

/* Name pointers: stable for the life of the pool and the manager, and unique among them. The
 * manager is part of the key should one collector's pool loop ever nest in another's. */
struct pool_key {
	__u32 tid;
	__u32 pad;
	__u64 manager;
	__u64 pool;
};

struct pool_begin {
	__u64 ts;
	struct gu_usage before;
	__u32 cycle;
};

RINGBUF_MAP(events, RING_BYTES);

/* LRU: a thread that dies between begin and end leaves its entry behind; old ones are evicted. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct begin);
} begins SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct pool_key);
	__type(value, struct pool_begin);
} pool_begins SEC(".maps");

/* Collections seen per process: the cycle numbers. 64-bit: clang 14's BPF target has no 32-bit
 * atomic fetch-and-add. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} cycles SEC(".maps");

/* HotSpot: where each JVM keeps the name of the cause of the collection it runs (its perf data's
 * sun.gc.cause, a string the VM thread rewrites as it starts and ends each collection), by tgid;
 * found by userspace from the JVM's own tables (user/runtime/java/gc_cause.c). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} jvm_cause_addr SEC(".maps");

PERCPU_COUNTERS(counters, GU_NCOUNTERS);

/* Counts the hit of a traced process; false for others (--binpath attaches to every process). */
static __always_inline bool hit(void)
{
	if (!current_is_target())
		return false;
	counter_inc(&counters, GU_HITS);
	return true;
}

static __always_inline __u32 next_cycle(__u32 tgid)
{
	static const __u64 zero;
	__u64 *n = lookup_or_init(&cycles, &tgid, &zero);

	if (!n)
		return 0;
	return (__u32)(__sync_fetch_and_add(n, 1) + 1);
}

/* cycle: whether this begin is a collection (a CPython 3.13 GENERATION_AUTO call may not be one:
 * it is numbered once its generation is known). */
static __always_inline void on_begin(__s64 arg, __u64 sp, bool cycle)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct begin b = { .ts = bpf_ktime_get_ns(),
			   .sp = sp,
			   .arg = arg,
			   .cycle = cycle ? next_cycle(id >> 32) : 0 };

	bpf_map_update_elem(&begins, &tid, &b, BPF_ANY);
}

static __always_inline struct gu_event *reserve(__u8 kind, __u64 start)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct gu_event *e = rb_reserve(&events, sizeof(*e), &counters, GU_LOST);
	__u64 now = bpf_ktime_get_ns();

	if (!e)
		return NULL;
	__builtin_memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->tgid = id >> 32;
	e->tid = (__u32)id;
	e->start_ns = start;
	e->dur_ns = now > start ? now - start : 0;
	return e;
}

static __always_inline void submit(struct gu_event *e)
{
	rb_submit_batched(&events, e, WAKE_BYTES);
}

/* The end of a collection begun on this thread: one event, or GU_UNPAIRED. sp: for a return probe,
 * where the call's return address was (0 for USDT); the return of another call is not the end. */
static __always_inline struct gu_event *end_collection(__u8 kind, __u64 sp)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct begin *b = bpf_map_lookup_elem(&begins, &tid);
	struct gu_event *e;

	if (!b) {
		counter_inc(&counters, GU_UNPAIRED);
		return NULL;
	}
	if (b->sp != sp)
		return NULL;
	e = reserve(kind, b->ts);
	if (e) {
		e->cycle = b->cycle;
		if (kind == GU_PY_COLLECT) {
			e->generation = b->arg;
		} else {
			e->full = b->arg != 0;
			__builtin_memcpy(e->cause, b->cause, sizeof(e->cause));
		}
	}
	bpf_map_delete_elem(&begins, &tid);
	return e;
}

SEC("usdt")
int BPF_USDT(py_gc_start, int generation)
{
	if (hit())
		on_begin(generation, 0, true);
	return 0;
}

SEC("usdt")
int BPF_USDT(py_gc_done, long collected)
{
	struct gu_event *e;

	if (!hit())
		return 0;
	e = end_collection(GU_PY_COLLECT, 0);
	if (!e)
		return 0;
	e->collected = collected;
	submit(e);
	return 0;
}

/* The generation not chosen yet at the entry, and one whose callback arguments were not as
 * expected. */
#define GEN_AUTO   (-1)
#define GEN_UNREAD (-2)

/* The collector's callers never enter it while it runs (gcstate->collecting), but a call found open
 * on the thread higher in the stack than this one would be: count it, and time the outer one. Every
 * open call has its return probe armed (userspace attaches the return probe first), so an open call
 * is one still running. */
SEC("uprobe")
int py_gc_entry(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 sp = PT_REGS_SP(ctx);
	struct begin *b;
	int gen = (int)PT_REGS_PARM2(ctx);

	if (!hit())
		return 0;
	b = bpf_map_lookup_elem(&begins, &tid);
	if (b && b->sp > sp) {
		counter_inc(&counters, GU_NESTED);
		return 0;
	}
	on_begin(gen, sp, gen != GEN_AUTO);
	return 0;
}

/* CPython 3.13's invoke_gc_callback (the compiler's copy, invoke_gc_callback.isra.0, with the same
 * arguments: checked by the phase string). Only its first call in a collection started as
 * GENERATION_AUTO matters. */
SEC("uprobe")
int py_gc_generation(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct begin *b;
	char phase[8] = {};

	if (!hit())
		return 0;
	b = bpf_map_lookup_elem(&begins, &tid);
	if (!b || b->arg != GEN_AUTO)
		return 0;
	if (bpf_probe_read_user_str(phase, sizeof(phase), (const void *)PT_REGS_PARM2(ctx)) == 6 &&
	    phase[0] == 's' && phase[1] == 't' && phase[2] == 'a' && phase[3] == 'r' &&
	    phase[4] == 't')
		b->arg = (int)PT_REGS_PARM3(ctx);
	else
		b->arg = GEN_UNREAD;
	/* A collection, either way: it gets its number now. */
	b->cycle = next_cycle(bpf_get_current_pid_tgid() >> 32);
	return 0;
}

SEC("uretprobe")
int py_gc_return(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	/* After the return the stack pointer is 8 bytes above where the return address was. */
	__u64 sp = PT_REGS_SP(ctx) - 8;
	struct gu_event *e;
	struct begin *b;

	if (!hit())
		return 0;
	b = bpf_map_lookup_elem(&begins, &tid);
	if (b && b->sp == sp && b->arg == GEN_AUTO) {
		counter_inc(&counters, GU_NO_COLLECTION);
		bpf_map_delete_elem(&begins, &tid);
		return 0;
	}
	if (b && b->sp == sp && b->arg == GEN_UNREAD) {
		counter_inc(&counters, GU_GEN_UNREAD);
		b->arg = -1;
	}
	e = end_collection(GU_PY_COLLECT, sp);
	if (!e)
		return 0;
	e->collected = (long)PT_REGS_RC(ctx);
	submit(e);
	return 0;
}

/* The JVM's current GC cause into b->cause ("" when its address is not known or not readable). */
static __always_inline void read_cause(struct begin *b)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 *addr = bpf_map_lookup_elem(&jvm_cause_addr, &tgid);

	if (!addr || bpf_probe_read_user_str(b->cause, sizeof(b->cause), (const void *)*addr) < 0)
		b->cause[0] = 0;
}

/* The cause at gc__begin: G1 sets it before, but the serial and parallel collectors' VM operations
 * fire gc__begin first and set the cause after (SvcGCMarker, then GCCauseSetter), so the first pool
 * probe of the collection, inside both, reads it again. A GC operation without pool probes (G1's
 * Remark and Cleanup pauses) keeps what gc__begin saw: "No GC", a pause without a cause. */
SEC("usdt")
int BPF_USDT(jvm_gc_begin, long is_full)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct begin *b;

	if (!hit())
		return 0;
	on_begin((__u8)is_full, 0, true);
	b = bpf_map_lookup_elem(&begins, &tid);
	if (b)
		read_cause(b);
	return 0;
}

/* vm__init__end: the JVM's tables are set up; userspace finds the cause's address now, before the
 * program's first collection (rtmon gc -- java ...). */
SEC("usdt")
int BPF_USDT(jvm_init_end)
{
	struct gu_event *e;

	if (!hit())
		return 0;
	e = reserve(GU_JVM_INIT, bpf_ktime_get_ns());
	if (e)
		bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	return 0;
}

SEC("usdt")
int BPF_USDT(jvm_gc_end)
{
	struct gu_event *e;

	if (!hit())
		return 0;
	e = end_collection(GU_JVM_PAUSE, 0);
	if (e)
		submit(e);
	return 0;
}

static __always_inline void read_name(char *dst, const void *src, long len)
{
	__u32 n = len < 0 ? 0 : len > GU_NAME_LEN - 1 ? GU_NAME_LEN - 1 : (__u32)len;

	n &= GU_NAME_LEN - 1;
	if (bpf_probe_read_user(dst, n, src))
		n = 0;
	dst[n & (GU_NAME_LEN - 1)] = 0;
}

SEC("usdt")
int BPF_USDT(jvm_pool_begin, void *mgr, long mgr_len, void *pool, long pool_len, __u64 init,
	     __u64 used, __u64 committed, __u64 max)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pool_key k = { .tid = tid, .manager = (__u64)mgr, .pool = (__u64)pool };
	struct pool_begin pb = {
		.ts = bpf_ktime_get_ns(),
		.before = { .init = init, .used = used, .committed = committed, .max = max }
	};
	struct begin *b;

	if (!hit())
		return 0;
	b = bpf_map_lookup_elem(&begins, &tid);
	pb.cycle = b ? b->cycle : 0;
	if (b && !b->cause_pool) {
		b->cause_pool = 1;
		read_cause(b);
	}
	bpf_map_update_elem(&pool_begins, &k, &pb, BPF_ANY);
	return 0;
}

SEC("usdt")
int BPF_USDT(jvm_pool_end, void *mgr, long mgr_len, void *pool, long pool_len, __u64 init,
	     __u64 used, __u64 committed, __u64 max)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pool_key k = { .tid = tid, .manager = (__u64)mgr, .pool = (__u64)pool };
	struct pool_begin *pb;
	struct gu_event *e;

	if (!hit())
		return 0;
	pb = bpf_map_lookup_elem(&pool_begins, &k);
	if (!pb) {
		counter_inc(&counters, GU_UNPAIRED);
		return 0;
	}
	e = reserve(GU_JVM_POOL, pb->ts);
	if (e) {
		e->cycle = pb->cycle;
		e->before = pb->before;
		e->after = (struct gu_usage){
			.init = init, .used = used, .committed = committed, .max = max
		};
		read_name(e->manager, mgr, mgr_len);
		read_name(e->pool, pool, pool_len);
		submit(e);
	}
	bpf_map_delete_elem(&pool_begins, &k);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

/* Shared between usdt_gc.bpf.c and user/runtime/python/gc_python.c, user/runtime/java/gc_java.c:
 * one event per collection or memory pool, paired in the kernel from the runtime's USDT begin/end
 * probes (or, for a CPython without them, its collector function's entry and return). */
#ifndef RTMON_GC_USDT_H
#define RTMON_GC_USDT_H

#define GU_NAME_LEN 64 /* a power of two: the BPF side masks lengths with it */

enum gu_kind {
	GU_PY_COLLECT = 1, /* python:gc__start .. gc__done: one collection */
	GU_JVM_PAUSE,      /* hotspot:gc__begin .. gc__end: one GC operation at a safepoint */
	GU_JVM_POOL, /* hotspot:mem__pool__gc__begin .. end: one memory pool across a collection */
	GU_JVM_INIT, /* hotspot:vm__init__end: the JVM is up, its GC cause can be found (no times)
		      */
};

/* A memory pool's usage, as HotSpot's MemoryUsage (bytes; max is (size_t)-1 when undefined). */
struct gu_usage {
	__u64 init;
	__u64 used;
	__u64 committed;
	__u64 max;
};

struct gu_event {
	__u64 start_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u64 dur_ns;
	__u32 tgid;
	__u32 tid;
	__u32 cycle; /* per process, from 1 at attach; pools: the enclosing gc__begin's, 0 if none
		      */
	__u8 kind;   /* enum gu_kind */
	__u8 full;   /* GU_JVM_PAUSE: gc__begin's is_full */
	__u8 pad[2];
	__s64 generation;              /* GU_PY_COLLECT: gc__start's argument */
	__s64 collected;               /* GU_PY_COLLECT: gc__done's argument (objects collected) */
	struct gu_usage before, after; /* GU_JVM_POOL */
	char manager[GU_NAME_LEN];     /* GU_JVM_POOL: the GC memory manager ("MarkSweepCompact") */
	char pool[GU_NAME_LEN];        /* GU_JVM_POOL: the pool ("Tenured Gen") */
	char cause[GU_NAME_LEN];       /* GU_JVM_PAUSE: the GC cause as the JVM names it
					* ("System.gc()"); "" when not read */
};

/* Per-CPU counters (array indices). */
enum gu_counter {
	GU_LOST,          /* ring buffer full: events dropped */
	GU_HITS,          /* probe hits by a traced process */
	GU_UNPAIRED,      /* an end without its begin (attached mid-collection) */
	GU_NESTED,        /* function probes: an entry while a collection was open on the thread */
	GU_NO_COLLECTION, /* CPython 3.13: gc_collect_main returned without collecting (no
			   * generation over its threshold, or a collection already running) */
	GU_GEN_UNREAD,    /* CPython 3.13: invoke_gc_callback's arguments not as expected: the
			   * collection's generation is not known (-1) */
	GU_NCOUNTERS,
};

#endif

/* Shared between native_gc.bpf.c and user/runtime/native/gc_native.c: what each probe site is, and
 * the events, one per timed call (a GC cycle or a phase) or per collection seen only by its mark.
 */
#ifndef RTMON_GC_NATIVE_H
#define RTMON_GC_NATIVE_H

/* Sites are numbered 0..n-1; the number is the probe's cookie and indexes the tables below. */
#define NATIVE_MAX_SITES 32
/* Open timed calls kept per thread: a cycle and its phases nest a few deep at most. Recursive calls
 * of the same function take no slot (only the outermost is timed). */
#define NATIVE_MAX_FRAMES 8
/* Arguments kept from a timed call's entry. */
#define NATIVE_ARGS 3

enum native_role {
	NR_NONE,
	NR_CYCLE, /* entry and return: each call is one GC cycle (Boehm's GC_gcollect, --cycle SYM)
		   */
	NR_PHASE, /* entry and return: each call is one phase of the cycle open on the thread
		     (--phase) */
	NR_MARK,  /* entry only: reached once by every collection's mark (Boehm's root push) */
};

enum native_kind {
	NE_CYCLE, /* a cycle function returned */
	NE_PHASE, /* a phase function returned */
	NE_MARK, /* a collection began outside any cycle call: its start only (Boehm, allocation) */
};

/* NE_CYCLE with a collector count: the count did not move during the call, nothing was collected
 * (Boehm: GC_disable()d, or GC_try_to_collect's stop function said stop). */
#define NEF_NO_COLLECTION 1
/* The collector count could not be read: cycle is 0. */
#define NEF_NO_COUNT 2

struct native_event {
	__u64 start_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u64 dur_ns;   /* 0 for NE_MARK */
	__u64 count; /* the collector's own count after the collection (Boehm: GC_gc_no); 0 without
		      */
	/* The call's first arguments as it was entered (rdi, rsi, rdx): a backend that knows the
	 * function's signature reads them (V8: the Heap, the collector, the reason). */
	__u64 args[NATIVE_ARGS];
	__u32 tgid;
	__u32 tid;
	__u32 cycle; /* the cycle's number; 0 for a phase called outside any cycle */
	__u16 site;
	__u8 kind;  /* enum native_kind */
	__u8 flags; /* NEF_* */
};

/* Per-CPU counters (array indices). */
enum native_counter {
	NC_LOST,       /* ring buffer full: events dropped */
	NC_HITS,       /* entry and return probe hits in traced processes */
	NC_NESTED,     /* calls inside an open call of the same function (recursion), or of a
			* cycle function inside an open cycle: part of the outer call, not timed */
	NC_UNRETURNED, /* timed calls whose return was never seen (longjmp, or the kernel's
			* uretprobe nesting limit): dropped when the stack showed they were gone */
	NC_TOO_DEEP,   /* calls not timed: NATIVE_MAX_FRAMES timed calls were already open on the
			  thread */
	NC_DUP_MARK,   /* a collection's mark seen again (Boehm re-pushes roots after a mark stack
			  overflow) */
	NC_NO_COUNT,   /* the collector's count could not be read */
	NC_MARKS,      /* hits of the mark probe (NR_MARK), inside cycle calls or not */
	NC_COUNT,
};

#endif

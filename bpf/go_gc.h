/* Shared between go_gc.bpf.c and user/runtime/go/gc_go.c: the probe sites (cookies) and the events,
 * one per GC phase or stop-the-world that ended. */
#ifndef RTMON_GC_H
#define RTMON_GC_H

/* Which Go runtime function a uprobe sits in: the cookie of each site, so that one program and one
 * uprobe_multi link cover them all. */
enum gc_site {
	GS_GCSTART,       /* runtime.gcStart body: trigger kind in RAX, trigger.n in RCX */
	GS_STW_STOP,      /* runtime.stopTheWorldWithSema body: reason in AL (Go 1.21+) */
	GS_STW_START_RET, /* RETs of runtime.startTheWorldWithSema: the world runs again */
	GS_MARK_TERM,  /* runtime.gcMarkTermination body: this stop is the final mark termination */
	GS_SWEEP_DONE, /* runtime.freeSomeWbufs, runtime.mProf_PostSweep bodies: sweep finished */
	GS_LEGACY_STW, /* Go <= 1.20, runtime.stopTheWorld body: reason string in RAX/RBX */
	GS_LEGACY_STW_FUNC1, /* Go <= 1.20, runtime.stopTheWorld.func1 body: the next stop is not GC
			      */
	GS_COUNT,
};

/* Phases, in the order of a cycle, then stop-the-worlds that are not GC phases. */
enum gc_phase {
	GP_SWEEP_TERM,   /* STW: sweep termination, the cycle starts */
	GP_MARK,         /* concurrent mark */
	GP_MARK_TERM,    /* STW: mark termination */
	GP_SWEEP,        /* concurrent sweep, until the sweep list is drained */
	GP_MARK_RESTART, /* STW: a mark termination that found more work and went back to marking */
	GP_STW,          /* STW that is not GC (ReadMemStats, GOMAXPROCS, profiles, ...) */
	GP_COUNT,
};

/* gcTrigger.kind, as in the runtime (stable from Go 1.17 to 1.26). */
enum gc_trigger {
	GT_HEAP = 0,
	GT_TIME = 1,
	GT_CYCLE = 2,     /* runtime.GC(): "forced" */
	GT_UNKNOWN = 255, /* rtmon attached after the cycle started */
};

/* runtime.stwReason (Go 1.21 to 1.26 share these values). Go <= 1.20 passes a string instead: the
 * BPF side copies it into reason_str and sets STW_REASON_STRING. */
#define STW_UNKNOWN       0
#define STW_GC_MARK_TERM  1
#define STW_GC_SWEEP_TERM 2
#define STW_REASON_STRING 254
#define STW_REASON_LEN    32 /* a power of two: the BPF side masks lengths with it */

struct gc_event {
	__u64 start_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u64 dur_ns;
	__u32 tgid;
	__u32 cycle;                     /* 0 for a non-GC stop-the-world outside any cycle */
	__u8 phase;                      /* enum gc_phase */
	__u8 trigger;                    /* enum gc_trigger of the cycle */
	__u8 reason;                     /* stwReason for STW phases */
	__u8 flags;                      /* GE_* */
	char reason_str[STW_REASON_LEN]; /* Go <= 1.20: the runtime's reason string */
	/* GP_MARK_TERM with GE_HEAP: what gctrace prints for the cycle, read from the runtime as
	 * the world restarts (gcMarkTermination has set them, and holds worldsema until after its
	 * gctrace print: no next cycle overwrites them before): runtime.work.heap0, heap1, heap2
	 * (heap at GC start, at mark termination, marked live), the goal (work.heapGoal to Go
	 * 1.18, gcController.lastHeapGoal after) and memstats.gc_cpu_fraction (a float64's bits).
	 * 0 without GE_HEAP. */
	__u64 heap[3];
	__u64 heap_goal;
	__u64 gc_cpu_fraction;
};

#define GE_HEAP 1 /* heap, heap_goal and gc_cpu_fraction were read */

/* Per-CPU counters (array indices). */
enum gc_counter {
	GC_LOST, /* ring buffer full: events dropped */
	GC_HITS, /* probe hits by a traced process */
	GC_NCOUNTERS,
};

#endif

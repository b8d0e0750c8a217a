/* Goroutine tracking for rtmon thr and rtmon lat on Go programs: shared between bpf/goroutine.bpf.h
 * and user/runtime/go/goroutine.c. See docs/thr.md (Go programs). */
#ifndef RTMON_GOROUTINE_EVENT_H
#define RTMON_GOROUTINE_EVENT_H

#include "log2.h"

/* Probe sites, all on one uprobe_multi link; the cookie says which. */
enum gr_site {
	GR_SITE_NEWPROC1 = 1, /* runtime.newproc1 body: start PC, parent goid, creation time */
	GR_SITE_RUNQPUT =
		2, /* the CALL runtime.runqput in runtime.newproc.func1: the new g has its goid */
	GR_SITE_GOEXIT1 = 3, /* runtime.goexit1 body: runs on the exiting goroutine (R14 = g) */
};

/* Set by userspace before load. */
struct gr_config {
	__u64 newproc1_vaddr; /* link-time address of the newproc1 probe: load bias = probe IP -
				 this */
	__u32 goid_off;       /* runtime.g.goid */
	__u32 callergp_rdi;   /* Go 1.17: newproc1(fn, argp, narg, callergp, ...): callergp in RDI,
				 not RBX */
	__u32 captured_wrappers; /* entries in gr_wrappers (0: no lookup) */
	__u32 pad;
};

/* gr_wrappers: go-statement wrappers that run a function value they captured (Go 1.17 to 1.21's
 * `go func(a int){...}(x)`): link-time entry -> the capture's offset in the wrapper's closure. */
#define GR_WRAPPERS_MAX 4096

enum gr_kind {
	GR_EV_CREATE = 1,
	GR_EV_EXIT = 2,
	GR_EV_ALIVE = 3, /* userspace only: alive when rtmon attached (read from the process) */
};

enum gr_flags {
	GR_F_KNOWN =
		1, /* exit: the goroutine was seen created (lifetime, start and parent known) */
	/* Set by userspace (user/runtime/go/goroutine_alive.c): */
	GR_F_BEFORE = 2, /* alive at attach: start and parent from the process, no lifetime */
	GR_F_SYSTEM = 4, /* a runtime goroutine, one runtime.Stack and NumGoroutine leave out */
	GR_F_PARENT = 8, /* alive at attach: parent_goid is known (Go 1.21+) */
};

/* One ring buffer record per goroutine created or exited (rtmon thr). */
struct gr_event {
	__u64 ts_ns;       /* bpf_ktime_get_ns(); at create, when newproc1 began */
	__u64 lifetime_ns; /* exit, GR_F_KNOWN */
	__u64 goid;
	__u64 parent_goid; /* create, or exit with GR_F_KNOWN */
	__u64 start_pc;    /* link-time address (load bias removed): the start function */
	__u64 wrapper_pc;  /* the gr_wrappers wrapper that runs start_pc, else 0 */
	__u32 pid;
	__u32 tid;  /* the OS thread it was seen on */
	__u8 kind;  /* enum gr_kind */
	__u8 flags; /* enum gr_flags */
	__u8 pad[6];
};

/* Per-CPU 64-bit counters. */
enum gr_counter {
	GRC_CREATED,          /* goroutines seen created */
	GRC_EXITED,           /* goroutine exits */
	GRC_EXITED_UNTRACKED, /* exits of goroutines not seen created (started before tracing) */
	GRC_LOST,             /* ring buffer full: events not delivered */
	GRC_TRACK_FULL, /* no room to remember a live goroutine: its exit will look untracked */
	GRC_HIST_FULL,  /* lat: lifetime not counted, histogram map full */
	GRC_COUNT,
};

/* A live goroutine, by (process, goid). */
struct gr_key {
	__u64 goid;
	__u32 tgid;
	__u32 pad;
};

struct gr_live {
	__u64 create_ns;
	__u64 start_pc;
	__u64 wrapper_pc;
	__u64 parent_goid;
};

#endif

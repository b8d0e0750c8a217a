/* Goroutine tracking for rtmon thr and rtmon lat on Go programs: shared between bpf/goroutine.bpf.h
 * and user/runtime/go/goroutine.c. See docs/thr.md (Go programs). */
#ifndef RTMON_GOROUTINE_EVENT_H
#define RTMON_GOROUTINE_EVENT_H

#include "log2.h"

/* Probe sites, all on one uprobe_multi link; the cookie says which. */
enum gr_site {
	GR_SITE_NEWPROC1 = 1, /* runtime.newproc1 body: the parent goid (Go 1.17 to 1.20 only) */
	GR_SITE_CREATE = 2,   /* the CALL runtime.runqput in runtime.newproc.func1, or the 5-byte
				 NOP just before it: RBX = the new g, with its goid, start PC and
				 (Go 1.21+) parent goid */
	GR_SITE_GOEXIT1 = 3,  /* runtime.goexit1 body: runs on the exiting goroutine (R14 = g) */
};

/* Set by userspace before load. Offsets in runtime.g are from DWARF or the release's table
 * (user/runtime/go/layout.c). */
struct gr_config {
	__u64 create_vaddr; /* link-time address of the create site: load bias = probe IP - this */
	__u32 goid_off;     /* runtime.g.goid */
	__u32 startpc_off;  /* runtime.g.startpc */
	__u32 parentgoid_off; /* runtime.g.parentGoid (Go 1.21+); 0: from the newproc1 site */
	__u32 ctxt_off;       /* runtime.g.sched.ctxt: the go statement's funcval until it runs */
	__u32 callergp_rdi;   /* Go 1.17: newproc1(fn, argp, narg, callergp, ...): callergp in RDI,
				 not RBX */
	__u32 captured_wrappers; /* entries in gr_wrappers (0: no lookup) */
	__u32 span_off;          /* the create site reads the new g's fields above in one go: */
	__u32 span_len;          /* span_len bytes from span_off, at most GR_SPAN_WORDS words */
};

#define GR_SPAN_WORDS 32

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
	__u64 ts_ns;       /* bpf_ktime_get_ns(); at create, when the new g was queued */
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

/* goinspect.h - a running Go process read from outside: its goroutines, memory statistics and
 * scheduler settings, as the runtime itself would report them (runtime.Stack, ReadMemStats,
 * NumGoroutine), for rtmon stack, memstats and stats. Memory is read with process_vm_readv only
 * (proc/procmem.h): never ptrace, never a write, never a stop. See docs/go-inspect.md.
 *
 * Three parts: the layout of the runtime structures read (layout.c: from DWARF, else a table per
 * Go release), where the runtime's globals are (globals.c: .symtab, else the instructions of
 * runtime functions that use them), and the readers (goroutines.c, gstack.c, memstats.c).
 * Functions return 0 or a negative errno and word a one-line message in err. */
#ifndef RTMON_GOINSPECT_H
#define RTMON_GOINSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/go/goelf.h"

/* ---- layout (layout.c) ---- */

/* The fields rtmon reads, each "type.member[.member]" in the runtime's DWARF. */
enum go_field {
	GF_G_STACK_LO,
	GF_G_STACK_HI,
	GF_G_SCHED_SP,
	GF_G_SCHED_PC,
	GF_G_SCHED_BP,
	GF_G_SYSCALLSP,
	GF_G_SYSCALLPC,
	GF_G_M,
	GF_G_ATOMICSTATUS,
	GF_G_GOID,
	GF_G_WAITSINCE,
	GF_G_WAITREASON,
	GF_G_LOCKEDM,
	GF_G_GOPC,
	GF_G_STARTPC,
	GF_G_PARENTGOID, /* Go 1.21+ */
	/* rtmon memstats and stats (memstats.c): everything below may be absent in a release (-1);
	 * the reader checks what it needs. */
	GF_MS_HEAPSTATS, /* runtime.mstats */
	GF_MS_STACKS_SYS,
	GF_MS_MSPAN_SYS,
	GF_MS_MCACHE_SYS,
	GF_MS_BUCKHASH_SYS,
	GF_MS_GCMISCSYS,
	GF_MS_OTHER_SYS,
	GF_MS_LAST_GC_UNIX,
	GF_MS_PAUSE_TOTAL_NS,
	GF_MS_PAUSE_NS,
	GF_MS_PAUSE_END,
	GF_MS_NUMGC,
	GF_MS_NUMFORCEDGC,
	GF_MS_GC_CPU_FRACTION,
	GF_HSD_COMMITTED, /* runtime.heapStatsDelta */
	GF_HSD_RELEASED,
	GF_HSD_INHEAP,
	GF_HSD_INSTACKS,
	GF_HSD_INWORKBUFS,
	GF_HSD_INPTRSCALARBITS, /* to Go 1.21 */
	GF_HSD_TINYALLOCCOUNT,
	GF_HSD_LARGEALLOC,
	GF_HSD_LARGEALLOCCOUNT,
	GF_HSD_SMALLALLOCCOUNT,
	GF_HSD_LARGEFREE,
	GF_HSD_LARGEFREECOUNT,
	GF_HSD_SMALLFREECOUNT,
	GF_GC_HEAPGOAL,        /* runtime.gcControllerState, to Go 1.18 */
	GF_GC_PERCENTHEAPGOAL, /* Go 1.19+, as the three below */
	GF_GC_SWEEPDISTMINTRIGGER,
	GF_GC_TRIGGERED,
	GF_GC_MEMORYLIMIT,
	GF_GC_GCPERCENT,
	GF_MH_SPANALLOC_INUSE, /* runtime.mheap */
	GF_MH_CACHEALLOC_INUSE,
	GF_P_MCACHE, /* runtime.p */
	GF_MC_ALLOC, /* runtime.mcache */
	GF_MC_TINYALLOCS,
	GF_SPAN_ALLOCCOUNT,            /* runtime.mspan */
	GF_SPAN_ALLOCCOUNTBEFORECACHE, /* Go 1.19+ */
	GF_SPAN_NELEMS,
	GF_M_NCGOCALL, /* runtime.m */
	GF_M_ALLLINK,
	/* rtmon gc (gc_go.c): the cycle's heap as gctrace prints it. runtime.work is a variable of
	 * an unnamed struct type before Go 1.19: its members are found through the variable. */
	GF_WORK_CYCLES, /* runtime.work */
	GF_WORK_HEAP0,  /* heap at GC start, at mark termination, marked: three uint64 in a row */
	GF_WORK_HEAP1,
	GF_WORK_HEAP2,
	GF_WORK_HEAPGOAL,   /* to Go 1.18: the goal gctrace prints */
	GF_GC_LASTHEAPGOAL, /* runtime.gcControllerState: the goal gctrace prints from Go 1.19 */
	GF_COUNT,
};
#define GF_FIRST_MEM GF_MS_HEAPSTATS

struct go_layout {
	int off[GF_COUNT]; /* byte offset in its struct; -1: the release has no such field */
	int g_read;        /* bytes of runtime.g to read: past the last field used */
	bool from_dwarf;
};

/* The field's name as in DWARF ("runtime.g.sched.pc"), for messages and tests. */
const char *go_field_name(enum go_field f);

/* From the binary's DWARF when it has it (every field found there), else the table row of gi's
 * release. -ENOTSUP with the release named when neither knows it. */
int go_layout_get(const char *path, const struct go_info *gi, struct go_layout *out, char *err,
		  size_t errlen);
/* The two sources alone, for the tests: -ENODATA without DWARF, -ENOTSUP outside the table. */
int go_layout_from_dwarf(const char *path, struct go_layout *out);
int go_layout_from_table(int major, int minor, struct go_layout *out);

/* ---- the runtime's globals (globals.c) ---- */

struct go_globals {
	uint64_t allgs;               /* runtime.allgs, a []*g (link-time address) */
	uint64_t gstatus_strings;     /* runtime.gStatusStrings, [n]string */
	uint64_t wait_reason_strings; /* runtime.waitReasonStrings, [n]string */
	int ngstatus, nwait_reasons;  /* their lengths */
	bool from_symtab;
};

/* From .symtab when the binary has it, else from the instructions of the runtime functions that
 * use them (go_globals_from_code). -ENOENT naming what was not found. */
int go_globals_find(struct go_symtab *st, struct go_globals *out, char *err, size_t errlen);
/* Only from the code (also on an unstripped binary, so that the tests check it against .symtab):
 * allgs from runtime.forEachG (its first load from data: `for _, gp := range allgs`), the two
 * string tables from runtime.goroutineheader (the first and second address of writable data it
 * takes, each length the bound of the last bounds check before it: cmp with a constant, then jb or
 * jae). */
int go_globals_from_code(struct go_symtab *st, struct go_globals *out, char *err, size_t errlen);

/* The globals memstats and stats read. Each is 0 when not found: .symtab, else the code (memstats
 * from the receiver of runtime.(*mcache).refill's call to a consistentHeapStats method, less
 * mstats.heapStats' offset; gcController from the receiver of a gcControllerState method called in
 * runtime.findRunnable or runtime.schedule; mheap_ from the lock runtime.allocmcache.func1 takes,
 * its first field; allp from runtime.gcMarkTinyAllocs' first load from data; work from its cycles
 * counter). allm, ncgocall and ncpu only from .symtab. */
struct go_mem_globals {
	uint64_t memstats, gc_controller, mheap, allp;
	uint64_t allm, ncgocall, ncpu;
	uint64_t work; /* runtime.work (rtmon gc); from the code: go_work_cycles_find's address
			* less work.cycles' offset; 0 when the layout lacks that offset */
	bool from_symtab;
};

/* runtime.work.cycles, from the code alone: runtime.GC's first 32-bit load (`n :=
 * work.cycles.Load()`), else in binaries that do not link runtime.GC the last increment of a
 * 32-bit variable in runtime.gcStart (`work.cycles++`, or `.Add(1)` from Go 1.21). 0, or -ENOENT.
 */
int go_work_cycles_find(struct go_symtab *st, uint64_t *vaddr);

int go_mem_globals_find(struct go_symtab *st, const struct go_layout *lay,
			struct go_mem_globals *out, char *err, size_t errlen);
/* Only from the code, for the tests. */
int go_mem_globals_from_code(struct go_symtab *st, const struct go_layout *lay,
			     struct go_mem_globals *out, char *err, size_t errlen);

/* ---- a running Go process (goproc.c) ---- */

#define GO_NAME_MAX 48 /* a status or wait reason name, cut to fit */

struct go_proc {
	pid_t pid;
	char comm[64];
	char exe[64]; /* /proc/PID/exe */
	struct go_info gi;
	struct go_symtab *st;
	struct go_layout lay;
	struct go_globals glob;
	uint64_t bias;                /* run-time address - link-time address (PIE) */
	char (*gstatus)[GO_NAME_MAX]; /* gStatusStrings and waitReasonStrings, read from the process
				       */
	char (*wait_reasons)[GO_NAME_MAX];
};

/* Opens PID as a Go process: its executable's build info, function table, layouts and globals,
 * and the status and wait reason names from its memory. The errors name the process: "PID 812
 * (nginx) is not a Go program: ...", no such process, no right to read it, an unknown release. */
int go_proc_open(pid_t pid, struct go_proc *p, char *err, size_t errlen);
void go_proc_close(struct go_proc *p);
/* A one-line message for a failed read of p's memory (rc from proc/procmem.h). */
void go_proc_read_err(const struct go_proc *p, int rc, char *err, size_t errlen);
/* "waiting", "chan receive", ...; "???" past the table's end, as the runtime prints it. */
const char *go_status_name(const struct go_proc *p, uint32_t status);
const char *go_wait_reason_name(const struct go_proc *p, uint8_t reason);

/* ---- goroutines (goroutines.c) ---- */

#define GO_MAX_FRAMES 100 /* the most the runtime's own traceback prints */
#define GO_SCAN_BIT   0x1000
/* The runtime's status values used here: the same in every release since Go 1.0. */
#define GO_G_RUNNING 2
#define GO_G_SYSCALL 3
#define GO_G_WAITING 4
#define GO_G_DEAD    6

struct go_goroutine {
	uint64_t goid, parent_goid; /* parent_goid 0 before Go 1.21 */
	uint32_t status;            /* without the scan bit */
	bool scan, locked, system;  /* system: a runtime goroutine runtime.Stack leaves out */
	uint8_t wait_reason;
	int64_t waitsince; /* CLOCK_MONOTONIC ns, 0 if not recorded */
	uint64_t gopc, startpc;
	/* Frames, run-time addresses, innermost first; trap[i]: pcs[i] is where a signal stopped
	 * the code (after runtime.asyncPreempt), not a return address. */
	uint64_t pcs[GO_MAX_FRAMES];
	bool trap[GO_MAX_FRAMES];
	int npcs;
	bool elided;   /* more than GO_MAX_FRAMES frames */
	bool no_stack; /* running: its registers are not saved, so no frames */
	bool torn;     /* changed under every read: no frames shown */
	bool cut;      /* the frame chain left the stack before reaching runtime.goexit */
};

/* Every goroutine that is not dead, in the runtime's allgs order, with frames from its saved
 * registers unwound by frame pointers inside its stack's bounds; a goroutine that changed while
 * read is read again (a bounded number of times), then marked torn. *out is malloc'ed. */
int go_read_goroutines(struct go_proc *p, struct go_goroutine **out, size_t *n, char *err,
		       size_t errlen);

/* ---- memory statistics (memstats.c) ---- */

#define GO_MEMSTATS_BYSIZE 61 /* runtime.MemStats.BySize's length */

/* runtime.MemStats, each field as readmemstats_m computes it in the process's release (without
 * stopping the world: the heap statistics of every generation of memstats.heapStats are merged, as
 * unsafeRead does, plus what each P's mcache holds that flushallmcaches would add). */
struct go_memstats {
	uint64_t Alloc, TotalAlloc, Sys, Lookups, Mallocs, Frees;
	uint64_t HeapAlloc, HeapSys, HeapIdle, HeapInuse, HeapReleased, HeapObjects;
	uint64_t StackInuse, StackSys, MSpanInuse, MSpanSys, MCacheInuse, MCacheSys;
	uint64_t BuckHashSys, GCSys, OtherSys, NextGC, LastGC, PauseTotalNs;
	uint64_t PauseNs[256], PauseEnd[256];
	uint32_t NumGC, NumForcedGC;
	double GCCPUFraction;
	struct {
		uint32_t Size;
		uint64_t Mallocs, Frees;
	} BySize[GO_MEMSTATS_BYSIZE];
	/* NextGC is not derived under a memory limit or GOGC=off (the goal is then the limit's:
	 * see memstats.c); changing: the heap figures moved under every read. */
	bool next_gc_known, changing;
};

int go_read_memstats(struct go_proc *p, struct go_memstats *out, char *err, size_t errlen);

/* The runtime's own totals of heap allocations (MemStats.Mallocs and TotalAlloc) as rtmon malloc
 * --budget reads them at every window edge: the same figures as go_read_memstats, from the second
 * of two reads that agree (3 at most), with the globals looked up once by _open. */
struct go_alloc_reader;
int go_alloc_reader_open(struct go_proc *p, struct go_alloc_reader **out, char *err, size_t errlen);
/* 0, or -errno (the process is gone, a read failed, -EAGAIN: no two reads agreed). */
int go_alloc_read(struct go_alloc_reader *rd, uint64_t *mallocs, uint64_t *total_alloc);
void go_alloc_reader_close(struct go_alloc_reader *rd);

/* rtmon stats: the scheduler's settings and counts. -1 for what this binary does not say. */
struct go_sched_stats {
	int64_t gomaxprocs;   /* len(allp) */
	int64_t ncpu;         /* runtime.ncpu (numCPUStartup from Go 1.26): needs .symtab */
	int64_t gogc;         /* gcController.gcPercent; < 0: off */
	int64_t memory_limit; /* gcController.memoryLimit, Go 1.19+ */
	int64_t cgo_calls;    /* runtime.NumCgoCall: ncgocall + every m's; needs .symtab */
};

int go_read_sched_stats(struct go_proc *p, struct go_sched_stats *out, char *err, size_t errlen);

#endif

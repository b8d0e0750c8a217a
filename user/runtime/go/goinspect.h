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
	GF_COUNT,
};

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

#endif

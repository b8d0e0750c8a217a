/* The processes rtmon serve traces, each with its own collectors and its own series (labels pid,
 * exe, runtime). -p, -n and -- CMD: the one target. --all: every process rtmon ps marks as traced
 * fully; --binpath: every process running the file. Those two are found by a scan of /proc every
 * RESCAN_S (serve.c): a new process gets its collectors, attached by its PID as with -p, and an
 * exited one's series are dropped. */
#ifndef RTMON_SERVE_PROCS_H
#define RTMON_SERVE_PROCS_H

#include <stdbool.h>
#include <sys/types.h>
#include "commands/serve_board.h"
#include "commands/serve_collect.h"
#include "runtime/process_scan.h"

struct serve_proc;

struct serve_procs {
	const struct common_opts *co;
	struct target *t; /* the command's target */
	bool scan;        /* --all or --binpath: the processes come from rescans */
	dev_t dev;        /* --binpath: the executable's identity */
	ino_t ino;
	struct ps_scan ps; /* renewed by each rescan, keeping what it learnt of each executable */
	struct serve_proc **v;
	size_t n, cap;
	struct serve_board *board;
	double malloc_pct; /* --malloc-budget; 0: no malloc collector */
};

/* For the command's target t. 0, or -1 with one line in err (--binpath: the file cannot be read).
 */
int serve_procs_init(struct serve_procs *p, const struct common_opts *co, struct target *t,
		     struct serve_board *board, char *err, size_t errlen);
/* -p, -n, -- CMD: finds the GC backend (a note on stderr when there is none), before attach. */
void serve_procs_prepare(struct serve_procs *p);
/* Attaches to the one target (ops->rb: its GC ring), or, with a scan, to every process found now.
 * 0, or -1 with one line in err. */
int serve_procs_attach(struct serve_procs *p, struct loop_ops *ops, char *err, size_t errlen);
/* With a scan: new processes get collectors, exited ones are dropped. */
void serve_procs_rescan(struct serve_procs *p);
/* On the loop's thread: reads every process's collectors (draining the GC rings of scanned ones)
 * and publishes them together. */
void serve_procs_publish(struct serve_procs *p);
size_t serve_procs_count(const struct serve_procs *p);
/* --malloc-budget: the one target's duty cycle, for a loop timer; NULL without. */
struct budget *serve_procs_budget(const struct serve_procs *p);
void serve_procs_close(struct serve_procs *p);

#endif

/* Userspace side of the thread tracking that rtmon thr and rtmon lat share
 * (bpf/thread_track.bpf.h): attaching its three programs, reading its counters, naming start
 * routines. */
#ifndef RTMON_THREAD_TRACK_H
#define RTMON_THREAD_TRACK_H

#include <bpf/libbpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>
#include "trace/probe.h"
#include "binary/symbolize.h"
#include "proc/target.h"
#include "threads.h"

struct tt_progs {
	struct bpf_program *pthread_create; /* uprobe */
	struct bpf_program *newtask;        /* tp_btf/task_newtask */
	struct bpf_program *exit;           /* tp_btf/sched_process_exit */
	/* The BPF side's tt_attach_ns and tt_trace_start_ns (the skeleton's bss), which tt_attach
	 * sets around the tracepoints' attach. */
	__u64 *attach_ns, *trace_start_ns;
};

/* Attaches the tracepoints, then starts tracing (threads created from then on are seen created),
 * then, with want_start, attaches the pthread_create uprobe: a thread created before that is seen,
 * only without its start routine. A target without pthread_create (a static stripped binary, a
 * program that only makes raw clones) is still traced, without start routines: the note saying so
 * goes to stderr. 0, or -errno with one line in err. */
int tt_attach(const char *cmd, const struct target *t, const struct tt_progs *p, bool want_start,
	      struct probe_links *pl, char *err, size_t errlen);

/* Sums the per-CPU counters (enum thr_counter). 0 or -errno. */
int tt_read_counters(struct bpf_map *map, uint64_t out[TC_COUNT]);

/* Names a start routine: "worker_fn", "worker_fn+0x10", "app+0x1139" (no symbol), or "0x7f..." when
 * not found. pid (0 if unknown) is a live process where files outside the target's image are looked
 * for (a library loaded with dlopen). */
void tt_start_name(struct symbolizer *s, const struct thr_start *st, pid_t pid, char *out,
		   size_t len);

/* The text summary's lines on exits of threads not seen created, one line per kind when not 0:
 * unknown main threads (TC_EXITED_UNTRACKED: no lifetime; what says so: "lifetime unknown",
 * lat's "not counted"), before threads older than rtmon's attaching (TC_EXITED_BEFORE) and
 * attaching threads created while rtmon attached (TC_EXITED_ATTACHING); both of these with their
 * lifetime from the kernel's start time. */
void tt_print_unknown(FILE *out, uint64_t unknown, uint64_t before, uint64_t attaching,
		      const char *what);

#endif

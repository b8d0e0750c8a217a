/* Userspace side of the thread tracking that rtmon thr and rtmon lat share
 * (bpf/thread_track.bpf.h): attaching its three programs, reading its counters, naming start
 * routines. */
#ifndef RTMON_THREAD_TRACK_H
#define RTMON_THREAD_TRACK_H

#include <bpf/libbpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "trace/probe.h"
#include "binary/symbolize.h"
#include "proc/target.h"
#include "threads.h"

struct tt_progs {
	struct bpf_program *pthread_create; /* uprobe */
	struct bpf_program *newtask;        /* tp_btf/task_newtask */
	struct bpf_program *exit;           /* tp_btf/sched_process_exit */
};

/* Attaches the tracepoints and, with want_start, the pthread_create uprobe. A target without
 * pthread_create (a static stripped binary, a program that only makes raw clones) is still traced,
 * without start routines: the note saying so goes to stderr. The caller then sets the BPF side's
 * tt_trace_start_ns. 0, or -errno with one line in err. */
int tt_attach(const char *cmd, const struct target *t, const struct tt_progs *p, bool want_start,
	      struct probe_links *pl, char *err, size_t errlen);

/* Sums the per-CPU counters (enum thr_counter). 0 or -errno. */
int tt_read_counters(struct bpf_map *map, uint64_t out[TC_COUNT]);

/* Names a start routine: "worker_fn", "worker_fn+0x10", "app+0x1139" (no symbol), or "0x7f..." when
 * not found. pid (0 if unknown) is a live process where files outside the target's image are looked
 * for (a library loaded with dlopen). */
void tt_start_name(struct symbolizer *s, const struct thr_start *st, pid_t pid, char *out,
		   size_t len);

/* CLOCK_MONOTONIC in ns and in seconds: the clock of bpf_ktime_get_ns(). */

#endif

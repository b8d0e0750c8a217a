/* Thread (and, on Go, goroutine) creations, exits and lifetimes counted in the kernel
 * (bpf/thread_lifetimes.bpf.c): opened, loaded and attached the same way for rtmon lat, which
 * prints the histograms, and rtmon serve, which exports them. */
#ifndef RTMON_LIFETIMES_H
#define RTMON_LIFETIMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "proc/target.h"
#include "runtime/go/goroutine.h"
#include "trace/probe.h"
#include "threads.h"

struct lifetimes {
	struct thread_lifetimes_bpf *skel;
	struct gr_run gr; /* Go targets: goroutines too (gr.active) */
};

/* Opens and loads the BPF object, attaches the thread tracepoints (and pthread_create's uprobe
 * with by_start: histograms per start routine) and, on a Go target, the goroutine probes; then
 * starts the clock lifetimes count from. cmd names the command in notes. 0, or -1 with one line in
 * err. */
int lifetimes_open(struct lifetimes *l, const char *cmd, const struct target *t, bool by_start,
		   struct probe_links *pl, char *err, size_t errlen);

/* Without by_start: the one thread histogram and the one goroutine histogram (zeroed when none
 * was counted yet), and the counters (enum thr_counter, enum gr_counter). 0 or -errno. */
int lifetimes_read(const struct lifetimes *l, struct lifetime_hist *threads, uint64_t tc[TC_COUNT],
		   struct lifetime_hist *goroutines, uint64_t grc[GRC_COUNT]);

void lifetimes_close(struct lifetimes *l);

#endif

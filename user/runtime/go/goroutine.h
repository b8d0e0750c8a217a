/* Goroutines in rtmon thr and rtmon lat (Go targets): finding the probe sites, attaching them,
 * naming start functions, printing rows and histograms. BPF side: bpf/goroutine.bpf.h. docs/thr.md.
 */
#ifndef RTMON_GOROUTINE_USER_H
#define RTMON_GOROUTINE_USER_H

#include <bpf/libbpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "runtime/go/goelf.h"
#include "goroutines.h"
#include "trace/probe.h"
#include "proc/target.h"
#include "output/summary.h"

struct gr_snap_entry {
	__u64 key;
	struct lifetime_hist h;
};

/* A start PC's names, once worked out (go_start_func decodes the wrapper's code). */
struct gr_start {
	uint64_t pc;
	const char *user, *wrapper;
};

#define GR_STARTS                                                                                  \
	4096 /* slots of the cache of start names; past it they are worked out each time */

/* A goroutine alive at attach (goroutine_alive.c). */
struct gr_alive {
	uint64_t goid, parent_goid, start_pc; /* start_pc: link-time */
	uint8_t flags;                        /* GR_F_SYSTEM, GR_F_PARENT */
	bool gone; /* seen exiting, or seen created while rtmon attached: no longer counted here */
};

struct gr_run {
	bool active; /* the target is a Go program and the sites were found */
	struct go_info gi;
	struct go_symtab *st; /* names start PCs */
	struct gr_config cfg; /* for the BPF side's gr_cfg */
	struct probe_site sites[3];
	int nsites;
	struct go_captured_wrapper *wrappers; /* named at run time: gr_wrappers */
	int nwrappers;
	struct gr_start *starts; /* GR_STARTS slots by pc hash, allocated on first use */
	bool wall_clock;         /* -T: text rows start with the event's wall-clock time */
	/* thr -p: the goroutines alive at attach, by goid (gr_list_alive); listed: read */
	struct gr_alive *alive;
	size_t nalive, alive_gone;
	bool listed;
	pid_t alive_pid;
	uint64_t alive_ns; /* when they were read */
	/* lat: the histograms at the last report (-i prints differences) */
	struct gr_snap_entry *base;
	size_t nbase;
};

/* Looks at t->exe: not Go -> 0 with g->active false. Go -> finds the sites; if that fails, a
 * warning on stderr and g->active false (threads are still traced). Then, before the skeleton's
 * load: copy g->cfg into its rodata gr_cfg and call gr_prepare on its on_go_site program. */
void gr_open(struct gr_run *g, const char *cmd, const struct target *t);
void gr_prepare(struct gr_run *g, struct bpf_program *prog);
/* After load: fills the skeleton's gr_wrappers map, then every site on one link. 0 or -errno with
 * err set. No-op when not active. */
int gr_attach(struct gr_run *g, struct bpf_program *prog, struct bpf_map *wrappers,
	      const struct target *t, struct probe_links *pl, char *err, size_t errlen);
void gr_close(struct gr_run *g);

/* Sums the per-CPU counters (enum gr_counter). 0 or -errno. */
int gr_read_counters(struct bpf_map *map, uint64_t out[GRC_COUNT]);

/* The start function's name as Go's tracebacks give it ("main.worker" for `go worker(x)`, whose
 * start PC is the compiler's wrapper main.main.gowrap1; go_start_func); "" when pc is 0, "0x..."
 * when no function holds it. The wrapper's name, when there is one, in wrapper (may be NULL), else
 * "". */
void gr_start_name(struct gr_run *g, uint64_t pc, char *out, size_t len, char *wrapper,
		   size_t wlen);

/* rtmon thr: one goroutine record, as a JSON line or a table row (columns of thr's table: TID is
 * "g<goid>", PTID "g<parent>", NAME "goroutine"). t0_ns is the TIME column's zero. */
void gr_print_event(struct gr_run *g, const struct gr_event *e, bool json, uint64_t t0_ns);
/* The goroutines' part of thr's and lat's summary: JSON "goroutines":{...}, text a line
 * "goroutines: created N, ...". Nothing when not active. */
void gr_print_summary(const struct gr_run *g, struct bpf_map *counters, struct summary *s);

/* rtmon thr -p (goroutine_alive.c): the goroutines alive at attach, read (at t_ns) from the
 * process as rtmon stack reads them (goroutines.c). Once, after the probes are attached, so that
 * none is missed (one created in between is both listed and seen created, and counted once:
 * gr_alive_event), and before "Tracing ..." is said, so that the target's goroutines are still
 * those of the attach. A failed read is a warning line: tracing goes on without the list. No-op
 * unless active and t is a -p target. */
void gr_read_alive(struct gr_run *g, const struct target *t, uint64_t t_ns);
/* Their rows ("alive"), in goid order; t0_ns is the TIME column's zero. */
void gr_print_alive(struct gr_run *g, bool json, uint64_t t0_ns);
/* Each ring buffer record, before it is printed: an exit of a listed goroutine gets its start and
 * parent (GR_F_BEFORE), and the list's count follows its exits and its creates. */
void gr_alive_event(struct gr_run *g, struct gr_event *e);

/* The goroutine lifetime histogram under key (a start PC, or 0) of lat's per-CPU map, its CPUs'
 * copies summed. 0, or -errno (-ENOENT: nothing counted under key yet). */
int gr_read_hist(struct bpf_map *hists, __u64 key, struct lifetime_hist *out);

/* rtmon lat: the goroutine lifetime histograms since the last call (one per start function with
 * by_start), text or JSON; pid 0 for --binpath; interval 0 without -i. */
void gr_lat_report(struct gr_run *g, struct bpf_map *hists, bool by_start, bool json, pid_t pid,
		   const char *label, int interval);

#endif

/* --budget PCT: keep the CPU that hot probes add to a target under PCT percent of the target's CPU
 * time by attaching and detaching them in duty cycles, and turn what the live windows counted into
 * estimates. docs/budget.md explains the controller and the estimator; budget.c is the controller,
 * budget_cpu.c reads the target's CPU time, budget_calib.c measures what one probe hit costs. */
#ifndef RTMON_BUDGET_H
#define RTMON_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <bpf/libbpf.h>
#include "proc/target.h"

/* "5", "0.5", "5%": 0 < PCT <= 100. 0 or -EINVAL. */
int budget_parse_pct(const char *s, double *pct);

/* What one probe hit costs the process that takes it, in CPU ns, measured on this machine. */
struct budget_costs {
	double emulated_ns; /* a probe on an instruction the kernel emulates (push, jmp, ...) */
	double stepped_ns;  /* one it single-steps out of line; 0 when not measured */
};

/* Probes a function of rtmon's own with prog (loaded, prepared with probe_prepare_sites_prog) and
 * cookie (which must make prog do what a target's hit does, without counting it as one), and times
 * calls with and without the probe: a few ms (about 30 ms more with want_stepped). 0, or -errno
 * with one line in err. */
int budget_calibrate(struct bpf_program *prog, uint64_t cookie, bool want_stepped,
		     struct budget_costs *out, char *err, size_t errlen);

/* The target's CPU time so far, summed over its threads (for --binpath: over the processes running
 * the executable, found by rescanning /proc at most once a second). */
struct budget_cpu;
struct budget_cpu_time {
	double total_ns; /* user + system, precise to the scheduler's last update */
	double user_ns;  /* user mode only, sampled by the clock tick */
};
struct budget_cpu *budget_cpu_open(const struct target *t);
/* 0, or -ESRCH once no target process is left. */
int budget_cpu_read(struct budget_cpu *c, struct budget_cpu_time *out);
void budget_cpu_close(struct budget_cpu *c);

/* What the controller asks of the command. */
struct budget_hooks {
	void *ctx;
	int (*attach)(void *ctx, char *err, size_t errlen); /* the hot probes, as at start */
	void (*detach)(void *ctx);
	/* The CPU the hits counted so far have cost the target: counters times budget_costs. */
	int (*cost_ns)(void *ctx, double *ns);
	/* Optional (NULL: none): the target's own running totals of what the probes count (Go:
	 * MemStats.Mallocs and TotalAlloc), read at every window edge. With them the sampled
	 * fraction is the share of the target's own allocations made while live, which the probes
	 * cannot bias. 0, or -errno (not readable now: the point keeps the last figures). */
	int (*runtime_counts)(void *ctx, double *count, double *bytes);
	/* With runtime_counts: the allocations the probes have counted so far, and their bytes as
	 * the runtime counts them (rounded up to its size classes): the live share of its totals.
	 */
	int (*seen)(void *ctx, double *count, double *bytes);
};

/* How to turn what the probes counted into estimates for one report: for each counter,
 *   estimate = counted in this span * own_scale + counted over the whole run so far * run_scale.
 * A span with enough live data is scaled by its own sampled fraction (run_scale 0); one without (an
 * interval that fell between two live windows) adds the run's rate over the work it did unseen. */
struct budget_span {
	double own_scale;
	double run_scale;
	/* For byte counters: the same, by the runtime's byte total when there is one (else equal
	 * to the above). */
	double own_scale_bytes;
	double run_scale_bytes;
	double sampled_fraction; /* the share of the target's work seen live, (0, 1] */
	double live_fraction;    /* the share of the wall time the probes were attached */
	bool estimated;          /* the probes were detached for part of the span */
	/* what sampled_fraction was measured by: "runtime" (the target's own count of its
	 * allocations), "cpu", "user_cpu" or "time" */
	const char *basis;
	double probe_share_live; /* the probes' share of the target's CPU while live */
	bool scale_uncertain;    /* that share was so high that the scale is uncertain (budget.c) */
	/* "runtime" basis: the live windows' bytes per allocation differed by more than 10% from
	 * the span's (mix_ratio: theirs / the span's), so the size distribution, which is the
	 * windows', is not the span's; the counts and bytes are scaled each by its own total. */
	bool mix_uncertain;
	double mix_ratio;
};

struct budget;

/* pct as parsed; hooks->attach must have been called already (tracing starts live). verbose: one
 * stderr line per cycle (what the window saw and cost, what comes next). */
int budget_new(struct budget **out, double pct, const struct target *t,
	       const struct budget_hooks *hooks, bool verbose, char *err, size_t errlen);
/* For the loop (a loop_ops timer): the duty cycle's next step. Returns when to call
 * again. */
double budget_tick(void *budget);
double budget_next_tick(const struct budget *b);
/* For loop_ops.on_target_exit: the last reading of the target's CPU, before it is reaped. */
void budget_target_exited(struct budget *b);
/* The report at the end of this span: what to scale counters counted since the last report by. */
void budget_take_span(struct budget *b, struct budget_span *out);
/* Over the whole run so far. */
void budget_run_span(const struct budget *b, struct budget_span *out);
double budget_pct(const struct budget *b);
/* What a probe hit costs the target, measured on it from its own allocation count (Go), over the
 * calibrated cost: 1 when not measured. */
double budget_cost_x(const struct budget *b);
uint64_t budget_windows(const struct budget *b);
void budget_free(struct budget *b);

#endif

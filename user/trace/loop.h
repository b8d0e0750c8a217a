/* The tracing loop every command shares: waits for a signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT), -d,
 * -i, the target's exit, and drains a ring buffer in batches (the BPF side avoids per-event
 * wakeups). */
#ifndef RTMON_LOOP_H
#define RTMON_LOOP_H

#include <stdint.h>
#include <bpf/libbpf.h>
#include "cli/opts.h"
#include "proc/target.h"

enum loop_end { END_SIGNAL, END_DURATION, END_TARGET_EXIT, END_ERROR };

/* How many timers a loop runs at most (struct loop_ops.timers). */
#define LOOP_TIMERS 4

struct loop_ops {
	void *ctx;
	struct ring_buffer *rb;         /* NULL when the command aggregates in the kernel only */
	void (*on_interval)(void *ctx); /* -i: print and reset */
	/* Optional timers, each called once its time (loop_now_s) has come; fn returns the time of
	 * its next call, 0 for none. next is the first one, 0 for none. A command may run several:
	 * serve publishes its snapshot on one while malloc's --budget duty cycle runs on another.
	 */
	struct loop_timer {
		double (*fn)(void *ctx);
		double next;
	} timers[LOOP_TIMERS];
	/* Optional: a -p / -- CMD target has just exited and is not reaped yet (its CPU clocks
	 * still read). */
	void (*on_target_exit)(void *ctx);
};

/* Blocks SIGINT, SIGTERM, SIGHUP and SIGQUIT so the loop can take them from a signalfd. Call
 * before target_open, so that a started command inherits a known mask (the child clears it before
 * exec). Until loop_setup_done, one of them ends rtmon at once with a line naming the signal and
 * name (the command, "rtmon malloc"), however long setup takes or blocks. */
int loop_block_signals(const char *name);

/* Setup is over (the probes are attached, "Tracing ..." is about to be said): a signal from here on
 * is the loop's and ends tracing with the final output. loop_run calls it too. */
void loop_setup_done(void);

/* Runs until a signal, -d, or the end of a -p / -- CMD target. Returns how it ended. */
enum loop_end loop_run(const struct common_opts *co, struct target *t, const struct loop_ops *ops);

const char *loop_end_name(enum loop_end end);

/* CLOCK_MONOTONIC, the clock of every duration rtmon prints (and of bpf_ktime_get_ns). */
uint64_t loop_now_ns(void);
double loop_now_s(void);

#endif

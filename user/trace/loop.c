#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include "trace/loop.h"

/* How often a ring buffer is drained: the BPF side only wakes the consumer when the ring fills past
 * a threshold, so the loop polls it on this period. */
#define DRAIN_MS 10

static int signal_fd = -1;

int loop_block_signals(void)
{
	sigset_t set;

	/* SIGHUP (the terminal closed) and SIGQUIT (Ctrl-\) end tracing like Ctrl-C: with the
	 * final output, not with the default action's silent exit. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return signal_fd < 0 ? -errno : 0;
}

uint64_t loop_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

double loop_now_s(void)
{
	return (double)loop_now_ns() / 1e9;
}

/* Consumes what the ring holds. The records print whole lines; what they printed goes out after
 * each drain, so that a reader at the end of a pipe (where stdout is fully buffered) sees an event
 * within one drain period, not when a buffer fills. */
static void drain(const struct loop_ops *ops)
{
	if (ops->rb && ring_buffer__consume(ops->rb) > 0)
		fflush(stdout);
}

enum loop_end loop_run(const struct common_opts *co, struct target *t, const struct loop_ops *ops)
{
	double start = loop_now_s(), next_interval = co->interval ? start + co->interval : 0;
	double end = co->duration ? start + co->duration : 0;
	double next_tick[LOOP_TIMERS];

	for (int i = 0; i < LOOP_TIMERS; i++)
		next_tick[i] = ops->timers[i].fn ? ops->timers[i].next : 0;

	for (;;) {
		struct pollfd pfd[3];
		int nfd = 0, timeout_ms = -1, rc;
		double now = loop_now_s(), wake = 0;

		if (end)
			wake = end;
		if (next_interval && (!wake || next_interval < wake))
			wake = next_interval;
		for (int i = 0; i < LOOP_TIMERS; i++)
			if (next_tick[i] && (!wake || next_tick[i] < wake))
				wake = next_tick[i];
		if (wake)
			timeout_ms = wake <= now ? 0 : (int)((wake - now) * 1000) + 1;
		if (ops->rb && (timeout_ms < 0 || timeout_ms > DRAIN_MS))
			timeout_ms = DRAIN_MS;

		pfd[nfd++] = (struct pollfd){ .fd = signal_fd, .events = POLLIN };
		if (t->pidfd >= 0)
			pfd[nfd++] = (struct pollfd){ .fd = t->pidfd, .events = POLLIN };
		if (ops->rb)
			pfd[nfd++] = (struct pollfd){ .fd = ring_buffer__epoll_fd(ops->rb),
						      .events = POLLIN };
		rc = poll(pfd, nfd, timeout_ms);
		if (rc < 0 && errno != EINTR) {
			fprintf(stderr, "rtmon: poll failed: %s\n", strerror(errno));
			return END_ERROR;
		}
		drain(ops);
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(signal_fd, &si, sizeof(si)) < 0 && errno != EAGAIN)
				return END_ERROR;
			return END_SIGNAL;
		}
		if (t->pidfd >= 0 && (pfd[1].revents & POLLIN)) {
			if (ops->on_target_exit)
				ops->on_target_exit(ops->ctx);
			target_reap(t);
			t->exited = true;
			drain(ops);
			return END_TARGET_EXIT;
		}
		now = loop_now_s();
		if (end && now >= end)
			return END_DURATION;
		for (int i = 0; i < LOOP_TIMERS; i++) {
			if (next_tick[i] && now >= next_tick[i]) {
				next_tick[i] = ops->timers[i].fn(ops->ctx);
				now = loop_now_s();
			}
		}
		if (next_interval && now >= next_interval) {
			if (ops->on_interval)
				ops->on_interval(ops->ctx);
			while (next_interval <= now)
				next_interval += co->interval;
		}
	}
}

const char *loop_end_name(enum loop_end end)
{
	switch (end) {
	case END_SIGNAL:
		return "signal";
	case END_DURATION:
		return "duration";
	case END_TARGET_EXIT:
		return "target-exit";
	default:
		return "error";
	}
}

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
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

/* Setup (opening the target's files, loading and attaching the probes) runs with the loop's
 * signals already blocked, and a file that never answers (a stalled FUSE or NFS server, which a
 * target's owner can arrange) would hold Ctrl-C off for ever. Until setup is done
 * (loop_setup_done), a thread waits on the signalfd instead: a signal then ends rtmon at once.
 * Nothing has been traced yet; the probes are file descriptors, gone with the process; a -- CMD
 * child held at its gate sees the gate close (and its parent-death signal) and ends. After
 * that, signals are the loop's. */
enum setup_phase { PHASE_SETUP, PHASE_LOOP, PHASE_ABORT };
static _Atomic int phase = PHASE_SETUP;
static const char *watchdog_name = "rtmon";

static void *setup_watchdog(void *arg)
{
	struct pollfd pfd = { .fd = signal_fd, .events = POLLIN };
	struct signalfd_siginfo si = { 0 };
	int expected = PHASE_SETUP, signo;

	(void)arg;
	while (poll(&pfd, 1, -1) < 0)
		if (errno != EINTR)
			return NULL;
	if (!atomic_compare_exchange_strong(&phase, &expected, PHASE_ABORT))
		return NULL; /* setup is done: the loop reads the signal itself */
	signo = read(signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si) ? (int)si.ssi_signo
									: SIGINT;
	fprintf(stderr, "%s: %s while setting up: ended before tracing began\n", watchdog_name,
		strsignal(signo));
	_exit(128 + signo);
}

static int start_setup_watchdog(void)
{
	pthread_attr_t attr;
	pthread_t thread;
	int rc;

	if ((rc = pthread_attr_init(&attr)))
		return -rc;
	/* It only polls: a small stack keeps rtmon's own footprint as measured. */
	pthread_attr_setstacksize(&attr, 256 * 1024);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&thread, &attr, setup_watchdog, NULL);
	pthread_attr_destroy(&attr);
	return -rc;
}

int loop_block_signals(const char *name)
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
	if (signal_fd < 0)
		return -errno;
	watchdog_name = name;
	return start_setup_watchdog();
}

void loop_setup_done(void)
{
	int expected = PHASE_SETUP;

	/* From here signals are the loop's (still pending in the signalfd until it runs); if the
	 * watchdog took one first, it is ending rtmon. */
	if (!atomic_compare_exchange_strong(&phase, &expected, PHASE_LOOP) &&
	    expected == PHASE_ABORT)
		for (;;)
			pause();
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

	loop_setup_done();
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

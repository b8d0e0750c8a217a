/* prethreads K: creates K threads before its start gate, each blocked on a pipe; after the gate it
 * lets them end one at a time and joins each. For each it prints "thread TID LO HI" (ns), bounds of
 * its lifetime from the program's own CLOCK_MONOTONIC readings: LO from the thread's first
 * instruction to its last, HI from just before pthread_create to just after pthread_join. The
 * kernel's task->start_time (set in clone) and the exit (sched_process_exit, before the join
 * returns) lie between them, so a lifetime rtmon measures for a thread that started before it
 * attached must be within [LO, HI]. Ends with "done K" and exit 0. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "tp_gate.h"

struct worker {
	pthread_t th;
	int fds[2];
	pid_t tid;
	uint64_t t_before_create, t_first, t_last, t_after_join;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	char c;

	w->t_first = now_ns();
	w->tid = (pid_t)syscall(SYS_gettid);
	if (read(w->fds[0], &c, 1) != 1)
		return NULL;
	w->t_last = now_ns();
	return NULL;
}

int main(int argc, char **argv)
{
	int k = argc == 2 ? atoi(argv[1]) : -1;
	struct worker *w;

	if (k <= 0) {
		fprintf(stderr, "usage: prethreads K\n");
		return 2;
	}
	w = calloc((size_t)k, sizeof(*w));
	if (!w)
		return 1;
	for (int i = 0; i < k; i++) {
		if (pipe(w[i].fds))
			return 1;
		w[i].t_before_create = now_ns();
		if (pthread_create(&w[i].th, NULL, run, &w[i]))
			return 1;
	}
	tp_wait_for_start();
	for (int i = 0; i < k; i++) {
		if (write(w[i].fds[1], "x", 1) != 1 || pthread_join(w[i].th, NULL))
			return 1;
		w[i].t_after_join = now_ns();
	}
	for (int i = 0; i < k; i++)
		printf("thread %d %llu %llu\n", (int)w[i].tid,
		       (unsigned long long)(w[i].t_last - w[i].t_first),
		       (unsigned long long)(w[i].t_after_join - w[i].t_before_create));
	printf("done %d\n", k);
	free(w);
	return 0;
}

/* Threads with known names, start routines and lifetimes for rtmon thr and rtmon lat
 * (tests/integration/test_thr.py and test_lat.py keep their expectations in step with this file).
 * Every thread names itself at start with pthread_setname_np. A sleep never ends early but may end
 * late on a busy machine, so each lifetime sits just above the lower edge of its log2 microsecond
 * bucket, leaving most of the bucket (14 to 60 ms) for scheduling delays:
 *   joined_worker     x3  "tp-joined"   sleeps 36 ms, returns, joined      -> 32768..65535 us
 *   detached_worker   x2  "tp-detached" sleeps 18 ms, returns, detached    -> 16384..32767 us
 *   exiting_worker    x2  "tp-exit"     sleeps 18 ms, pthread_exit, joined -> 16384..32767 us
 *   cancelled_worker  x2  "tp-cancel"   blocks until cancelled after 70 ms -> 65536..131071 us
 *   lingering_worker  x2  "tp-linger"   blocks until exit() ends the process 70 ms later
 *                                                                          -> 65536..131071 us
 * 11 threads created; 12 exits (the 11 and the main thread). The main thread is named "tp-main". */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "tp_gate.h"

#define N_JOINED    3
#define N_DETACHED  2
#define N_EXITING   2
#define N_CANCELLED 2
#define N_LINGERING 2

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts))
		;
}

static void name_self(const char *name)
{
	pthread_setname_np(pthread_self(), name);
}

/* Each routine is noinline and distinct, so each has its own symbol the tests look for. */
__attribute__((noinline)) static void *joined_worker(void *arg)
{
	(void)arg;
	name_self("tp-joined");
	sleep_ms(36);
	return NULL;
}

__attribute__((noinline)) static void *detached_worker(void *arg)
{
	(void)arg;
	name_self("tp-detached");
	sleep_ms(18);
	return NULL;
}

__attribute__((noinline)) static void *exiting_worker(void *arg)
{
	(void)arg;
	name_self("tp-exit");
	sleep_ms(18);
	pthread_exit(NULL);
}

__attribute__((noinline)) static void *cancelled_worker(void *arg)
{
	(void)arg;
	name_self("tp-cancel");
	for (;;)
		pause(); /* a cancellation point */
	return NULL;
}

__attribute__((noinline)) static void *lingering_worker(void *arg)
{
	(void)arg;
	name_self("tp-linger");
	for (;;)
		pause();
	return NULL;
}

static void create(pthread_t *t, void *(*fn)(void *))
{
	if (pthread_create(t, NULL, fn, NULL)) {
		perror("pthread_create");
		exit(2);
	}
}

/* Threads in this process, from /proc/self/task. */
static int count_tasks(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Detached threads cannot be joined: wait until the kernel has seen them go. */
static void wait_for_tasks(int n)
{
	for (int i = 0; i < 5000 && count_tasks() > n; i++)
		sleep_ms(1);
}

int main(void)
{
	pthread_t t[N_JOINED + N_DETACHED + N_EXITING + N_CANCELLED + N_LINGERING];
	int i, k = 0;

	tp_wait_for_start();
	name_self("tp-main");
	for (i = 0; i < N_JOINED; i++)
		create(&t[k + i], joined_worker);
	for (i = 0; i < N_JOINED; i++)
		pthread_join(t[k + i], NULL);
	k += N_JOINED;

	for (i = 0; i < N_DETACHED; i++) {
		create(&t[k + i], detached_worker);
		pthread_detach(t[k + i]);
	}
	wait_for_tasks(1);
	k += N_DETACHED;

	for (i = 0; i < N_EXITING; i++)
		create(&t[k + i], exiting_worker);
	for (i = 0; i < N_EXITING; i++)
		pthread_join(t[k + i], NULL);
	k += N_EXITING;

	for (i = 0; i < N_CANCELLED; i++)
		create(&t[k + i], cancelled_worker);
	sleep_ms(70);
	for (i = 0; i < N_CANCELLED; i++) {
		pthread_cancel(t[k + i]);
		pthread_join(t[k + i], NULL);
	}
	k += N_CANCELLED;

	for (i = 0; i < N_LINGERING; i++)
		create(&t[k + i], lingering_worker);
	sleep_ms(70);
	exit(0); /* exit_group: the lingering threads end with the process */
}

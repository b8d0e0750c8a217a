/* Benchmark workload: THREADS threads each doing ITERS malloc+free pairs of sizes 16..4096 from a
 * fixed-seed xorshift. Waits for a line on stdin (like testprog/tp_gate.h) so that a tracer can
 * attach first, then prints one JSON line on stdout with its own wall and CPU time (getrusage
 * RUSAGE_SELF around the threads' work: the tracer's own CPU is not counted, the uprobe traps taken
 * by these threads are).
 *
 *   malloc_workload [THREADS [ITERS]]     (defaults 2 and 2000000)
 *
 * Built with -fno-builtin so that the compiler cannot elide a malloc/free pair. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include "tp_gate.h"

static long iters = 2000000;
static void *volatile sink;

static void *worker(void *arg)
{
	uint64_t x = 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)arg;

	for (long i = 0; i < iters; i++) {
		size_t size;
		char *p;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		size = 16 + (size_t)(x % (4096 - 16 + 1));
		p = malloc(size);
		if (!p)
			abort();
		p[0] = (char)i;
		sink = p;
		free(p);
	}
	return NULL;
}

static int64_t ns(struct timespec t)
{
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int64_t tv_ns(struct timeval t)
{
	return (int64_t)t.tv_sec * 1000000000 + (int64_t)t.tv_usec * 1000;
}

int main(int argc, char **argv)
{
	int nthreads = argc > 1 ? atoi(argv[1]) : 2;
	struct rusage r0, r1;
	struct timespec w0, w1;
	pthread_t tids[64];

	if (argc > 2)
		iters = atol(argv[2]);
	if (nthreads < 1 || nthreads > 64 || iters < 1) {
		fprintf(stderr, "usage: malloc_workload [THREADS (1..64) [ITERS]]\n");
		return 2;
	}
	tp_wait_for_start();
	getrusage(RUSAGE_SELF, &r0);
	clock_gettime(CLOCK_MONOTONIC, &w0);
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&tids[i], NULL, worker, (void *)(uintptr_t)(i + 1))) {
			perror("pthread_create");
			return 1;
		}
	for (int i = 0; i < nthreads; i++)
		pthread_join(tids[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &w1);
	getrusage(RUSAGE_SELF, &r1);
	printf("{\"threads\":%d,\"iters\":%ld,\"mallocs\":%ld,\"wall_ns\":%lld,\"cpu_ns\":%lld,"
	       "\"user_ns\":%lld,\"sys_ns\":%lld}\n",
	       nthreads, iters, (long)nthreads * iters, (long long)(ns(w1) - ns(w0)),
	       (long long)(tv_ns(r1.ru_utime) + tv_ns(r1.ru_stime) - tv_ns(r0.ru_utime) -
			   tv_ns(r0.ru_stime)),
	       (long long)(tv_ns(r1.ru_utime) - tv_ns(r0.ru_utime)),
	       (long long)(tv_ns(r1.ru_stime) - tv_ns(r0.ru_stime)));
	return 0;
}

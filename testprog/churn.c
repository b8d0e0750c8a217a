/* Thread churn for rtmon thr and lat: creates and joins argv[1] threads (default 10,000) one after
 * another, each running churn_worker, which returns at once. The tests expect exact counts and
 * nothing lost; the benchmark compares its CPU time with and without rtmon attached. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include "tp_gate.h"

__attribute__((noinline)) static void *churn_worker(void *arg)
{
	return arg;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 10000;

	tp_wait_for_start();
	for (long i = 0; i < n; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, churn_worker, NULL)) {
			perror("pthread_create");
			return 2;
		}
		pthread_join(t, NULL);
	}
	return 0;
}

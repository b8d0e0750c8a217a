/* nthreads K [hold]: after its start gate, creates K threads that return at once, joins each,
 * prints "created K joined K" from its own count and exits 0; with hold, it waits at the gate again
 * before it exits (so that a scraper can read the counts while the process is alive). rtmon
 * serve's tests compare the exporter's thread counters with this line. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include "tp_gate.h"

static void *returns(void *arg)
{
	return arg;
}

int main(int argc, char **argv)
{
	int k = argc >= 2 && argc <= 3 ? atoi(argv[1]) : -1, created = 0, joined = 0;
	pthread_t *th;

	if (k < 0) {
		fprintf(stderr, "usage: nthreads K [hold]\n");
		return 2;
	}
	th = calloc((size_t)k + 1, sizeof(*th));
	if (!th)
		return 1;
	tp_wait_for_start();
	for (int i = 0; i < k; i++)
		if (!pthread_create(&th[i], NULL, returns, NULL))
			created++;
	for (int i = 0; i < created; i++)
		if (!pthread_join(th[i], NULL))
			joined++;
	printf("created %d joined %d\n", created, joined);
	fflush(stdout);
	if (argc == 3)
		tp_wait_for_start();
	free(th);
	return created == k && joined == k ? 0 : 1;
}

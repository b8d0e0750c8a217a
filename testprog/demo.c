/* The program `make demo` traces: a small "service" that handles requests on a few worker threads,
 * allocating request-sized buffers, for about a second. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WORKERS 4

/* Tells the compiler the buffer is used, so it cannot remove the malloc/free pair as dead code. */
#define USE(p)   __asm__ volatile("" : : "r"(p) : "memory")
#define REQUESTS 2000

static void *handle_requests(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;

	pthread_setname_np(pthread_self(), "demo-worker");
	for (int i = 0; i < REQUESTS; i++) {
		size_t header = 64 + rand_r(&seed) % 64;
		size_t body = (size_t)1 << (4 + rand_r(&seed) % 12);
		char *h = malloc(header), *b = malloc(body);

		memset(h, 0, header);
		memset(b, 0, body);
		USE(h);
		USE(b);
		free(h);
		if (i % 100 == 0)
			usleep(5000);
		free(b);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[WORKERS];

	for (int i = 0; i < WORKERS; i++)
		pthread_create(&t[i], NULL, handle_requests, (void *)(uintptr_t)(i + 1));
	for (int i = 0; i < WORKERS; i++)
		pthread_join(t[i], NULL);
	return 0;
}

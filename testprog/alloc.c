/* A known allocation pattern for rtmon malloc's tests (tests/integration/test_malloc.py keeps the
 * expected histogram in step with this file).
 *   log2 bucket k (sizes 2^k .. 2^(k+1)-1), for k = 3..12: (k-2)*10 malloc(2^k)  -> 550 calls
 *   calloc(4, 25) x 7          -> 100 bytes, bucket 6
 *   realloc(p, 300) x 5        -> bucket 8 (p non-NULL)
 *   posix_memalign(64, 1000) x 3 -> bucket 9
 *   aligned_alloc(64, 2048) x 2  -> bucket 11
 *   valloc(5000) x 1           -> bucket 12
 * 568 allocating calls; every block is freed: 563 free() calls (realloc releases the 5 blocks it
 * replaces itself, not through free).
 * argv[1], if given, repeats the whole pattern that many times; argv[2], if given, runs it on that
 * many threads at once instead of the main thread (glibc's pthread_create adds one calloc per
 * thread for the new thread's TLS vector). argv[3], if given, holds mode letters for rtmon malloc
 * --live: k  keep (do not free) 10 blocks per round: the 5 realloc'd ones (300 B each), the last
 * malloc (4096), calloc (100), posix_memalign (1000), aligned_alloc (2048) and the valloc (5000):
 *      10 live blocks, 13744 bytes per round (frees 553 instead of 563)
 *   p  malloc 9 blocks of 64 bytes before waiting for the start signal and free them after it: with
 *      rtmon attached at the gate, 9 frees of memory allocated before tracing
 *   w  after the rounds, wait for a second line on stdin before exiting
 * Built with TP_JE_PREFIX (alloc-je), every call goes to je_malloc, je_free... (lib/je_prefix.h),
 * which libtpmalloc-je.so provides. */
#ifdef TP_JE_PREFIX
#include "lib/je_prefix.h"
#endif
#include <stdlib.h>
#include <malloc.h>
#include <pthread.h>
#include <string.h>
#include "tp_gate.h"

static _Thread_local void *keep[600];
static int keep_some; /* mode k */

/* Mode k: the indices into keep[] of the blocks a round leaves allocated. */
static int kept(int i)
{
	return keep_some && (i < 5 || i == 549 || i == 556 || i == 559 || i == 561 || i == 562);
}

static void pattern(void)
{
	int n = 0;

	for (int k = 3; k <= 12; k++)
		for (int i = 0; i < (k - 2) * 10; i++)
			keep[n++] = malloc((size_t)1 << k);
	for (int i = 0; i < 7; i++)
		keep[n++] = calloc(4, 25);
	for (int i = 0; i < 5; i++)
		keep[i] = realloc(keep[i], 300);
	for (int i = 0; i < 3; i++)
		if (posix_memalign(&keep[n++], 64, 1000))
			_exit(3);
	for (int i = 0; i < 2; i++)
		keep[n++] = aligned_alloc(64, 2048);
	keep[n++] = valloc(5000);
	for (int i = 0; i < n; i++)
		if (!kept(i))
			free(keep[i]);
}

static int rounds = 1;

static void *run_rounds(void *unused)
{
	(void)unused;
	for (int r = 0; r < rounds; r++)
		pattern();
	return NULL;
}

int main(int argc, char **argv)
{
	int nthreads = argc > 2 ? atoi(argv[2]) : 0;
	const char *mode = argc > 3 ? argv[3] : "";
	pthread_t t[64];
	void *pre[9];
	int npre = strchr(mode, 'p') ? 9 : 0;

	if (argc > 1)
		rounds = atoi(argv[1]);
	if (nthreads > 64)
		nthreads = 64;
	keep_some = strchr(mode, 'k') != NULL;
	for (int i = 0; i < npre; i++)
		pre[i] = malloc(64);
	tp_wait_for_start();
	for (int i = 0; i < npre; i++)
		free(pre[i]);
	if (!nthreads)
		run_rounds(NULL);
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&t[i], NULL, run_rounds, NULL))
			_exit(4);
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	if (strchr(mode, 'w'))
		tp_wait_for_start();
	return 0;
}

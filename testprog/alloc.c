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
 * argv[1], if given, repeats the whole pattern that many times. */
#include <stdlib.h>
#include <malloc.h>
#include "tp_gate.h"

static void *keep[600];

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
		free(keep[i]);
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 1;

	tp_wait_for_start();
	for (int r = 0; r < rounds; r++)
		pattern();
	return 0;
}

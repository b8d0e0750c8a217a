/* jemalloc's own API, linked with -ljemalloc, for rtmon malloc's tests
 * (tests/integration/test_malloc_allocators.py keeps the expected counts in step with this file).
 * After the start signal:
 *   mallocx(100) x 10                -> bucket 6 (64..127)
 *   rallocx(p, 700) x 10             -> bucket 9 (512..1023), a realloc: an allocation
 *   xallocx(p, 700, 0, 0) x 10       -> resizes in place: calls, no allocation
 *   sdallocx(p, 700, 0) x 5, dallocx(p, 0) x 5 -> 10 frees
 *   nallocx(64, 0) x 3               -> a size query: nothing
 *   realloc(NULL, 3000) x 4          -> bucket 11 (2048..4095): jemalloc allocates inside realloc
 *   realloc(p, 0) x 2                -> frees (jemalloc's default opt.zero_realloc "free")
 *   free(p) x 2
 * 24 allocations, 14 frees. */
#include <stdlib.h>
#include <jemalloc/jemalloc.h>
#include "../tp_gate.h"

int main(void)
{
	/* volatile: the compiler turns realloc(NULL, n) into malloc(n) */
	void *volatile none = NULL;
	void *a[10], *b[4];
	size_t n = 0;

	tp_wait_for_start();
	for (int i = 0; i < 10; i++)
		a[i] = mallocx(100, 0);
	for (int i = 0; i < 10; i++)
		a[i] = rallocx(a[i], 700, 0);
	for (int i = 0; i < 10; i++)
		n += xallocx(a[i], 700, 0, 0);
	for (int i = 0; i < 5; i++)
		sdallocx(a[i], 700, 0);
	for (int i = 5; i < 10; i++)
		dallocx(a[i], 0);
	for (int i = 0; i < 3; i++)
		n += nallocx(64, 0);
	for (int i = 0; i < 4; i++)
		b[i] = realloc(none, 3000);
	for (int i = 0; i < 2; i++)
		if (realloc(b[i], 0))
			return 3; /* not freed: opt.zero_realloc is not "free" */
	for (int i = 2; i < 4; i++)
		free(b[i]);
	return n ? 0 : 4;
}

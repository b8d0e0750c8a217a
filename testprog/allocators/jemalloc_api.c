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
 * and C++'s operators, which jemalloc defines (declared here by their mangled names):
 *   operator new(200) x 4            -> bucket 7 (128..255)
 *   operator new[](200) x 2          -> bucket 7: it jumps to operator new, counted once
 *   operator new(1000, align 64) x 2 -> bucket 9: it calls aligned_alloc, counted once
 *   operator delete(p) x 4           -> it jumps to free, counted once
 *   operator delete(p, 200) x 2      -> sized: jemalloc's own code
 *   operator delete(p, align 64) x 2 -> it jumps to free, counted once
 * 32 allocations, 22 frees; 10 calls made inside another probed function. */
#include <stdlib.h>
#include <jemalloc/jemalloc.h>
#include "../tp_gate.h"

void *_Znwm(size_t size);
void *_Znam(size_t size);
void *_ZnwmSt11align_val_t(size_t size, size_t align);
void _ZdlPv(void *p);
void _ZdlPvm(void *p, size_t size);
void _ZdlPvSt11align_val_t(void *p, size_t align);

int main(void)
{
	/* volatile: the compiler turns realloc(NULL, n) into malloc(n) */
	void *volatile none = NULL;
	void *a[10], *b[4], *c[8];
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
	for (int i = 0; i < 4; i++)
		c[i] = _Znwm(200);
	for (int i = 4; i < 6; i++)
		c[i] = _Znam(200);
	for (int i = 6; i < 8; i++)
		c[i] = _ZnwmSt11align_val_t(1000, 64);
	for (int i = 0; i < 4; i++)
		_ZdlPv(c[i]);
	for (int i = 4; i < 6; i++)
		_ZdlPvm(c[i], 200);
	for (int i = 6; i < 8; i++)
		_ZdlPvSt11align_val_t(c[i], 64);
	return n ? 0 : 4;
}

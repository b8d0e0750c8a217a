/* A program using Boehm GC (libgc) for rtmon gc's tests: after its start signal (tp_gate.h) it
 * calls GC_gcollect() N times; then, as asked: -unmap one GC_gcollect_and_unmap(), -try one
 * GC_try_to_collect(), -disabled one GC_gcollect() while collection is disabled (collects nothing),
 * -alloc M allocates M small objects, a few kept live, so that the collector starts collections
 * itself. Last, on stdout, the collector's own count before the start signal and at the end. */
#include <gc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tp_gate.h"

static int never_stop(void)
{
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1, alloc = 0;
	int unmap = 0, try = 0, disabled = 0;
	unsigned long gc_no_start;
	void **live[16] = { 0 };

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-unmap"))
			unmap = 1;
		else if (!strcmp(argv[i], "-try"))
			try = 1;
		else if (!strcmp(argv[i], "-disabled"))
			disabled = 1;
		else if (!strcmp(argv[i], "-alloc") && i + 1 < argc)
			alloc = atol(argv[++i]);
	}
	GC_INIT();
	gc_no_start = (unsigned long)GC_get_gc_no();
	tp_wait_for_start();
	for (long i = 0; i < n; i++)
		GC_gcollect();
	if (unmap)
		GC_gcollect_and_unmap();
	if (try && !GC_try_to_collect(never_stop))
		return 3;
	if (disabled) {
		GC_disable();
		GC_gcollect();
		GC_enable();
	}
	for (long i = 0; i < alloc; i++) {
		void **p = GC_MALLOC(64);

		p[0] = live[i % 16];
		if (i % 1000 == 0)
			live[(i / 1000) % 16] = p;
	}
	printf("gc_no_start=%lu gc_no_end=%lu\n", gc_no_start, (unsigned long)GC_get_gc_no());
	return 0;
}

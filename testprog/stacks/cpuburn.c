/* Burns CPU in two functions, burn_a and burn_b, in a 3:1 ratio of fixed work, each reached as
 * main -> level1 -> level2 -> level3 -> burn_X, for rtmon profile's tests. Built -O2 with and
 * without frame pointers (the Makefile's cpuburn-fp and cpuburn-nofp). Prints the iterations each
 * burner ran: the truth the samples are compared with.
 * Usage: cpuburn ROUNDS (each round: 3 units in burn_a, 1 in burn_b), after the start gate. */
#include <stdio.h>
#include <stdlib.h>
#include "../tp_gate.h"

#define UNIT 1000000UL /* iterations per unit of work: about 1 ms */

/* noipa: not inlined, cloned or merged with its twin (-O2's identical code folding), so that each
 * function keeps its own frame and name. */
#define KEEP __attribute__((noipa))

static unsigned long iters_a, iters_b;

KEEP static unsigned long burn_a(unsigned long units)
{
	unsigned long x = 1;

	for (unsigned long i = 0; i < units * UNIT; i++)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	iters_a += units * UNIT;
	return x;
}

KEEP static unsigned long burn_b(unsigned long units)
{
	unsigned long x = 3;

	for (unsigned long i = 0; i < units * UNIT; i++)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	iters_b += units * UNIT;
	return x;
}

/* Each level uses its callee's result after the call, so that no call becomes a tail jump (which
 * would take the caller's frame off the stack). */
KEEP static unsigned long level3(int which)
{
	unsigned long r = which ? burn_b(1) : burn_a(3);

	return r ^ (unsigned long)which;
}

KEEP static unsigned long level2(int which)
{
	return level3(which) + 1;
}

KEEP static unsigned long level1(int which)
{
	return level2(which) + 1;
}

int main(int argc, char **argv)
{
	unsigned long rounds = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000, sink = 0;

	tp_wait_for_start();
	for (unsigned long i = 0; i < rounds; i++) {
		sink += level1(0);
		sink += level1(1);
	}
	printf("burn_a %lu burn_b %lu sink %lu\n", iters_a, iters_b, sink & 1);
	return 0;
}

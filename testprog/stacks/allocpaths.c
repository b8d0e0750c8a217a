/* Allocates from three call paths in known numbers and sizes, for rtmon malloc --stacks' tests:
 * each round, main -> path_a -> alloc_a mallocs 3 x 48 B, main -> path_b -> alloc_b 2 x 1000 B,
 * main -> path_c -> alloc_c 1 x 40000 B. With "leak", path a's blocks are never freed and the
 * others are freed at once; without it every block is freed at the end. Built -O2 with and without
 * frame pointers, PIE and static (the Makefile's allocpaths-*). Prints what each path allocated
 * (after the work: stdio allocates): the truth the stacks are compared with.
 * With "hold" (after "leak"), the rounds run twice: after each pass the counts so far are printed
 * and the program waits for another line on stdin (blocks of two ages, for --min-age).
 * Usage: allocpaths ROUNDS [leak [hold]], after the start gate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../tp_gate.h"

#define KEEP       __attribute__((noipa))
#define MAX_BLOCKS 100000

static void *blocks[MAX_BLOCKS];
static unsigned long nblocks, count[3], bytes[3];
static int leak;

static void report(void)
{
	printf("a %lu %lu b %lu %lu c %lu %lu\n", count[0], bytes[0], count[1], bytes[1], count[2],
	       bytes[2]);
	fflush(stdout);
}

/* Each function uses its callee's result after the call, so that no call becomes a tail jump. */
KEEP static void *alloc_a(void)
{
	void *p = malloc(48);

	count[0]++;
	bytes[0] += 48;
	return p;
}

KEEP static void *alloc_b(void)
{
	void *p = malloc(1000);

	count[1]++;
	bytes[1] += 1000;
	return p;
}

KEEP static void *alloc_c(void)
{
	void *p = malloc(40000);

	count[2]++;
	bytes[2] += 40000;
	return p;
}

KEEP static void keep(void *p, int freed_now)
{
	if (freed_now)
		free(p);
	else if (nblocks < MAX_BLOCKS)
		blocks[nblocks++] = p;
	else
		abort();
}

KEEP static int path_a(void)
{
	for (int i = 0; i < 3; i++)
		keep(alloc_a(), 0);
	return 1;
}

KEEP static int path_b(void)
{
	for (int i = 0; i < 2; i++)
		keep(alloc_b(), leak);
	return 1;
}

KEEP static int path_c(void)
{
	keep(alloc_c(), leak);
	return 1;
}

int main(int argc, char **argv)
{
	unsigned long rounds = argc > 1 ? strtoul(argv[1], NULL, 10) : 100;
	int sink = 0, hold;

	leak = argc > 2 && !strcmp(argv[2], "leak");
	hold = leak && argc > 3 && !strcmp(argv[3], "hold");
	tp_wait_for_start();
	for (int pass = 0; pass < 1 + hold; pass++) {
		for (unsigned long i = 0; i < rounds; i++)
			sink += path_a() + path_b() + path_c();
		if (hold) {
			report();
			tp_wait_for_start();
		}
	}
	if (!leak)
		for (unsigned long i = 0; i < nblocks; i++)
			free(blocks[i]);
	if (!hold)
		report();
	return sink == 0;
}

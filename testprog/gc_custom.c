/* A program with its own mark-and-sweep collector, for rtmon gc --cycle/--phase: gc_collect() runs
 * gc_mark() (which calls the recursive mark_obj() once per root, on chains deeper than the kernel's
 * 64 pending return probes) and then gc_sweep(). After its start signal (tp_gate.h) it builds some
 * objects and collects, N times; with -outside it first calls gc_sweep() once outside any cycle. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tp_gate.h"

#define NROOTS 4
#define CHAIN 100  /* objects reachable from each root, in a chain: mark_obj recurses this deep */
#define GARBAGE 200

struct obj {
	struct obj *next_alloc;
	struct obj *ref;
	int marked;
	long payload[4];
};

static struct obj *all;
static struct obj *roots[NROOTS];
long freed, marked;

static struct obj *obj_new(struct obj *ref)
{
	struct obj *o = calloc(1, sizeof(*o));

	if (!o)
		exit(2);
	o->ref = ref;
	o->next_alloc = all;
	all = o;
	return o;
}

__attribute__((noinline, noclone)) void mark_obj(struct obj *o)
{
	if (!o || o->marked)
		return;
	o->marked = 1;
	marked++;
	mark_obj(o->ref);
	__asm__ volatile("" ::: "memory"); /* keeps the call a real call, not a loop */
}

__attribute__((noinline, noclone)) void gc_mark(void)
{
	for (int i = 0; i < NROOTS; i++)
		mark_obj(roots[i]);
}

__attribute__((noinline, noclone)) void gc_sweep(void)
{
	struct obj **pp = &all;

	while (*pp) {
		struct obj *o = *pp;

		if (!o->marked) {
			*pp = o->next_alloc;
			free(o);
			freed++;
			continue;
		}
		o->marked = 0;
		pp = &o->next_alloc;
	}
}

__attribute__((noinline, noclone)) void gc_collect(void)
{
	gc_mark();
	gc_sweep();
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1;

	tp_wait_for_start();
	if (argc > 2 && !strcmp(argv[2], "-outside"))
		gc_sweep();
	for (long i = 0; i < n; i++) {
		struct obj *chain = NULL;

		for (int k = 0; k < CHAIN; k++)
			chain = obj_new(chain);
		roots[i % NROOTS] = chain;
		for (int k = 0; k < GARBAGE; k++)
			obj_new(NULL);
		gc_collect();
	}
	printf("collections=%ld marked=%ld freed=%ld\n", n, marked, freed);
	return 0;
}

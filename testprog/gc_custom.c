/* A program with its own mark-and-sweep collector, for rtmon gc --cycle/--phase: gc_collect() runs
 * gc_mark() (which calls the recursive mark_obj() once per root, on chains deeper than the kernel's
 * 64 pending return probes) and then gc_sweep(). After its start signal (tp_gate.h) it builds some
 * objects and collects, N times. Options: -outside first calls gc_sweep() once outside any cycle;
 * -helper runs each gc_sweep() on a helper thread that gc_collect() waits for; -longjmp leaves
 * gc_mark() by longjmp back into gc_collect(), so that gc_mark never returns. */
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tp_gate.h"

#define NROOTS  4
#define CHAIN   100 /* objects reachable from each root, in a chain: mark_obj recurses this deep */
#define GARBAGE 200

struct obj {
	struct obj *next_alloc;
	struct obj *ref;
	int marked;
	long payload[4];
};

static struct obj *all;
static struct obj *roots[NROOTS];
static int helper_mode, longjmp_mode;
static jmp_buf mark_abandoned;
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
	if (longjmp_mode)
		longjmp(mark_abandoned, 1);
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

static void *sweep_thread(void *arg)
{
	(void)arg;
	gc_sweep();
	return NULL;
}

__attribute__((noinline, noclone)) void gc_collect(void)
{
	pthread_t helper;

	if (!setjmp(mark_abandoned))
		gc_mark();
	if (!helper_mode) {
		gc_sweep();
	} else if (pthread_create(&helper, NULL, sweep_thread, NULL) ||
		   pthread_join(helper, NULL)) {
		exit(2);
	}
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1;
	int outside = 0;

	for (int i = 2; i < argc; i++) {
		outside |= !strcmp(argv[i], "-outside");
		helper_mode |= !strcmp(argv[i], "-helper");
		longjmp_mode |= !strcmp(argv[i], "-longjmp");
	}
	tp_wait_for_start();
	if (outside)
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

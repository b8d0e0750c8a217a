/* malloc --stacks' cost workload (tests/bench/stacks.py): main -> level1 -> loop ->
 * one -> malloc(64), then free, N times, after a line on stdin. Built -O2 with and without frame
 * pointers by the script. Exits after a second line on stdin. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#define KEEP __attribute__((noipa))
KEEP static void *one(size_t n)
{
	void *p = malloc(n);
	return p;
}
KEEP static unsigned long loop(unsigned long n)
{
	unsigned long s = 0;
	for (unsigned long i = 0; i < n; i++) {
		void *p = one(64);
		s += (unsigned long)p & 1;
		free(p);
	}
	return s;
}
KEEP static unsigned long level1(unsigned long n)
{
	return loop(n) + 1;
}
int main(int argc, char **argv)
{
	char c;
	while (read(0, &c, 1) == 1 && c != '\n')
		;
	unsigned long n = strtoul(argv[1], 0, 10);
	printf("%lu\n", level1(n));
	fflush(stdout);
	/* Held again until a second line (or EOF): a tracer that names frames only when it prints
	 * (bpftrace's ustack) can do so while the process still exists. */
	while (read(0, &c, 1) == 1 && c != '\n')
		;
	return 0;
}

/* What finding a JVM's GC cause costs rtmon (user/runtime/java/gc_cause.c): the time from the
 * process to the address of its sun.gc.cause, as rtmon gc spends it once per JVM (at attach, or at
 * the JVM's vm__init__end, in the event loop). Not part of make bench: run by hand as root on a
 * running JVM. Usage: jvm_cause_find PID LIBJVM [N] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "runtime/java/gc_cause.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	struct hs_vmstructs_file f;
	char err[512];
	uint64_t addr = 0;
	int n = argc > 3 ? atoi(argv[3]) : 200;
	double t0, t1, t2;

	if (argc < 3 || n <= 0) {
		fprintf(stderr, "usage: %s PID LIBJVM [N]\n", argv[0]);
		return 2;
	}
	t0 = now_us();
	if (hs_vmstructs_file_open(&f, argv[2], err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	t1 = now_us();
	for (int i = 0; i < n; i++)
		if (jvm_gc_cause_addr(&f, atoi(argv[1]), &addr, err, sizeof(err))) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
	t2 = now_us();
	printf("libjvm.so's symbols: %.0f us; the process's cause address 0x%llx: %.1f us each (%d "
	       "times)\n",
	       t1 - t0, (unsigned long long)addr, (t2 - t1) / n, n);
	return 0;
}

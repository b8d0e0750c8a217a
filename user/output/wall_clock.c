#include <time.h>
#include "output/wall_clock.h"

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t wall_clock_now_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

int64_t wall_clock_of_mono(uint64_t mono_ns)
{
	/* Read each time rather than once at start: the wall clock may be stepped while tracing. */
	int64_t ago = clock_ns(CLOCK_MONOTONIC) - (int64_t)mono_ns;

	return clock_ns(CLOCK_REALTIME) - (ago > 0 ? ago : 0);
}

void wall_clock_print_column(FILE *out, uint64_t mono_ns)
{
	int64_t ns = wall_clock_of_mono(mono_ns);
	time_t sec = (time_t)(ns / 1000000000);
	struct tm tm;
	char hms[16];

	localtime_r(&sec, &tm);
	strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
	fprintf(out, "%s.%06d ", hms, (int)(ns % 1000000000 / 1000));
}

/* Wall-clock times for what rtmon prints: events carry CLOCK_MONOTONIC stamps (bpf_ktime_get_ns);
 * a record's wall-clock time is the wall clock now less how long ago it happened. JSON records
 * carry it as "time" (output/json.c); -T puts it in a column of the text tables. */
#ifndef RTMON_WALL_CLOCK_H
#define RTMON_WALL_CLOCK_H

#include <stdint.h>
#include <stdio.h>

/* Nanoseconds since the epoch now, and of an event at mono_ns on CLOCK_MONOTONIC. */
int64_t wall_clock_now_ns(void);
int64_t wall_clock_of_mono(uint64_t mono_ns);

/* -T: the event's local time of day, "15:20:01.123456", and a space. */
void wall_clock_print_column(FILE *out, uint64_t mono_ns);
/* The heading of that column, padded to its width. */
#define WALL_CLOCK_HEADING "CLOCK           "

#endif

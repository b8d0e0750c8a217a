/* The streaming JSON writer (user/output/json.h): fields, nesting, numbers at their limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <cmocka.h>
#include "output/json.h"

static char buf[512];

static FILE *open_buf(void)
{
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	json_set_fixed_time(0);

	assert_non_null(f);
	return f;
}

static void test_fields(void **state)
{
	FILE *f = open_buf();

	(void)state;
	json_begin(f, "thread");
	json_field_u64(f, "zero", 0);
	json_field_u64(f, "max", UINT64_MAX);
	json_field_i64(f, "neg", INT64_MIN);
	json_field_i64(f, "pos", 42);
	json_field_f(f, "secs", 1.23456, 3);
	json_field_str(f, "name", "a\"b\xff");
	json_field_bool(f, "t", true);
	json_field_null(f, "none");
	json_end(f);
	fclose(f);
	assert_string_equal(buf, "{\"type\":\"thread\",\"time\":\"1970-01-01T00:00:00.000000Z\","
				 "\"zero\":0,\"max\":18446744073709551615,"
				 "\"neg\":-9223372036854775808,\"pos\":42,\"secs\":1.235,"
				 "\"name\":\"a\\\"b\\ufffd\",\"t\":true,\"none\":null}\n");
}

/* json_field_exact: the fewest digits that read back as the same double; null for NaN. */
static void test_exact_double(void **state)
{
	FILE *f = open_buf();

	(void)state;
	json_begin(f, "x");
	json_field_exact(f, "a", 0.1);
	json_field_exact(f, "b", 0.1 + 0.2);
	json_field_exact(f, "c", 0.0699999999999);
	json_field_exact(f, "d", 0.0 / 0.0);
	json_end(f);
	fclose(f);
	assert_string_equal(buf, "{\"type\":\"x\",\"time\":\"1970-01-01T00:00:00.000000Z\","
				 "\"a\":0.1,\"b\":0.30000000000000004,\"c\":0.0699999999999,"
				 "\"d\":null}\n");
}

/* Nested objects, an empty one, and a field after them (the summary writer, output/summary.c, is
 * tested in test_summary.c). */
static void test_nested(void **state)
{
	FILE *f = open_buf();

	(void)state;
	json_begin(f, "summary");
	json_field_str(f, "command", "thr");
	json_object_open(f, "goroutines");
	json_field_u64(f, "created", 3);
	json_field_u64(f, "lost", 0);
	json_object_close(f);
	json_object_open(f, "empty");
	json_object_close(f);
	json_field_u64(f, "after", 7);
	json_end(f);
	fclose(f);
	assert_string_equal(
		buf, "{\"type\":\"summary\",\"time\":\"1970-01-01T00:00:00.000000Z\","
		     "\"command\":\"thr\","
		     "\"goroutines\":{\"created\":3,\"lost\":0},\"empty\":{},\"after\":7}\n");
}

/* An event's record carries the event's own wall-clock time: its monotonic stamp moved onto the
 * wall clock, not the time it was written. */
static void test_time_of_event(void **state)
{
	struct timespec mono, wall;
	struct tm tm = { 0 };
	int usec = -1;
	char *end;
	time_t t;

	(void)state;
	json_set_fixed_time(-1);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &wall);
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	json_begin_at(f, "thread", (uint64_t)(mono.tv_sec - 100) * 1000000000 + mono.tv_nsec);
	json_end(f);
	fclose(f);
	end = strptime(buf, "{\"type\":\"thread\",\"time\":\"%Y-%m-%dT%H:%M:%S", &tm);
	assert_non_null(end);
	assert_int_equal(sscanf(end, ".%6dZ\"}", &usec), 1);
	assert_true(usec >= 0 && usec < 1000000);
	t = timegm(&tm);
	/* 100 s before now, give or take the second the two clock reads straddle */
	assert_true(t >= wall.tv_sec - 101 && t <= wall.tv_sec - 99);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_exact_double),
		cmocka_unit_test(test_time_of_event),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

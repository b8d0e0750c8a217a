/* The summary writer (user/output/summary.h): the same calls give the text line and the JSON
 * object, with the counts, groups and the end of a -- CMD target in both. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>
#include "output/json.h"
#include "output/summary.h"

static char buf[1024];

/* A summary as thr writes it, with a goroutine group and a -- CMD that exited with status 3. */
static void write_summary(bool json, const struct target *t)
{
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct summary s = { .out = f,
			     .json = json,
			     .command = "thr",
			     .events = 23,
			     .lost = 2,
			     .secs = 0.25,
			     .end = "target-exit",
			     .t = t };

	assert_non_null(f);
	json_set_fixed_time(0);
	summary_begin(&s);
	summary_count(&s, "created", "created", 11);
	summary_count(&s, "exited", "exited", 12);
	summary_count(&s, NULL, "lost", 2);
	summary_count(&s, "exited_unknown_lifetime", NULL, 1);
	summary_group_open(&s, "goroutines", "goroutines: ");
	summary_count(&s, "created", "created", UINT64_MAX);
	summary_group_close(&s, " (note)");
	summary_end(&s, NULL);
	fclose(f);
}

static struct target cmd_target(void)
{
	struct target t;

	memset(&t, 0, sizeof(t));
	t.kind = TARGET_CMD;
	t.exited = true;
	t.exit_status = 3 << 8; /* WIFEXITED, status 3 */
	snprintf(t.label, sizeof(t.label), "./app\x1b[7m (PID 7)");
	return t;
}

static void test_text(void **state)
{
	struct target t = cmd_target();

	(void)state;
	write_summary(false, &t);
	assert_string_equal(buf,
			    "\ncreated 11, exited 12, lost 2\n"
			    "goroutines: created 18446744073709551615 (note)\n"
			    "23 events in 0.2 s, 2 lost; ./app?[7m (PID 7) exited with status 3\n");
}

static void test_json(void **state)
{
	struct target t = cmd_target();

	(void)state;
	write_summary(true, &t);
	assert_string_equal(buf, "{\"type\":\"summary\",\"time\":\"1970-01-01T00:00:00.000000Z\","
				 "\"command\":\"thr\",\"events\":23,\"lost\":2,"
				 "\"duration_s\":0.250,\"end\":\"target-exit\",\"created\":11,"
				 "\"exited\":12,\"exited_unknown_lifetime\":1,"
				 "\"goroutines\":{\"created\":18446744073709551615},"
				 "\"target_exit\":3}\n");
}

/* A -p target: no end clause; malloc's noun and detail. */
static void test_text_detail(void **state)
{
	struct target t;
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct summary s = { .out = f,
			     .command = "malloc",
			     .events_noun = "probe hits",
			     .events = 5,
			     .secs = 1.04,
			     .end = "duration",
			     .t = &t };

	(void)state;
	memset(&t, 0, sizeof(t));
	t.kind = TARGET_PID;
	summary_begin(&s);
	summary_end(&s, " (1 live window)");
	fclose(f);
	assert_string_equal(buf, "\n5 probe hits in 1.0 s (1 live window), 0 lost\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_text_detail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

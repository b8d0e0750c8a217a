/* The exposition writer (user/output/prom.h): label values escaped as the text format and
 * OpenMetrics say and kept valid UTF-8; counters named _total in samples, and in the family only
 * in the text format; log2 histograms with cumulative buckets, +Inf, _sum and _count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "log2.h"
#include "output/prom.h"

static char out[8192];

static struct prom_writer writer(enum prom_format fmt, const char *labels)
{
	struct prom_writer w = { fmemopen(out, sizeof(out), "w"), fmt, labels };

	assert_non_null(w.out);
	return w;
}

static void test_label_escaping(void **state)
{
	const char *kv[] = { "exe", "/a\\b\"c\nd", "name", "caf\xc3\xa9\xff" };
	char *l;

	(void)state;
	l = prom_labels(kv, 2);
	assert_non_null(l);
	/* \ " newline escaped; é kept; the stray 0xff byte becomes U+FFFD */
	assert_string_equal(l, "exe=\"/a\\\\b\\\"c\\nd\",name=\"caf\xc3\xa9\xef\xbf\xbd\"");
	free(l);
}

static void test_counter_text_and_openmetrics(void **state)
{
	struct prom_writer w = writer(PROM_TEXT, "pid=\"7\"");

	(void)state;
	prom_family(&w, "rtmon_x", PROM_COUNTER, "seconds", "Help with \\ and\nnewline.");
	prom_counter(&w, "rtmon_x", "collector=\"gc\"", 42);
	prom_finish(&w);
	fclose(w.out);
	assert_string_equal(out, "# HELP rtmon_x_total Help with \\\\ and\\nnewline.\n"
				 "# TYPE rtmon_x_total counter\n"
				 "rtmon_x_total{pid=\"7\",collector=\"gc\"} 42\n");
	w = writer(PROM_OPENMETRICS, "");
	prom_family(&w, "rtmon_x", PROM_COUNTER, "seconds", "H.");
	prom_counter(&w, "rtmon_x", NULL, 1);
	prom_gauge(&w, "rtmon_g", NULL, 2.5);
	prom_finish(&w);
	fclose(w.out);
	assert_string_equal(out,
			    "# HELP rtmon_x H.\n# TYPE rtmon_x counter\n# UNIT rtmon_x seconds\n"
			    "rtmon_x_total 1\nrtmon_g 2.5\n# EOF\n");
}

static void test_log2_histogram(void **state)
{
	__u64 slots[LOG2_SLOTS] = { 0 };
	struct prom_writer w = writer(PROM_TEXT, "a=\"b\"");

	(void)state;
	slots[0] = 1;  /* 0..1 us: below 2 us */
	slots[2] = 3;  /* 4..7 us: below 8 us */
	slots[40] = 2; /* past the buckets written: +Inf only */
	prom_log2_histogram(&w, "h", slots, LOG2_SLOTS, 3, 1e-6, 0.5);
	fclose(w.out);
	assert_string_equal(out, "h_bucket{a=\"b\",le=\"2e-06\"} 1\n"
				 "h_bucket{a=\"b\",le=\"4e-06\"} 1\n"
				 "h_bucket{a=\"b\",le=\"8e-06\"} 4\n"
				 "h_bucket{a=\"b\",le=\"+Inf\"} 6\n"
				 "h_sum{a=\"b\"} 0.5\n"
				 "h_count{a=\"b\"} 6\n");
}

static void test_accept(void **state)
{
	(void)state;
	assert_int_equal(prom_format_for_accept(NULL), PROM_TEXT);
	assert_int_equal(prom_format_for_accept("text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
			 PROM_TEXT);
	assert_int_equal(prom_format_for_accept("application/openmetrics-text;version=1.0.0"),
			 PROM_OPENMETRICS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_counter_text_and_openmetrics),
		cmocka_unit_test(test_log2_histogram),
		cmocka_unit_test(test_accept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

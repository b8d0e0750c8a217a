/* log2 bucketing (shared with BPF), percentile estimates, and the text histogram. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "output/hist.h"
#include "output/json.h"
#include "go_sizeclasses.h"

static void test_log2_slot_edges(void **state)
{
	(void)state;
	assert_int_equal(log2_slot(0), 0);
	assert_int_equal(log2_slot(1), 0);
	assert_int_equal(log2_slot(2), 1);
	assert_int_equal(log2_slot(3), 1);
	assert_int_equal(log2_slot(4), 2);
	assert_int_equal(log2_slot(4095), 11);
	assert_int_equal(log2_slot(4096), 12);
	assert_int_equal(log2_slot(1ULL << 32), 32);
	assert_int_equal(log2_slot((1ULL << 32) - 1), 31);
	assert_int_equal(log2_slot(UINT64_MAX), 63);
	/* Every value lands in the bucket whose bounds hold it. */
	for (uint64_t v = 0; v < 70000; v++) {
		unsigned s = log2_slot(v);

		assert_true(v >= hist_lo((int)s) && v <= hist_hi((int)s));
	}
}

static void test_bounds(void **state)
{
	(void)state;
	assert_int_equal(hist_lo(0), 0);
	assert_int_equal(hist_hi(0), 1);
	assert_int_equal(hist_lo(4), 16);
	assert_int_equal(hist_hi(4), 31);
	assert_true(hist_hi(63) == UINT64_MAX);
}

static void test_percentiles(void **state)
{
	__u64 slots[LOG2_SLOTS] = { 0 };

	(void)state;
	assert_true(hist_percentile(slots, LOG2_SLOTS, 0.5) == 0);
	slots[4] = 100; /* 16..31 */
	/* p50 with counts {0..1: 1, 16..31: 3} in test_json: rank 2 is a third into 16..31 = 21.3.
	 */
	/* Linear within the bucket: the median of 100 values spread over 16..31 is at 16 + 16/2. */
	assert_true(hist_percentile(slots, LOG2_SLOTS, 0.5) == 24.0);
	assert_true(hist_percentile(slots, LOG2_SLOTS, 1.0) == 32.0);
	slots[10] = 100; /* 1024..2047 */
	assert_true(hist_percentile(slots, LOG2_SLOTS, 0.5) == 32.0);
	assert_true(hist_percentile(slots, LOG2_SLOTS, 0.99) > 1024 &&
		    hist_percentile(slots, LOG2_SLOTS, 0.99) < 2048);
	assert_int_equal(hist_total(slots, LOG2_SLOTS), 200);
}

static char *print_to_string(const __u64 *slots)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	hist_print_log2(f, slots, LOG2_SLOTS, "size (bytes)");
	fclose(f);
	return buf;
}

static void test_print(void **state)
{
	__u64 slots[LOG2_SLOTS] = { 0 };
	char *out;

	(void)state;
	out = print_to_string(slots);
	assert_string_equal(out, ""); /* empty: nothing, the caller says "none seen" */
	free(out);
	slots[1] = 5;
	slots[3] = 10;
	out = print_to_string(slots);
	assert_string_equal(
		out, "  size (bytes) : count    distribution\n"
		     "    0 -> 1     : 0        |                                        |\n"
		     "    2 -> 3     : 5        |********************                    |\n"
		     "    4 -> 7     : 0        |                                        |\n"
		     "    8 -> 15    : 10       |****************************************|\n");
	free(out);
}

/* The extremes bound the interpolation: four values of about 102.8 ms in the bucket 65536..131071
 * us gave a p50 of ~98304 and a p99 of ~130417 without them. */
static void test_percentile_in_range(void **state)
{
	__u64 slots[LOG2_SLOTS] = { 0 };
	struct lifetime_hist a = { 0 }, b = { 0 };
	struct hist_range r;

	(void)state;
	slots[16] = 4;
	r = hist_range_of(102900000, ~(uint64_t)102700000, 1e-3);
	assert_true(r.known);
	assert_true(hist_percentile(slots, LOG2_SLOTS, 0.5) < 102700);
	assert_true(hist_percentile_in(slots, LOG2_SLOTS, 0.5, &r) == 102700.0);
	assert_true(hist_percentile_in(slots, LOG2_SLOTS, 0.99, &r) == 102900.0);
	/* Not known (zeroed entry): the interpolation as it is. */
	r = hist_range_of(0, 0, 1);
	assert_false(r.known);
	assert_true(hist_percentile_in(slots, LOG2_SLOTS, 0.5, &r) ==
		    hist_percentile(slots, LOG2_SLOTS, 0.5));
	/* Merging keys combines extremes; subtracting a snapshot keeps them. */
	a.count = 1, a.max_ns = 50, a.min_ns_inv = ~(uint64_t)50;
	b.count = 1, b.max_ns = 900, b.min_ns_inv = ~(uint64_t)7;
	lifetime_hist_add(&a, &b, 1);
	assert_int_equal(a.count, 2);
	assert_int_equal(a.max_ns, 900);
	assert_int_equal(~a.min_ns_inv, 7);
	lifetime_hist_add(&a, &b, -1);
	assert_int_equal(a.count, 1);
	assert_int_equal(a.max_ns, 900);
}

static void test_json(void **state)
{
	__u64 slots[LOG2_SLOTS] = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	slots[0] = 1;
	slots[4] = 3;
	json_set_fixed_time(0);
	json_hist_begin(f, "malloc_size", "bytes", 0, slots, LOG2_SLOTS, 4, 61, NULL);
	fputc(' ', f);
	json_str(f, "a\"b\\c\n\x01");
	fclose(f);
	assert_string_equal(
		buf,
		"{\"type\":\"hist\",\"time\":\"1970-01-01T00:00:00.000000Z\","
		"\"name\":\"malloc_size\",\"unit\":\"bytes\",\"pid\":null,"
		"\"buckets\":[{\"lo\":0,\"hi\":1,\"count\":1},{\"lo\":16,\"hi\":31,\"count\":3}],"
		"\"count\":4,\"sum\":61,\"mean\":15.2,\"p50\":21.3,\"p99\":31.8 "
		"\"a\\\"b\\\\c\\n\\u0001\"");
	free(buf);
}

/* The smallest class that holds each request, checked against a linear scan for every small size.
 */
static void test_go_size_class(void **state)
{
	(void)state;
	assert_int_equal(go_size_class(0), 0);
	assert_int_equal(go_size_class(1), 1);
	assert_int_equal(go_size_class(8), 1);
	assert_int_equal(go_size_class(9), 2);
	assert_int_equal(go_size_class(5000), 46);
	assert_int_equal(go_class_size[46], 5376);
	assert_int_equal(go_size_class(32768), 67);
	assert_int_equal(go_size_class(32769), GO_CLASS_LARGE);
	for (unsigned long long size = 1; size <= GO_MAX_SMALL_SIZE; size++) {
		unsigned int c = go_size_class(size);

		assert_true(go_class_size[c] >= size);
		assert_true(go_class_size[c - 1] < size);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log2_slot_edges),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_percentiles),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_percentile_in_range),
		cmocka_unit_test(test_go_size_class),
	};

	return cmocka_run_group_tests_name("hist", tests, NULL, NULL);
}

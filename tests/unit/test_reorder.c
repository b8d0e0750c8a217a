/* reorder: items come out in key order, equal keys in arrival order, only up to the limit, across
 * grows and slot reuse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include "trace/reorder.h"

struct item {
	uint64_t key;
	uint32_t arrival;
	char pad[100]; /* rows are large: the queue must not care */
};

struct seen {
	struct item *out;
	size_t n;
};

static void collect(void *ctx, void *item)
{
	struct seen *s = ctx;

	s->out[s->n++] = *(struct item *)item;
}

static void check_order(const struct seen *s)
{
	for (size_t i = 1; i < s->n; i++) {
		assert_true(s->out[i - 1].key <= s->out[i].key);
		if (s->out[i - 1].key == s->out[i].key)
			assert_true(s->out[i - 1].arrival < s->out[i].arrival);
	}
}

static void test_order_limit_and_reuse(void **state)
{
	const size_t n = 20000;
	struct reorder q;
	struct seen s = { calloc(n, sizeof(struct item)), 0 };
	uint64_t x = 88172645463325252ull;

	(void)state;
	reorder_init(&q, sizeof(struct item));
	for (uint32_t i = 0; i < n; i++) {
		struct item it = { .arrival = i };

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		it.key = x % 1000; /* many equal keys */
		assert_int_equal(reorder_push(&q, it.key, &it), 0);
		if (i == n / 2) { /* half out, then slots reused by the rest */
			reorder_release(&q, 499, collect, &s);
			for (size_t j = 0; j < s.n; j++)
				assert_true(s.out[j].key <= 499);
		}
	}
	reorder_release(&q, 499, collect, &s);
	size_t low = s.n;

	reorder_release(&q, UINT64_MAX, collect, &s);
	assert_int_equal(s.n, n);
	assert_int_equal(q.n, 0);
	for (size_t j = low; j < n; j++)
		assert_true(s.out[j].key >= 500);
	/* Within each release, the order holds. */
	struct seen tail = { s.out + low, n - low };

	check_order(&tail);
	reorder_free(&q);
	free(s.out);
}

static void test_sorted_stable(void **state)
{
	struct reorder q;
	struct item out[64];
	struct seen s = { out, 0 };

	(void)state;
	reorder_init(&q, sizeof(struct item));
	for (uint32_t i = 0; i < 64; i++)
		assert_int_equal(
			reorder_push(&q, 64 - i / 2, &(struct item){ 64 - i / 2, i, { 0 } }), 0);
	reorder_release(&q, UINT64_MAX, collect, &s);
	assert_int_equal(s.n, 64);
	check_order(&s);
	assert_true(out[0].key == 33 && out[0].arrival == 62 && out[1].arrival == 63);
	reorder_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_limit_and_reuse),
		cmocka_unit_test(test_sorted_stable),
	};

	return cmocka_run_group_tests_name("reorder", tests, NULL, NULL);
}

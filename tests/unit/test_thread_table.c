/* thread_table: put/get/take across grows, collisions and backward-shift deletion, TID 0. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include "trace/thread_table.h"

struct rec {
	uint32_t tid;
	uint32_t val;
};

/* The table's hash at its first size (1024 slots), to pick TIDs that share a home slot. */
static size_t home1024(uint32_t tid)
{
	return (tid * 2654435761u) & 1023;
}

static void test_many_with_grows(void **state)
{
	struct thread_table t = THREAD_TABLE_INIT(sizeof(struct rec));
	const uint32_t n = 100000;
	struct rec r;

	(void)state;
	for (uint32_t tid = 1; tid <= n; tid++)
		assert_int_equal(thread_table_put(&t, &(struct rec){ tid, tid * 3 }), 0);
	assert_true(t.n == n && t.cap >= 2 * n && t.cap > 1024);
	for (uint32_t tid = 1; tid <= n; tid++) {
		struct rec *p = thread_table_get(&t, tid);

		assert_non_null(p);
		assert_int_equal(p->val, tid * 3);
	}
	assert_null(thread_table_get(&t, n + 1));
	assert_false(thread_table_take(&t, n + 1, &r));
	/* Take every other one: the rest stay reachable. */
	for (uint32_t tid = 1; tid <= n; tid += 2) {
		assert_true(thread_table_take(&t, tid, &r));
		assert_int_equal(r.tid, tid);
		assert_int_equal(r.val, tid * 3);
		assert_false(thread_table_take(&t, tid, &r));
	}
	assert_true(t.n == n / 2);
	for (uint32_t tid = 1; tid <= n; tid++)
		assert_true((thread_table_get(&t, tid) != NULL) == !(tid & 1));
	/* Re-put after take; a put of a present tid replaces it. */
	assert_int_equal(thread_table_put(&t, &(struct rec){ 1, 7 }), 0);
	assert_int_equal(thread_table_put(&t, &(struct rec){ 2, 8 }), 0);
	assert_true(t.n == n / 2 + 1);
	assert_int_equal(((struct rec *)thread_table_get(&t, 1))->val, 7);
	assert_int_equal(((struct rec *)thread_table_get(&t, 2))->val, 8);
	thread_table_free(&t);
	assert_null(thread_table_get(&t, 2));
	assert_int_equal(thread_table_put(&t, &(struct rec){ 2, 9 }), 0);
	assert_int_equal(((struct rec *)thread_table_get(&t, 2))->val, 9);
	thread_table_free(&t);
}

static void test_collisions(void **state)
{
	struct thread_table t = THREAD_TABLE_INIT(sizeof(struct rec));
	uint32_t last[6], first[3], k = 0, m = 0;
	struct rec r;

	(void)state;
	/* Chains that wrap: six TIDs at home 1023, three at home 0 behind them. */
	for (uint32_t tid = 1; k < 6 || m < 3; tid++) {
		if (home1024(tid) == 1023 && k < 6)
			last[k++] = tid;
		else if (home1024(tid) == 0 && m < 3)
			first[m++] = tid;
	}
	for (int i = 0; i < 6; i++)
		assert_int_equal(thread_table_put(&t, &(struct rec){ last[i], i }), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(thread_table_put(&t, &(struct rec){ first[i], 10 + i }), 0);
	assert_true(t.cap == 1024);
	/* Deleting from the head, the middle and across the wrap keeps later entries findable. */
	assert_true(thread_table_take(&t, last[0], &r));
	assert_true(thread_table_take(&t, last[3], &r));
	assert_true(thread_table_take(&t, first[0], &r));
	for (int i = 0; i < 6; i++)
		assert_true((thread_table_get(&t, last[i]) != NULL) == (i != 0 && i != 3));
	for (int i = 1; i < 3; i++)
		assert_int_equal(((struct rec *)thread_table_get(&t, first[i]))->val, 10 + i);
	for (int i = 1; i < 6; i++)
		if (i != 3)
			assert_int_equal(((struct rec *)thread_table_get(&t, last[i]))->val, i);
	assert_true(t.n == 6);
	thread_table_free(&t);
}

/* Random puts and takes of colliding TIDs (multiples of 1024 share home 0), against an array. */
static void test_random_vs_reference(void **state)
{
	struct thread_table t = THREAD_TABLE_INIT(sizeof(struct rec));
	static uint32_t ref[401];
	struct rec r;

	(void)state;
	srand(1);
	for (int op = 0; op < 200000; op++) {
		uint32_t i = 1 + (uint32_t)rand() % 400, tid = (i % 2 ? i : i * 1024);

		if (rand() % 2) {
			ref[i] = (uint32_t)op + 1;
			assert_int_equal(thread_table_put(&t, &(struct rec){ tid, ref[i] }), 0);
		} else {
			assert_true(thread_table_take(&t, tid, &r) == (ref[i] != 0));
			if (ref[i])
				assert_int_equal(r.val, ref[i]);
			ref[i] = 0;
		}
		if (op % 1000 == 0)
			for (uint32_t j = 1; j <= 400; j++) {
				struct rec *p = thread_table_get(&t, j % 2 ? j : j * 1024);

				assert_true(ref[j] ? p && p->val == ref[j] : !p);
			}
	}
	thread_table_free(&t);
}

static void test_tid0(void **state)
{
	struct thread_table t = THREAD_TABLE_INIT(sizeof(struct rec));
	struct rec r;

	(void)state;
	/* TID 0 marks an empty slot: it is refused, and never found. */
	assert_int_equal(thread_table_put(&t, &(struct rec){ 0, 1 }), -EINVAL);
	assert_null(thread_table_get(&t, 0));
	assert_int_equal(thread_table_put(&t, &(struct rec){ 5, 1 }), 0);
	assert_int_equal(thread_table_put(&t, &(struct rec){ 0, 1 }), -EINVAL);
	assert_true(t.n == 1);
	assert_null(thread_table_get(&t, 0));
	assert_false(thread_table_take(&t, 0, &r));
	thread_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_with_grows),
		cmocka_unit_test(test_collisions),
		cmocka_unit_test(test_random_vs_reference),
		cmocka_unit_test(test_tid0),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* live_seqs (malloc --live --stacks, DWARF path): stacks interned, seqs found across grows, the
 * prune keeping the named and the young seqs only, and its threshold. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include "commands/malloc_live_seqs.h"

/* A seq as the kernel makes it: the clock in the low 52 bits, the CPU above. */
static uint64_t seq_at(uint64_t ns, uint64_t cpu)
{
	return ns | cpu << 52;
}

static void test_interned_and_found(void **state)
{
	struct live_seqs *ls = live_seqs_new();
	const uint32_t a[] = { 1, 2, 3 }, b[] = { 1, 2, 4 };
	const uint32_t n = 200000;
	struct live_stack *sa, *sb, *all;
	size_t nall;

	(void)state;
	assert_non_null(ls);
	for (uint32_t i = 1; i <= n; i++)
		assert_int_equal(live_seqs_add(ls, seq_at(i, i & 1), 7, i & 1 ? a : b, 3), 0);
	assert_int_equal(live_seqs_count(ls), n);
	all = live_seqs_stacks(ls, &nall);
	assert_int_equal(nall, 2); /* one copy of each stack */
	sa = live_seqs_find(ls, seq_at(1, 1));
	sb = live_seqs_find(ls, seq_at(2, 0));
	assert_true(sa && sb && sa != sb && sa >= all && sb >= all);
	assert_memory_equal(sa->locs, a, sizeof(a));
	assert_memory_equal(sb->locs, b, sizeof(b));
	for (uint32_t i = 1; i <= n; i++)
		assert_ptr_equal(live_seqs_find(ls, seq_at(i, i & 1)), i & 1 ? sa : sb);
	assert_null(live_seqs_find(ls, seq_at(1, 0))); /* another CPU's clock value */
	assert_null(live_seqs_find(ls, 0));
	assert_int_equal(live_seqs_add(ls, 0, 7, a, 3), -ENOMEM); /* 0 is no seq */
	/* the same stack of another process is another stack */
	assert_int_equal(live_seqs_add(ls, seq_at(n + 1, 0), 8, a, 3), 0);
	live_seqs_stacks(ls, &nall);
	assert_int_equal(nall, 3);
	live_seqs_free(ls);
}

static void test_prune(void **state)
{
	struct live_seqs *ls = live_seqs_new();
	const uint32_t loc = 5;
	const uint64_t n = 100000, young = 90000;
	uint64_t *keep = malloc(n * sizeof(*keep));
	size_t nkeep = 0;

	(void)state;
	assert_true(ls && keep);
	for (uint64_t i = 1; i <= n; i++) {
		assert_int_equal(live_seqs_add(ls, seq_at(i, 0), 1, &loc, 1), 0);
		/* due at 65536 seqs, not before */
		assert_int_equal(live_seqs_prune_due(ls), i >= 65536);
	}
	/* the blocks still allocated: every tenth, named twice (live_blocks and a realloc's old
	 * block in live_calls), and a seq never unwound */
	for (uint64_t i = 10; i <= n; i += 10) {
		keep[nkeep++] = seq_at(i, 0);
		keep[nkeep++] = seq_at(i, 0);
	}
	keep[nkeep++] = seq_at(n + 5, 3);
	assert_int_equal(live_seqs_prune(ls, keep, nkeep, young), 0);
	for (uint64_t i = 1; i <= n; i++)
		assert_true((live_seqs_find(ls, seq_at(i, 0)) != NULL) ==
			    (i % 10 == 0 || i >= young));
	assert_null(live_seqs_find(ls, seq_at(n + 5, 3)));
	assert_int_equal(live_seqs_count(ls), (young - 1) / 10 + (n - young + 1));
	assert_false(live_seqs_prune_due(ls)); /* next at twice the kept, at least 65536 */
	for (uint64_t i = n + 1; live_seqs_count(ls) < 65536; i++) {
		assert_false(live_seqs_prune_due(ls));
		assert_int_equal(live_seqs_add(ls, seq_at(i, 1), 1, &loc, 1), 0);
	}
	assert_true(live_seqs_prune_due(ls));
	live_seqs_postpone(ls); /* a failed walk: due again once the table has doubled */
	assert_false(live_seqs_prune_due(ls));
	/* nothing named, everything old: the table empties; new seqs go in again */
	assert_int_equal(live_seqs_prune(ls, NULL, 0, UINT64_MAX), 0);
	assert_int_equal(live_seqs_count(ls), 0);
	assert_null(live_seqs_find(ls, seq_at(10, 0)));
	assert_int_equal(live_seqs_add(ls, seq_at(10, 0), 1, &loc, 1), 0);
	assert_non_null(live_seqs_find(ls, seq_at(10, 0)));
	free(keep);
	live_seqs_free(ls);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interned_and_found),
		cmocka_unit_test(test_prune),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Probe placement on instructions the kernel emulates (user/binary/probe_site.c), on glibc-like
 * preambles. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "binary/probe_site.h"

static void test_entry_kept_when_emulated(void **state)
{
	const uint8_t push_r12[] = { 0x41, 0x54, 0x55, 0x53 };         /* malloc: push %r12 */
	const uint8_t nop5[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00, 0xc3 }; /* nopl 0(%rax,%rax) */

	(void)state;
	assert_int_equal(probe_site_emulated_bytes(push_r12, sizeof(push_r12), 0x1000), 0x1000);
	assert_int_equal(probe_site_emulated_bytes(nop5, sizeof(nop5), 0x2000), 0x2000);
}

static void test_flag_only_preamble_skipped(void **state)
{
	/* free: test %rdi,%rdi; je rel32 */
	const uint8_t free_entry[] = { 0x48, 0x85, 0xff, 0x0f, 0x84, 0xbf, 0x00, 0x00, 0x00, 0x55 };
	/* posix_memalign: cmpb $0,0x140201(%rip); push %r12 */
	const uint8_t memalign_entry[] = { 0x80, 0x3d, 0x01, 0x02, 0x14, 0x00, 0x00, 0x41, 0x54 };

	(void)state;
	assert_int_equal(probe_site_emulated_bytes(free_entry, sizeof(free_entry), 0x98ef0),
			 0x98ef3);
	assert_int_equal(probe_site_emulated_bytes(memalign_entry, sizeof(memalign_entry), 0x9a280),
			 0x9a287);
}

static void test_entry_kept_when_registers_change(void **state)
{
	/* mov %rdi,%rbx; push %rbx: the mov writes a register, so the probe stays at the entry. */
	const uint8_t mov_first[] = { 0x48, 0x89, 0xfb, 0x53 };
	/* test %rdi,%rdi; ret: nothing emulated follows. */
	const uint8_t test_ret[] = { 0x48, 0x85, 0xff, 0xc3 };
	/* test %rdi,%rdi; jmp *%rax: an indirect jump is not emulated. */
	const uint8_t indirect[] = { 0x48, 0x85, 0xff, 0xff, 0xe0 };

	(void)state;
	assert_int_equal(probe_site_emulated_bytes(mov_first, sizeof(mov_first), 0x10), 0x10);
	assert_int_equal(probe_site_emulated_bytes(test_ret, sizeof(test_ret), 0x10), 0x10);
	assert_int_equal(probe_site_emulated_bytes(indirect, sizeof(indirect), 0x10), 0x10);
	assert_int_equal(probe_site_emulated("/nonexistent", 0x42), 0x42);
}

/* An argument-only probe also goes past a load into a scratch register (rax, r10, r11). */
static void test_args_probe_past_scratch_load(void **state)
{
	/* CPython 3.13's invoke_gc_callback.isra.0: mov 0x1dc0(%rdi),%rax; test %rax,%rax;
	 * je rel32; push %r15 */
	const uint8_t invoke[] = { 0x48, 0x8b, 0x87, 0xc0, 0x1d, 0x00, 0x00, 0x48, 0x85,
				   0xc0, 0x0f, 0x84, 0xd0, 0x01, 0x00, 0x00, 0x41, 0x57 };
	/* mov 0x10(%rdi),%rsi; push %rbx: rsi carries an argument, the probe stays. */
	const uint8_t load_arg[] = { 0x48, 0x8b, 0x77, 0x10, 0x53 };
	/* mov %rax,0x8(%rdi); push %rbx: a store, not a load into a scratch register. */
	const uint8_t store[] = { 0x48, 0x89, 0x47, 0x08, 0x53 };

	(void)state;
	assert_int_equal(probe_site_emulated_args_bytes(invoke, sizeof(invoke), 0x25c3f0),
			 0x25c3fa);
	assert_int_equal(probe_site_emulated_bytes(invoke, sizeof(invoke), 0x25c3f0), 0x25c3f0);
	assert_int_equal(probe_site_emulated_args_bytes(load_arg, sizeof(load_arg), 0x10), 0x10);
	assert_int_equal(probe_site_emulated_args_bytes(store, sizeof(store), 0x10), 0x10);
	assert_int_equal(probe_site_emulated_args("/nonexistent", 0x42), 0x42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry_kept_when_emulated),
		cmocka_unit_test(test_flag_only_preamble_skipped),
		cmocka_unit_test(test_entry_kept_when_registers_change),
		cmocka_unit_test(test_args_probe_past_scratch_load),
	};

	return cmocka_run_group_tests_name("probe_site", tests, NULL, NULL);
}

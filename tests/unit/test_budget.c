/* --budget's pieces that need no BPF: the PCT argument, and the target's CPU time read through the
 * kernel's process CPU clocks (for a PID, and summed over the processes running an executable). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>
#include "trace/budget.h"

static void test_parse_pct(void **state)
{
	static const char *const bad[] = { "0",   "-1",  "100.5", "101",   "",   "abc", "5x",
					   "5%%", "nan", "inf",   "1e999", " 5", "0x",  NULL };
	double v;

	(void)state;
	assert_int_equal(budget_parse_pct("5", &v), 0);
	assert_true(v == 5);
	assert_int_equal(budget_parse_pct("0.5", &v), 0);
	assert_true(v == 0.5);
	assert_int_equal(budget_parse_pct("100", &v), 0);
	assert_true(v == 100);
	assert_int_equal(budget_parse_pct("12%", &v), 0);
	assert_true(v == 12);
	for (int i = 0; bad[i]; i++)
		assert_int_equal(budget_parse_pct(bad[i], &v), -EINVAL);
}

static void burn(double ns)
{
	struct budget_cpu_time a, b;
	struct target t = { .kind = TARGET_PID, .pid = getpid() };
	struct budget_cpu *c = budget_cpu_open(&t);
	volatile unsigned long x = 0;

	budget_cpu_read(c, &a);
	do {
		for (int i = 0; i < 100000; i++)
			x += (unsigned long)i;
		budget_cpu_read(c, &b);
	} while (b.total_ns - a.total_ns < ns);
	budget_cpu_close(c);
}

static void test_cpu_of_a_pid(void **state)
{
	struct target t = { .kind = TARGET_PID, .pid = getpid() };
	struct budget_cpu *c = budget_cpu_open(&t);
	struct budget_cpu_time a, b;

	(void)state;
	assert_non_null(c);
	assert_int_equal(budget_cpu_read(c, &a), 0);
	burn(50e6);
	assert_int_equal(budget_cpu_read(c, &b), 0);
	assert_true(b.total_ns - a.total_ns >= 50e6);
	assert_true(b.user_ns >= a.user_ns);
	/* User time is tick-sampled (and scaled by the kernel against the precise total): within a
	 * few ticks of it, however busy the machine is. */
	assert_true(b.user_ns <= b.total_ns + 40e6);
	budget_cpu_close(c);
	/* A PID that is gone. */
	t.pid = 4194000;
	c = budget_cpu_open(&t);
	assert_int_equal(budget_cpu_read(c, &a), -ESRCH);
	budget_cpu_close(c);
}

static void test_cpu_of_a_binpath(void **state)
{
	struct target t = { .kind = TARGET_BINPATH };
	struct budget_cpu *c;
	struct budget_cpu_time a, b;
	struct stat st;

	(void)state;
	assert_int_equal(stat("/proc/self/exe", &st), 0);
	t.exe_ino = st.st_ino;
	t.exe_kdev = (uint32_t)(major(st.st_dev) << 20 | minor(st.st_dev));
	c = budget_cpu_open(&t);
	assert_non_null(c);
	assert_int_equal(budget_cpu_read(c, &a), 0);
	burn(50e6);
	assert_int_equal(budget_cpu_read(c, &b), 0);
	/* This process runs the executable: its CPU from the first scan on is counted. */
	assert_true(b.total_ns - a.total_ns >= 50e6);
	budget_cpu_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_pct),
		cmocka_unit_test(test_cpu_of_a_pid),
		cmocka_unit_test(test_cpu_of_a_binpath),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

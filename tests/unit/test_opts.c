/* Option parsing: strict numbers, target rules, "--" splitting, one-line errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "cli/opts.h"

struct test_args {
	struct common_opts co;
};

static error_t parse_test(int key, char *arg, struct argp_state *state)
{
	struct test_args *a = state->input;

	(void)arg;
	if (key == ARGP_KEY_INIT)
		common_opts_init(state, &a->co);
	return ARGP_ERR_UNKNOWN;
}

static const struct argp_child children[] = { { &common_argp, 0, NULL, 0 }, { 0 } };
static const struct argp test_argp = { NULL, parse_test, NULL, "test", children, NULL, NULL };

static int parse(struct test_args *a, int argc, char **argv)
{
	memset(a, 0, sizeof(*a));
	return parse_command_line(&test_argp, argc, argv, &a->co, a);
}

static void test_numbers(void **state)
{
	double d;
	pid_t p;

	(void)state;
	assert_int_equal(parse_seconds("1.5", &d), 0);
	assert_true(d == 1.5);
	assert_int_equal(parse_seconds("0", &d), -EINVAL);
	assert_int_equal(parse_seconds("-1", &d), -EINVAL);
	assert_int_equal(parse_seconds("1s", &d), -EINVAL);
	assert_int_equal(parse_seconds("", &d), -EINVAL);
	assert_int_equal(parse_seconds("nan", &d), -EINVAL);
	assert_int_equal(parse_seconds("inf", &d), -EINVAL);
	assert_int_equal(parse_pid("1234", &p), 0);
	assert_int_equal(p, 1234);
	assert_int_equal(parse_pid("0", &p), -EINVAL);
	assert_int_equal(parse_pid("12a", &p), -EINVAL);
	assert_int_equal(parse_pid("99999999999", &p), -EINVAL);
}

static void test_targets(void **state)
{
	struct test_args a;
	char *v1[] = { "rtmon t", "-p", "42", "-d", "2", "-i", "0.5", "--json", NULL };
	char *v2[] = { "rtmon t", "--binpath", "/bin/ls", "-v", NULL };
	char *v3[] = { "rtmon t", "--json", "--", "./app", "-p", "7", "--", "x", NULL };

	(void)state;
	assert_int_equal(parse(&a, 8, v1), 0);
	assert_int_equal(a.co.pid, 42);
	assert_true(a.co.duration == 2 && a.co.interval == 0.5 && a.co.json);
	assert_int_equal(parse(&a, 4, v2), 0);
	assert_string_equal(a.co.binpath, "/bin/ls");
	assert_true(a.co.verbose);
	/* Everything after the first "--" belongs to the command, options included. */
	assert_int_equal(parse(&a, 8, v3), 0);
	assert_true(a.co.json && a.co.pid == 0);
	assert_string_equal(a.co.cmd_argv[0], "./app");
	assert_string_equal(a.co.cmd_argv[1], "-p");
	assert_string_equal(a.co.cmd_argv[3], "--");
}

static void test_errors(void **state)
{
	struct test_args a;
	char *none[] = { "rtmon t", "-d", "1", NULL };
	char *two[] = { "rtmon t", "-p", "1", "-b", "/bin/ls", NULL };
	char *badpid[] = { "rtmon t", "-p", "x", NULL };
	char *unknown[] = { "rtmon t", "--nope", "-p", "1", NULL };
	char *empty_cmd[] = { "rtmon t", "--", NULL };
	char *stray[] = { "rtmon t", "app", NULL };

	(void)state;
	assert_int_equal(parse(&a, 3, none), 2);
	assert_int_equal(parse(&a, 5, two), 2);
	assert_int_equal(parse(&a, 3, badpid), 2);
	assert_int_equal(parse(&a, 4, unknown), 2);
	assert_int_equal(parse(&a, 2, empty_cmd), 2);
	assert_int_equal(parse(&a, 2, stray), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests_name("opts", tests, NULL, NULL);
}

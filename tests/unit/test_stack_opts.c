/* The stack commands' options (user/cli/stack_opts.h) and -o (user/cli/output_opt.h), parsed as a
 * command parses them: bad input refused in one line before anything is traced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "cli/stack_opts.h"
#include "profile_fixture.h"

struct test_args {
	struct common_opts co;
	struct stack_opts so;
};

static error_t parse_test(int key, char *arg, struct argp_state *state)
{
	struct test_args *a = state->input;

	(void)arg;
	if (key == ARGP_KEY_INIT) {
		common_opts_init(state, &a->co);
		stack_opts_init(state, 1, &a->so, &a->co);
	}
	return ARGP_ERR_UNKNOWN;
}

static const struct argp_child children[] = { { &common_argp, 0, NULL, 0 },
					      { &stack_argp, 0, NULL, 0 },
					      { 0 } };
static const struct argp test_argp = { NULL, parse_test, NULL, "test", children, NULL, NULL };

static char err_line[1024];

/* Parses argv (NULL-terminated) with stderr captured into err_line. */
static int parse(struct test_args *a, char **argv)
{
	char path[] = "/tmp/rtmon-test-stderr-XXXXXX";
	int fd = mkstemp(path), saved, argc = 0, rc;
	ssize_t n;

	assert_true(fd >= 0);
	unlink(path);
	while (argv[argc])
		argc++;
	memset(a, 0, sizeof(*a));
	a->so.types = fixture_types;
	a->so.ntypes = 2;
	a->so.value = 0;
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	rc = parse_command_line(&test_argp, argc, argv, &a->co, a);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, err_line, sizeof(err_line) - 1, 0);
	close(fd);
	err_line[n > 0 ? n : 0] = '\0';
	return rc;
}

static void test_defaults_and_values(void **state)
{
	struct test_args a;
	char *plain[] = { "rtmon t", "-p", "1", NULL };
	char *opts[] = { "rtmon t", "-p", "1", "--folded", "--top", "3", "--value", "bytes", NULL };
	char *named[] = { "rtmon t", "-p", "1", "--value", "allocations", NULL };

	(void)state;
	assert_int_equal(parse(&a, plain), 0);
	assert_int_equal(a.so.top, 10);
	assert_false(a.so.folded);
	assert_null(a.so.pprof);
	assert_int_equal(a.so.value, 0);
	assert_int_equal(parse(&a, opts), 0);
	assert_true(a.so.folded);
	assert_int_equal(a.so.top, 3);
	assert_int_equal(a.so.value, 1);
	assert_int_equal(parse(&a, named), 0);
	assert_int_equal(a.so.value, 0);
}

static void test_bad_input(void **state)
{
	struct test_args a;
	char *both[] = { "rtmon t", "-p", "1", "--folded", "--pprof", "/tmp/rtmon-t.pb.gz", NULL };
	char *json[] = { "rtmon t", "-p", "1", "--folded", "--json", NULL };
	char *top[] = { "rtmon t", "-p", "1", "--top", "0", NULL };
	char *value[] = { "rtmon t", "-p", "1", "--value", "samples", NULL };
	char *path[] = { "rtmon t", "-p", "1", "--pprof", "/nonexistent-dir/p.pb.gz", NULL };
	char *out[] = { "rtmon t", "-p", "1", "-o", "/nonexistent-dir/out.txt", NULL };

	(void)state;
	unlink("/tmp/rtmon-t.pb.gz");
	assert_int_equal(parse(&a, both), 2);
	assert_string_equal(err_line, "rtmon t: --folded and --pprof together: give one (folded "
				      "stacks go to stdout, the pprof profile to its file) (see "
				      "'rtmon t --help')\n");
	assert_int_equal(access("/tmp/rtmon-t.pb.gz", F_OK), -1); /* refused before it was made */
	assert_int_equal(parse(&a, json), 2);
	assert_string_equal(err_line, "rtmon t: --folded and --json together: give one (see "
				      "'rtmon t --help')\n");
	assert_int_equal(parse(&a, top), 2);
	assert_string_equal(err_line, "rtmon t: invalid --top '0': give a positive number of "
				      "stacks (see 'rtmon t --help')\n");
	assert_int_equal(parse(&a, value), 2);
	assert_string_equal(err_line, "rtmon t: unknown --value 'samples': give one of "
				      "allocations, bytes, count (see 'rtmon t --help')\n");
	assert_int_equal(parse(&a, path), 2);
	assert_string_equal(err_line, "rtmon t: cannot write the profile to "
				      "/nonexistent-dir/p.pb.gz: No such file or directory; give "
				      "a writable path (see 'rtmon t --help')\n");
	assert_int_equal(parse(&a, out), 2);
	assert_string_equal(err_line, "rtmon t: cannot write the output to "
				      "/nonexistent-dir/out.txt: No such file or directory; give "
				      "a writable path (see 'rtmon t --help')\n");
}

/* -o makes FILE stdout (truncated), and leaves fd 1 alone for a -- CMD target. */
static void test_output_file(void **state)
{
	struct test_args a;
	char path[] = "/tmp/rtmon-test-out-XXXXXX", buf[64] = "";
	char *argv[] = { "rtmon t", "-o", path, "--", "/bin/true", NULL };
	FILE *saved = stdout, *f;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "old contents, longer than the new\n", 34), 34);
	close(fd);
	assert_int_equal(parse(&a, argv), 0);
	assert_ptr_not_equal(stdout, saved);
	assert_int_equal(fcntl(STDOUT_FILENO, F_GETFD), 0); /* fd 1 still open, not close-on-exec */
	printf("new\n");
	fclose(stdout);
	stdout = saved;
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, sizeof(buf) - 1, f), 4);
	fclose(f);
	assert_string_equal(buf, "new\n");
	unlink(path);
}

/* One call writes what the options ask for: folded with --folded, JSON with --json, else the text
 * top N; --pprof writes its file too, opening on the chosen value. */
static void test_write(void **state)
{
	struct test_args a;
	struct profile *p = fixture_profile();
	char *text[] = { "rtmon t", "-p",      "1",
			 "--top",   "1",       "--value",
			 "bytes",   "--pprof", "/tmp/rtmon-t.pb.gz",
			 NULL };
	char *folded[] = { "rtmon t", "-p", "1", "--folded", NULL };
	char *json[] = { "rtmon t", "-p", "1", "--json", NULL };
	char err[256], *buf;
	size_t len;
	FILE *f;

	(void)state;
	assert_int_equal(parse(&a, text), 0);
	f = open_memstream(&buf, &len);
	assert_int_equal(stack_output_write(&a.so, p, f, err, sizeof(err)), 0);
	fclose(f);
	assert_true(!strncmp(buf, "Top 1 of 4 stacks by bytes", 26));
	assert_non_null(strstr(buf, "#1 bytes 4.0 KiB (88.9%)"));
	assert_null(strstr(buf, "#2"));
	free(buf);
	assert_int_equal(access("/tmp/rtmon-t.pb.gz", R_OK), 0);
	unlink("/tmp/rtmon-t.pb.gz");

	assert_int_equal(parse(&a, folded), 0);
	f = open_memstream(&buf, &len);
	assert_int_equal(stack_output_write(&a.so, p, f, err, sizeof(err)), 0);
	fclose(f);
	assert_true(!strncmp(buf, "thread=worker;main;level1;level2;inner_helper 4\n", 48));
	free(buf);

	assert_int_equal(parse(&a, json), 0);
	f = open_memstream(&buf, &len);
	assert_int_equal(stack_output_write(&a.so, p, f, err, sizeof(err)), 0);
	fclose(f);
	assert_true(!strncmp(buf, "{\"type\":\"stack\",", 16));
	free(buf);
	profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_values),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_output_file),
		cmocka_unit_test(test_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

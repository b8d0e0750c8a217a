/* The pprof writer against the real reader: the synthetic profile of profile_fixture.h is written
 * to a file in /tmp, and `go tool pprof -raw` and `-top` must print exactly its functions, lines,
 * mappings and values. Go is found as the Makefile finds it ($GO, PATH, /usr/local/go/bin, then
 * Debian's /usr/lib/go-*). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "profile_fixture.h"

static char go[4096];
static char path[64];

static const char *find_go(void)
{
	const char *env = getenv("GO");
	glob_t g;
	FILE *f;

	if (env && access(env, X_OK) == 0)
		return env;
	f = popen("command -v go 2>/dev/null", "r");
	if (f && fgets(go, sizeof(go), f)) {
		go[strcspn(go, "\n")] = '\0';
		pclose(f);
		if (go[0])
			return go;
	} else if (f) {
		pclose(f);
	}
	if (access("/usr/local/go/bin/go", X_OK) == 0)
		return "/usr/local/go/bin/go";
	if (glob("/usr/lib/go-*/bin/go", 0, NULL, &g) == 0 && g.gl_pathc) {
		snprintf(go, sizeof(go), "%s", g.gl_pathv[g.gl_pathc - 1]);
		globfree(&g);
		return go;
	}
	return NULL;
}

/* `go tool pprof ARGS path`'s stdout, with pprof's warnings (it cannot open the fixture's
 * binaries to symbolize them itself) left out. Newer pprof prints a column after the line
 * ("file.c:12:0"); it is dropped, so that every Go this runs with prints the same. */
static char *pprof(const char *args)
{
	static char out[8192];
	char cmd[8192], *s;
	const char *g = find_go();
	size_t n;
	FILE *f;

	assert_non_null(g);
	snprintf(cmd, sizeof(cmd), "'%s' tool pprof %s %s 2>/dev/null", g, args, path);
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	assert_int_equal(pclose(f), 0);
	for (s = out; (s = strstr(s, ":0 s=")); s++)
		memmove(s, s + 2, strlen(s + 2) + 1);
	return out;
}

static int setup(void **state)
{
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/rtmon-profile-XXXXXX.pb.gz");
	fd = mkstemps(path, 6);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static void write_fixture(struct profile *p)
{
	char err[256] = "";
	unsigned char magic[2];
	FILE *f;

	assert_int_equal(profile_write_pprof(p, path, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(magic, 1, 2, f), 2);
	fclose(f);
	assert_int_equal(magic[0], 0x1f); /* gzip */
	assert_int_equal(magic[1], 0x8b);
}

/* Samples innermost first with their values and labels; locations with their lines (an inlined
 * call first, then the function it is in), the unsymbolized one with its mapping only; mappings
 * with build id and the flags that tell pprof they are symbolized already. */
static void test_raw(void **state)
{
	struct profile *p = fixture_profile();

	(void)state;
	write_fixture(p);
	assert_string_equal(
		pprof("-raw"),
		"Comment: rtmon: 7 stacks lost (a full stack map or a failed copy)\n"
		"Comment: rtmon: 2 stacks truncated at the frame limit\n"
		"PeriodType:  \n"
		"Period: 0\n"
		"Samples:\n"
		"allocations/count bytes/bytes\n"
		"          4        400: 1 2 3 \n"
		"                thread:[worker]\n"
		"          2         64: 4 2 3 \n"
		"          1       4096: 5 3 \n"
		"          5         50: 1 2 3 \n"
		"                thread:[main]\n"
		"Locations\n"
		"     1: 0x401100 M=1 inner_helper /src/app.c:12 s=0\n"
		"             level2 /src/app.c:30 s=0\n"
		"     2: 0x401200 M=1 level1 /src/app.c:40 s=0\n"
		"     3: 0x401300 M=1 main /src/app.c:50 s=0\n"
		"     4: 0x7f0000001234 M=2 \n"
		"     5: 0x7f0000002000 M=2 foo_alloc :0 s=0\n"
		"Mappings\n"
		"1: 0x400000/0x500000/0x0 /opt/rtmon-test/app abcdef01 [FN][FL][LN][IN]\n"
		"2: 0x7f0000000000/0x7f0000100000/0x1000 /opt/rtmon-test/libfoo.so.1  \n");
	profile_free(p);
}

/* -top by each value: the flat and cumulative sums pprof computes from the samples, the inlined
 * call marked, and the unsymbolized frame shown by its mapping's file name. */
static void test_top(void **state)
{
	struct profile *p = fixture_profile();

	(void)state;
	profile_set_default_value(p, 0);
	write_fixture(p);
	assert_non_null(strstr(pprof("-top"),
			       "Type: allocations\n"
			       "Showing nodes accounting for 12, 100% of 12 total\n"
			       "      flat  flat%   sum%        cum   cum%\n"
			       "         9 75.00% 75.00%          9 75.00%  inner_helper (inline)\n"
			       "         2 16.67% 91.67%          2 16.67%  [libfoo.so.1]\n"
			       "         1  8.33%   100%          1  8.33%  foo_alloc\n"
			       "         0     0%   100%         11 91.67%  level1\n"
			       "         0     0%   100%          9 75.00%  level2\n"
			       "         0     0%   100%         12   100%  main\n"));
	assert_non_null(strstr(pprof("-top -sample_index=bytes"),
			       "Type: bytes\n"
			       "Showing nodes accounting for 4610B, 100% of 4610B total\n"
			       "      flat  flat%   sum%        cum   cum%\n"
			       "     4096B 88.85% 88.85%      4096B 88.85%  foo_alloc\n"
			       "      450B  9.76% 98.61%       450B  9.76%  inner_helper (inline)\n"
			       "       64B  1.39%   100%        64B  1.39%  [libfoo.so.1]\n"
			       "         0     0%   100%       514B 11.15%  level1\n"
			       "         0     0%   100%       450B  9.76%  level2\n"
			       "         0     0%   100%      4610B   100%  main\n"));
	/* The address shows where in the library the unsymbolized frame is. */
	assert_non_null(strstr(pprof("-top -addresses"),
			       "         2 16.67% 91.67%          2 16.67%  "
			       "00007f0000001234 [libfoo.so.1]\n"));
	profile_free(p);
}

/* A CPU profile: period, period type, start time and duration. */
static void test_cpu_profile(void **state)
{
	const struct profile_value_type types[] = { { "samples", "count" },
						    { "cpu", "nanoseconds" } };
	const struct profile_value_type period_type = { "cpu", "nanoseconds" };
	struct profile *p = profile_new(types, 2, &period_type, 20408163);
	const struct code_line burn = { "burn", "/src/cpu.c", 7 };
	uint32_t m, loc;
	char *out;

	(void)state;
	m = profile_mapping(p, 0x1000, 0x2000, 0, "/opt/rtmon-test/cpu", NULL);
	loc = profile_location(p, m, 0x1100, &burn, 1);
	assert_int_equal(profile_add(p, &loc, 1, (int64_t[]){ 49, 49 * 20408163LL }, NULL, 0), 0);
	profile_set_time(p, 1700000000LL * 1000000000LL, 2500000000LL);
	write_fixture(p);
	out = pprof("-raw");
	assert_non_null(strstr(out, "PeriodType: cpu nanoseconds\nPeriod: 20408163\n"));
	assert_non_null(strstr(out, "Time: 2023-11-14 22:13:20 +0000 UTC\nDuration: 2.5s\n"));
	assert_non_null(strstr(out, "samples/count cpu/nanoseconds\n"
				    "         49  999999987: 1 \n"));
	profile_free(p);
}

static void test_bad_path(void **state)
{
	struct profile *p = fixture_profile();
	char err[256];

	(void)state;
	assert_int_equal(profile_pprof_check_path("/nonexistent-dir/x.pb.gz", err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "cannot write the profile to /nonexistent-dir/x.pb.gz: No such "
				 "file or directory; give a writable path");
	assert_int_equal(profile_pprof_check_path("/tmp", err, sizeof(err)), -EISDIR);
	assert_int_equal(profile_pprof_check_path("", err, sizeof(err)), -EINVAL);
	assert_int_equal(profile_pprof_check_path(path, err, sizeof(err)), 0);
	assert_int_equal(profile_write_pprof(p, "/nonexistent-dir/x.pb.gz", err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "cannot write the profile to /nonexistent-dir/x.pb.gz: No such "
				 "file or directory");
	profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw),
		cmocka_unit_test(test_top),
		cmocka_unit_test(test_cpu_profile),
		cmocka_unit_test(test_bad_path),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

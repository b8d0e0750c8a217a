/* test_py_gc_func.c - unit tests for user/runtime/python/gc_func.h: which function of a CPython
 * without USDT probes rtmon gc probes, per version, in pyenv's builds (found in $PYENV_ROOT, else
 * ~/.pyenv; skipped when absent). The reference is `nm` (binutils): the function, as a local text
 * symbol, must be the one found; and a copy of the library that `strip` emptied is refused. */
#include <errno.h>
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/python/gc_func.h"

static const char *pyenv_root(void)
{
	static char buf[4096];
	const char *root = getenv("PYENV_ROOT");

	if (root && *root)
		return root;
	snprintf(buf, sizeof(buf), "%s/.pyenv", getenv("HOME") ? getenv("HOME") : "/root");
	return buf;
}

/* nm's verdict: lib defines name as a local function (type t). */
static bool nm_has_local(const char *lib, const char *name)
{
	char cmd[8192], line[4096], want[256];
	FILE *f;
	bool found = false;

	snprintf(cmd, sizeof(cmd), "nm '%s' 2>/dev/null", lib);
	snprintf(want, sizeof(want), " t %s\n", name);
	if (!(f = popen(cmd, "r")))
		return false;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, want))
			found = true;
	pclose(f);
	return found;
}

/* id for pyenv's version v ("3.11.7"): its libpython3.X[m].so.1.0. false when not installed. */
static bool pyenv_id(const char *v, struct runtime_id *id)
{
	glob_t g;
	char pat[4096];
	bool ok;

	memset(id, 0, sizeof(*id));
	id->kind = RUNTIME_PYTHON;
	snprintf(id->version, sizeof(id->version), "%s", v);
	snprintf(pat, sizeof(pat), "%s/versions/%s/lib/libpython*.so.1.0", pyenv_root(), v);
	if (glob(pat, 0, NULL, &g))
		return false;
	ok = g.gl_pathc == 1;
	if (ok)
		snprintf(id->lib, sizeof(id->lib), "%s", g.gl_pathv[0]);
	globfree(&g);
	return ok;
}

/* Every installed pyenv 3.x: 3.9 probes collect, 3.10 to 3.13 gc_collect_main (3.13 also
 * invoke_gc_callback or its compiler copy), the others are refused with the versions named. */
static void test_versions(void **state)
{
	char pat[4096];
	glob_t g;
	int checked = 0;

	(void)state;
	snprintf(pat, sizeof(pat), "%s/versions/3.*", pyenv_root());
	if (glob(pat, 0, NULL, &g)) {
		skip();
		return;
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *v = strrchr(g.gl_pathv[i], '/') + 1;
		struct runtime_id id;
		struct py_gc_func fn;
		char why[512] = "";
		int minor = atoi(v + 2), rc;

		if (!pyenv_id(v, &id))
			continue;
		rc = py_gc_func_find(&id, &fn, why, sizeof(why));
		if (minor < 9 || minor > 13) {
			assert_int_equal(rc, -ENOTSUP);
			assert_non_null(strstr(why, "only in CPython 3.9 to 3.13"));
			assert_null(fn.sym);
		} else {
			const char *want = minor == 9 ? "collect" : "gc_collect_main";

			if (rc)
				fail_msg("%s: %s", v, why);
			assert_string_equal(fn.sym, want);
			assert_true(nm_has_local(id.lib, want));
			assert_true(fn.offset > 0);
			if (minor == 13) {
				assert_int_equal(strncmp(fn.gen_sym, "invoke_gc_callback", 18), 0);
				assert_true(nm_has_local(id.lib, fn.gen_sym));
				assert_true(fn.gen_offset > 0);
			} else {
				assert_string_equal(fn.gen_sym, "");
			}
		}
		checked++;
	}
	globfree(&g);
	if (!checked)
		skip();
}

/* A libpython without .symtab: refused, the line names the stripped file. */
static void test_stripped(void **state)
{
	struct runtime_id id;
	struct py_gc_func fn;
	char dir[] = "/tmp/rtmon-pygcXXXXXX", cmd[12288], why[512] = "", copy[4200];

	(void)state;
	if (!pyenv_id("3.11.7", &id)) {
		skip();
		return;
	}
	assert_non_null(mkdtemp(dir));
	snprintf(copy, sizeof(copy), "%s/libpython3.11.so.1.0", dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && strip --strip-all '%s'", id.lib, copy, copy);
	assert_int_equal(system(cmd), 0);
	snprintf(id.lib, sizeof(id.lib), "%s", copy);
	assert_int_equal(py_gc_func_find(&id, &fn, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "is stripped (no .symtab), so it has no gc_collect_main"));
	assert_non_null(strstr(why, copy));
	unlink(copy);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_stripped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_go_inspect.c - unit tests for what rtmon stack reads a Go process with
 * (user/runtime/go/goinspect.h): the layout table against DWARF, and the runtime's globals found in
 * the code of stripped binaries against .symtab.
 *
 * Fixtures (RTMON_BUILD names the build directory): testprog/go/gostack{,-stripped,-pie}, and the
 * same program built by older releases in testprog/go/vers/gostack-goX.Y.Z{,-stripped,-pie} when
 * tests/unit/build-go-fixtures.sh made them (each missing one is reported and skipped). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/go/goinspect.h"
#include "runtime/go/heap_sites.h"

static const char *const versions[] = { "", /* the installed toolchain's build */
					"go1.17.13", "go1.18.10", "go1.19.8",
					"go1.20.14", "go1.21.13", "go1.22.12",
					"go1.23.12", "go1.24.13", "go1.25.0" };

/* The fixture name of one release and variant ("", "-stripped", "-pie"), or NULL when not built.
 */
static const char *fixture_of(const char *name, const char *version, const char *suffix)
{
	static char buf[2048];
	const char *b = getenv("RTMON_BUILD");

	if (version[0])
		snprintf(buf, sizeof(buf), "%s/testprog/go/vers/%s-%s%s", b && *b ? b : "build",
			 name, version, suffix);
	else
		snprintf(buf, sizeof(buf), "%s/testprog/go/%s%s", b && *b ? b : "build", name,
			 suffix);
	if (access(buf, R_OK)) {
		fprintf(stderr, "test_go_inspect: %s not built: skipped\n", buf);
		return NULL;
	}
	return buf;
}

static const char *fixture(const char *version, const char *suffix)
{
	return fixture_of("gostack", version, suffix);
}

/* Each release's table row is what its DWARF says, field by field. */
static void test_layout_table_matches_dwarf(void **state)
{
	int checked = 0;

	(void)state;
	for (size_t v = 0; v < sizeof(versions) / sizeof(versions[0]); v++) {
		const char *path = fixture(versions[v], "");
		struct go_layout dw, tab;
		struct go_info gi;
		char err[512];

		if (!path)
			continue;
		assert_int_equal(go_read_buildinfo(path, &gi, err, sizeof(err)), 0);
		assert_int_equal(go_layout_from_dwarf(path, &dw), 0);
		assert_int_equal(go_layout_from_table(gi.major, gi.minor, &tab), 0);
		for (int f = 0; f < GF_COUNT; f++)
			if (dw.off[f] != tab.off[f]) {
				fprintf(stderr, "%s: %s: DWARF %d, table %d\n", gi.version,
					go_field_name(f), dw.off[f], tab.off[f]);
				fail();
			}
		assert_int_equal(dw.g_read, tab.g_read);
		checked++;
	}
	assert_true(checked > 0);
}

/* allgs, gStatusStrings and waitReasonStrings found in the code are the .symtab's, lengths too;
 * stripped builds find them from the code. */
static void test_globals_code_matches_symtab(void **state)
{
	static const char *const suffixes[] = { "", "-pie" };
	int checked = 0;

	(void)state;
	for (size_t v = 0; v < sizeof(versions) / sizeof(versions[0]); v++)
		for (size_t s = 0; s < 2; s++) {
			const char *path = fixture(versions[v], suffixes[s]);
			struct go_globals sym, code;
			struct go_symtab *st;
			char err[512];

			if (!path)
				continue;
			assert_int_equal(go_symtab_open(path, &st, err, sizeof(err)), 0);
			assert_int_equal(go_globals_find(st, &sym, err, sizeof(err)), 0);
			assert_true(sym.from_symtab);
			assert_int_equal(go_globals_from_code(st, &code, err, sizeof(err)), 0);
			assert_int_equal(code.allgs, sym.allgs);
			assert_int_equal(code.gstatus_strings, sym.gstatus_strings);
			assert_int_equal(code.wait_reason_strings, sym.wait_reason_strings);
			assert_int_equal(code.ngstatus, sym.ngstatus);
			assert_int_equal(code.nwait_reasons, sym.nwait_reasons);
			assert_true(sym.ngstatus >= 10 && sym.nwait_reasons >= 27);
			go_symtab_close(st);
			checked++;
		}
	for (size_t v = 0; v < sizeof(versions) / sizeof(versions[0]); v++) {
		const char *path = fixture(versions[v], "-stripped");
		struct go_globals g;
		struct go_symtab *st;
		char err[512];

		if (!path)
			continue;
		assert_int_equal(go_symtab_open(path, &st, err, sizeof(err)), 0);
		assert_int_equal(go_globals_find(st, &g, err, sizeof(err)), 0);
		assert_false(g.from_symtab);
		assert_true(g.allgs && g.gstatus_strings && g.wait_reason_strings);
		go_symtab_close(st);
	}
	assert_true(checked > 0);
}

/* memstats' globals found in the code are the .symtab's, on every release's plain and PIE build,
 * and a stripped build finds them from the code. */
static void test_mem_globals_code_matches_symtab(void **state)
{
	static const char *const suffixes[] = { "", "-pie", "-stripped" };
	int checked = 0;

	(void)state;
	for (size_t v = 0; v < sizeof(versions) / sizeof(versions[0]); v++)
		for (size_t s = 0; s < 3; s++) {
			const char *path = fixture(versions[v], suffixes[s]);
			struct go_mem_globals sym, code;
			struct go_layout lay;
			struct go_symtab *st;
			struct go_info gi;
			char err[512];

			if (!path)
				continue;
			assert_int_equal(go_read_buildinfo(path, &gi, err, sizeof(err)), 0);
			assert_int_equal(go_layout_get(path, &gi, &lay, err, sizeof(err)), 0);
			assert_int_equal(go_symtab_open(path, &st, err, sizeof(err)), 0);
			assert_int_equal(
				go_mem_globals_from_code(st, &lay, &code, err, sizeof(err)), 0);
			assert_int_equal(go_mem_globals_find(st, &lay, &sym, err, sizeof(err)), 0);
			assert_int_equal(sym.from_symtab, s < 2);
			assert_int_equal(code.memstats, sym.memstats);
			assert_int_equal(code.gc_controller, sym.gc_controller);
			assert_int_equal(code.mheap, sym.mheap);
			assert_int_equal(code.allp, sym.allp);
			/* rtmon gc's runtime.work, from its cycle counter in the code */
			assert_true(code.work != 0);
			assert_int_equal(code.work, sym.work);
			if (s < 2)
				assert_true(sym.allm && sym.ncgocall && sym.ncpu);
			go_symtab_close(st);
			checked++;
		}
	assert_true(checked > 0);
}

/* rtmon heap's sites on every release, and MemProfileRate found in the code of profilealloc is
 * the .symtab's (plain and PIE builds); a stripped build finds it from the code. */
static void test_heap_sites(void **state)
{
	static const char *const suffixes[] = { "", "-pie", "-stripped" };
	/* gostack does not link runtime/pprof, goheap does: Go 1.17 to 1.19 then set MemProfileRate
	 * at init, in .bss, rather than in the file's data */
	static const char *const names[] = { "gostack", "goheap" };
	int checked = 0;

	(void)state;
	for (size_t v = 0; v < sizeof(versions) / sizeof(versions[0]); v++)
		for (size_t s = 0; s < 6; s++) {
			const char *path = fixture_of(names[s / 3], versions[v], suffixes[s % 3]);
			struct go_heap_sites hs;
			struct go_symtab *st;
			struct go_info gi;
			uint64_t code = 0;
			char err[512];

			if (!path)
				continue;
			assert_int_equal(go_read_buildinfo(path, &gi, err, sizeof(err)), 0);
			assert_int_equal(go_symtab_open(path, &st, err, sizeof(err)), 0);
			assert_int_equal(go_heap_sites_find(st, &gi, &hs, err, sizeof(err)), 0);
			assert_true(hs.malloc_off && hs.free_special_off && hs.free_off);
			assert_int_equal(hs.malloc_has_mp, gi.minor >= 23);
			if (go_memprofilerate_from_code(st, &code))
				fprintf(stderr,
					"test_go_inspect: %s: no MemProfileRate in the code\n",
					path);
			assert_int_equal(go_memprofilerate_from_code(st, &code), 0);
			assert_true(hs.rate_vaddr != 0);
			assert_int_equal(hs.rate_from_symtab, s % 3 < 2);
			assert_int_equal(code, hs.rate_vaddr);
			go_symtab_close(st);
			checked++;
		}
	assert_true(checked > 0);
}

/* A release outside the table, without DWARF, is refused with its version named. */
static void test_unknown_release_refused(void **state)
{
	const char *path = fixture("", "-stripped");
	struct go_info gi = { .version = "go1.99.1", .major = 1, .minor = 99, .patch = 1 };
	struct go_layout l;
	char err[512];

	(void)state;
	assert_int_equal(go_layout_from_table(1, 16, &l), -ENOTSUP);
	assert_int_equal(go_layout_from_table(1, 27, &l), -ENOTSUP);
	assert_int_equal(go_layout_from_table(2, 0, &l), -ENOTSUP);
	if (!path)
		skip();
	assert_int_equal(go_layout_from_dwarf(path, &l), -ENODATA);
	assert_int_equal(go_layout_get(path, &gi, &l, err, sizeof(err)), -ENOTSUP);
	assert_non_null(strstr(err, "Go go1.99.1"));
	assert_null(strchr(err, '\n'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_table_matches_dwarf),
		cmocka_unit_test(test_globals_code_matches_symtab),
		cmocka_unit_test(test_mem_globals_code_matches_symtab),
		cmocka_unit_test(test_heap_sites),
		cmocka_unit_test(test_unknown_release_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

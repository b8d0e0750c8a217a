/* test_runtime_id.c - unit tests for user/runtime/runtime_id.h: which runtime a program runs.
 *
 * References are independent of the code under test: `go version -m` for Go binaries, the
 * interpreter's own platform.python_version() for CPython, `java -version` for the JDKs, readelf's
 * view of USDT notes. Fixtures that this machine lacks (pyenv, a JDK, a C compiler with libgc) are
 * skipped, the Go and C test programs are required (RTMON_BUILD names the build directory). */
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/runtime_id.h"

#define DEBIAN_PYTHON "/usr/bin/python3.11"

static char g_build[1024];
static char g_go[4096];

static const char *path_in(const char *fmt, ...)
{
	static char buf[4][PATH_MAX];
	static int k;
	char *p = buf[k++ & 3];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p, PATH_MAX, fmt, ap);
	va_end(ap);
	return p;
}

/* First line of a shell command's output that contains `want` (any line if NULL), newline cut. */
static int run_line(char *out, size_t outlen, const char *want, const char *fmt, ...)
{
	char cmd[8192], line[4096];
	va_list ap;
	FILE *f;
	int rc = -1;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (!(f = popen(cmd, "r")))
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (rc == 0 || (want && !strstr(line, want)))
			continue;
		line[strcspn(line, "\n")] = 0;
		snprintf(out, outlen, "%s", line);
		rc = 0;
	}
	pclose(f);
	return rc;
}

static bool exists(const char *p)
{
	return access(p, R_OK) == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

static int group_setup(void **state)
{
	const char *b = getenv("RTMON_BUILD"), *go = getenv("GO");

	(void)state;
	snprintf(g_build, sizeof(g_build), "%s", b && *b ? b : "build");
	if (!exists(path_in("%s/testprog/go/goroutines-stripped", g_build)) ||
	    !exists(path_in("%s/testprog/alloc", g_build))) {
		fprintf(stderr,
			"test_runtime_id: test programs missing in %s: run `make testprogs` and "
			"set RTMON_BUILD\n",
			g_build);
		return -1;
	}
	if (go && *go)
		snprintf(g_go, sizeof(g_go), "%s", go);
	else if (!system("command -v go >/dev/null 2>&1"))
		snprintf(g_go, sizeof(g_go), "go");
	else if (exists("/usr/local/go/bin/go"))
		snprintf(g_go, sizeof(g_go), "/usr/local/go/bin/go");
	return 0;
}

/* ---- Go ---- */

static void check_go(const char *path)
{
	struct runtime_id id;
	char err[512], ref[256], mod[512] = "";

	assert_int_equal(runtime_identify(path, 0, &id, err, sizeof(err)), 0);
	assert_int_equal(id.kind, RUNTIME_GO);
	assert_string_equal(runtime_kind_name(id.kind), "go");
	assert_string_equal(id.lib, path);
	assert_false(id.usdt);
	if (!g_go[0])
		return;
	/* "PATH: go1.22.3" */
	assert_int_equal(
		run_line(ref, sizeof(ref), NULL, "'%s' version '%s' 2>/dev/null", g_go, path), 0);
	assert_non_null(strrchr(ref, ' '));
	assert_string_equal(id.version, strrchr(ref, ' ') + 1);
	/* "\tmod\tPATH\t(devel)\t" */
	if (!run_line(mod, sizeof(mod), "\tmod\t", "'%s' version -m '%s' 2>/dev/null", g_go,
		      path)) {
		char *p = strstr(mod, "mod\t") + 4;

		p[strcspn(p, "\t")] = 0;
		assert_string_equal(id.module, p);
	} else {
		assert_string_equal(id.module, "");
	}
}

static void test_go_fixtures(void **state)
{
	static const char *const names[] = { "goroutines", "goroutines-stripped", "goroutines-pie",
					     "gcprog-stripped", "gomalloc" };
	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		check_go(path_in("%s/testprog/go/%s", g_build, names[i]));
}

/* The same program built by older Go releases (tests/unit/build-go-fixtures.sh), when present. */
static void test_go_versions(void **state)
{
	glob_t g;

	(void)state;
	if (glob(path_in("%s/testprog/go/vers/goroutines-go*", g_build), 0, NULL, &g)) {
		skip();
		return;
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct runtime_id id;
		const char *v = strstr(g.gl_pathv[i], "-go") + 1;
		char want[64];

		snprintf(want, sizeof(want), "%s", v);
		want[strcspn(want, "-")] = 0; /* "go1.20.14-stripped" -> "go1.20.14" */
		assert_int_equal(runtime_identify(g.gl_pathv[i], 0, &id, NULL, 0), 0);
		assert_int_equal(id.kind, RUNTIME_GO);
		assert_string_equal(id.version, want);
	}
	globfree(&g);
}

/* ---- native ---- */

static void test_native(void **state)
{
	static const char *const names[] = { "alloc", "alloc-nopie", "alloc-stripped",
					     "alloc-static" };
	struct runtime_id id;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(runtime_identify(path_in("%s/testprog/%s", g_build, names[i]), 0,
						  &id, NULL, 0),
				 0);
		assert_int_equal(id.kind, RUNTIME_NATIVE);
		assert_string_equal(runtime_kind_name(id.kind), "native");
		assert_string_equal(id.version, "");
		assert_string_equal(id.lib, "");
		assert_true(id.libc);
		assert_false(id.boehm);
		assert_false(id.usdt);
	}
	/* This test, as a running process: its libraries come from /proc/self/maps. */
	assert_int_equal(runtime_identify("/proc/self/exe", getpid(), &id, NULL, 0), 0);
	assert_int_equal(id.kind, RUNTIME_NATIVE);
	assert_true(id.libc);
}

static void test_bad_files(void **state)
{
	struct runtime_id id;
	char err[512] = "";

	(void)state;
	assert_int_equal(runtime_identify("/nonexistent/rtmon-test", 0, &id, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/rtmon-test"));
	assert_int_equal(runtime_identify("/etc/passwd", 0, &id, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, "not an ELF"));
	assert_int_equal(runtime_identify("/tmp", 0, &id, err, sizeof(err)), -EISDIR);
	assert_false(usdt_probe_exists("/nonexistent/rtmon-test", "python", NULL));
	assert_false(usdt_probe_exists("/etc/passwd", "python", NULL));
}

/* Boehm GC: libgc.so.1 among DT_NEEDED, or GC_gcollect defined in the executable. */
static void test_boehm(void **state)
{
	char dir[] = "/tmp/rtmon-rtid-XXXXXX", src[PATH_MAX], exe[PATH_MAX], own[PATH_MAX];
	struct runtime_id id;
	FILE *f;

	(void)state;
	if (!mkdtemp(dir)) {
		skip();
		return;
	}
	snprintf(src, sizeof(src), "%s/gc.c", dir);
	snprintf(exe, sizeof(exe), "%s/uses-libgc", dir);
	snprintf(own, sizeof(own), "%s/own-gc", dir);
	f = fopen(src, "w");
	assert_non_null(f);
	fputs("void GC_gcollect(void);\n"
	      "int main(int c, char **v) { (void)v; if (c > 5) GC_gcollect(); return 0; }\n",
	      f);
	fclose(f);
	if (!exists("/usr/lib/x86_64-linux-gnu/libgc.so.1") ||
	    system(path_in("cc -o '%s' '%s' -l:libgc.so.1 2>/dev/null", exe, src))) {
		system(path_in("rm -rf '%s'", dir));
		skip();
		return;
	}
	assert_int_equal(runtime_identify(exe, 0, &id, NULL, 0), 0);
	assert_int_equal(id.kind, RUNTIME_NATIVE);
	assert_true(id.boehm);
	f = fopen(src, "w");
	assert_non_null(f);
	fputs("void GC_gcollect(void) {}\nint main(void) { GC_gcollect(); return 0; }\n", f);
	fclose(f);
	assert_int_equal(system(path_in("cc -o '%s' '%s'", own, src)), 0);
	assert_int_equal(runtime_identify(own, 0, &id, NULL, 0), 0);
	assert_true(id.boehm);
	assert_int_equal(runtime_identify(path_in("%s/testprog/alloc", g_build), 0, &id, NULL, 0),
			 0);
	assert_false(id.boehm);
	system(path_in("rm -rf '%s'", dir));
}

/* ---- CPython ---- */

static void python_ref_version(const char *interp, char *out, size_t len)
{
	assert_int_equal(run_line(out, len, NULL,
				  "'%s' -c 'import platform; print(platform.python_version())'"
				  " 2>/dev/null",
				  interp),
			 0);
}

/* Debian's python3.11: libpython inside the executable, USDT probes. */
static void test_python_debian(void **state)
{
	struct runtime_id id;
	char ref[64];

	(void)state;
	if (!exists(DEBIAN_PYTHON)) {
		skip();
		return;
	}
	python_ref_version(DEBIAN_PYTHON, ref, sizeof(ref));
	assert_int_equal(runtime_identify(DEBIAN_PYTHON, 0, &id, NULL, 0), 0);
	assert_int_equal(id.kind, RUNTIME_PYTHON);
	assert_string_equal(runtime_kind_name(id.kind), "python");
	assert_string_equal(id.version, ref);
	assert_string_equal(id.lib, DEBIAN_PYTHON);
	assert_true(id.usdt);
	assert_true(usdt_probe_exists(DEBIAN_PYTHON, "python", "gc__start"));
	assert_true(usdt_probe_exists(DEBIAN_PYTHON, "python", "gc__done"));
	assert_true(usdt_probe_exists(DEBIAN_PYTHON, "python", NULL));
	assert_false(usdt_probe_exists(DEBIAN_PYTHON, "python", "no__such__probe"));
	assert_false(usdt_probe_exists(DEBIAN_PYTHON, "hotspot", NULL));
	/* Through a symlink (/usr/bin/python3 -> python3.11) the name still gives the same answer.
	 */
	if (exists("/usr/bin/python3")) {
		assert_int_equal(runtime_identify("/usr/bin/python3", 0, &id, NULL, 0), 0);
		assert_string_equal(id.version, ref);
	}
}

/* pyenv's shared builds (libpython3.X.so, no probes), 2.7 to 3.13: the version from Py_Version or
 * from .rodata must equal what the interpreter says. */
static void test_python_pyenv(void **state)
{
	const char *root = getenv("PYENV_ROOT");
	glob_t g;
	int checked = 0;

	(void)state;
	if (glob(path_in("%s/versions/*/bin/python[23].*[0-9]",
			 root && *root ? root : "/root/.pyenv"),
		 0, NULL, &g)) {
		skip();
		return;
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *interp = g.gl_pathv[i];
		struct runtime_id id;
		char ref[64], err[512];

		if (ends_with(interp, "-config") || ends_with(interp, "-gdb.py"))
			continue;
		python_ref_version(interp, ref, sizeof(ref));
		assert_int_equal(runtime_identify(interp, 0, &id, err, sizeof(err)), 0);
		assert_int_equal(id.kind, RUNTIME_PYTHON);
		if (strcmp(id.version, ref))
			fail_msg("%s: identified %s, the interpreter says %s", interp, id.version,
				 ref);
		assert_non_null(strstr(id.lib, "python"));
		checked++;
	}
	globfree(&g);
	if (!checked)
		skip();
}

/* A running pyenv python: libpython comes from /proc/PID/maps, opened through /proc/PID/root. */
static void test_python_pid(void **state)
{
	const char *root = getenv("PYENV_ROOT");
	char interp[PATH_MAX], ref[64], maps[64], line[PATH_MAX + 256];
	struct runtime_id id;
	glob_t g;
	pid_t pid;
	bool loaded = false;

	(void)state;
	if (glob(path_in("%s/versions/3.1*/bin/python3.1[0-9]",
			 root && *root ? root : "/root/.pyenv"),
		 0, NULL, &g)) {
		skip();
		return;
	}
	snprintf(interp, sizeof(interp), "%s", g.gl_pathv[0]);
	globfree(&g);
	python_ref_version(interp, ref, sizeof(ref));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl(interp, interp, "-c", "import time; time.sleep(60)", (char *)NULL);
		_exit(127);
	}
	snprintf(maps, sizeof(maps), "/proc/%d/maps", pid);
	for (int tries = 0; tries < 500 && !loaded; tries++) {
		FILE *f = fopen(maps, "r");

		while (f && fgets(line, sizeof(line), f))
			loaded |= strstr(line, "libpython") != NULL;
		if (f)
			fclose(f);
		if (!loaded)
			usleep(10000);
	}
	assert_true(loaded);
	assert_int_equal(runtime_identify(path_in("/proc/%d/exe", pid), pid, &id, NULL, 0), 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(id.kind, RUNTIME_PYTHON);
	assert_string_equal(id.version, ref);
	/* The same mount namespace as rtmon's: the maps path as it is (proc_kernel_path). */
	assert_true(id.lib[0] == '/' && strncmp(id.lib, "/proc/", 6));
	assert_non_null(strstr(id.lib, "libpython"));
	assert_false(id.usdt);
}

/* ---- Java ---- */

/* `java -version`: openjdk version "17.0.15" 2025-04-15 */
static void java_ref_version(const char *java, char *out, size_t len)
{
	char line[512], *q;

	assert_int_equal(run_line(line, sizeof(line), " version \"", "'%s' -version 2>&1", java),
			 0);
	q = strchr(line, '"') + 1;
	q[strcspn(q, "\"")] = 0;
	snprintf(out, len, "%s", q);
}

static void test_java(void **state)
{
	glob_t g;
	int checked = 0;

	(void)state;
	if (glob("/usr/lib/jvm/*/bin/java", 0, NULL, &g)) {
		skip();
		return;
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct runtime_id id;
		char ref[64], real[PATH_MAX];

		/* Debian's java-17-openjdk-amd64 and its versioned alias are the same JDK: once is
		 * enough. */
		if (!realpath(g.gl_pathv[i], real) || strcmp(real, g.gl_pathv[i]))
			continue;
		java_ref_version(g.gl_pathv[i], ref, sizeof(ref));
		assert_int_equal(runtime_identify(g.gl_pathv[i], 0, &id, NULL, 0), 0);
		assert_int_equal(id.kind, RUNTIME_JAVA);
		assert_string_equal(runtime_kind_name(id.kind), "java");
		assert_string_equal(id.version, ref);
		assert_true(ends_with(id.lib, "/lib/server/libjvm.so"));
		assert_true(id.usdt);
		assert_true(usdt_probe_exists(id.lib, "hotspot", "gc__begin"));
		assert_true(usdt_probe_exists(id.lib, "hotspot", "thread__start"));
		checked++;
	}
	globfree(&g);
	if (!checked) {
		skip();
		return;
	}
	/* /usr/bin/java -> /etc/alternatives/java -> the JDK's bin/java */
	if (exists("/usr/bin/java")) {
		struct runtime_id id;
		char ref[64];

		java_ref_version("/usr/bin/java", ref, sizeof(ref));
		assert_int_equal(runtime_identify("/usr/bin/java", 0, &id, NULL, 0), 0);
		assert_int_equal(id.kind, RUNTIME_JAVA);
		assert_string_equal(id.version, ref);
	}
}

/* node and its V8 as node itself reports them (process.version, process.versions.v8 to its third
 * number), against what runtime_identify reads from the file. */
static void check_node(const char *node)
{
	struct runtime_id id;
	char ref[128], *v8;

	assert_int_equal(run_line(ref, sizeof(ref), " ",
				  "'%s' -p \"process.version.slice(1) + ' ' + "
				  "process.versions.v8.split('.').slice(0, 3).join('.')\"",
				  node),
			 0);
	v8 = strchr(ref, ' ');
	*v8++ = '\0';
	assert_int_equal(runtime_identify(node, 0, &id, NULL, 0), 0);
	assert_int_equal(id.kind, RUNTIME_NODE);
	assert_string_equal(runtime_kind_name(id.kind), "node");
	assert_string_equal(id.version, ref);
	assert_string_equal(id.engine, v8);
	assert_string_equal(id.lib, node);
	assert_true(id.v8_gc);
	assert_true(id.libc);
	assert_false(id.usdt);
}

static void test_node(void **state)
{
	const char *b = getenv("RTMON_BUILD");
	char fixture[PATH_MAX];
	int checked = 0;

	(void)state;
	if (exists("/usr/bin/node")) {
		check_node("/usr/bin/node");
		checked++;
	}
	/* npm's node 22 (tests/integration/fetch-node-fixtures.sh) */
	snprintf(fixture, sizeof(fixture), "%s/node-fixtures/node22/bin/node", b ? b : "build");
	if (exists(fixture)) {
		check_node(fixture);
		checked++;
	}
	if (!checked)
		skip();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_go_fixtures),  cmocka_unit_test(test_go_versions),
		cmocka_unit_test(test_native),       cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_boehm),        cmocka_unit_test(test_python_debian),
		cmocka_unit_test(test_python_pyenv), cmocka_unit_test(test_python_pid),
		cmocka_unit_test(test_java),         cmocka_unit_test(test_node),
	};

	return cmocka_run_group_tests_name("runtime_id", tests, group_setup, NULL);
}

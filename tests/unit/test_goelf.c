/* test_goelf.c - unit tests for the Go binary analysis layer (user/runtime/go/goelf.h).
 *
 * Fixtures (built by the Makefile; RTMON_BUILD names the build directory):
 *   testprog/go/goroutines, -stripped (-s -w), -pie
 * and, when tests/unit/build-go-fixtures.sh has built them, the same program
 * built by older Go releases in testprog/go/vers/goroutines-goX.Y.Z{,-stripped,-pie}.
 * References are independent of the code under test where it matters: `go
 * tool nm`, `go env GOVERSION`, libelf's view of .text, raw bytes via pread. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/go/goelf.h"

static char g_dir[1024];     /* $RTMON_BUILD/testprog/go */
static char g_go[4096];      /* the go command, "" if none */
static char g_goversion[64]; /* `go env GOVERSION` */

static const char *fixture(const char *name)
{
	static char buf[4][1200];
	static int k;
	char *p = buf[k++ & 3];

	snprintf(p, sizeof(buf[0]), "%s/%s", g_dir, name);
	return p;
}

static int run_line(char *out, size_t outlen, const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	FILE *f;
	int ok;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	ok = fgets(out, outlen, f) != NULL;
	pclose(f);
	if (!ok)
		return -1;
	out[strcspn(out, "\n")] = 0;
	return 0;
}

/* Address of name per `go tool nm` (0 if not found or no go command). */
static uint64_t nm_addr(const char *path, const char *name)
{
	char line[512];

	if (!g_go[0])
		return 0;
	if (run_line(line, sizeof(line),
		     "'%s' tool nm '%s' 2>/dev/null | awk '$3 == \"%s\" {print $1}'", g_go, path,
		     name))
		return 0;
	return strtoull(line, NULL, 16);
}

static void read_at(const char *path, uint64_t off, void *buf, size_t n)
{
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, n, off), n);
	close(fd);
}

/* The .text section's address and file offset, read with libelf directly. */
static void text_section(const char *path, uint64_t *addr, uint64_t *off)
{
	int fd = open(path, O_RDONLY);
	Elf *e;
	Elf_Scn *scn = NULL;
	size_t shstr;
	GElf_Shdr sh;

	assert_true(fd >= 0);
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(e);
	assert_int_equal(elf_getshdrstrndx(e, &shstr), 0);
	*addr = *off = 0;
	while ((scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, &sh) && !strcmp(elf_strptr(e, shstr, sh.sh_name), ".text")) {
			*addr = sh.sh_addr;
			*off = sh.sh_offset;
		}
	elf_end(e);
	close(fd);
	assert_true(*addr != 0);
}

static int file_exists(const char *p)
{
	return access(p, R_OK) == 0;
}

static int group_setup(void **state)
{
	const char *b = getenv("RTMON_BUILD");
	const char *go = getenv("GO");

	(void)state;
	snprintf(g_dir, sizeof(g_dir), "%s/testprog/go", b && *b ? b : "build");
	if (!file_exists(fixture("goroutines")) || !file_exists(fixture("goroutines-stripped")) ||
	    !file_exists(fixture("goroutines-pie"))) {
		fprintf(stderr,
			"test_goelf: Go fixtures missing in %s: run `make %s/goroutines "
			"%s/goroutines-stripped %s/goroutines-pie` and set RTMON_BUILD\n",
			g_dir, g_dir, g_dir, g_dir);
		return -1;
	}
	if (go && *go)
		snprintf(g_go, sizeof(g_go), "%s", go);
	else if (!system("command -v go >/dev/null 2>&1"))
		snprintf(g_go, sizeof(g_go), "go");
	else if (file_exists("/usr/local/go/bin/go"))
		snprintf(g_go, sizeof(g_go), "/usr/local/go/bin/go");
	if (g_go[0] &&
	    run_line(g_goversion, sizeof(g_goversion), "'%s' env GOVERSION 2>/dev/null", g_go))
		g_goversion[0] = 0;
	return 0;
}

/* ---- version parsing ---- */

static void test_parse_version(void **state)
{
	int ma, mi, pa;

	(void)state;
	assert_int_equal(go_parse_version("go1.26.8", &ma, &mi, &pa), 0);
	assert_int_equal(ma, 1);
	assert_int_equal(mi, 26);
	assert_int_equal(pa, 8);
	assert_int_equal(go_parse_version("go1.20", &ma, &mi, &pa), 0);
	assert_int_equal(mi, 20);
	assert_int_equal(pa, 0);
	assert_int_equal(go_parse_version("go1.21rc2", &ma, &mi, &pa), 0);
	assert_int_equal(mi, 21);
	assert_int_equal(pa, 0);
	assert_int_equal(go_parse_version("devel go1.27-0123abcd Mon Jan 1", &ma, &mi, &pa), 0);
	assert_int_equal(ma, 1);
	assert_int_equal(mi, 27);
	assert_int_equal(go_parse_version("go1.25.0 X:nodwarf5", &ma, &mi, &pa), 0);
	assert_int_equal(mi, 25);
	assert_int_equal(pa, 0);
	assert_int_equal(go_parse_version("gopher", &ma, &mi, &pa), -EINVAL);
	assert_int_equal(go_parse_version("", &ma, &mi, &pa), -EINVAL);
}

/* ---- build info ---- */

static void test_buildinfo_fixture(void **state)
{
	static const char *const v[] = { "goroutines", "goroutines-stripped", "goroutines-pie" };
	char err[256];

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct go_info gi;
		char want[32];
		int ma, mi, pa;

		assert_int_equal(go_read_buildinfo(fixture(v[i]), &gi, err, sizeof(err)), 0);
		assert_string_equal(gi.module, "rtmon/testprog/goroutines");
		assert_int_equal(gi.major, 1);
		assert_true(gi.minor >= 17);
		snprintf(want, sizeof(want), "go%d.%d", gi.major, gi.minor);
		assert_memory_equal(gi.version, want, strlen(want));
		if (g_goversion[0]) {
			assert_string_equal(gi.version, g_goversion);
			assert_int_equal(go_parse_version(g_goversion, &ma, &mi, &pa), 0);
			assert_int_equal(gi.minor, mi);
			assert_int_equal(gi.patch, pa);
		}
	}
	if (!g_goversion[0])
		fprintf(stderr, "test_goelf: no go command: version not compared with go env\n");
}

static void test_buildinfo_not_go(void **state)
{
	char err[256] = "";
	struct go_info gi;
	char tmp[] = "/tmp/test_goelf.XXXXXX";
	int fd;

	(void)state;
	/* An ELF that is not Go. */
	assert_int_equal(go_read_buildinfo("/bin/sh", &gi, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, "no Go build info"));
	assert_null(strchr(err, '\n'));
	/* Not an ELF at all. */
	fd = mkstemp(tmp);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\necho hello, this is not ELF at all\n", 45), 45);
	close(fd);
	err[0] = 0;
	assert_int_equal(go_read_buildinfo(tmp, &gi, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, "not an ELF"));
	unlink(tmp);
	/* Missing. */
	err[0] = 0;
	assert_int_equal(go_read_buildinfo("/nonexistent/rtmon-go", &gi, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/rtmon-go"));
	/* NULL err is allowed. */
	assert_int_equal(go_read_buildinfo("/bin/sh", &gi, NULL, 0), -ENOEXEC);
}

/* ---- symbol table ---- */

static void test_symtab_sources(void **state)
{
	struct go_symtab *st;
	char err[256];

	(void)state;
	assert_int_equal(go_symtab_open(fixture("goroutines"), &st, err, sizeof(err)), 0);
	assert_int_equal(go_symtab_source(st), GO_SYMS_ELF);
	go_symtab_close(st);
	assert_int_equal(go_symtab_open(fixture("goroutines-stripped"), &st, err, sizeof(err)), 0);
	assert_int_equal(go_symtab_source(st), GO_SYMS_PCLNTAB);
	assert_true(go_symtab_count(st) > 1000);
	go_symtab_close(st);
	assert_int_equal(go_symtab_open(fixture("goroutines-pie"), &st, err, sizeof(err)), 0);
	go_symtab_close(st);
	assert_int_equal(go_symtab_open("/nonexistent/rtmon-go", &st, err, sizeof(err)), -ENOENT);
	assert_null(st);
}

/* main.worker etc. agree across plain (.symtab), stripped (.gopclntab), go tool nm
 * and libelf's .text; names resolve back; bytes at the offsets are the same. */
static void test_func_lookup(void **state)
{
	static const char *const names[] = {
		"main.worker", "main.shortWorker", "main.allocate",
		"main.main",   "runtime.newproc1", "runtime.mallocgc"
	};
	struct go_symtab *plain, *strip, *pie;
	uint64_t taddr, toff;
	char err[256];

	(void)state;
	assert_int_equal(go_symtab_open(fixture("goroutines"), &plain, err, sizeof(err)), 0);
	assert_int_equal(go_symtab_open(fixture("goroutines-stripped"), &strip, err, sizeof(err)),
			 0);
	assert_int_equal(go_symtab_open(fixture("goroutines-pie"), &pie, err, sizeof(err)), 0);
	text_section(fixture("goroutines"), &taddr, &toff);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint64_t e1, x1, o1, e2, x2, o2, e3, x3, o3, nm;
		uint8_t b1[32], b2[32], b3[32];

		assert_int_equal(go_func_by_name(plain, names[i], &e1, &x1, &o1), 0);
		assert_int_equal(go_func_by_name(strip, names[i], &e2, &x2, &o2), 0);
		assert_int_equal(go_func_by_name(pie, names[i], &e3, &x3, &o3), 0);
		assert_int_equal(e1, e2);
		assert_int_equal(x1, x2);
		assert_int_equal(o1, o2);
		assert_true(x1 > e1 && x3 > e3);
		assert_int_equal(o1, e1 - taddr + toff);
		nm = nm_addr(fixture("goroutines"), names[i]);
		if (g_go[0])
			assert_int_equal(nm, e1);
		if (g_go[0])
			assert_int_equal(nm_addr(fixture("goroutines-pie"), names[i]), e3);
		read_at(fixture("goroutines"), o1, b1, sizeof(b1));
		read_at(fixture("goroutines-stripped"), o2, b2, sizeof(b2));
		read_at(fixture("goroutines-pie"), o3, b3, sizeof(b3));
		assert_memory_equal(b1, b2, sizeof(b1));
		/* Every Go function on amd64 starts with a stack check or, NOSPLIT, anything:
		 * these six all have frames, so they start with the check. */
		assert_true(!memcmp(b1, "\x49\x3b\x66\x10", 4) ||
			    !memcmp(b1, "\x4c\x8d\x64\x24", 4) ||
			    !memcmp(b1, "\x4c\x8d\xa4\x24", 4) || !memcmp(b1, "\x49\x89\xe4", 3));
		assert_memory_equal(b1, b3, 4);
		for (struct go_symtab *st = plain; st; st = st == plain   ? strip
							    : st == strip ? pie
									  : NULL) {
			uint64_t e;

			assert_int_equal(go_func_by_name(st, names[i], &e, NULL, NULL), 0);
			assert_string_equal(go_func_name_at(st, e), names[i]);
			assert_string_equal(go_func_name_at(st, e + 1), names[i]);
		}
		assert_string_equal(go_func_name_at(plain, x1 - 1), names[i]);
		assert_string_equal(go_func_name_at(strip, x2 - 1), names[i]);
		assert_true(!go_func_name_at(strip, x2) ||
			    strcmp(go_func_name_at(strip, x2), names[i]));
		assert_true(!go_func_name_at(strip, e2 - 1) ||
			    strcmp(go_func_name_at(strip, e2 - 1), names[i]));
	}
	assert_null(go_func_name_at(strip, 0));
	assert_null(go_func_name_at(strip, UINT64_MAX));
	assert_int_equal(go_func_by_name(strip, "main.noSuchFunction", NULL, NULL, NULL), -ENOENT);
	assert_int_equal(go_func_by_name(plain, "main.noSuchFunction", NULL, NULL, NULL), -ENOENT);
	assert_int_equal(go_func_by_name(strip, "", NULL, NULL, NULL), -ENOENT);
	go_symtab_close(plain);
	go_symtab_close(strip);
	go_symtab_close(pie);
}

/* Every function of the plain build's .symtab that .gopclntab also lists has
 * the same entry and end in the stripped build; nearly all are listed. */
static void test_pclntab_matches_symtab(void **state)
{
	struct go_symtab *plain, *strip;
	size_t n, missing = 0, checked = 0;
	char err[256];

	(void)state;
	assert_int_equal(go_symtab_open(fixture("goroutines"), &plain, err, sizeof(err)), 0);
	assert_int_equal(go_symtab_open(fixture("goroutines-stripped"), &strip, err, sizeof(err)),
			 0);
	n = go_symtab_count(plain);
	for (size_t i = 0; i < n; i++) {
		const char *name;
		uint64_t e, x, e2, x2, first;

		assert_int_equal(go_symtab_func(plain, i, &name, &e, &x), 0);
		assert_int_equal(go_func_by_name(plain, name, &first, NULL, NULL), 0);
		if (first != e)
			continue; /* a duplicate name: lookups give the first */
		if (go_func_by_name(strip, name, &e2, &x2, NULL)) {
			missing++;
			continue;
		}
		assert_int_equal(e2, e);
		checked++;
		/* ends agree except where .symtab has extra symbols in between */
		if (x2 != x)
			assert_true(x2 > x && go_func_name_at(plain, x) != NULL);
	}
	fprintf(stderr,
		"test_goelf: %zu functions match between .symtab and .gopclntab, %zu only "
		"in .symtab\n",
		checked, missing);
	assert_true(checked > 1000);
	assert_true(missing * 50 < n);
	assert_int_equal(go_symtab_func(plain, n, NULL, NULL, NULL), -ENOENT);
	go_symtab_close(plain);
	go_symtab_close(strip);
}

/* A copy of file with no section header table (as after sstrip-like tools):
 * the build info and .gopclntab must then be found by scanning segments. */
static void copy_without_sections(const char *file, char *out, size_t outlen)
{
	static uint8_t buf[64 << 20];
	int fd = open(fixture(file), O_RDONLY), ofd;
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	assert_true(n > 0x40 && n < (ssize_t)sizeof(buf));
	memset(buf + 0x28, 0, 8); /* e_shoff */
	memset(buf + 0x3c, 0, 4); /* e_shnum, e_shstrndx */
	snprintf(out, outlen, "/tmp/test_goelf.noshdr.XXXXXX");
	ofd = mkstemp(out);
	assert_true(ofd >= 0);
	assert_int_equal(write(ofd, buf, n), n);
	close(ofd);
}

static void test_no_section_headers(void **state)
{
	static const char *const files[] = { "goroutines-stripped", "goroutines-pie" };
	char err[256], tmp[64];

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct go_info a, b;
		struct go_symtab *st, *ref;
		uint64_t e1, x1, e2, x2;

		copy_without_sections(files[i], tmp, sizeof(tmp));
		assert_int_equal(go_read_buildinfo(fixture(files[i]), &a, err, sizeof(err)), 0);
		assert_int_equal(go_read_buildinfo(tmp, &b, err, sizeof(err)), 0);
		assert_string_equal(a.version, b.version);
		assert_string_equal(a.module, b.module);
		assert_int_equal(go_symtab_open(fixture(files[i]), &ref, err, sizeof(err)), 0);
		if (go_symtab_open(tmp, &st, err, sizeof(err)))
			fail_msg("%s without section headers: %s", files[i], err);
		assert_int_equal(go_symtab_source(st), GO_SYMS_PCLNTAB);
		assert_int_equal(go_func_by_name(ref, "main.worker", &e1, &x1, NULL), 0);
		assert_int_equal(go_func_by_name(st, "main.worker", &e2, &x2, NULL), 0);
		assert_int_equal(e1, e2);
		assert_int_equal(x1, x2);
		go_symtab_close(st);
		go_symtab_close(ref);
		unlink(tmp);
	}
}

static void test_vaddr_to_off(void **state)
{
	struct go_symtab *pie;
	uint64_t e, o, o2;
	char err[256];

	(void)state;
	assert_int_equal(go_symtab_open(fixture("goroutines-pie"), &pie, err, sizeof(err)), 0);
	assert_int_equal(go_func_by_name(pie, "main.worker", &e, NULL, &o), 0);
	assert_int_equal(go_vaddr_to_off(pie, e, &o2), 0);
	assert_int_equal(o, o2);
	assert_int_equal(go_vaddr_to_off(pie, e + 5, &o2), 0);
	assert_int_equal(o + 5, o2);
	assert_int_equal(go_vaddr_to_off(pie, 0x10, &o2), -ENOENT);
	go_symtab_close(pie);
}

/* ---- probe sites ---- */

static void check_ret_sites(const char *file, const char *fn, int min)
{
	struct go_symtab *st;
	uint64_t offs[64], e, x, o;
	char err[256];
	int n = -1;

	assert_int_equal(go_symtab_open(fixture(file), &st, err, sizeof(err)), 0);
	assert_int_equal(go_func_by_name(st, fn, &e, &x, &o), 0);
	assert_int_equal(go_func_ret_sites(st, fn, offs, 64, &n, err, sizeof(err)), 0);
	assert_true(n >= min);
	for (int i = 0; i < n; i++) {
		uint8_t b;

		assert_true(offs[i] > o && offs[i] < o + (x - e));
		read_at(fixture(file), offs[i], &b, 1);
		assert_int_equal(b, 0xc3);
		if (i)
			assert_true(offs[i] > offs[i - 1]);
	}
	/* too small an array: -ENOSPC and the count */
	if (n > 1) {
		int n2;

		assert_int_equal(go_func_ret_sites(st, fn, offs, 1, &n2, err, sizeof(err)),
				 -ENOSPC);
		assert_int_equal(n2, n);
		assert_int_equal(go_func_ret_sites(st, fn, NULL, 0, &n2, err, sizeof(err)),
				 -ENOSPC);
	}
	assert_int_equal(
		go_func_ret_sites(st, "main.noSuchFunction", offs, 64, &n, err, sizeof(err)),
		-ENOENT);
	assert_non_null(strstr(err, "main.noSuchFunction"));
	go_symtab_close(st);
}

static void test_ret_sites(void **state)
{
	(void)state;
	check_ret_sites("goroutines", "runtime.mallocgc", 1);
	check_ret_sites("goroutines-stripped", "runtime.mallocgc", 1);
	check_ret_sites("goroutines-pie", "runtime.mallocgc", 1);
	check_ret_sites("goroutines-stripped", "runtime.newproc1", 1);
	check_ret_sites("goroutines-stripped", "main.shortWorker", 1);
	check_ret_sites("goroutines-stripped", "runtime.memmove", 2);
}

static void test_ret_sites_same_plain_stripped(void **state)
{
	struct go_symtab *a, *b;
	uint64_t oa[64], ob[64];
	int na, nb;
	char err[256];

	(void)state;
	assert_int_equal(go_symtab_open(fixture("goroutines"), &a, err, sizeof(err)), 0);
	assert_int_equal(go_symtab_open(fixture("goroutines-stripped"), &b, err, sizeof(err)), 0);
	assert_int_equal(go_func_ret_sites(a, "runtime.mallocgc", oa, 64, &na, err, sizeof(err)),
			 0);
	assert_int_equal(go_func_ret_sites(b, "runtime.mallocgc", ob, 64, &nb, err, sizeof(err)),
			 0);
	assert_int_equal(na, nb);
	assert_memory_equal(oa, ob, na * sizeof(oa[0]));
	go_symtab_close(a);
	go_symtab_close(b);
}

/* The body site follows a jbe (0x76 rel8 or 0x0f 0x86 rel32) that follows a
 * cmp with [r14+0x10] (or +0x18: Go 1.17 systemstack functions); checked on
 * the raw bytes. */
static void check_body_after_prologue(const char *file, const char *fn)
{
	struct go_symtab *st;
	uint64_t e, o, body;
	uint8_t b[64];
	char err[256];
	size_t d;

	assert_int_equal(go_symtab_open(fixture(file), &st, err, sizeof(err)), 0);
	assert_int_equal(go_func_by_name(st, fn, &e, NULL, &o), 0);
	assert_int_equal(go_func_body_site(st, fn, &body, err, sizeof(err)), 0);
	assert_true(body > o && body - o <= 40);
	d = body - o;
	read_at(fixture(file), o, b, sizeof(b));
	if (d >= 6 && b[d - 6] == 0x0f && b[d - 5] == 0x86)
		d -= 6;
	else if (d >= 2 && b[d - 2] == 0x76)
		d -= 2;
	else
		fail_msg("%s %s: no jbe before the body site (+%zu)", file, fn, body - o);
	/* cmp rsp|r12, [r14+0x10]: 49 3b 66 10 / 4d 3b 66 10 */
	assert_true(d >= 4);
	assert_true((b[d - 4] == 0x49 || b[d - 4] == 0x4d) && b[d - 3] == 0x3b &&
		    b[d - 2] == 0x66 && (b[d - 1] == 0x10 || b[d - 1] == 0x18));
	go_symtab_close(st);
}

static void test_body_site(void **state)
{
	struct go_symtab *st;
	uint64_t o, body;
	char err[256];

	(void)state;
	check_body_after_prologue("goroutines", "runtime.newproc1"); /* cmp rsp; jbe */
	check_body_after_prologue("goroutines-stripped", "runtime.newproc1");
	check_body_after_prologue("goroutines-pie", "runtime.newproc1");
	check_body_after_prologue("goroutines-stripped", "main.worker");
	check_body_after_prologue("goroutines-stripped", "runtime.gcStart"); /* lea r12 */
	check_body_after_prologue("goroutines-stripped",
				  "runtime.getCPUCount"); /* mov r12, rsp; sub; jb */
	/* NOSPLIT assembly without a stack check: the entry itself. */
	assert_int_equal(go_symtab_open(fixture("goroutines-stripped"), &st, err, sizeof(err)), 0);
	assert_int_equal(go_func_by_name(st, "runtime.memmove", NULL, NULL, &o), 0);
	assert_int_equal(go_func_body_site(st, "runtime.memmove", &body, err, sizeof(err)), 0);
	assert_int_equal(body, o);
	assert_int_equal(go_func_body_site(st, "main.noSuchFunction", &body, err, sizeof(err)),
			 -ENOENT);
	go_symtab_close(st);
}

/* ---- offsets ---- */

static void test_offsets_fixture(void **state)
{
	struct go_offsets dw, tab, got;
	struct go_info gi;
	char err[256];

	(void)state;
	assert_int_equal(go_read_buildinfo(fixture("goroutines"), &gi, err, sizeof(err)), 0);
	assert_int_equal(go_offsets_from_dwarf(fixture("goroutines"), &dw, err, sizeof(err)), 0);
	assert_int_equal(go_offsets_from_table(gi.major, gi.minor, &tab), 0);
	assert_memory_equal(&dw, &tab, sizeof(dw));
	/* Stripped: no DWARF, the table; the same numbers. */
	assert_int_equal(
		go_offsets_from_dwarf(fixture("goroutines-stripped"), &got, err, sizeof(err)),
		-ENODATA);
	assert_int_equal(
		go_offsets_get(fixture("goroutines-stripped"), NULL, &got, err, sizeof(err)), 0);
	assert_memory_equal(&got, &dw, sizeof(dw));
	assert_int_equal(go_offsets_get(fixture("goroutines-pie"), &gi, &got, err, sizeof(err)), 0);
	assert_memory_equal(&got, &dw, sizeof(dw));
	/* A version the table does not know, no DWARF: an error, not a guess. */
	gi.minor = 99;
	snprintf(gi.version, sizeof(gi.version), "go1.99.0");
	err[0] = 0;
	assert_int_equal(
		go_offsets_get(fixture("goroutines-stripped"), &gi, &got, err, sizeof(err)),
		-ENOTSUP);
	assert_non_null(strstr(err, "go1.99.0"));
	/* With DWARF the version does not matter. */
	assert_int_equal(go_offsets_get(fixture("goroutines"), &gi, &got, err, sizeof(err)), 0);
	assert_int_equal(got.g_goid, dw.g_goid);
	/* Not Go. */
	assert_int_equal(go_offsets_get("/bin/sh", NULL, &got, err, sizeof(err)), -ENOEXEC);
}

static void test_offsets_table(void **state)
{
	struct go_offsets o;

	(void)state;
	/* The eras of runtime.g.goid (read from each release's DWARF). */
	for (int mi = 17; mi <= 22; mi++) {
		assert_int_equal(go_offsets_from_table(1, mi, &o), 0);
		assert_int_equal(o.g_goid, 152);
	}
	for (int mi = 23; mi <= 24; mi++) {
		assert_int_equal(go_offsets_from_table(1, mi, &o), 0);
		assert_int_equal(o.g_goid, 160);
	}
	for (int mi = 25; mi <= 26; mi++) {
		assert_int_equal(go_offsets_from_table(1, mi, &o), 0);
		assert_int_equal(o.g_goid, 152);
	}
	assert_int_equal(go_offsets_from_table(1, 16, &o), -ENOTSUP);
	assert_int_equal(go_offsets_from_table(1, 27, &o), -ENOTSUP);
	assert_int_equal(go_offsets_from_table(2, 0, &o), -ENOTSUP);
}

/* ---- other Go releases (tests/unit/build-go-fixtures.sh) ---- */

static void check_version(const char *ver)
{
	char plain[1200], strip[1200], pie[1200], err[256];
	struct go_info gi;
	struct go_offsets dw, tab, got;
	struct go_symtab *sp, *ss, *sq;
	uint64_t e1, e2, e3, o3, body, offs[64];
	int n, ma, mi, pa;

	snprintf(plain, sizeof(plain), "%s/vers/goroutines-%.64s", g_dir, ver);
	snprintf(strip, sizeof(strip), "%s/vers/goroutines-%.64s-stripped", g_dir, ver);
	snprintf(pie, sizeof(pie), "%s/vers/goroutines-%.64s-pie", g_dir, ver);
	if (!file_exists(strip) || !file_exists(pie)) {
		fprintf(stderr, "test_goelf: %s: stripped or PIE build missing, skipped\n", ver);
		return;
	}
	/* build info */
	assert_int_equal(go_read_buildinfo(strip, &gi, err, sizeof(err)), 0);
	assert_string_equal(gi.version, ver);
	assert_string_equal(gi.module, "rtmon/testprog/goroutines");
	assert_int_equal(go_parse_version(ver, &ma, &mi, &pa), 0);
	assert_int_equal(gi.minor, mi);
	assert_int_equal(gi.patch, pa);
	/* offsets: DWARF == table */
	assert_int_equal(go_offsets_from_dwarf(plain, &dw, err, sizeof(err)), 0);
	assert_int_equal(go_offsets_from_table(1, mi, &tab), 0);
	if (memcmp(&dw, &tab, sizeof(dw)))
		fail_msg("%s: DWARF goid %d m %d procid %d status %d, table %d %d %d %d", ver,
			 dw.g_goid, dw.g_m, dw.m_procid, dw.g_atomicstatus, tab.g_goid, tab.g_m,
			 tab.m_procid, tab.g_atomicstatus);
	assert_int_equal(go_offsets_get(strip, NULL, &got, err, sizeof(err)), 0);
	assert_memory_equal(&got, &dw, sizeof(dw));
	/* pclntab on stripped == .symtab on plain; PIE finds its pclntab too */
	assert_int_equal(go_symtab_open(plain, &sp, err, sizeof(err)), 0);
	assert_int_equal(go_symtab_open(strip, &ss, err, sizeof(err)), 0);
	assert_int_equal(go_symtab_open(pie, &sq, err, sizeof(err)), 0);
	assert_int_equal(go_symtab_source(ss), GO_SYMS_PCLNTAB);
	assert_int_equal(go_func_by_name(sp, "main.worker", &e1, NULL, NULL), 0);
	assert_int_equal(go_func_by_name(ss, "main.worker", &e2, NULL, NULL), 0);
	assert_int_equal(e1, e2);
	assert_string_equal(go_func_name_at(ss, e2 + 1), "main.worker");
	if (g_go[0])
		assert_int_equal(nm_addr(plain, "main.worker"), e1);
	assert_int_equal(go_func_by_name(sq, "main.worker", &e3, NULL, NULL), 0);
	assert_string_equal(go_func_name_at(sq, e3 + 1), "main.worker");
	/* probe sites on PIE */
	assert_int_equal(go_func_ret_sites(sq, "runtime.mallocgc", offs, 64, &n, err, sizeof(err)),
			 0);
	assert_true(n > 0);
	for (int i = 0; i < n; i++) {
		uint8_t b;

		read_at(pie, offs[i], &b, 1);
		assert_int_equal(b, 0xc3);
	}
	assert_int_equal(go_func_by_name(sq, "runtime.newproc1", NULL, NULL, &o3), 0);
	assert_int_equal(go_func_body_site(sq, "runtime.newproc1", &body, err, sizeof(err)), 0);
	assert_true(body > o3);
	go_symtab_close(sp);
	snprintf(pie, sizeof(pie), "vers/goroutines-%.64s-pie", ver);
	check_body_after_prologue(pie, "runtime.newproc1");
	check_body_after_prologue(pie, "main.worker");
	go_symtab_close(ss);
	go_symtab_close(sq);
	fprintf(stderr, "test_goelf: %s ok: goid %d, m %d, procid %d, atomicstatus %d\n", ver,
		dw.g_goid, dw.g_m, dw.m_procid, dw.g_atomicstatus);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_other_go_versions(void **state)
{
	DIR *d = opendir(fixture("vers"));
	struct dirent *de;
	char *vers[64];
	int n = 0;

	(void)state;
	if (!d) {
		fprintf(stderr,
			"test_goelf: no %s: run tests/unit/build-go-fixtures.sh BUILD_DIR "
			"to test other Go releases\n",
			fixture("vers"));
		skip();
	}
	while ((de = readdir(d)) && n < 64) {
		const char *v = de->d_name + strlen("goroutines-");

		if (strncmp(de->d_name, "goroutines-go", 13) || strstr(v, "-stripped") ||
		    strstr(v, "-pie") || strstr(v, ".tmp"))
			continue;
		vers[n++] = strdup(v);
	}
	closedir(d);
	if (!n) {
		fprintf(stderr, "test_goelf: %s is empty: no other Go releases tested\n",
			fixture("vers"));
		skip();
	}
	qsort(vers, n, sizeof(vers[0]), cmp_str);
	for (int i = 0; i < n; i++) {
		check_version(vers[i]);
		free(vers[i]);
	}
}

/* runtime.work.cycles as rtmon gc finds it: the first load in runtime.GC, and the last in-place
 * increment in runtime.gcStart (what a binary without runtime.GC gives), agree on gcprog (which
 * calls runtime.GC) in every build and release there is, and lie inside runtime.work (go tool
 * nm) for the plain build. */
static void check_cycles(const char *name)
{
	struct go_symtab *st;
	uint64_t a = 0, b = 0;
	char err[512];

	if (go_symtab_open(fixture(name), &st, err, sizeof(err))) {
		fail_msg("%s: %s", name, err);
		return;
	}
	assert_int_equal(go_func_rip_load(st, "runtime.GC", 4, &a), 0);
	assert_int_equal(go_func_last_rip_increment(st, "runtime.gcStart", &b), 0);
	if (a != b)
		fail_msg("%s: runtime.GC loads 0x%llx, gcStart increments 0x%llx", name,
			 (unsigned long long)a, (unsigned long long)b);
	go_symtab_close(st);
}

static void test_cycles_counter(void **state)
{
	DIR *d = opendir(fixture("vers"));
	struct dirent *de;
	char line[256];
	unsigned long long work = 0, a = 0;
	struct go_symtab *st;

	(void)state;
	check_cycles("gcprog");
	check_cycles("gcprog-stripped");
	check_cycles("gcprog-pie");
	while (d && (de = readdir(d)))
		if (!strncmp(de->d_name, "gcprog-go", 9) && !strstr(de->d_name, ".tmp")) {
			char name[300];

			snprintf(name, sizeof(name), "vers/%s", de->d_name);
			check_cycles(name);
		}
	if (d)
		closedir(d);
	if (!g_go[0] ||
	    run_line(line, sizeof(line), "%s tool nm %s | grep ' D runtime.work$'", g_go,
		     fixture("gcprog")) ||
	    sscanf(line, "%llx", &work) != 1)
		return;
	assert_int_equal(go_symtab_open(fixture("gcprog"), &st, NULL, 0), 0);
	assert_int_equal(go_func_rip_load(st, "runtime.GC", 4, (uint64_t *)&a), 0);
	go_symtab_close(st);
	assert_true(a > work && a < work + 4096);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_version),
		cmocka_unit_test(test_buildinfo_fixture),
		cmocka_unit_test(test_buildinfo_not_go),
		cmocka_unit_test(test_symtab_sources),
		cmocka_unit_test(test_func_lookup),
		cmocka_unit_test(test_pclntab_matches_symtab),
		cmocka_unit_test(test_no_section_headers),
		cmocka_unit_test(test_vaddr_to_off),
		cmocka_unit_test(test_ret_sites),
		cmocka_unit_test(test_ret_sites_same_plain_stripped),
		cmocka_unit_test(test_body_site),
		cmocka_unit_test(test_offsets_fixture),
		cmocka_unit_test(test_offsets_table),
		cmocka_unit_test(test_other_go_versions),
		cmocka_unit_test(test_cycles_counter),
	};

	return cmocka_run_group_tests_name("goelf", tests, group_setup, NULL);
}

/* test_go_lines.c - unit tests for go_pc_lines (user/runtime/go/pcline.c): file:line and inlining
 * of Go code addresses from .gopclntab.
 *
 * The truth is the Go runtime's own: testprog/go/golines records stacks that cross inlined calls
 * with runtime.Callers and prints, for every PC, the frame runtime.CallersFrames gives. A physical
 * frame with inlined calls gives the runtime one PC per level (the return address, then one for
 * each caller inlined in it), so go_pc_lines(return address - 1) must give the next k frames of
 * the runtime's list, in order, with the same function, file and line. Checked on the plain,
 * stripped (-s -w) and PIE builds, and on the builds of older Go releases in
 * testprog/go/vers/golines-goX.Y.Z{,-stripped,-pie} (tests/unit/build-go-fixtures.sh). The base of
 * funcdata (go:func.*) is checked against `go tool nm`. RTMON_BENCH=1 also times a lookup. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/go/goelf.h"

static char g_dir[1024]; /* $RTMON_BUILD/testprog/go */
static char g_go[4096];  /* the go command, "" if none */

struct frame {
	uint64_t pc;
	char func[256], file[512];
	uint32_t line;
};

struct stack {
	char name[64];
	struct frame f[64];
	int n;
};

struct run {
	uint64_t base; /* main.main's runtime address */
	struct stack s[8];
	int n;
};

static const char *fixture(const char *name)
{
	static char buf[4][1200];
	static int k;
	char *p = buf[k++ & 3];

	snprintf(p, sizeof(buf[0]), "%s/%s", g_dir, name);
	return p;
}

static int file_exists(const char *p)
{
	return access(p, R_OK) == 0;
}

/* Runs the fixture and reads what the runtime said. */
static void run_fixture(const char *path, struct run *r)
{
	char cmd[1400], line[2048];
	FILE *f;

	memset(r, 0, sizeof(*r));
	snprintf(cmd, sizeof(cmd), "'%s'", path);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		struct stack *s = r->n ? &r->s[r->n - 1] : NULL;
		char *sp, *t1, *t2;

		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "base ", 5)) {
			r->base = strtoull(line + 5, NULL, 16);
		} else if (!strncmp(line, "stack ", 6)) {
			assert_true(r->n < 8);
			s = &r->s[r->n++];
			snprintf(s->name, sizeof(s->name), "%s", line + 6);
		} else {
			assert_non_null(s);
			assert_true(s->n < 64);
			sp = strchr(line, ' ');
			t1 = sp ? strchr(sp + 1, '\t') : NULL;
			t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
			if (!t2)
				fail_msg("%s: bad line '%s'", path, line);
			struct frame *fr = &s->f[s->n++];
			*t1 = *t2 = 0;
			fr->pc = strtoull(line, NULL, 16);
			snprintf(fr->func, sizeof(fr->func), "%s", sp + 1);
			snprintf(fr->file, sizeof(fr->file), "%s", t1 + 1);
			fr->line = (uint32_t)strtoul(t2 + 1, NULL, 10);
		}
	}
	assert_int_equal(pclose(f), 0);
	assert_true(r->base != 0);
	assert_int_equal(r->n, 5);
}

static const struct stack *find_stack(const struct run *r, const char *name)
{
	for (int i = 0; i < r->n; i++)
		if (!strcmp(r->s[i].name, name))
			return &r->s[i];
	fail_msg("no stack %s", name);
	return NULL;
}

/* The runtime's frames of each stack, regrouped by go_pc_lines: equal one by one. Returns the
 * number of PCs that had inlined levels. */
static int check_stacks(struct go_symtab *st, const struct run *r, const char *path)
{
	struct code_line cl[CODE_LINES_MAX];
	uint64_t main_entry, bias;
	int inlined = 0;

	assert_int_equal(go_func_by_name(st, "main.main", &main_entry, NULL, NULL), 0);
	bias = r->base - main_entry;
	for (int s = 0; s < r->n; s++) {
		const struct stack *sk = &r->s[s];

		for (int i = 0; i < sk->n;) {
			int k = go_pc_lines(st, sk->f[i].pc - bias - 1, cl, CODE_LINES_MAX);

			if (k < 1)
				fail_msg("%s: stack %s pc %" PRIx64 " (%s): go_pc_lines %d", path,
					 sk->name, sk->f[i].pc, sk->f[i].func, k);
			if (i + k > sk->n)
				fail_msg("%s: stack %s pc %" PRIx64 ": %d levels, the runtime has "
					 "%d frames left",
					 path, sk->name, sk->f[i].pc, k, sk->n - i);
			for (int j = 0; j < k; j++) {
				const struct frame *fr = &sk->f[i + j];

				if (strcmp(cl[j].func, fr->func) || !cl[j].file ||
				    strcmp(cl[j].file, fr->file) || cl[j].line != fr->line)
					fail_msg("%s: stack %s pc %" PRIx64 " level %d: rtmon "
						 "%s %s:%u, runtime %s %s:%u",
						 path, sk->name, sk->f[i].pc, j, cl[j].func,
						 cl[j].file ? cl[j].file : "?", cl[j].line,
						 fr->func, fr->file, fr->line);
			}
			/* The stack layer's way in: the frame as a file offset. */
			struct code_line co[CODE_LINES_MAX];
			uint64_t off;

			assert_int_equal(go_vaddr_to_off(st, sk->f[i].pc - bias, &off), 0);
			assert_int_equal(go_offset_lines(st, off, 1, co, CODE_LINES_MAX), k);
			for (int j = 0; j < k; j++)
				assert_true(co[j].func == cl[j].func && co[j].line == cl[j].line);
			inlined += k > 1;
			i += k;
		}
	}
	return inlined;
}

/* What the fixture is built to show, as the runtime showed it: main.leaf and main.mid inlined in
 * main.outer (one PC, three levels), main.T.Visit inlined in a hidden wrapper. */
static void check_inlining(struct go_symtab *st, const struct run *r)
{
	struct code_line cl[CODE_LINES_MAX];
	uint64_t main_entry, bias;
	const struct stack *s = find_stack(r, "inlined");

	assert_int_equal(go_func_by_name(st, "main.main", &main_entry, NULL, NULL), 0);
	bias = r->base - main_entry;
	assert_true(s->n >= 4);
	assert_string_equal(s->f[1].func, "main.leaf");
	assert_string_equal(s->f[2].func, "main.mid");
	assert_string_equal(s->f[3].func, "main.outer");
	assert_int_equal(go_pc_lines(st, s->f[1].pc - bias - 1, cl, CODE_LINES_MAX), 3);
	/* Fewer slots than levels: the outermost are kept. */
	assert_int_equal(go_pc_lines(st, s->f[1].pc - bias - 1, cl, 2), 2);
	assert_string_equal(cl[0].func, "main.mid");
	assert_string_equal(cl[1].func, "main.outer");
	s = find_stack(r, "wrapper");
	assert_string_equal(s->f[1].func, "main.T.Visit");
	assert_string_equal(s->f[2].func, "main.viaInterface");
	assert_int_equal(go_pc_lines(st, s->f[1].pc - bias - 1, cl, CODE_LINES_MAX), 1);
	assert_string_equal(cl[0].func, "main.T.Visit");
}

/* Address of a symbol per `go tool nm` (0 if none or no go command). */
static uint64_t nm_addr(const char *path, const char *name)
{
	char cmd[8192], line[512] = "";
	FILE *f;

	if (!g_go[0])
		return 0;
	snprintf(cmd, sizeof(cmd), "'%s' tool nm '%s' 2>/dev/null | awk '$3 == \"%s\" {print $1}'",
		 g_go, path, name);
	f = popen(cmd, "r");
	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	pclose(f);
	return strtoull(line, NULL, 16);
}

/* One build of the fixture: plain (with symbols), stripped, PIE. */
static void check_build(const char *plain, const char *strip, const char *pie, const char *ver)
{
	const char *paths[3] = { plain, strip, pie };
	char err[256];
	int minor = 99, inl[3];

	if (ver)
		sscanf(ver, "go1.%d", &minor);
	for (int i = 0; i < 3; i++) {
		struct go_symtab *st;
		struct run r;

		assert_int_equal(go_symtab_open(paths[i], &st, err, sizeof(err)), 0);
		run_fixture(paths[i], &r);
		inl[i] = check_stacks(st, &r, paths[i]);
		check_inlining(st, &r);
		if (minor >= 18) {
			/* funcdata's base: go:func.* (Go 1.20+), go.func.* (1.18, 1.19); the
			 * stripped build has no symbols (and its own layout): its inlined
			 * levels above are what shows that it was found. */
			if (g_go[0] && i != 1)
				assert_int_equal(
					go_symtab_gofunc(st),
					nm_addr(paths[i], minor >= 20 ? "go:func.*" : "go.func.*"));
			assert_true(go_symtab_gofunc(st) != 0);
		}
		go_symtab_close(st);
	}
	/* The same code: the same PCs with inlined levels in all three. */
	assert_int_equal(inl[0], inl[1]);
	assert_int_equal(inl[0], inl[2]);
	assert_true(inl[0] >= 3); /* outer, T.Visit's wrapper, the goroutine's closure */
	fprintf(stderr, "test_go_lines: %s ok: %d PCs with inlined levels\n", ver ? ver : "go",
		inl[0]);
}

static void test_current_go(void **state)
{
	(void)state;
	check_build(fixture("golines"), fixture("golines-stripped"), fixture("golines-pie"), NULL);
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
		fprintf(stderr, "test_go_lines: no %s: run tests/unit/build-go-fixtures.sh\n",
			fixture("vers"));
		skip();
	}
	while ((de = readdir(d)) && n < 64) {
		const char *v = de->d_name + strlen("golines-");

		if (strncmp(de->d_name, "golines-go", 10) || strstr(v, "-stripped") ||
		    strstr(v, "-pie") || strstr(v, ".tmp"))
			continue;
		vers[n++] = strdup(v);
	}
	closedir(d);
	if (!n) {
		fprintf(stderr, "test_go_lines: no golines-go* in %s\n", fixture("vers"));
		skip();
	}
	qsort(vers, n, sizeof(vers[0]), cmp_str);
	for (int i = 0; i < n; i++) {
		char plain[1200], strip[1200], pie[1200];

		snprintf(plain, sizeof(plain), "%s/vers/golines-%.64s", g_dir, vers[i]);
		snprintf(strip, sizeof(strip), "%s-stripped", plain);
		snprintf(pie, sizeof(pie), "%s-pie", plain);
		if (!file_exists(strip) || !file_exists(pie))
			fail_msg("%s: stripped or PIE build missing", plain);
		check_build(plain, strip, pie, vers[i]);
		free(vers[i]);
	}
}

/* Not Go code: no levels, no error. */
static void test_outside_functions(void **state)
{
	struct code_line cl[CODE_LINES_MAX];
	struct go_symtab *st;
	char err[256];

	(void)state;
	assert_int_equal(go_symtab_open(fixture("golines-stripped"), &st, err, sizeof(err)), 0);
	assert_int_equal(go_pc_lines(st, 0, cl, CODE_LINES_MAX), 0);
	assert_int_equal(go_pc_lines(st, 0x1000, cl, CODE_LINES_MAX), 0);
	assert_int_equal(go_pc_lines(st, UINT64_MAX, cl, CODE_LINES_MAX), 0);
	go_symtab_close(st);
}

/* The .gopclntab section's file offset and size, with libelf directly; then, from its header, the
 * span of the tables a lookup reads and the open does not check: cutab, filetab, pctab. */
static void pclntab_section(const char *path, uint64_t *off, uint64_t *size, uint64_t *lo,
			    uint64_t *hi)
{
	uint64_t w[8];
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
	*off = *size = 0;
	while ((scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, &sh) &&
		    !strcmp(elf_strptr(e, shstr, sh.sh_name), ".gopclntab")) {
			*off = sh.sh_offset;
			*size = sh.sh_size;
		}
	elf_end(e);
	assert_true(*size > 4096);
	/* 1.18+: nfunc nfiles textStart funcnameOff cuOff filetabOff pctabOff pclnOff */
	assert_int_equal(pread(fd, w, sizeof(w), (off_t)*off + 8), sizeof(w));
	close(fd);
	*lo = *off + w[4];
	*hi = *off + w[7];
	assert_true(*lo<*hi && * hi - *lo> 4096);
}

/* Every function's every 7th byte, through a table whose cutab, filetab and pcvalue tables are
 * overwritten in places: results or errors, never a crash or a read out
 * of bounds (the SANITIZE build checks that). Seeded, so it is the same every run. */
static void test_corrupt_tables(void **state)
{
	static const uint8_t fills[] = { 0xff, 0x80, 0x00, 0x7f };
	char src[1200], dst[1200], cmd[2600], err[256];
	uint64_t off, size, lo, hi;

	(void)state;
	snprintf(src, sizeof(src), "%s", fixture("golines-stripped"));
	snprintf(dst, sizeof(dst), "%s.corrupt", src);
	pclntab_section(src, &off, &size, &lo, &hi);
	for (size_t f = 0; f < sizeof(fills); f++) {
		struct go_symtab *st;
		struct code_line cl[CODE_LINES_MAX];
		unsigned seed = 12345 + f;
		size_t nf, errors = 0, found = 0;
		int fd;

		snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", src, dst);
		assert_int_equal(system(cmd), 0);
		fd = open(dst, O_WRONLY);
		assert_true(fd >= 0);
		/* Runs of 16 bytes over about a third of the tables. */
		for (uint64_t i = 0; i < (hi - lo) / 48; i++) {
			uint8_t run[16];
			uint64_t at = lo + (uint64_t)rand_r(&seed) % (hi - lo - 16);

			memset(run, fills[f], sizeof(run));
			if (f == 3)
				for (size_t j = 0; j < sizeof(run); j++)
					run[j] = (uint8_t)rand_r(&seed);
			assert_int_equal(pwrite(fd, run, sizeof(run), (off_t)at), sizeof(run));
		}
		close(fd);
		assert_int_equal(go_symtab_open(dst, &st, err, sizeof(err)), 0);
		nf = go_symtab_count(st);
		for (size_t i = 0; i < nf; i++) {
			uint64_t entry, end;

			assert_int_equal(go_symtab_func(st, i, NULL, &entry, &end), 0);
			for (uint64_t pc = entry; pc < end; pc += 7) {
				int k = go_pc_lines(st, pc, cl, CODE_LINES_MAX);

				assert_true(k <= CODE_LINES_MAX);
				for (int j = 0; j < k; j++)
					assert_non_null(cl[j].func);
				errors += k < 0;
				found += k > 0;
			}
		}
		fprintf(stderr,
			"test_go_lines: corrupt table (fill %#x): %zu PCs named, %zu errors\n",
			fills[f], found, errors);
		assert_true(errors > 0);
		go_symtab_close(st);
		unlink(dst);
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* RTMON_BENCH=1 [RTMON_BENCH_BIN=path]: the cost of one lookup, over every function of the
 * binary (the middle of each), the tables already read. */
static void test_bench(void **state)
{
	const char *bin = getenv("RTMON_BENCH_BIN");
	struct code_line cl[CODE_LINES_MAX];
	struct go_symtab *st;
	char err[256];
	size_t nf, levels = 0;
	double t0, t1;
	struct stat sb;

	(void)state;
	if (!getenv("RTMON_BENCH"))
		skip();
	if (!bin || !*bin)
		bin = fixture("golines-stripped");
	assert_int_equal(go_symtab_open(bin, &st, err, sizeof(err)), 0);
	nf = go_symtab_count(st);
	assert_int_equal(stat(bin, &sb), 0);
	t0 = now_s();
	assert_true(go_pc_lines(st, 0, cl, CODE_LINES_MAX) == 0); /* reads the tables */
	t1 = now_s();
	fprintf(stderr, "test_go_lines: bench: %s (%.1f MB, %zu functions): first use %.1f ms\n",
		bin, sb.st_size / 1e6, nf, (t1 - t0) * 1e3);
	for (int pass = 0; pass < 2; pass++) {
		t0 = now_s();
		for (size_t i = 0; i < nf; i++) {
			uint64_t entry, end;
			int k;

			go_symtab_func(st, i, NULL, &entry, &end);
			k = go_pc_lines(st, entry + (end - entry) / 2, cl, CODE_LINES_MAX);
			assert_true(k >= 0);
			levels += (size_t)k;
		}
		t1 = now_s();
		fprintf(stderr,
			"test_go_lines: bench pass %d (%s pages): %zu lookups, %.0f ns each, %.2f "
			"levels each\n",
			pass, pass ? "warm" : "cold", nf, (t1 - t0) * 1e9 / nf,
			(double)levels / ((pass + 1) * nf));
	}
	go_symtab_close(st);
}

static int group_setup(void **state)
{
	const char *b = getenv("RTMON_BUILD");
	const char *go = getenv("GO");

	(void)state;
	snprintf(g_dir, sizeof(g_dir), "%s/testprog/go", b && *b ? b : "build");
	if (!file_exists(fixture("golines")) || !file_exists(fixture("golines-stripped")) ||
	    !file_exists(fixture("golines-pie"))) {
		fprintf(stderr,
			"test_go_lines: Go fixtures missing in %s: run `make testprogs` and set "
			"RTMON_BUILD\n",
			g_dir);
		return -1;
	}
	if (go && *go)
		snprintf(g_go, sizeof(g_go), "%s", go);
	else if (!system("command -v go >/dev/null 2>&1"))
		snprintf(g_go, sizeof(g_go), "go");
	else if (file_exists("/usr/local/go/bin/go"))
		snprintf(g_go, sizeof(g_go), "/usr/local/go/bin/go");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_current_go),
		cmocka_unit_test(test_other_go_versions),
		cmocka_unit_test(test_outside_functions),
		cmocka_unit_test(test_corrupt_tables),
		cmocka_unit_test(test_bench),
	};

	return cmocka_run_group_tests_name("go_lines", tests, group_setup, NULL);
}

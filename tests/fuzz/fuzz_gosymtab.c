/* fuzz_gosymtab.c - the Go function table (runtime/go/symtab.c: .symtab, else .gopclntab found by
 * section or by its magic and validated) and the code decoding behind it (runtime/go/ret_sites.c:
 * RET sites and the stack-check prologue). Every name the table gives must be found again by name
 * and by address range. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "binary/disasm.h"
#include "fuzz_file.h"
#include "runtime/go/goelf.h"

/* The Go test programs are up to 2.7 MB; .gopclntab may be searched for by its magic. */
#define FILE_MAX (4u << 20)

/* Decoding is linear in the function's size: a huge [entry, end) from a mutated table is slow, not
 * wrong, so the sites are looked for in functions up to this size only. */
#define MAX_DECODE 16384

static int fd;
static csh cs;

/* The file's bytes at off decode as a RET: a uprobe there is on the instruction meant. */
static void assert_ret_at(uint64_t off)
{
	uint8_t b[16];
	ssize_t n = pread(fd, b, sizeof(b), (off_t)off);
	cs_insn *insn;

	assert(n > 0 && cs_disasm(cs, b, (size_t)n, 0, 1, &insn) == 1);
	assert(insn->id == X86_INS_RET);
	cs_free(insn, 1);
}

/* Errors name the function asked for, which here comes from the file: one line is not checked. */
static void probe_sites(struct go_symtab *st, const char *name, uint64_t entry, uint64_t end)
{
	char err[512];
	uint64_t offs[16], off;
	int n;

	if (end - entry > MAX_DECODE)
		return;
	if (go_func_ret_sites(st, name, offs, 16, &n, err, sizeof(err))) {
		assert(err[0]);
	} else {
		for (int i = 0; i < n; i++)
			assert_ret_at(offs[i]);
	}
	if (go_func_body_site(st, name, &off, err, sizeof(err)))
		assert(err[0]);
}

static void check_func(struct go_symtab *st, size_t i)
{
	const char *name;
	uint64_t entry, end, e2, end2, off;

	assert(!go_symtab_func(st, i, &name, &entry, &end));
	assert(name);
	/* The lowest entry of that name. */
	assert(!go_func_by_name(st, name, &e2, &end2, NULL) && e2 <= entry);
	go_func_by_name(st, name, NULL, NULL, &off);
	go_func_name_at(st, entry);
	if (end > entry)
		go_func_name_at(st, end - 1);
	go_vaddr_to_off(st, entry, &off);
	probe_sites(st, name, e2, end2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* What rtmon looks up in a Go binary. */
	static const char *const names[] = { "runtime.mallocgc", "runtime.newproc1",
					     "runtime.gcStart", "runtime.goexit1", "main.main" };
	char path[64], err[512];
	struct go_symtab *st;
	size_t n;

	if (!cs && disasm_open(&cs))
		abort();
	fd = fuzz_file_make(data, size, FILE_MAX, path, sizeof(path));

	if (go_symtab_open(path, &st, err, sizeof(err))) {
		assert(err[0] && !strchr(err, '\n'));
		fuzz_file_close(fd);
		return 0;
	}
	n = go_symtab_count(st);
	assert(go_symtab_func(st, n, NULL, NULL, NULL) == -ENOENT);
	/* The first functions, a few from the middle, the last. */
	for (size_t i = 0; i < n && i < 24; i++)
		check_func(st, i);
	for (size_t i = 1; i < 8 && n > 24; i++)
		check_func(st, 24 + (n - 24) * i / 8);
	if (n > 24)
		check_func(st, n - 1);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint64_t entry, end;

		if (!go_func_by_name(st, names[i], &entry, &end, NULL))
			probe_sites(st, names[i], entry, end);
	}
	go_func_name_at(st, 0);
	go_func_name_at(st, UINT64_MAX);
	assert(go_symtab_path(st) && go_symtab_source(st));
	go_symtab_close(st);
	fuzz_file_close(fd);
	return 0;
}

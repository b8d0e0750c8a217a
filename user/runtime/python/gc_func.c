/* Which function of a CPython without USDT probes stands for a collection (gc_func.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "binary/objfile.h"
#include "binary/probe_site.h"
#include "runtime/python/gc_func.h"

/* Read in each release's Modules/gcmodule.c (3.13: Python/gc.c) and checked against gc.callbacks
 * on pyenv's builds (tests/integration/test_gc_python_nousdt.py). 3.9 names it collect(); 3.10
 * renamed it. 3.13 passes GENERATION_AUTO (-1) for automatic collections and picks the generation
 * inside, where the first function it hands it to is invoke_gc_callback (gen). */
static const struct {
	int minor;
	const char *sym;
	const char *gen; /* NULL: the argument is always the generation */
} funcs[] = {
	{ 9, "collect", NULL },
	{ 10, "gc_collect_main", NULL },
	{ 11, "gc_collect_main", NULL },
	{ 12, "gc_collect_main", NULL },
	{ 13, "gc_collect_main", "invoke_gc_callback" },
};

/* How many definitions of sym the symbol table has, and one copy gcc made of it
 * ("gc_collect_main.constprop.0", ".isra.0", ".part.0"): callers may go there instead, with other
 * arguments, so probing sym alone would miss collections. A ".cold" part is not a copy: the code
 * gcc moved out of the function's hot path, reached only from inside it. */
struct sym_count {
	const char *sym;
	size_t len;
	int exact;
	char clone[96];
};

static int count_sym(const GElf_Sym *sym, const char *name, void *ctx)
{
	struct sym_count *c = ctx;

	(void)sym;
	if (strncmp(name, c->sym, c->len))
		return 0;
	if (!name[c->len])
		c->exact++;
	else if (name[c->len] == '.' && strncmp(name + c->len, ".cold", 5) && !c->clone[0])
		snprintf(c->clone, sizeof(c->clone), "%s", name);
	return 0;
}

/* The table's row for version, or -1. */
static int row_for(const char *version)
{
	int major, minor;

	if (sscanf(version, "%d.%d", &major, &minor) != 2 || major != 3)
		return -1;
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
		if (funcs[i].minor == minor)
			return (int)i;
	return -1;
}

/* invoke_gc_callback, or the one copy the compiler made of it (its arguments are checked when it
 * runs: the BPF side reads the phase string before it trusts the generation). */
static int find_gen(struct objfile *ef, const char *gen, struct py_gc_func *out, char *why,
		    size_t len)
{
	struct sym_count c = { .sym = gen, .len = strlen(gen) };
	struct objfile_sym fn;
	const char *name;

	objfile_for_each_func(ef, SHT_SYMTAB, count_sym, &c);
	name = c.exact ? gen : c.clone;
	if (c.exact + (c.clone[0] != 0) != 1 || objfile_find_func(ef, name, &fn)) {
		snprintf(why, len, "%s has %s %s in its symbol table", ef->path,
			 c.exact || c.clone[0] ? "more than one" : "no", gen);
		return -ENOENT;
	}
	snprintf(out->gen_sym, sizeof(out->gen_sym), "%s", name);
	/* An entry probe reading only rsi and rdx: it may go past the function's first load. */
	out->gen_offset = probe_site_emulated_args(ef->path, fn.offset);
	return 0;
}

int py_gc_func_find(const struct runtime_id *id, struct py_gc_func *out, char *why, size_t len)
{
	int row = row_for(id->version);
	const char *sym = row < 0 ? NULL : funcs[row].sym;
	struct sym_count c = { 0 };
	struct objfile ef;
	struct objfile_sym fn;
	char e2[256];
	int rc = -ENOENT;

	memset(out, 0, sizeof(*out));
	if (!sym) {
		snprintf(why, len,
			 "without them rtmon probes the collector's functions only in CPython 3.9 "
			 "to 3.13 (collect, gc_collect_main)");
		return -ENOTSUP;
	}
	if (objfile_open(&ef, id->lib, e2, sizeof(e2))) {
		snprintf(why, len, "%s", e2);
		return -ENOENT;
	}
	c.sym = sym;
	c.len = strlen(sym);
	if (!ef.has_symtab)
		snprintf(why, len, "%s is stripped (no .symtab), so it has no %s to probe", id->lib,
			 sym);
	else if (objfile_for_each_func(&ef, SHT_SYMTAB, count_sym, &c), c.clone[0])
		snprintf(why, len,
			 "the compiler split %s in %s (%s): some collections would not be seen",
			 sym, id->lib, c.clone);
	else if (c.exact != 1 || objfile_find_func(&ef, sym, &fn))
		snprintf(why, len, "%s has %s %s in its symbol table", id->lib,
			 c.exact ? "more than one" : "no", sym);
	else if (!funcs[row].gen || !(rc = find_gen(&ef, funcs[row].gen, out, why, len))) {
		out->sym = sym;
		/* Past leading test/cmp only: the stack pointer is as at entry, where the return
		 * probe expects the return address. */
		out->offset = probe_site_emulated(id->lib, fn.offset);
		rc = 0;
	}
	objfile_close(&ef);
	return rc;
}

/* gosymtab.c - Go function table: from ELF .symtab when present, else from
 * Go's .gopclntab (stripped binaries keep it: the runtime needs it).
 *
 * .gopclntab header ("pcHeader"), little-endian on amd64:
 *   u32 magic (0xfffffffa Go 1.16/1.17, 0xfffffff0 1.18/1.19, 0xfffffff1
 *   1.20+), u8 0, u8 0, u8 minLC, u8 ptrSize, then ptrSize words:
 *   1.16: nfunc nfiles funcnameOff cuOff filetabOff pctabOff pclnOff
 *   1.18+: nfunc nfiles textStart funcnameOff cuOff filetabOff pctabOff pclnOff
 * Offsets are from the header. The function table at pclnOff has nfunc
 * pairs {entry, funcoff} and one final end PC: uintptr absolute PCs in 1.16,
 * u32 offsets from the start of .text in 1.18+. The _func at pclnOff+funcoff
 * starts {entry (uintptr 1.16 / u32 1.18+), i32 nameoff}; the name is the C
 * string at funcnameOff+nameoff. textStart in the header is 0 in Go 1.26
 * (and unrelocated in PIE), so like Go's own tools we use the .text address;
 * with no section headers, the header's textStart, else the ELF entry point
 * minus _rt0_amd64_linux's offset.
 * Where it is: section .gopclntab (non-PIE, and PIE from Go 1.26),
 * .data.rel.ro.gopclntab (PIE up to 1.25); failing both, searched by magic in
 * .data.rel.ro / .rodata / read-only PT_LOADs, and validated. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/go/goelf_int.h"

#define PCLN_MAX_FUNCS (16u << 20)

/* ---- table building ---- */

static int cmp_entry(const void *a, const void *b)
{
	const struct go_func *x = a, *y = b;

	if (x->entry != y->entry)
		return x->entry < y->entry ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int cmp_name_idx(const void *a, const void *b, void *funcs)
{
	const struct go_func *x = (const struct go_func *)funcs + *(const uint32_t *)a;
	const struct go_func *y = (const struct go_func *)funcs + *(const uint32_t *)b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->entry < y->entry ? -1 : x->entry > y->entry;
}

static int finish_table(struct go_symtab *st, char *err, size_t errlen)
{
	size_t j = 0;

	qsort(st->funcs, st->nfuncs, sizeof(*st->funcs), cmp_entry);
	/* Drop exact duplicates (same name and entry). */
	for (size_t i = 0; i < st->nfuncs; i++)
		if (!j || st->funcs[i].entry != st->funcs[j - 1].entry ||
		    strcmp(st->funcs[i].name, st->funcs[j - 1].name))
			st->funcs[j++] = st->funcs[i];
	st->nfuncs = j;
	/* .symtab sizes exclude the padding up to the next function; make end the
	 * next function's entry, as in .gopclntab, so both sources agree. */
	if (st->source == GO_SYMS_ELF)
		for (size_t i = 0; i + 1 < st->nfuncs; i++) {
			size_t k = i + 1;

			while (k < st->nfuncs && st->funcs[k].entry == st->funcs[i].entry)
				k++;
			if (k < st->nfuncs && st->funcs[k].entry >= st->funcs[i].end)
				st->funcs[i].end = st->funcs[k].entry;
		}
	st->by_name = malloc((st->nfuncs ? st->nfuncs : 1) * sizeof(*st->by_name));
	if (!st->by_name) {
		goelf_err(err, errlen, "out of memory for the function table of %s", st->path);
		return -ENOMEM;
	}
	for (size_t i = 0; i < st->nfuncs; i++)
		st->by_name[i] = i;
	qsort_r(st->by_name, st->nfuncs, sizeof(*st->by_name), cmp_name_idx, st->funcs);
	return 0;
}

/* ---- from .symtab ---- */

static int load_elf_symtab(struct go_symtab *st, char *err, size_t errlen)
{
	GElf_Shdr sh;
	Elf_Scn *scn = goelf_section(&st->ge, ".symtab", &sh);
	Elf_Data *d;
	size_t n, pool = 0, used = 0;

	if (!scn || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize)
		return -ENOENT;
	d = elf_getdata(scn, NULL);
	if (!d)
		return -ENOENT;
	n = sh.sh_size / sh.sh_entsize;
	/* .symtab calls Go assembly functions "runtime.write1.abi0" where
	 * .gopclntab (and the runtime's tracebacks) say "runtime.write1": cut
	 * the suffix, so that both sources give one answer. */
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		const char *name;
		size_t l;

		if (gelf_getsym(d, i, &sym) && GELF_ST_TYPE(sym.st_info) == STT_FUNC &&
		    (name = elf_strptr(st->ge.of.elf, sh.sh_link, sym.st_name)) &&
		    (l = strlen(name)) > 5 && !strcmp(name + l - 5, ".abi0"))
			pool += l - 4;
	}
	st->names = malloc(pool ? pool : 1);
	st->funcs = calloc(n ? n : 1, sizeof(*st->funcs));
	if (!st->funcs || !st->names) {
		goelf_err(err, errlen, "out of memory for the symbols of %s", st->path);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		const char *name;

		/* Size-0 markers (runtime.text, runtime.etext) are not functions. */
		if (!gelf_getsym(d, i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    sym.st_shndx == SHN_UNDEF || !sym.st_value || !sym.st_size)
			continue;
		name = elf_strptr(st->ge.of.elf, sh.sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		size_t l = strlen(name);
		if (l > 5 && !strcmp(name + l - 5, ".abi0") && used + l - 4 <= pool) {
			memcpy(st->names + used, name, l - 5);
			st->names[used + l - 5] = 0;
			name = st->names + used;
			used += l - 4;
		}
		st->funcs[st->nfuncs++] = (struct go_func){
			.entry = sym.st_value,
			.end = sym.st_value + sym.st_size,
			.name = name,
		};
	}
	if (!st->nfuncs) {
		free(st->funcs);
		st->funcs = NULL;
		return -ENOENT;
	}
	return 0;
}

/* ---- from .gopclntab ---- */

/* Validates a candidate header at p; fills *h. Thorough, because when
 * searching by magic a stray 0xfffffff1 must not pass. */
static int pcln_check(const struct goelf *ge, const uint8_t *p, size_t size, struct pcln *h)
{
	uint32_t magic;
	int ptrsz, fs, nw;
	uint64_t w[8];

	if (size < 8 + 8 * 8)
		return -1;
	magic = (uint32_t)goelf_rd(p, 4, 0);
	if (magic != 0xfffffffa && magic != 0xfffffff0 && magic != 0xfffffff1)
		return -1;
	ptrsz = p[7];
	if (p[4] || p[5] || (p[6] != 1 && p[6] != 2 && p[6] != 4) || ptrsz != 8)
		return -1;
	nw = magic == 0xfffffffa ? 7 : 8;
	for (int i = 0; i < nw; i++)
		w[i] = goelf_rd(p + 8 + i * ptrsz, ptrsz, 0);
	h->p = p;
	h->size = size;
	h->magic = magic;
	h->ptrsz = ptrsz;
	h->quantum = p[6];
	h->nfunc = w[0];
	h->funcname = w[nw - 5];
	h->cutab = w[nw - 4];
	h->filetab = w[nw - 3];
	h->pctab = w[nw - 2];
	h->pcln = w[nw - 1];
	if (!h->nfunc || h->nfunc > PCLN_MAX_FUNCS)
		return -1;
	/* Header offsets increase: funcname < cu < filetab < pctab < pcln. */
	for (int i = nw - 5; i < nw - 1; i++)
		if (w[i] > w[i + 1])
			return -1;
	if (h->funcname < (uint64_t)(8 + nw * ptrsz) || h->pcln >= size)
		return -1;
	fs = magic == 0xfffffffa ? ptrsz : 4;
	if ((h->nfunc * 2 + 1) * fs > size - h->pcln)
		return -1;
	/* Entries non-decreasing; every _func and name in bounds and named. */
	uint64_t prev = 0;
	for (uint64_t i = 0; i <= h->nfunc; i++) {
		const uint8_t *e = p + h->pcln + i * 2 * fs;
		uint64_t entry = goelf_rd(e, fs, 0), foff, nameoff;

		if (i && i % 8192 == 0)
			goelf_release_pages(ge); /* see load_pclntab */

		if (entry < prev)
			return -1;
		prev = entry;
		if (i == h->nfunc)
			break;
		foff = goelf_rd(e + fs, fs, 0);
		if (foff > size - h->pcln || size - h->pcln - foff < (uint64_t)fs + 4)
			return -1;
		if (goelf_rd(p + h->pcln + foff, fs, 0) != entry)
			return -1; /* _func.entry must repeat the table's */
		nameoff = (uint32_t)goelf_rd(p + h->pcln + foff + fs, 4, 0);
		if (nameoff >= size - h->funcname || !p[h->funcname + nameoff] ||
		    !memchr(p + h->funcname + nameoff, 0, size - h->funcname - nameoff))
			return -1;
	}
	return 0;
}

/* Searches [p, p+size) for a valid header, 8-byte aligned relative to base vaddr. */
static int pcln_scan(const struct goelf *ge, const uint8_t *p, size_t size, uint64_t vaddr,
		     struct pcln *h, uint64_t *hdr_vaddr)
{
	for (size_t o = (8 - (vaddr & 7)) & 7; o + 8 <= size; o += 8)
		if (p[o] >= 0xf0 && p[o + 1] == 0xff && p[o + 2] == 0xff && p[o + 3] == 0xff &&
		    !pcln_check(ge, p + o, size - o, h)) {
			*hdr_vaddr = vaddr + o;
			return 0;
		}
	return -1;
}

int goelf_pcln_find(const struct goelf *ge, struct pcln *h)
{
	static const char *const named[] = { ".gopclntab", ".data.rel.ro.gopclntab" };
	static const char *const search[] = { ".data.rel.ro", ".rodata" };
	GElf_Shdr sh;
	uint64_t va;

	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (goelf_section(ge, named[i], &sh) && sh.sh_type == SHT_PROGBITS &&
		    sh.sh_offset < ge->size &&
		    !pcln_check(ge, ge->map + sh.sh_offset, ge->size - sh.sh_offset, h))
			return 0;
	for (size_t i = 0; i < sizeof(search) / sizeof(search[0]); i++)
		if (goelf_section(ge, search[i], &sh) && sh.sh_type == SHT_PROGBITS &&
		    sh.sh_offset < ge->size && sh.sh_size <= ge->size - sh.sh_offset &&
		    !pcln_scan(ge, ge->map + sh.sh_offset, sh.sh_size, sh.sh_addr, h, &va))
			return 0;
	for (size_t i = 0; i < ge->nsegs; i++) {
		const struct goelf_seg *s = &ge->segs[i];

		if (!(s->flags & PF_X) &&
		    !pcln_scan(ge, ge->map + s->off, s->filesz, s->vaddr, h, &va))
			return 0;
	}
	return -1;
}

/* No section headers and textStart 0 (Go 1.26+): the ELF entry point is
 * _rt0_amd64_linux, whose entry offset the table has. */
static uint64_t text_from_entry(const struct goelf *ge, const struct pcln *h)
{
	for (uint64_t i = 0; i < h->nfunc; i++) {
		const uint8_t *e = h->p + h->pcln + i * 8;
		uint64_t foff = goelf_rd(e + 4, 4, 0), off = goelf_rd(e, 4, 0);
		uint32_t nameoff = (uint32_t)goelf_rd(h->p + h->pcln + foff + 4, 4, 0);

		if (!strcmp((const char *)h->p + h->funcname + nameoff, "_rt0_amd64_linux") &&
		    ge->of.ehdr.e_entry > off)
			return ge->of.ehdr.e_entry - off;
	}
	return 0;
}

int goelf_pcln_text(const struct goelf *ge, const struct pcln *h, uint64_t *text)
{
	GElf_Shdr sh;

	*text = 0;
	if (h->magic == 0xfffffffa)
		return 0; /* absolute PCs */
	if (goelf_section(ge, ".text", &sh))
		*text = sh.sh_addr;
	else
		*text = goelf_rd(h->p + 8 + 2 * h->ptrsz, h->ptrsz, 0);
	if (!*text)
		*text = text_from_entry(ge, h);
	return *text ? 0 : -1;
}

static int load_pclntab(struct go_symtab *st, char *err, size_t errlen)
{
	struct pcln h;
	uint64_t text = 0;
	int fs;

	if (goelf_pcln_find(&st->ge, &h)) {
		goelf_err(err, errlen,
			  "%s: no .symtab and no Go function table (.gopclntab): not a "
			  "Go binary, or a Go version older than 1.16",
			  st->path);
		return -ENOEXEC;
	}
	fs = h.magic == 0xfffffffa ? h.ptrsz : 4;
	if (goelf_pcln_text(&st->ge, &h, &text)) {
		goelf_err(err, errlen,
			  "%s: cannot tell where Go's text starts (no .text section "
			  "and no textStart in .gopclntab)",
			  st->path);
		return -EPROTO;
	}
	st->funcs = calloc(h.nfunc, sizeof(*st->funcs));
	if (!st->funcs) {
		goelf_err(err, errlen, "out of memory for the function table of %s", st->path);
		return -ENOMEM;
	}
	/* A 100 MB binary has 100,000 functions: let go of the pages each pass touched (the check
	 * above, then every few thousand functions), or they would all count in rtmon's peak RSS.
	 */
	goelf_release_pages(&st->ge);
	for (uint64_t i = 0; i < h.nfunc; i++) {
		const uint8_t *e = h.p + h.pcln + i * 2 * fs;

		if (i && i % 8192 == 0)
			goelf_release_pages(&st->ge);
		uint64_t foff = goelf_rd(e + fs, fs, 0);
		uint32_t nameoff = (uint32_t)goelf_rd(h.p + h.pcln + foff + fs, 4, 0);

		st->funcs[i] = (struct go_func){
			.entry = text + goelf_rd(e, fs, 0),
			.end = text + goelf_rd(e + 2 * fs, fs, 0),
			.name = (const char *)h.p + h.funcname + nameoff,
		};
	}
	st->nfuncs = h.nfunc;
	goelf_release_pages(&st->ge);
	return 0;
}

/* ---- API ---- */

int go_symtab_open(const char *path, struct go_symtab **out, char *err, size_t errlen)
{
	struct go_symtab *st;
	int ret;

	*out = NULL;
	st = calloc(1, sizeof(*st));
	if (!st || !(st->path = strdup(path))) {
		free(st);
		goelf_err(err, errlen, "out of memory opening %s", path);
		return -ENOMEM;
	}
	ret = goelf_open(&st->ge, st->path, err, errlen);
	if (ret) {
		free(st->path);
		free(st);
		return ret;
	}
	ret = load_elf_symtab(st, err, errlen);
	if (!ret) {
		st->source = GO_SYMS_ELF;
	} else if (ret == -ENOENT) {
		st->source = GO_SYMS_PCLNTAB;
		ret = load_pclntab(st, err, errlen);
	}
	if (!ret)
		ret = finish_table(st, err, errlen);
	if (ret) {
		go_symtab_close(st);
		return ret;
	}
	*out = st;
	return 0;
}

void go_symtab_close(struct go_symtab *st)
{
	if (!st)
		return;
	go_lines_free(st->lines);
	goelf_close(&st->ge);
	free(st->funcs);
	free(st->by_name);
	free(st->names);
	free(st->path);
	free(st);
}

static const struct go_func *find_name(const struct go_symtab *st, const char *name)
{
	size_t lo = 0, hi = st->nfuncs;

	/* Lower bound: the first (lowest entry) of equal names. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(st->funcs[st->by_name[mid]].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < st->nfuncs && !strcmp(st->funcs[st->by_name[lo]].name, name))
		return &st->funcs[st->by_name[lo]];
	return NULL;
}

int go_func_by_name(struct go_symtab *st, const char *name, uint64_t *entry, uint64_t *end,
		    uint64_t *file_off)
{
	const struct go_func *f = find_name(st, name);
	uint64_t off;

	if (!f)
		return -ENOENT;
	if (file_off) {
		if (goelf_vaddr_to_off(&st->ge, f->entry, &off))
			return -ENOENT;
		*file_off = off;
	}
	if (entry)
		*entry = f->entry;
	if (end)
		*end = f->end;
	return 0;
}

const char *go_func_name_at(struct go_symtab *st, uint64_t vaddr)
{
	size_t lo = 0, hi = st->nfuncs;

	/* Last function with entry <= vaddr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->funcs[mid].entry <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	/* Nested or overlapping symbols are rare; check a few back. */
	for (size_t i = lo; i-- > 0 && lo - i <= 4;)
		if (vaddr < st->funcs[i].end)
			return st->funcs[i].name;
	return NULL;
}

int go_vaddr_to_off(struct go_symtab *st, uint64_t vaddr, uint64_t *off)
{
	return goelf_vaddr_to_off(&st->ge, vaddr, off);
}

int go_symtab_source(const struct go_symtab *st)
{
	return st->source;
}

size_t go_symtab_count(const struct go_symtab *st)
{
	return st->nfuncs;
}

int go_symtab_func(const struct go_symtab *st, size_t i, const char **name, uint64_t *entry,
		   uint64_t *end)
{
	if (i >= st->nfuncs)
		return -ENOENT;
	if (name)
		*name = st->funcs[i].name;
	if (entry)
		*entry = st->funcs[i].entry;
	if (end)
		*end = st->funcs[i].end;
	return 0;
}

const char *go_symtab_path(const struct go_symtab *st)
{
	return st->path;
}

/* pcline.c - file:line and inlining for Go code addresses, from .gopclntab (stripped binaries keep
 * it: the runtime's own tracebacks read it). Layouts from the Go runtime (runtime/symtab.go,
 * runtime/symtabinl.go, runtime/runtime2.go, cmd/link/internal/ld/pcln.go), Go 1.17 to 1.26:
 *
 * The function table at pclnOff is {entry, funcoff} pairs (uintptr absolute PCs in 1.16/1.17, u32
 * offsets from the text in 1.18+) ending in one end PC. The _func at pclnOff+funcoff, with fs the
 * entry's size (8, or 4 from 1.18): entry [fs], nameOff i32, args i32, deferreturn u32, pcsp,
 * pcfile, pcln, npcdata, cuOffset u32, startLine i32 (1.20+ only), funcID u8, flag u8, pad u8,
 * nfuncdata u8; then pcdata [npcdata]u32 (offsets into pctab, 0: no table), then funcdata:
 * [nfuncdata]u32 offsets from moduledata.gofunc (go:func.*) in 1.18+ (~0: none), or, in 1.16/1.17,
 * [nfuncdata]uintptr absolute pointers, 8-aligned.
 *
 * A pcvalue table is a run of (value delta, pc delta) uvarint pairs, starting at value -1 and the
 * function's entry: the value delta is zig-zag coded, the pc delta is in units of the header's
 * minLC; a value delta of 0 other than the first ends the table. The value at pc is the one whose
 * range [pc0, pc0+delta) holds pc. pcfile gives an index into the function's compilation unit's
 * part of cutab (u32 offsets into filetab, ~0: unknown); pcln gives the line.
 *
 * Inlining: pcdata[PCDATA_InlTreeIndex = 2] gives, at pc, an index into the function's inline tree
 * (funcdata[FUNCDATA_InlTree = 3]), or -1 in the function's own code. An entry is, from Go 1.20,
 * {funcID u8, pad [3], nameOff i32, parentPc i32, startLine i32}, before it {parent i16, funcID u8,
 * pad u8, file i32, line i32, nameOff i32, parentPc i32}. The file and line at pc are always the
 * innermost level's; the caller's level is found at entry+parentPc, an instruction whose position
 * is the call site, and so on outwards (runtime/symtabinl.go's inlineUnwinder).
 *
 * gofunc: moduledata (runtime.firstmoduledata) starts with a pointer to the pcHeader and the slice
 * funcnametab; found, as Go's own tools do in stripped binaries, by scanning the writable data for
 * those two words. gofunc follows at a fixed offset: 304 in 1.18/1.19, 320 from 1.20 (covctrs,
 * ecovctrs were added). The Go linker writes these pointers in place also in PIE, so the file has
 * them without applying relocations.
 *
 * Every read is bounded by the file: the tables come from the target. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/go/goelf_int.h"

#define PCDATA_INLTREE_INDEX 2
#define FUNCDATA_INLTREE     3
/* More levels than this at one PC is a loop in a corrupt inline tree, not a program. */
#define LEVELS_MAX 256
/* The runtime indexes the inline tree as a [1 << 20] array. */
#define INLTREE_MAX (1u << 20)

struct go_lines {
	struct pcln h;
	uint64_t text;    /* added to the table's entries (0: absolute) */
	uint64_t gofunc;  /* base of funcdata offsets (1.18+) */
	int old;          /* 1.16/1.17 layout: uintptr entries and funcdata */
	int fs;           /* size of an entry in the function table */
	size_t funcid_at; /* offset of funcID in _func; nfuncdata is 3 bytes later */
	size_t inl_size;  /* size of an inline tree entry */
	int wrapper_id;   /* FuncIDWrapper in this binary; -1: unknown, nothing hidden */
	int panic_ids[3]; /* gopanic, sigpanic, panicwrap: a wrapper calling these stays */
};

/* One function, resolved. */
struct func_ref {
	const uint8_t *f; /* _func */
	uint64_t foff;    /* its offset from the header */
	uint64_t entry;
	uint32_t npcdata, nfuncdata;
};

struct level {
	const char *func, *file;
	uint32_t line;
	int funcid;
};

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)goelf_rd(p, 4, 0);
}

/* NUL-terminated string at header offset off, NULL if it runs past the table. */
static const char *str_at(const struct pcln *h, uint64_t off)
{
	if (off >= h->size || !memchr(h->p + off, 0, h->size - off))
		return NULL;
	return (const char *)h->p + off;
}

static int off_to_vaddr(const struct goelf *ge, uint64_t off, uint64_t *va)
{
	for (size_t i = 0; i < ge->nsegs; i++) {
		const struct goelf_seg *s = &ge->segs[i];

		if (off >= s->off && off - s->off < s->filesz) {
			*va = s->vaddr + (off - s->off);
			return 0;
		}
	}
	return -1;
}

/* moduledata.gofunc (see the top of the file); 0 if not found. */
static uint64_t find_gofunc(const struct goelf *ge, const struct pcln *h)
{
	uint64_t hva, field = h->magic == 0xfffffff0 ? 304 : 320;

	if (off_to_vaddr(ge, (uint64_t)(h->p - ge->map), &hva))
		return 0;
	for (size_t i = 0; i < ge->nsegs; i++) {
		const struct goelf_seg *s = &ge->segs[i];
		const uint8_t *base = ge->map + s->off;

		if (!(s->flags & PF_W) || s->filesz < field + 8)
			continue;
		for (uint64_t o = (8 - (s->vaddr & 7)) & 7; o <= s->filesz - field - 8; o += 8) {
			uint64_t gofunc;

			if (goelf_rd(base + o, 8, 0) != hva ||
			    goelf_rd(base + o + 8, 8, 0) != hva + h->funcname)
				continue;
			gofunc = goelf_rd(base + o + field, 8, 0);
			if (gofunc && goelf_at_vaddr(ge, gofunc, 1))
				return gofunc;
		}
	}
	return 0;
}

/* The _func whose [entry, next entry) holds pc; -ENOENT if none, -EPROTO if out of bounds. */
static int find_func(const struct go_lines *l, uint64_t pc, struct func_ref *fr)
{
	const struct pcln *h = &l->h;
	const uint8_t *tab = h->p + h->pcln;
	uint64_t lo = 0, hi = h->nfunc, stride = 2 * (uint64_t)l->fs, foff;

	if (pc < l->text || pc - l->text >= goelf_rd(tab + h->nfunc * stride, l->fs, 0) ||
	    pc - l->text < goelf_rd(tab, l->fs, 0))
		return -ENOENT;
	/* Last entry <= pc (symtab.c's check made the entries non-decreasing and in bounds). */
	while (lo + 1 < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (l->text + goelf_rd(tab + mid * stride, l->fs, 0) <= pc)
			lo = mid;
		else
			hi = mid;
	}
	foff = h->pcln + goelf_rd(tab + lo * stride + l->fs, l->fs, 0);
	if (foff >= h->size || h->size - foff < l->funcid_at + 4)
		return -EPROTO;
	fr->f = h->p + foff;
	fr->foff = foff;
	fr->entry = l->text + goelf_rd(tab + lo * stride, l->fs, 0);
	fr->npcdata = rd32(fr->f + l->fs + 24);
	fr->nfuncdata = fr->f[l->funcid_at + 3];
	/* pcdata and funcdata (with 1.16's alignment word) must be in the table. */
	if (fr->npcdata > 1024 ||
	    h->size - foff - l->funcid_at - 4 < fr->npcdata * 4 + 4 + fr->nfuncdata * 8)
		return -EPROTO;
	return 0;
}

/* uvarint at *p (before end); -1 if truncated or longer than 32 bits. */
static int uvarint(const uint8_t **p, const uint8_t *end, uint32_t *v)
{
	uint32_t r = 0;

	for (int shift = 0; shift < 35; shift += 7) {
		if (*p >= end)
			return -1;
		uint8_t b = *(*p)++;

		r |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = r;
			return 0;
		}
	}
	return -1;
}

/* The value of the pcvalue table at pctab offset off for pc: *val, -1 when there is no table or it
 * does not reach pc. 0, or -EPROTO if the table runs off the end. */
static int pcvalue(const struct go_lines *l, uint32_t off, uint64_t entry, uint64_t pc,
		   int32_t *val)
{
	const struct pcln *h = &l->h;
	const uint8_t *p, *end = h->p + h->size;
	uint64_t at = entry;
	int32_t v = -1;

	*val = -1;
	if (!off)
		return 0;
	if (off >= h->size - h->pctab)
		return -EPROTO;
	p = h->p + h->pctab + off;
	for (int first = 1;; first = 0) {
		uint32_t dv, dpc;

		if (uvarint(&p, end, &dv))
			return -EPROTO;
		if (!dv && !first)
			return 0; /* ends before pc: alignment padding, no value */
		v = (int32_t)((uint32_t)v + ((dv >> 1) ^ -(dv & 1))); /* wraps, as in Go */
		if (uvarint(&p, end, &dpc))
			return -EPROTO;
		at += (uint64_t)dpc * (uint64_t)l->h.quantum;
		if (pc < at) {
			*val = v;
			return 0;
		}
	}
}

/* File and line at pc in function fr. */
static int file_line(const struct go_lines *l, const struct func_ref *fr, uint64_t pc,
		     struct level *lv)
{
	const struct pcln *h = &l->h;
	int32_t fileno, line;
	int ret;

	lv->file = NULL;
	lv->line = 0;
	ret = pcvalue(l, rd32(fr->f + l->fs + 16), fr->entry, pc, &fileno);
	if (!ret)
		ret = pcvalue(l, rd32(fr->f + l->fs + 20), fr->entry, pc, &line);
	if (ret)
		return ret;
	if (fileno >= 0) {
		uint64_t cu = rd32(fr->f + l->fs + 28), at = h->cutab + 4 * (cu + (uint64_t)fileno);
		uint32_t foff;

		if (at > h->size - 4)
			return -EPROTO;
		foff = rd32(h->p + at);
		if (foff != UINT32_MAX && !(lv->file = str_at(h, h->filetab + foff)))
			return -EPROTO;
	}
	if (line > 0)
		lv->line = (uint32_t)line;
	return 0;
}

/* Link-time address of the function's inline tree; 0 if it has none. */
static uint64_t inline_tree(const struct go_lines *l, const struct func_ref *fr)
{
	uint64_t at = fr->foff + l->funcid_at + 4 + 4 * (uint64_t)fr->npcdata;

	if (fr->nfuncdata <= FUNCDATA_INLTREE)
		return 0;
	if (l->old) { /* uintptr pointers, 8-aligned from the (8-aligned) header */
		at = (at + 7) & ~7ull;
		return goelf_rd(l->h.p + at + 8 * FUNCDATA_INLTREE, 8, 0);
	}
	uint32_t off = rd32(l->h.p + at + 4 * FUNCDATA_INLTREE);

	return off == UINT32_MAX || !l->gofunc ? 0 : l->gofunc + off;
}

/* funcID of the function named name, -1 if there is none. */
static int funcid_of(struct go_symtab *st, const struct go_lines *l, const char *name)
{
	struct func_ref fr;
	uint64_t entry;

	if (go_func_by_name(st, name, &entry, NULL, NULL) || find_func(l, entry, &fr) ||
	    fr.entry != entry)
		return -1;
	return fr.f[l->funcid_at];
}

static int lines_open(struct go_symtab *st)
{
	struct go_lines *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	if (goelf_pcln_find(&st->ge, &l->h) || goelf_pcln_text(&st->ge, &l->h, &l->text)) {
		free(l);
		return -ENOEXEC;
	}
	l->old = l->h.magic == 0xfffffffa;
	l->fs = l->old ? l->h.ptrsz : 4;
	l->funcid_at = (size_t)l->fs + 32 + (l->h.magic == 0xfffffff1 ? 4 : 0);
	l->inl_size = l->h.magic == 0xfffffff1 ? 16 : 20;
	if (!l->old)
		l->gofunc = find_gofunc(&st->ge, &l->h);
	st->lines = l;
	/* FuncIDWrapper's value differs between releases; the linker gives it to
	 * runtime.deferreturn in every one of them (cmd/internal/objabi/funcid.go, 1.17 to 1.26):
	 * read it from there rather than from a table of versions. */
	l->wrapper_id = funcid_of(st, l, "runtime.deferreturn");
	if (l->wrapper_id <= 0)
		l->wrapper_id = -1;
	l->panic_ids[0] = funcid_of(st, l, "runtime.gopanic");
	l->panic_ids[1] = funcid_of(st, l, "runtime.sigpanic");
	l->panic_ids[2] = funcid_of(st, l, "runtime.panicwrap");
	goelf_release_pages(&st->ge);
	return 0;
}

void go_lines_free(struct go_lines *l)
{
	free(l);
}

/* As runtime.elideWrapperCalling: a wrapper level is hidden unless what it called panicked. */
static int hidden(const struct go_lines *l, int funcid, int callee_id)
{
	if (l->wrapper_id < 0 || funcid != l->wrapper_id)
		return 0;
	for (int i = 0; i < 3; i++)
		if (l->panic_ids[i] >= 0 && callee_id == l->panic_ids[i])
			return 0;
	return 1;
}

int go_pc_lines(struct go_symtab *st, uint64_t pc, struct code_line *out, int max)
{
	struct level lv[LEVELS_MAX];
	const struct go_lines *l;
	struct func_ref fr;
	uint64_t tree, at = pc;
	int n = 0, kept = 0, ret, callee = 0;

	if (!st->lines && !st->lines_err)
		st->lines_err = lines_open(st);
	if (st->lines_err)
		return st->lines_err == -ENOEXEC ? 0 : st->lines_err;
	l = st->lines;
	ret = find_func(l, pc, &fr);
	if (ret)
		return ret == -ENOENT ? 0 : ret;
	tree = inline_tree(l, &fr);
	for (;;) {
		int32_t ix = -1;

		if (n == LEVELS_MAX)
			return -ELOOP;
		ret = file_line(l, &fr, at, &lv[n]);
		if (!ret && tree && fr.npcdata > PCDATA_INLTREE_INDEX)
			ret = pcvalue(l, rd32(fr.f + l->funcid_at + 4 + 4 * PCDATA_INLTREE_INDEX),
				      fr.entry, at, &ix);
		if (ret)
			return ret;
		if (ix < 0) { /* the function's own code: the last level */
			lv[n].func = str_at(&l->h, l->h.funcname + rd32(fr.f + l->fs));
			lv[n].funcid = fr.f[l->funcid_at];
			if (!lv[n++].func)
				return -EPROTO;
			break;
		}
		const uint8_t *ic =
			(uint32_t)ix < INLTREE_MAX
				? goelf_at_vaddr(&st->ge, tree + (uint64_t)ix * l->inl_size,
						 l->inl_size)
				: NULL;
		if (!ic)
			return -EPROTO;
		if (l->inl_size == 16) {
			lv[n].funcid = ic[0];
			lv[n].func = str_at(&l->h, l->h.funcname + rd32(ic + 4));
			at = fr.entry + (uint64_t)(int64_t)(int32_t)rd32(ic + 8);
		} else {
			lv[n].funcid = ic[2];
			lv[n].func = str_at(&l->h, l->h.funcname + rd32(ic + 12));
			at = fr.entry + (uint64_t)(int64_t)(int32_t)rd32(ic + 16);
		}
		if (!lv[n++].func)
			return -EPROTO;
	}
	/* Hide wrappers as Go's tracebacks do; keep the outermost max levels. */
	for (int i = 0; i < n; i++) {
		int id = lv[i].funcid;

		if (!hidden(l, id, callee))
			lv[kept++] = lv[i];
		callee = id;
	}
	for (int i = kept > max ? kept - max : 0, j = 0; i < kept; i++, j++)
		out[j] = (struct code_line){ .func = lv[i].func,
					     .file = lv[i].file,
					     .line = lv[i].line };
	return kept > max ? max : kept;
}

int go_offset_lines(struct go_symtab *st, uint64_t file_off, int return_address,
		    struct code_line *out, int max)
{
	uint64_t pc;

	if (off_to_vaddr(&st->ge, file_off, &pc))
		return 0;
	return go_pc_lines(st, return_address ? pc - 1 : pc, out, max);
}

int go_offset_spdelta(struct go_symtab *st, uint64_t file_off, int32_t *delta)
{
	struct func_ref fr;
	uint64_t pc;
	int ret;

	if (!st->lines && !st->lines_err)
		st->lines_err = lines_open(st);
	if (st->lines_err || off_to_vaddr(&st->ge, file_off, &pc))
		return -ENOENT;
	ret = find_func(st->lines, pc, &fr);
	if (!ret) /* pcsp: after entry, nameOff, args and deferreturn */
		ret = pcvalue(st->lines, rd32(fr.f + st->lines->fs + 12), fr.entry, pc, delta);
	if (!ret && *delta < 0)
		ret = -ENOENT;
	return ret;
}

int go_func_is_wrapper(struct go_symtab *st, uint64_t entry)
{
	struct func_ref fr;
	int ret;

	if (!st->lines && !st->lines_err)
		st->lines_err = lines_open(st);
	if (st->lines_err)
		return st->lines_err == -ENOEXEC ? 0 : st->lines_err;
	if (st->lines->wrapper_id < 0)
		return 0;
	ret = find_func(st->lines, entry, &fr);
	if (ret)
		return ret == -ENOENT ? 0 : ret;
	return fr.entry == entry && fr.f[st->lines->funcid_at] == st->lines->wrapper_id;
}

uint64_t go_symtab_gofunc(struct go_symtab *st)
{
	if (!st->lines && !st->lines_err)
		st->lines_err = lines_open(st);
	return st->lines ? st->lines->gofunc : 0;
}

/* goelf_int.h - internals shared by goelf.c, gobuildinfo.c, gosymtab.c,
 * gooffsets.c and goret.c. Not for other callers: use goelf.h. */
#ifndef RTMON_GOELF_INT_H
#define RTMON_GOELF_INT_H

#include <capstone/capstone.h>
#include <gelf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "binary/objfile.h"
#include "runtime/go/goelf.h"

struct goelf_seg {
	uint64_t vaddr, memsz, off, filesz;
	uint32_t flags; /* PF_R | PF_W | PF_X */
};

/* An ELF file (struct objfile) mapped read-only, with its PT_LOAD segments. */
struct goelf {
	struct objfile of;
	const uint8_t *map; /* whole file */
	size_t size;
	struct goelf_seg *segs;
	size_t nsegs;
};

struct go_func {
	uint64_t entry, end;
	const char *name; /* points into the mapping or libelf's data */
};

struct go_lines; /* pcline.c: the line tables, read on first use */

struct go_symtab {
	struct goelf ge;
	struct go_lines *lines;
	int lines_err; /* 0, or why the line tables could not be read (-errno), once */
	char *path;
	int source;            /* enum go_syms_source */
	struct go_func *funcs; /* sorted by entry */
	size_t nfuncs;
	uint32_t *by_name; /* indexes into funcs, sorted by (name, entry) */
	char *names;       /* .symtab names with ".abi0" cut off */
};

/* One-line error message into err (if any). */
void goelf_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Drops the mapped file's pages from this process (they are read again from the page cache when
 * touched): a pass over a 100 MB binary's tables then does not hold its pages. */
void goelf_release_pages(const struct goelf *ge);

/* Opens path with objfile_open (its checks and messages) and maps it. -errno, -ENOEXEC if not a
 * usable ELF file. */
int goelf_open(struct goelf *ge, const char *path, char *err, size_t errlen);
void goelf_close(struct goelf *ge);

/* The section named name (NULL if none); fills *sh. */
Elf_Scn *goelf_section(const struct goelf *ge, const char *name, GElf_Shdr *sh);
/* Pointer to len file-backed bytes at vaddr; NULL if not all in one segment's file part. */
const uint8_t *goelf_at_vaddr(const struct goelf *ge, uint64_t vaddr, uint64_t len);
/* File offset of vaddr; -ENOENT if no PT_LOAD holds it in file. */
int goelf_vaddr_to_off(const struct goelf *ge, uint64_t vaddr, uint64_t *off);

/* .gopclntab's header ("pcHeader"); offsets are from p. */
struct pcln {
	const uint8_t *p; /* header */
	size_t size;      /* bytes available from p */
	uint32_t magic;
	int ptrsz;
	int quantum; /* minLC: the PC step of the pcvalue tables */
	uint64_t nfunc, funcname, cutab, filetab, pctab, pcln;
};

/* Finds and validates the header (symtab.c). 0, or -1 if there is none. */
int goelf_pcln_find(const struct goelf *ge, struct pcln *h);
/* What the function table's entry offsets are relative to: 0 for Go 1.16/1.17 (absolute PCs),
 * else the start of the text. 0, or -1 if it cannot be told. */
int goelf_pcln_text(const struct goelf *ge, const struct pcln *h, uint64_t *text);
/* Frees pcline.c's state (NULL is fine). */
void go_lines_free(struct go_lines *l);

/* A pass over one function's instructions: its code, a disassembler and the cursor. */
struct go_code_walk {
	csh h;
	cs_insn *insn;
	const uint8_t *p; /* next byte to decode */
	size_t left;
	uint64_t addr;  /* its address */
	uint64_t entry; /* the function's */
	uint64_t off;   /* the entry's file offset */
};

/* Opens a walk over the function name's instructions (ret_sites.c): -ENOENT without such a
 * function, -ENOTSUP for a machine other than x86-64. */
int go_code_walk_open(struct go_code_walk *w, struct go_symtab *st, const char *name, char *err,
		      size_t errlen);
/* The next instruction in w->insn; false at the end or at bytes that do not decode. */
bool go_code_walk_next(struct go_code_walk *w);
void go_code_walk_close(struct go_code_walk *w);

static inline uint64_t goelf_rd(const uint8_t *p, int size, int big_endian)
{
	uint64_t v = 0;
	for (int i = 0; i < size; i++)
		v |= (uint64_t)p[big_endian ? size - 1 - i : i] << (8 * i);
	return v;
}

#endif

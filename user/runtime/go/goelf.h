/* goelf.h - userspace analysis of Go binaries (ELF, amd64) for rtmon.
 *
 * What it gives: the Go version and main module from the build info, a
 * function table (from .symtab, or from .gopclntab when the binary is
 * stripped), a few runtime struct offsets (from DWARF, or from a table of
 * verified Go versions), and uprobe sites inside a Go function (its RET
 * instructions, and the first instruction after the stack-check prologue).
 * See docs/go-support.md.
 *
 * Conventions: functions return 0 on success or a negative errno. Those that
 * take `char *err, size_t errlen` also write a one-line message there on
 * failure, naming the problem and what to do (err may be NULL).
 *   -ENOENT   file (or function) not found; other open/read errors: -errno
 *   -ENOEXEC  the file is readable but not a Go binary (not ELF, or no Go
 *             build info / no Go function table)
 *   -EPROTO   Go metadata present but malformed or of an unsupported format
 *   -ENOTSUP  a Go version or architecture this code does not know
 *   -ENODATA  no DWARF (go_offsets_from_dwarf only)
 *   -ENOSPC   more results than the caller's array holds
 * Implementation: goelf.c (ELF helpers), gobuildinfo.c, gosymtab.c,
 * gooffsets.c, goret.c.
 */
#ifndef RTMON_GOELF_H
#define RTMON_GOELF_H

#include <stddef.h>
#include <stdint.h>

/* ---- build info (gobuildinfo.c) ---- */

struct go_info {
	char version[32];        /* "go1.26.8" (truncated to 31 chars if longer) */
	int major, minor, patch; /* 1, 26, 8; all 0 if the version did not parse */
	char module[256];        /* main module path ("mod" line), "" if none */
};

/* 0 and fills *gi if the ELF at path is a Go binary (Go >= 1.13: it has a
 * build info blob). -ENOEXEC if the file is not ELF or has no build info. */
int go_read_buildinfo(const char *path, struct go_info *gi, char *err, size_t errlen);

/* Parses "go1.26.8", "go1.22", "go1.21rc2", "devel go1.27-abcdef ...".
 * 0, or -EINVAL if there is no "go<major>.<minor>" in s. */
int go_parse_version(const char *s, int *major, int *minor, int *patch);

/* ---- function table (gosymtab.c) ---- */

struct go_symtab; /* opaque; holds the file mapped until go_symtab_close */

enum go_syms_source {
	GO_SYMS_ELF = 1,     /* ELF .symtab (unstripped binary) */
	GO_SYMS_PCLNTAB = 2, /* Go's own .gopclntab (stripped binary) */
};

/* Functions from .symtab when present, else from .gopclntab (found as its own
 * section .gopclntab / .data.rel.ro.gopclntab, or by its magic in the
 * read-only data; the header is validated before use). */
int go_symtab_open(const char *path, struct go_symtab **out, char *err, size_t errlen);
void go_symtab_close(struct go_symtab *st);

/* Exact-name lookup: entry vaddr, end vaddr (the next function's entry, so
 * it includes alignment padding; from .symtab as from .gopclntab), and the
 * file offset of the entry (what a uprobe needs). Any out pointer may be
 * NULL. -ENOENT if no such function. If a name occurs twice, the lowest
 * address wins. */
int go_func_by_name(struct go_symtab *st, const char *name, uint64_t *entry, uint64_t *end,
		    uint64_t *file_off);

/* Name of the function whose [entry, end) holds vaddr; NULL if none. The
 * string lives as long as st. */
const char *go_func_name_at(struct go_symtab *st, uint64_t vaddr);

/* File offset of a link-time vaddr, via the PT_LOAD holding it:
 * off = vaddr - p_vaddr + p_offset. -ENOENT if no segment has it in file. */
int go_vaddr_to_off(struct go_symtab *st, uint64_t vaddr, uint64_t *off);

/* Introspection: where the table came from, how many functions, the i-th
 * function in address order (0, or -ENOENT past the end), the path. */
int go_symtab_source(const struct go_symtab *st);
size_t go_symtab_count(const struct go_symtab *st);
int go_symtab_func(const struct go_symtab *st, size_t i, const char **name, uint64_t *entry,
		   uint64_t *end);
const char *go_symtab_path(const struct go_symtab *st);

/* ---- runtime struct offsets (gooffsets.c) ---- */

struct go_offsets {
	int g_goid;         /* runtime.g.goid */
	int g_m;            /* runtime.g.m */
	int m_procid;       /* runtime.m.procid (the OS thread id) */
	int g_atomicstatus; /* runtime.g.atomicstatus */
			    /* -1 if unknown */
};

/* From DWARF (runtime.g / runtime.m members) when the binary has it, else
 * from the per-version table for gi's version (gi may be NULL: then the
 * build info is read from path). Fails with -ENOTSUP for a version not in
 * the table when there is no DWARF: never a guess. */
int go_offsets_get(const char *path, const struct go_info *gi, struct go_offsets *out, char *err,
		   size_t errlen);
/* The two sources separately. dwarf: -ENODATA if the binary has no DWARF,
 * -ENOENT if it has no runtime.g with a goid member. table: -ENOTSUP if the
 * version is not one the table covers. */
int go_offsets_from_dwarf(const char *path, struct go_offsets *out, char *err, size_t errlen);
int go_offsets_from_table(int major, int minor, struct go_offsets *out);

/* ---- probe sites (goret.c, x86-64 only, decoded with capstone) ---- */

/* File offsets of every RET in the function (for "return" probes: never put
 * a uretprobe on Go code). Writes up to max offsets to offs and the total
 * found to *n; -ENOSPC if that exceeds max (offs may be NULL with max 0 to
 * count). 0 with *n = 0 if the function has no RET (it never returns, or
 * leaves by a tail jump). */
int go_func_ret_sites(struct go_symtab *st, const char *name, uint64_t *offs, int max, int *n,
		      char *err, size_t errlen);

/* File offset of the first instruction after the stack-check prologue
 * (cmp rsp,[r14+0x10]; jbe / lea r12,[rsp-N]; cmp r12,[r14+0x10]; jbe /
 * mov r12,rsp; sub r12,N; jb; cmp r12,[r14+0x10]; jbe), so that an entry
 * probe there is not hit a second time when morestack re-runs the prologue.
 * A function without that prologue (NOSPLIT) gives its entry. */
int go_func_body_site(struct go_symtab *st, const char *name, uint64_t *off, char *err,
		      size_t errlen);

#endif

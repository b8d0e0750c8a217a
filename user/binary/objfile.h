/* ELF files for uprobes: validation, function symbols to file offsets, DT_NEEDED. Built on libelf.
 * libbpf 1.1's own resolver refuses versioned symbols that share an address
 * (pthread_create@GLIBC_2.2.5 and @@GLIBC_2.34), so rtmon resolves offsets itself. */
#ifndef RTMON_OBJFILE_H
#define RTMON_OBJFILE_H

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct objfile {
	int fd;
	Elf *elf;
	GElf_Ehdr ehdr;
	size_t size;     /* file size */
	bool is_static;  /* no PT_INTERP and no PT_DYNAMIC */
	bool has_symtab; /* .symtab present (not stripped) */
	char path[4096];
};

struct objfile_sym {
	uint64_t vaddr;  /* st_value */
	uint64_t size;   /* st_size */
	uint64_t offset; /* file offset for the uprobe */
};

/* Opens and validates an ELF file: the error names a missing file, a directory, a non-ELF file, a
 * truncated one. 0 or -errno (message in err). */
int objfile_open(struct objfile *ef, const char *path, char *err, size_t errlen);
void objfile_close(struct objfile *ef);

/* Finds a defined function by name in .symtab, else .dynsym ("name", "name@V" and "name@@V" match).
 * 0, -ENOENT when absent. */
int objfile_find_func(struct objfile *ef, const char *name, struct objfile_sym *out);

/* The same for a defined data object (STT_OBJECT), e.g. a version constant: offset is where its
 * bytes are in the file. 0, -ENOENT when absent. */
int objfile_find_object(struct objfile *ef, const char *name, struct objfile_sym *out);

/* Calls fn for each defined function (STT_FUNC, STT_GNU_IFUNC, non-zero address) in the symbol
 * tables of the given type (SHT_SYMTAB or SHT_DYNSYM). A non-zero return from fn stops the walk and
 * is returned. */
int objfile_for_each_func(struct objfile *ef, Elf64_Word table_type,
			  int (*fn)(const GElf_Sym *sym, const char *name, void *ctx), void *ctx);

/* The section named name, or NULL (no such section, or no section name table); fills *sh. */
Elf_Scn *objfile_section(const struct objfile *ef, const char *name, GElf_Shdr *sh);

/* File offset of a virtual address, through the PT_LOAD segment holding it. */
int objfile_vaddr_to_offset(struct objfile *ef, uint64_t vaddr, uint64_t *offset);

/* What the dynamic section says about where the loader finds a file's dependencies. */
struct objfile_dyn {
	char rpath[4096];   /* DT_RPATH ("" when none): searched before LD_LIBRARY_PATH */
	char runpath[4096]; /* DT_RUNPATH ("" when none): after it; a DT_RUNPATH voids DT_RPATH */
	char soname[256];   /* DT_SONAME ("" when none): the name DT_NEEDED entries give it */
};

/* Calls fn (may be NULL) for each DT_NEEDED entry in order, and fills dyn. 0, or -EINVAL for a
 * dynamic section that cannot be read. */
int objfile_dynamic_info(struct objfile *ef, void (*fn)(const char *needed, void *ctx), void *ctx,
			 struct objfile_dyn *dyn);

#endif

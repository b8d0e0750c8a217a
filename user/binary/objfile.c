#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "binary/elf_segment.h"
#include "binary/target_file.h"
#include "binary/objfile.h"

static int ensure_libelf(void)
{
	static int ready;

	if (!ready) {
		if (elf_version(EV_CURRENT) == EV_NONE)
			return -1;
		ready = 1;
	}
	return 0;
}

/* A truncated file still opens with libelf; its headers point past the end. */
static bool headers_fit(struct objfile *ef)
{
	size_t phnum, shnum;
	const GElf_Ehdr *h = &ef->ehdr;

	if (elf_getphdrnum(ef->elf, &phnum) || elf_getshdrnum(ef->elf, &shnum))
		return false;
	if (h->e_phoff + (uint64_t)phnum * h->e_phentsize > ef->size)
		return false;
	if (shnum && h->e_shoff + (uint64_t)shnum * h->e_shentsize > ef->size)
		return false;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(ef->elf, (int)i, &ph))
			return false;
		if (ph.p_type == PT_LOAD && ph.p_offset + ph.p_filesz > ef->size)
			return false;
	}
	return true;
}

static const char *machine_name(unsigned machine)
{
	switch (machine) {
	case EM_386:
		return "i386";
	case EM_ARM:
		return "32-bit ARM";
	case EM_PPC64:
		return "ppc64";
	case EM_S390:
		return "s390";
	case EM_RISCV:
		return "RISC-V";
	default:
		return "unknown machine";
	}
}

int objfile_open(struct objfile *ef, const char *path, char *err, size_t errlen)
{
	struct stat st;
	unsigned char magic[EI_NIDENT];
	size_t phnum;
	int rc;

	memset(ef, 0, sizeof(*ef));
	ef->fd = -1;
	snprintf(ef->path, sizeof(ef->path), "%s", path);
	if (ensure_libelf()) {
		snprintf(err, errlen, "libelf is unusable: %s", elf_errmsg(-1));
		return -ENOSYS;
	}
	ef->fd = target_file_open_err(path, &st, err, errlen);
	if (ef->fd < 0) {
		rc = ef->fd;
		ef->fd = -1;
		return rc;
	}
	ef->size = (size_t)st.st_size;
	if (pread(ef->fd, magic, sizeof(magic), 0) != (ssize_t)sizeof(magic) ||
	    memcmp(magic, ELFMAG, SELFMAG)) {
		snprintf(err, errlen,
			 "%s is not an ELF file: give a compiled executable or library", path);
		rc = -ENOEXEC;
		goto fail;
	}
	/* Class first: libelf would read a 64-bit body under EI_CLASS 1 as a 32-bit file with no
	 * sections and call it static and stripped. */
	if (magic[EI_CLASS] != ELFCLASS64) {
		snprintf(err, errlen,
			 "%s is a %s ELF file (EI_CLASS %u): rtmon traces 64-bit programs only; "
			 "trace a 64-bit build",
			 path, magic[EI_CLASS] == ELFCLASS32 ? "32-bit" : "malformed",
			 magic[EI_CLASS]);
		rc = -ENOEXEC;
		goto fail;
	}
	ef->elf = elf_begin(ef->fd, ELF_C_READ_MMAP, NULL);
	if (!ef->elf || elf_kind(ef->elf) != ELF_K_ELF || !gelf_getehdr(ef->elf, &ef->ehdr) ||
	    !headers_fit(ef)) {
		snprintf(err, errlen,
			 "%s is a truncated or corrupt ELF file: rebuild or copy it again", path);
		rc = -ENOEXEC;
		goto fail;
	}
	if (ef->ehdr.e_machine != EM_X86_64 && ef->ehdr.e_machine != EM_AARCH64) {
		snprintf(err, errlen,
			 "%s is an ELF file for another architecture (%s, e_machine %u): "
			 "rtmon traces x86-64 and aarch64 programs; trace a build for this machine",
			 path, machine_name(ef->ehdr.e_machine), ef->ehdr.e_machine);
		rc = -ENOEXEC;
		goto fail;
	}
	ef->is_static = true;
	elf_getphdrnum(ef->elf, &phnum);
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(ef->elf, (int)i, &ph) &&
		    (ph.p_type == PT_INTERP || ph.p_type == PT_DYNAMIC))
			ef->is_static = false;
	}
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(ef->elf, scn));) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			ef->has_symtab = true;
	}
	return 0;
fail:
	objfile_close(ef);
	return rc;
}

void objfile_close(struct objfile *ef)
{
	if (ef->elf)
		elf_end(ef->elf);
	if (ef->fd >= 0)
		close(ef->fd);
	ef->elf = NULL;
	ef->fd = -1;
}

int objfile_vaddr_to_offset(struct objfile *ef, uint64_t vaddr, uint64_t *offset)
{
	size_t phnum;

	if (elf_getphdrnum(ef->elf, &phnum))
		return -EINVAL;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(ef->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (!elf_segment_vaddr_to_offset(ph.p_vaddr, ph.p_memsz, ph.p_offset, vaddr,
						 offset))
			return 0;
	}
	return -ENOENT;
}

Elf_Scn *objfile_section(const struct objfile *ef, const char *name, GElf_Shdr *sh)
{
	size_t shstrndx;

	if (elf_getshdrstrndx(ef->elf, &shstrndx))
		return NULL;
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(ef->elf, scn));) {
		const char *n;

		if (!gelf_getshdr(scn, sh))
			continue;
		n = elf_strptr(ef->elf, shstrndx, sh->sh_name);
		if (n && !strcmp(n, name))
			return scn;
	}
	return NULL;
}

/* "malloc" matches "malloc", "malloc@GLIBC_2.2.5" and "malloc@@GLIBC_2.2.5". */
static bool name_matches(const char *symname, const char *name, size_t len)
{
	return !strncmp(symname, name, len) && (symname[len] == '\0' || symname[len] == '@');
}

/* Calls fn for each defined symbol whose type passes want(). */
static int for_each_sym(struct objfile *ef, Elf64_Word table_type, bool (*want)(int type),
			int (*fn)(const GElf_Sym *sym, const char *name, void *ctx), void *ctx)
{
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(ef->elf, scn));) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != table_type || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name;
			int t, rc;

			if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF ||
			    !sym.st_value)
				continue;
			t = GELF_ST_TYPE(sym.st_info);
			if (!want(t))
				continue;
			name = elf_strptr(ef->elf, sh.sh_link, sym.st_name);
			if (name && (rc = fn(&sym, name, ctx)))
				return rc;
		}
	}
	return 0;
}

static bool is_func(int type)
{
	return type == STT_FUNC || type == STT_GNU_IFUNC;
}

static bool is_object(int type)
{
	return type == STT_OBJECT;
}

int objfile_for_each_func(struct objfile *ef, Elf64_Word table_type,
			  int (*fn)(const GElf_Sym *sym, const char *name, void *ctx), void *ctx)
{
	return for_each_sym(ef, table_type, is_func, fn, ctx);
}

struct func_query {
	const char *name;
	size_t len;
	GElf_Sym found;
};

static int match_func(const GElf_Sym *sym, const char *name, void *ctx)
{
	struct func_query *q = ctx;

	if (!name_matches(name, q->name, q->len))
		return 0;
	q->found = *sym;
	return 1;
}

static int find_in_table(struct objfile *ef, Elf64_Word type, const char *name,
			 struct objfile_sym *out)
{
	struct func_query q = { .name = name, .len = strlen(name) };

	if (objfile_for_each_func(ef, type, match_func, &q) != 1)
		return -ENOENT;
	out->vaddr = q.found.st_value;
	out->size = q.found.st_size;
	return objfile_vaddr_to_offset(ef, q.found.st_value, &out->offset);
}

int objfile_find_func(struct objfile *ef, const char *name, struct objfile_sym *out)
{
	if (!find_in_table(ef, SHT_SYMTAB, name, out))
		return 0;
	return find_in_table(ef, SHT_DYNSYM, name, out);
}

int objfile_find_object(struct objfile *ef, const char *name, struct objfile_sym *out)
{
	struct func_query q = { .name = name, .len = strlen(name) };

	if (for_each_sym(ef, SHT_SYMTAB, is_object, match_func, &q) != 1 &&
	    for_each_sym(ef, SHT_DYNSYM, is_object, match_func, &q) != 1)
		return -ENOENT;
	out->vaddr = q.found.st_value;
	out->size = q.found.st_size;
	return objfile_vaddr_to_offset(ef, q.found.st_value, &out->offset);
}

int objfile_dynamic_info(struct objfile *ef, void (*fn)(const char *needed, void *ctx), void *ctx,
			 struct objfile_dyn *dyn)
{
	memset(dyn, 0, sizeof(*dyn));
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(ef->elf, scn));) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			return -EINVAL;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Dyn d;
			const char *s;

			if (!gelf_getdyn(data, (int)i, &d) || d.d_tag == DT_NULL)
				break;
			if (d.d_tag != DT_NEEDED && d.d_tag != DT_RUNPATH && d.d_tag != DT_RPATH &&
			    d.d_tag != DT_SONAME)
				continue;
			s = elf_strptr(ef->elf, sh.sh_link, d.d_un.d_val);
			if (!s)
				continue;
			if (d.d_tag == DT_NEEDED && fn)
				fn(s, ctx);
			else if (d.d_tag == DT_RUNPATH)
				snprintf(dyn->runpath, sizeof(dyn->runpath), "%s", s);
			else if (d.d_tag == DT_RPATH)
				snprintf(dyn->rpath, sizeof(dyn->rpath), "%s", s);
			else if (d.d_tag == DT_SONAME)
				snprintf(dyn->soname, sizeof(dyn->soname), "%s", s);
		}
		/* The loader ignores DT_RPATH when DT_RUNPATH is there. */
		if (dyn->runpath[0])
			dyn->rpath[0] = '\0';
		return 0;
	}
	return 0;
}

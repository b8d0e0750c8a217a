/* fuzz_objfile.c - the ELF reader (binary/objfile.c) on any file: open and validate, function and
 * object lookup in .symtab and .dynsym, the walk over every function, sections, DT_NEEDED and
 * DT_RUNPATH. A failed open must give a one-line message. */
#include <assert.h>
#include <string.h>
#include <unistd.h>

#include "binary/objfile.h"
#include "fuzz_file.h"

/* The largest seed is /usr/bin/python3.11 (6.8 MB). */
#define FILE_MAX (8u << 20)

struct walk {
	struct objfile *ef;
	int n;
};

static int visit(const GElf_Sym *sym, const char *name, void *ctx)
{
	struct walk *w = ctx;
	struct objfile_sym found;
	uint64_t off;

	assert(name);
	objfile_vaddr_to_offset(w->ef, sym->st_value, &off);
	/* Look the first few names up again (each lookup is a walk of its own). */
	if (w->n++ < 8)
		objfile_find_func(w->ef, name, &found);
	return 0;
}

static void needed(const char *name, void *ctx)
{
	(void)ctx;
	assert(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const funcs[] = { "malloc", "pthread_create", "main", "GC_gcollect",
					     "Py_GetVersion" };
	static const char *const sections[] = { ".note.stapsdt", ".rodata", ".text",
						".go.buildinfo", ".gopclntab" };
	char path[64], err[512];
	struct objfile_dyn dyn;
	struct objfile ef;
	struct objfile_sym sym;
	GElf_Shdr sh;
	int fd = fuzz_file_make(data, size, FILE_MAX, path, sizeof(path));

	if (objfile_open(&ef, path, err, sizeof(err))) {
		assert(err[0] && !strchr(err, '\n'));
		fuzz_file_close(fd);
		return 0;
	}
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
		objfile_find_func(&ef, funcs[i], &sym);
	objfile_find_object(&ef, "Py_Version", &sym);
	for (int t = 0; t < 2; t++) {
		struct walk w = { .ef = &ef };

		objfile_for_each_func(&ef, t ? SHT_DYNSYM : SHT_SYMTAB, visit, &w);
	}
	objfile_dynamic_info(&ef, needed, NULL, &dyn);
	/* every string the dynamic section gave is terminated within its field */
	assert(memchr(dyn.rpath, '\0', sizeof(dyn.rpath)));
	assert(memchr(dyn.runpath, '\0', sizeof(dyn.runpath)));
	assert(memchr(dyn.soname, '\0', sizeof(dyn.soname)));
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		objfile_section(&ef, sections[i], &sh);
	objfile_close(&ef);
	fuzz_file_close(fd);
	return 0;
}

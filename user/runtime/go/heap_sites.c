/* heap_sites.c - the probe sites of rtmon heap in a Go binary (heap_sites.h says which and why). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "runtime/go/goelf_int.h"
#include "runtime/go/heap_sites.h"

static int body(struct go_symtab *st, const struct go_info *gi, const char *name, uint64_t *off,
		char *err, size_t errlen)
{
	char e2[256];

	if (!go_func_body_site(st, name, off, e2, sizeof(e2)))
		return 0;
	goelf_err(err, errlen,
		  "%s (%s) has no %s: its heap profile cannot be read (rtmon heap knows Go 1.17 "
		  "to 1.26)",
		  st->path, gi->version, name);
	return -ENOENT;
}

int go_heap_sites_find(struct go_symtab *st, const struct go_info *gi, struct go_heap_sites *out,
		       char *err, size_t errlen)
{
	struct objfile_sym sym = { 0 };
	uint64_t entry, entry_off;
	int rc;

	memset(out, 0, sizeof(*out));
	if (gi->major == 1 && gi->minor < 17) {
		goelf_err(err, errlen,
			  "%s is built by %s: rtmon heap knows Go 1.17 to 1.26 (the register ABI's "
			  "arguments)",
			  st->path, gi->version);
		return -ENOTSUP;
	}
	rc = body(st, gi, "runtime.mProf_Malloc", &out->malloc_off, err, errlen);
	if (!rc)
		rc = body(st, gi, "runtime.freeSpecial", &out->free_special_off, err, errlen);
	if (!rc)
		rc = body(st, gi, "runtime.mProf_Free", &out->free_off, err, errlen);
	if (rc)
		return rc;
	if (go_func_by_name(st, "runtime.mProf_Malloc", &entry, NULL, &entry_off))
		return -ENOENT;
	out->malloc_vaddr = entry + (out->malloc_off - entry_off);
	out->malloc_has_mp = gi->major > 1 || gi->minor >= 23;
	out->special_kind_off = out->special_profile_kind = -1;
	if (gi->major == 1 && gi->minor <= 26) {
		out->special_kind_off = gi->minor >= 24 ? 16 : 10;
		out->special_profile_kind = gi->minor >= 25 ? 4 : gi->minor >= 23 ? 3 : 2;
	}
	if (st->ge.of.has_symtab &&
	    !objfile_find_object(&st->ge.of, "runtime.MemProfileRate", &sym) && sym.vaddr) {
		out->rate_vaddr = sym.vaddr;
		out->rate_from_symtab = true;
	} else if (go_memprofilerate_from_code(st, &out->rate_vaddr)) {
		out->rate_vaddr = 0;
	}
	return 0;
}

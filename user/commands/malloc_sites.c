/* rtmon malloc: which allocator to probe, each function's probe site, and attaching them. A static
 * executable is probed itself; otherwise the first library that defines malloc, in the loader's
 * order; a Go program at runtime.mallocgc. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "binary/objfile.h"
#include "binary/probe_site.h"
#include "output/escape.h"
#include "commands/malloc_run.h"
#include "alloc.skel.h"

/* Every name a native allocator's function may be exported under, by the AF_ index its calls are
 * counted at. A name at an address an earlier one has (tcmalloc's tc_delete is free, its tc_new
 * operator new) is probed once, at the first. jemalloc's C++ operators jump to free or call
 * aligned_alloc in some forms: those calls are counted once (AF_FORWARDS). */
struct alloc_name {
	const char *name;
	int fn;
};

static const struct alloc_name native_names[] = {
	{ "malloc", AF_MALLOC },
	{ "calloc", AF_CALLOC },
	{ "realloc", AF_REALLOC },
	{ "aligned_alloc", AF_ALIGNED_ALLOC },
	{ "posix_memalign", AF_POSIX_MEMALIGN },
	{ "memalign", AF_MEMALIGN },
	{ "valloc", AF_VALLOC },
	{ "pvalloc", AF_PVALLOC },
	{ "free", AF_FREE },
	{ "mallocx", AF_MALLOCX },
	{ "rallocx", AF_RALLOCX },
	{ "xallocx", AF_XALLOCX },
	{ "dallocx", AF_DALLOCX },
	{ "sdallocx", AF_SDALLOCX },
	{ "tc_new", AF_TC_NEW },
	{ "tc_newarray", AF_TC_NEW },
	{ "tc_new_nothrow", AF_TC_NEW },
	{ "tc_newarray_nothrow", AF_TC_NEW },
	{ "tc_new_aligned", AF_TC_NEW },
	{ "tc_newarray_aligned", AF_TC_NEW },
	{ "tc_new_aligned_nothrow", AF_TC_NEW },
	{ "tc_newarray_aligned_nothrow", AF_TC_NEW },
	{ "tc_delete", AF_TC_DELETE },
	{ "tc_deletearray", AF_TC_DELETE },
	{ "tc_delete_sized", AF_TC_DELETE },
	{ "tc_deletearray_sized", AF_TC_DELETE },
	{ "tc_free_sized", AF_TC_DELETE },
	{ "tc_delete_nothrow", AF_TC_DELETE },
	{ "tc_deletearray_nothrow", AF_TC_DELETE },
	{ "tc_delete_aligned", AF_TC_DELETE },
	{ "tc_deletearray_aligned", AF_TC_DELETE },
	{ "tc_delete_sized_aligned", AF_TC_DELETE },
	{ "tc_deletearray_sized_aligned", AF_TC_DELETE },
	{ "tc_delete_aligned_nothrow", AF_TC_DELETE },
	{ "tc_deletearray_aligned_nothrow", AF_TC_DELETE },
	/* operator new(size_t), new[](size_t), their nothrow_t, align_val_t and both forms */
	{ "_Znwm", AF_CXX_NEW },
	{ "_Znam", AF_CXX_NEW },
	{ "_ZnwmRKSt9nothrow_t", AF_CXX_NEW },
	{ "_ZnamRKSt9nothrow_t", AF_CXX_NEW },
	{ "_ZnwmSt11align_val_t", AF_CXX_NEW },
	{ "_ZnamSt11align_val_t", AF_CXX_NEW },
	{ "_ZnwmSt11align_val_tRKSt9nothrow_t", AF_CXX_NEW },
	{ "_ZnamSt11align_val_tRKSt9nothrow_t", AF_CXX_NEW },
	/* operator delete(void *) and delete[], with nothrow_t, size_t, align_val_t */
	{ "_ZdlPv", AF_CXX_DELETE },
	{ "_ZdaPv", AF_CXX_DELETE },
	{ "_ZdlPvRKSt9nothrow_t", AF_CXX_DELETE },
	{ "_ZdaPvRKSt9nothrow_t", AF_CXX_DELETE },
	{ "_ZdlPvm", AF_CXX_DELETE },
	{ "_ZdaPvm", AF_CXX_DELETE },
	{ "_ZdlPvSt11align_val_t", AF_CXX_DELETE },
	{ "_ZdaPvSt11align_val_t", AF_CXX_DELETE },
	{ "_ZdlPvSt11align_val_tRKSt9nothrow_t", AF_CXX_DELETE },
	{ "_ZdaPvSt11align_val_tRKSt9nothrow_t", AF_CXX_DELETE },
	{ "_ZdlPvmSt11align_val_t", AF_CXX_DELETE },
	{ "_ZdaPvmSt11align_val_t", AF_CXX_DELETE },
};

#define NATIVE_NAMES (sizeof(native_names) / sizeof(*native_names))

/* CPython's object allocator, as the interpreter or libpython exports it. */
static const struct alloc_name pymalloc_names[] = {
	{ "PyObject_Malloc", AF_PYOBJ_MALLOC },
	{ "PyObject_Calloc", AF_PYOBJ_CALLOC },
	{ "PyObject_Realloc", AF_PYOBJ_REALLOC },
	{ "PyObject_Free", AF_PYOBJ_FREE },
};

/* Prefixes that allocators built to live beside libc's put on their names (jemalloc's
 * --with-jemalloc-prefix, mimalloc's own API): a program that calls only those never reaches
 * malloc, and --allocator-prefix finds them. */
static const char *const known_prefixes[] = { "je_", "mi_" };

static int find_prefixed(struct objfile *ef, const char *prefix, const char *name,
			 struct objfile_sym *out)
{
	char full[128];

	snprintf(full, sizeof(full), "%s%s", prefix, name);
	return objfile_find_func(ef, full, out);
}

/* Which allocator a file is, from the functions it exports beside malloc: it decides how realloc
 * counts (bpf/alloc.bpf.c: realloc_forwards) and names the report. */
static const char *allocator_kind(struct objfile *ef, const char *prefix)
{
	struct objfile_sym sym;

	if (!find_prefixed(ef, prefix, "mallocx", &sym))
		return "jemalloc";
	if (!find_prefixed(ef, prefix, "tc_malloc", &sym))
		return "tcmalloc";
	if (!objfile_find_func(ef, "__libc_malloc", &sym) ||
	    !objfile_find_func(ef, "gnu_get_libc_version", &sym))
		return "glibc";
	return "other";
}

/* Whether the function sym may call another one through the PLT or at one of the addresses in
 * fns (n of them): a direct call or jump (e8, e9 and a 32-bit displacement) anywhere in its bytes
 * that lands there. A byte that only looks like one marks a function that does not forward: that
 * costs a map lookup per hit, never a count (the BPF side checks the frames). */
static bool may_forward(struct objfile *ef, const struct objfile_sym *sym, const uint64_t *fns,
			int n)
{
	static const char *const plts[] = { ".plt", ".plt.sec", ".plt.got" };
	uint64_t lo[3] = { 0 }, hi[3] = { 0 };
	uint8_t code[16384];
	size_t len = sym->size < sizeof(code) ? (size_t)sym->size : sizeof(code);
	bool found = false;
	/* glibc calls its own allocator directly (realloc's __libc_malloc); its PLT slots are the
	 * IFUNC'd string functions (calloc's memset). Counting those made calloc a forwarder, and
	 * then every malloc and free hit looked for a forwarding frame (about 35 ns each). */
	bool plt_forwards = strcmp(allocator_kind(ef, ""), "glibc");

	for (int i = 0; plt_forwards && i < 3; i++) {
		GElf_Shdr sh;

		if (objfile_section(ef, plts[i], &sh)) {
			lo[i] = sh.sh_addr;
			hi[i] = sh.sh_addr + sh.sh_size;
		}
	}
	if (len < 5 || pread(ef->fd, code, len, (off_t)sym->offset) != (ssize_t)len)
		return false;
	for (size_t i = 0; !found && i + 5 <= len; i++) {
		int32_t rel;
		uint64_t to;

		if (code[i] != 0xe8 && code[i] != 0xe9)
			continue;
		memcpy(&rel, code + i + 1, sizeof(rel));
		to = sym->vaddr + i + 5 + (uint64_t)(int64_t)rel;
		for (int p = 0; p < 3; p++)
			found |= to >= lo[p] && to < hi[p];
		for (int f = 0; f < n; f++)
			found |= to == fns[f] && to != sym->vaddr;
	}
	return found;
}

/* One site per distinct address among the names of one allocator found in ef; a function with no
 * site of its own whose first name is at another one's address is that one's alias (its calls
 * are counted there: output says "aligned_alloc/memalign"). A site that may call another probed
 * function gets AF_FORWARDS. */
static int add_file_sites(struct malloc_run *r, struct objfile *ef, const char *prefix,
			  int first_fn, int nfns, const struct alloc_name *names, size_t nnames,
			  struct probe_site *sites, int *nsites, int max_sites)
{
	struct objfile_sym syms[NATIVE_NAMES];
	bool have[NATIVE_NAMES] = { 0 };
	uint64_t addrs[NATIVE_NAMES];
	int alias[AF_COUNT], naddrs = 0;
	bool probed[AF_COUNT] = { 0 };

	for (int f = 0; f < AF_COUNT; f++)
		alias[f] = -1;
	for (size_t i = 0; i < nnames && i < NATIVE_NAMES; i++) {
		have[i] = !find_prefixed(ef, prefix, names[i].name, &syms[i]);
		if (have[i])
			addrs[naddrs++] = syms[i].vaddr;
	}
	for (size_t i = 0; i < nnames && i < NATIVE_NAMES; i++) {
		uint64_t off;
		int f = names[i].fn, at = -1;

		if (!have[i])
			continue;
		off = probe_site_emulated(ef->path, syms[i].offset);
		for (int j = 0; j < *nsites; j++)
			if (sites[j].offset == off)
				at = j;
		if (at >= 0) {
			int g = (int)AF_OF_COOKIE(sites[at].cookie);

			if (!probed[f] && alias[f] < 0 && g != f)
				alias[f] = g;
			continue;
		}
		if (*nsites == max_sites)
			return -ENOSPC;
		sites[*nsites] = (struct probe_site){ .offset = off, .cookie = (uint64_t)f };
		if (off - syms[i].offset <= AF_FWD_SKIP_MAX && syms[i].size <= AF_FWD_SIZE_MAX &&
		    may_forward(ef, &syms[i], addrs, naddrs)) {
			sites[*nsites].cookie |= AF_FORWARDS |
						 (off - syms[i].offset) << AF_FWD_SKIP_SHIFT |
						 syms[i].size << AF_FWD_SIZE_SHIFT;
			r->has_forwarders = true;
		}
		(*nsites)++;
		probed[f] = true;
	}
	for (int f = first_fn; f < first_fn + nfns; f++) {
		r->probed[f] = probed[f];
		if (!probed[f])
			r->alias_of[f] = alias[f];
	}
	return 0;
}

/* A file other than the allocator that exports an allocator under a known prefix only: its calls
 * reach no probe. Said on stderr with the flag that traces it. */
static void note_prefixed(struct malloc_run *r)
{
	const struct image *img = &r->t->image;

	for (int i = 0; i < img->n; i++) {
		struct objfile ef;
		struct objfile_sym sym;
		char e2[256], b1[TEXT_SAFE_MAX], b2[TEXT_SAFE_MAX];

		if (!strcmp(img->paths[i], r->allocator) ||
		    objfile_open(&ef, img->paths[i], e2, sizeof(e2)))
			continue;
		for (size_t p = 0; p < sizeof(known_prefixes) / sizeof(*known_prefixes); p++) {
			if (find_prefixed(&ef, known_prefixes[p], "malloc", &sym))
				continue;
			fprintf(stderr,
				"rtmon malloc: note: %s exports an allocator under prefixed names "
				"(%smalloc), whose calls this trace does not see; add "
				"--allocator-prefix %s to trace it instead of %s\n",
				text_safe(img->paths[i], b1, sizeof(b1)), known_prefixes[p],
				known_prefixes[p], text_safe(r->allocator, b2, sizeof(b2)));
			break;
		}
		objfile_close(&ef);
	}
}

/* The allocator is the first file in lookup order that defines malloc (PREFIXmalloc with
 * --allocator-prefix): the executable itself for static builds (or ones that link an allocator
 * in), else a library. */
static int find_allocator(struct malloc_run *r, char *err, size_t errlen)
{
	const struct image *img = &r->t->image;
	const char *prefix = r->args->allocator_prefix ? r->args->allocator_prefix : "";

	for (int i = 0; i < img->n; i++) {
		struct objfile ef;
		struct objfile_sym sym;
		char e2[256];
		int rc;

		if (objfile_open(&ef, img->paths[i], e2, sizeof(e2)))
			continue;
		if (find_prefixed(&ef, prefix, "malloc", &sym)) {
			bool stripped_static = i == 0 && ef.is_static && !ef.has_symtab;

			objfile_close(&ef);
			if (stripped_static) {
				snprintf(err, errlen,
					 "%s is static and stripped: no symbols locate its "
					 "allocator; trace an unstripped build",
					 r->t->label);
				return -ENOENT;
			}
			continue;
		}
		snprintf(r->allocator, sizeof(r->allocator), "%s", img->paths[i]);
		r->allocator_kind = allocator_kind(&ef, prefix);
		r->realloc_forwards = strcmp(r->allocator_kind, "jemalloc") &&
				      strcmp(r->allocator_kind, "tcmalloc");
		rc = add_file_sites(r, &ef, prefix, 0, AF_NATIVE_COUNT, native_names, NATIVE_NAMES,
				    r->sites, &r->nsites, MALLOC_SITES_MAX);
		objfile_close(&ef);
		if (rc) {
			snprintf(err, errlen,
				 "%s has more allocator functions than the %d rtmon probes",
				 r->allocator, MALLOC_SITES_MAX);
			return rc;
		}
		if (!*prefix)
			note_prefixed(r);
		return 0;
	}
	if (*prefix)
		snprintf(err, errlen,
			 "no allocator named %smalloc in %s or its %d libraries: check "
			 "--allocator-prefix '%s' against the names they export (nm -D)",
			 prefix, r->t->label, img->n - 1, prefix);
	else
		snprintf(err, errlen,
			 "no allocator (malloc) in %s or its %d libraries: rtmon malloc traces "
			 "programs that call malloc",
			 r->t->label, img->n - 1);
	return -ENOENT;
}

/* CPython's object allocator, in the first file that exports PyObject_Malloc (the interpreter, or
 * libpython): its sites, probed on a link of their own. None found: nothing to add. */
static void find_object_allocator(struct malloc_run *r)
{
	const struct image *img = &r->t->image;

	for (int i = 0; i < img->n; i++) {
		struct objfile ef;
		struct objfile_sym sym;
		char e2[256];

		if (objfile_open(&ef, img->paths[i], e2, sizeof(e2)))
			continue;
		if (objfile_find_func(&ef, "PyObject_Malloc", &sym)) {
			objfile_close(&ef);
			continue;
		}
		if (!add_file_sites(r, &ef, "", AF_PYOBJ_MALLOC,
				    AF_PYOBJ_FREE - AF_PYOBJ_MALLOC + 1, pymalloc_names,
				    sizeof(pymalloc_names) / sizeof(*pymalloc_names), r->obj_sites,
				    &r->nobj_sites, MALLOC_OBJ_SITES_MAX))
			snprintf(r->obj_allocator, sizeof(r->obj_allocator), "%s", img->paths[i]);
		objfile_close(&ef);
		return;
	}
}

/* GOEXPERIMENT=sizespecializedmalloc's entry points (Go 1.26: runtime/malloc_generated.go), which
 * the compiler calls directly for allocations of a size it knows. */
static const char *const go_specialized_prefixes[] = {
	"runtime.mallocgcTinySize",
	"runtime.mallocgcSmallNoScanSC",
	"runtime.mallocgcSmallScanNoHeaderSC",
};

static bool go_specialized_name(const char *name)
{
	for (size_t i = 0; i < sizeof(go_specialized_prefixes) / sizeof(*go_specialized_prefixes);
	     i++) {
		size_t n = strlen(go_specialized_prefixes[i]);

		if (!strncmp(name, go_specialized_prefixes[i], n) &&
		    isdigit((unsigned char)name[n]))
			return true;
	}
	return false;
}

/* One probe per function, after its stack-check prologue (so that a call that grows the stack,
 * when morestack re-runs the prologue, is counted once). */
static int add_go_site(struct malloc_run *r, struct go_symtab *st, const char *name, int cookie,
		       char *err, size_t errlen)
{
	struct probe_site *site = &r->sites[r->nsites];
	int rc;

	if (r->nsites == MALLOC_SITES_MAX) {
		snprintf(err, errlen,
			 "%s has more allocation entry points than the %d rtmon probes", r->t->exe,
			 MALLOC_SITES_MAX);
		return -ENOSPC;
	}
	rc = go_func_body_site(st, name, &site->offset, err, errlen);
	if (rc)
		return rc;
	site->offset = probe_site_emulated(r->t->exe, site->offset);
	site->cookie = (uint64_t)cookie;
	r->nsites++;
	return 0;
}

/* Go: runtime.mallocgc, and with GOEXPERIMENT=sizespecializedmalloc (said by the build info, or
 * seen in the function table) every specialized entry point. Never a return probe: Go moves
 * stacks. */
static int find_go_site(struct malloc_run *r, char *err, size_t errlen)
{
	struct go_symtab *st;
	bool said = go_experiment_on(&r->gi, "sizespecializedmalloc");
	size_t nspec = 0;
	int rc = go_symtab_open(r->t->exe, &st, err, errlen);

	if (rc)
		return rc;
	rc = add_go_site(r, st, "runtime.mallocgc", AF_MALLOCGC, err, errlen);
	for (size_t i = 0, n = go_symtab_count(st); !rc && i < n; i++) {
		const char *name;
		uint64_t entry, end;

		if (go_symtab_func(st, i, &name, &entry, &end) || !go_specialized_name(name))
			continue;
		rc = add_go_site(r, st, name, AF_MALLOCGC_SPECIALIZED, err, errlen);
		nspec++;
	}
	go_symtab_close(st);
	if (!rc && said && !nspec) {
		snprintf(err, errlen,
			 "%s was built with GOEXPERIMENT=%s, but rtmon finds none of its "
			 "specialized allocation functions (runtime.mallocgcTinySize*, "
			 "mallocgcSmallNoScanSC*, mallocgcSmallScanNoHeaderSC*): it would miss the "
			 "allocations the compiler sends there; rebuild without the experiment to "
			 "trace it",
			 r->t->label, r->gi.goexperiment);
		rc = -ENOENT;
	}
	if (rc)
		return rc;
	r->go_specialized = nspec > 0;
	r->site_what = r->go_specialized ? "runtime.mallocgc and its size-specialized entry points"
					 : "runtime.mallocgc";
	snprintf(r->allocator, sizeof(r->allocator), "%s", r->t->exe);
	return 0;
}

/* A function whose return gives a new block (--live's return probes go there). */
static bool allocates(uint64_t fn)
{
	return fn != AF_FREE && fn != AF_XALLOCX && fn != AF_DALLOCX && fn != AF_SDALLOCX &&
	       fn != AF_TC_DELETE && fn != AF_CXX_DELETE;
}

/* Where to probe: every allocator function of one file, sharing one link (and CPython's object
 * allocator on a second). */
int malloc_find_sites(struct malloc_run *r, char *err, size_t errlen)
{
	int rc;

	for (int f = 0; f < AF_COUNT; f++)
		r->alias_of[f] = -1;
	if (r->go)
		rc = find_go_site(r, err, errlen);
	else
		rc = find_allocator(r, err, errlen);
	if (rc)
		return rc;
	if (!r->go && r->objects)
		find_object_allocator(r);
	if (r->nobj_sites && (r->args->live || r->args->stacks)) {
		/* Its large blocks are malloc's too: the live table and the stacks would count them
		 * twice. */
		fprintf(stderr,
			"rtmon malloc: note: CPython's object allocator (PyObject_Malloc...) is "
			"not traced with %s, only malloc's; drop it to see both\n",
			r->args->live ? "--live" : "--stacks");
		r->nobj_sites = 0;
	}
	for (int i = 0; i < r->nsites; i++)
		if (!r->go && (allocates(AF_OF_COOKIE(r->sites[i].cookie)) ||
			       (r->sites[i].cookie & AF_FORWARDS)))
			/* At the entry probe's offset: only flag-setting instructions come before
			 * it, so the return address is still on top of the stack, and both share
			 * one breakpoint trap. A forwarding free's return forgets its frame. */
			r->ret_sites[r->nret_sites++] = r->sites[i];
	if (!r->go)
		r->site_what = "the allocator functions";
	snprintf(r->site_path, sizeof(r->site_path), "%s", r->allocator);
	for (int f = 0; f < AF_COUNT; f++)
		r->site_emulated[f] = true;
	for (int i = 0; i < r->nsites; i++)
		r->site_emulated[AF_OF_COOKIE(r->sites[i].cookie)] &=
			probe_site_kernel_emulates(r->site_path, r->sites[i].offset);
	for (int i = 0; i < r->nobj_sites; i++)
		r->site_emulated[AF_OF_COOKIE(r->obj_sites[i].cookie)] &=
			probe_site_kernel_emulates(r->obj_allocator, r->obj_sites[i].offset);
	return 0;
}

int malloc_attach_sites(void *ctx, char *err, size_t errlen)
{
	struct malloc_run *r = ctx;

	/* Returns first: an entry seen without its return would leave a stale per-thread entry. */
	if (r->args->live &&
	    probe_attach_return_sites(r->pl, r->skel->progs.on_alloc_return, target_probe_pid(r->t),
				      r->site_path, r->ret_sites, r->nret_sites, r->site_what, err,
				      errlen))
		return -1;
	if (probe_attach_sites(r->pl, r->skel->progs.on_alloc_call, target_probe_pid(r->t),
			       r->site_path, r->sites, r->nsites, r->site_what, err, errlen))
		return -1;
	return r->nobj_sites ? probe_attach_sites(r->pl, r->skel->progs.on_alloc_call,
						  target_probe_pid(r->t), r->obj_allocator,
						  r->obj_sites, r->nobj_sites,
						  "CPython's object allocator", err, errlen)
			     : 0;
}

void malloc_detach_sites(void *ctx)
{
	struct malloc_run *r = ctx;

	probe_links_destroy(r->pl);
}

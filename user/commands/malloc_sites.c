/* rtmon malloc: which allocator to probe, each function's probe site, and attaching them. A static
 * executable is probed itself; otherwise the first library that defines malloc, in the loader's
 * order; a Go program at runtime.mallocgc. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "binary/objfile.h"
#include "binary/probe_site.h"
#include "commands/malloc_run.h"
#include "alloc.skel.h"

/* The allocator is the first file in lookup order that defines malloc: the executable itself for
 * static builds (or ones that link an allocator in), else a library. */
static int find_allocator(struct malloc_run *r, struct objfile_sym funcs[AF_COUNT],
			  bool found[AF_COUNT], char *err, size_t errlen)
{
	const struct image *img = &r->t->image;

	for (int i = 0; i < img->n; i++) {
		struct objfile ef;
		char e2[256];

		if (objfile_open(&ef, img->paths[i], e2, sizeof(e2)))
			continue;
		if (objfile_find_func(&ef, "malloc", &funcs[AF_MALLOC])) {
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
		found[AF_MALLOC] = true;
		for (int f = 0; f < AF_NATIVE_COUNT; f++)
			if (f != AF_MALLOC)
				found[f] = !objfile_find_func(&ef, malloc_fn_names[f], &funcs[f]);
		snprintf(r->allocator, sizeof(r->allocator), "%s", img->paths[i]);
		objfile_close(&ef);
		return 0;
	}
	snprintf(err, errlen,
		 "no allocator (malloc) in %s or its %d libraries: rtmon malloc traces programs "
		 "that call malloc",
		 r->t->label, img->n - 1);
	return -ENOENT;
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

/* Where to probe: every allocator function of one file, sharing one link. */
int malloc_find_sites(struct malloc_run *r, char *err, size_t errlen)
{
	struct objfile_sym funcs[AF_COUNT] = { 0 };
	bool found[AF_COUNT] = { 0 };
	int rc;

	for (int f = 0; f < AF_COUNT; f++)
		r->alias_of[f] = -1;
	if (r->go)
		rc = find_go_site(r, err, errlen);
	else
		rc = find_allocator(r, funcs, found, err, errlen);
	if (rc)
		return rc;
	for (int f = 0; !r->go && f < AF_NATIVE_COUNT; f++) {
		if (!found[f])
			continue;
		for (int g = 0; g < f; g++)
			if (found[g] && r->alias_of[g] < 0 && funcs[g].offset == funcs[f].offset)
				r->alias_of[f] = g;
		if (r->alias_of[f] < 0)
			r->sites[r->nsites++] = (struct probe_site){
				.offset = probe_site_emulated(r->allocator, funcs[f].offset),
				.cookie = (uint64_t)f,
			};
	}
	for (int i = 0; i < r->nsites; i++)
		if (!r->go && r->sites[i].cookie != AF_FREE)
			/* At the entry probe's offset: only flag-setting instructions come before
			 * it, so the return address is still on top of the stack, and both share
			 * one breakpoint trap. */
			r->ret_sites[r->nret_sites++] = r->sites[i];
	if (!r->go)
		r->site_what = "the allocator functions";
	snprintf(r->site_path, sizeof(r->site_path), "%s", r->allocator);
	for (int f = 0; f < AF_COUNT; f++)
		r->site_emulated[f] = true;
	for (int i = 0; i < r->nsites; i++)
		r->site_emulated[r->sites[i].cookie] &=
			probe_site_kernel_emulates(r->site_path, r->sites[i].offset);
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
	return probe_attach_sites(r->pl, r->skel->progs.on_alloc_call, target_probe_pid(r->t),
				  r->site_path, r->sites, r->nsites, r->site_what, err, errlen);
}

void malloc_detach_sites(void *ctx)
{
	struct malloc_run *r = ctx;

	probe_links_destroy(r->pl);
}

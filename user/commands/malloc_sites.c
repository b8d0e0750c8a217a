/* rtmon malloc: which allocator to probe, each function's probe site, and attaching them. A static
 * executable is probed itself; otherwise the first library that defines malloc, in the loader's
 * order; a Go program at runtime.mallocgc. */
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

/* Go: one probe in runtime.mallocgc, after its stack-check prologue so that a call that grows the
 * stack (morestack re-runs the prologue) is counted once. Never a return probe: Go moves stacks. */
static int find_go_site(struct malloc_run *r, char *err, size_t errlen)
{
	struct go_symtab *st;
	struct probe_site *site = &r->sites[0];
	int rc = go_symtab_open(r->t->exe, &st, err, errlen);

	if (rc)
		return rc;
	rc = go_func_body_site(st, "runtime.mallocgc", &site->offset, err, errlen);
	go_symtab_close(st);
	if (rc)
		return rc;
	site->offset = probe_site_emulated(r->t->exe, site->offset);
	site->cookie = AF_MALLOCGC;
	r->nsites = 1;
	r->site_what = "runtime.mallocgc";
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
	for (int i = 0; i < r->nsites; i++)
		r->site_emulated[r->sites[i].cookie] =
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

/* Where rtmon heap probes a Go binary: the runtime's own heap profiler (runtime/mprof.go).
 *
 * Go 1.17 to 1.26 (read in each release's source and checked in its binaries): mallocgc samples one
 * allocation per MemProfileRate bytes and calls profilealloc, which calls mProf_Malloc with the
 * object and its size (p, size before Go 1.23; mp, p, size from 1.23, when the stack moved onto
 * the m); the runtime takes that call's stack. When the sweeper frees a sampled object it calls
 * freeSpecial(s, p, size) for the object's profile record, and freeSpecial calls
 * mProf_Free(bucket, size). None of the three is inlined into its callers in those releases. */
#ifndef RTMON_GO_HEAP_SITES_H
#define RTMON_GO_HEAP_SITES_H

#include <stdbool.h>
#include <stdint.h>
#include "runtime/go/goelf.h"

struct go_heap_sites {
	/* File offsets of the probes: each function's first instruction after its stack check (an
	 * entry probe there is not hit again when morestack runs the function again). */
	uint64_t malloc_off, free_special_off, free_off;
	uint64_t
		malloc_vaddr; /* link-time address of malloc_off: with its run-time one, the bias */
	bool malloc_has_mp;   /* Go 1.23+: mProf_Malloc(mp, p, size) */
	/* Where freeSpecial's special says its kind, and the kind of a profile record, in the
	 * releases read (runtime.special: next, offset uint16 then uintptr from 1.24, kind;
	 * _KindSpecialProfile 2, 3 from 1.23, 4 from 1.25): freeSpecial alone then tells a sampled
	 * object's free, one trap instead of two. -1: not known, mProf_Free is probed too. */
	int special_kind_off, special_profile_kind;
	/* Link-time address of runtime.MemProfileRate (an int); 0 when not found. */
	uint64_t rate_vaddr;
	bool rate_from_symtab;
};

/* The sites in the binary st (its build info gi). -ENOENT with a one-line message naming the
 * release and the function missing: rtmon heap cannot work there. */
int go_heap_sites_find(struct go_symtab *st, const struct go_info *gi, struct go_heap_sites *out,
		       char *err, size_t errlen);

/* runtime.MemProfileRate from the code only (stripped binaries keep no data symbols): in
 * runtime.profilealloc, before its first call, the second variable it loads 8 bytes of. getMCache,
 * inlined there first, loads mcache0 (when the m has no P); then `c.memProfRate = MemProfileRate`
 * (Go 1.21+) or the inlined nextSample's `MemProfileRate == 0` loads it (checked against .symtab
 * on every release's build, tests/unit/test_go_inspect.c). 0, or -ENOENT. */
int go_memprofilerate_from_code(struct go_symtab *st, uint64_t *vaddr);

#endif

/* Shared between go_heap.bpf.c and user/stack/go_heap.c: the Go runtime's own heap profile taken
 * from outside. A record per sampled allocation (runtime.mProf_Malloc: the object's address, its
 * size and the stack) and per free of a sampled object (runtime.mProf_Free, with the address that
 * runtime.freeSpecial, its caller, was given). */
#ifndef RTMON_GO_HEAP_H
#define RTMON_GO_HEAP_H

#include "user_stack.h"

/* The probe sites, as the cookie of the one program. */
enum go_heap_site {
	GH_MALLOC,       /* runtime.mProf_Malloc */
	GH_FREE_SPECIAL, /* runtime.freeSpecial: remembers its object for mProf_Free */
	GH_FREE,         /* runtime.mProf_Free */
};

enum go_heap_kind { GHR_ALLOC = 1, GHR_FREE = 2 };

/* Every record begins with this; a GHR_ALLOC record goes on with the stack. */
struct go_heap_hdr {
	__u32 kind; /* enum go_heap_kind */
	__u32 tgid;
	__u64 addr; /* the object; 0 in a free whose freeSpecial was not seen */
	__u64 size; /* mProf_Malloc's and mProf_Free's size argument */
};

struct go_heap_alloc {
	struct go_heap_hdr h;
	__s64 rate;           /* runtime.MemProfileRate when it was sampled; -1: not read */
	struct user_stack us; /* last: its copy is never sent */
};

enum go_heap_counter {
	GHC_HITS, /* probe hits of the target */
	GHC_LOST, /* records lost to a full ring */
	GHC_NCOUNTERS,
};

#endif

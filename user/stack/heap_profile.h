/* A Go program's heap profile, taken from outside: the runtime's own sampling (one allocation per
 * MemProfileRate bytes, runtime/mprof.go) seen at its probes (bpf/go_heap.bpf.c), each sampled
 * allocation's stack symbolized while the process runs, each free of a sampled object matched to
 * its allocation by address. The profile has pprof's four heap values per stack (alloc_objects,
 * alloc_space, inuse_objects, inuse_space), scaled as runtime/pprof scales them (scaleHeapSample)
 * with the process's MemProfileRate read from its memory, and the runtime frames above the
 * allocating code hidden as runtime/pprof hides them. Objects sampled before tracing began are not
 * known: their frees are counted apart, and inuse is what was sampled while tracing. rtmon heap
 * runs it in its event loop; serve's /debug/pprof/heap takes snapshots from an HTTP thread (the
 * collector locks itself). */
#ifndef RTMON_HEAP_PROFILE_H
#define RTMON_HEAP_PROFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <bpf/libbpf.h>
#include "output/profile.h"
#include "proc/target.h"
#include "stack/stacks.h"

struct go_heap;

/* The value types, in the profile's order. */
enum { GH_ALLOC_OBJECTS, GH_ALLOC_SPACE, GH_INUSE_OBJECTS, GH_INUSE_SPACE, GH_NTYPES };
extern const struct profile_value_type go_heap_types[GH_NTYPES];

/* Finds the sites in t's executable (a Go binary of a release rtmon knows: else one line in err
 * naming the problem, -ENOEXEC for a program that is not Go, -ENOENT for a release without the
 * functions), loads and attaches the probes. cmd names the command in messages. ring_bytes: the
 * record ring's size (a power of two of at least a page), 0 for the default 16 MiB, which its
 * pages count twice in RSS once used (the kernel maps a ring's data twice). 0, or -errno with one
 * line in err; *out is then still to be closed. */
int go_heap_open(struct go_heap **out, const struct target *t, const char *cmd, size_t ring_bytes,
		 char *err, size_t errlen);
struct ring_buffer *go_heap_ring(const struct go_heap *gh);
/* The same records drained by another ring manager too (serve: the loop's, every 10 ms, so that
 * stacks are named while the process runs). 0 or a negative errno. */
int go_heap_ring_add(struct go_heap *gh, struct ring_buffer *rb);
/* Tracing begins (the profile's time); the target's MemProfileRate is read. */
void go_heap_started(struct go_heap *gh);
/* Reads MemProfileRate again in every process seen (a program may set it after it starts, and the
 * probe reads it with each sample too); call it now and then and before the report, while the
 * processes run. */
void go_heap_read_rates(struct go_heap *gh);

struct go_heap_counts {
	uint64_t hits, lost;     /* the kernel's: probe hits, records lost to a full ring */
	uint64_t allocs, frees;  /* sampled allocations seen, frees of them */
	uint64_t frees_untraced; /* frees of objects sampled before tracing (not counted) */
	uint64_t live;           /* sampled objects allocated while tracing and not freed */
	int64_t rate;            /* MemProfileRate (of the first process); -1: not read */
	bool rate_from_code;     /* found in the code of a stripped binary */
	struct stacks_counts sc;
	bool oom;
};
void go_heap_get_counts(struct go_heap *gh, struct go_heap_counts *c);

/* The profile now, scaled, with one sample per (process, stack, object size) as runtime/pprof
 * writes it (labels pid and bytes): the caller frees it. NULL on out of memory. */
struct profile *go_heap_profile(struct go_heap *gh);
void go_heap_close(struct go_heap *gh);

#endif

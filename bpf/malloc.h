/* Shared between malloc.bpf.c and user/malloc.c. */
#ifndef RTMON_MALLOC_H
#define RTMON_MALLOC_H

#include "log2.h"
#include "go_sizeclasses.h"

/* The allocation functions rtmon probes, in the order of the BPF programs. */
enum alloc_fn {
	AF_MALLOC,
	AF_CALLOC,
	AF_REALLOC,
	AF_ALIGNED_ALLOC,
	AF_POSIX_MEMALIGN,
	AF_MEMALIGN,
	AF_VALLOC,
	AF_PVALLOC,
	AF_FREE,
	AF_NATIVE_COUNT,             /* the functions above are C allocators' */
	AF_MALLOCGC = AF_NATIVE_COUNT, /* Go: runtime.mallocgc(size, typ, needzero) */
	AF_COUNT,
};

/* Cookie flag: a --budget calibration hit on rtmon's own code (user/budget_calib.c), counted apart. */
#define AF_CALIBRATE (1ULL << 32)

/* One per CPU; userspace sums them. 64-bit counters throughout: a busy process wraps 32 bits in
 * seconds. */
struct malloc_stats {
	__u64 slots[LOG2_SLOTS];     /* allocating calls by log2 of the requested size */
	__u64 count;                 /* allocating calls */
	__u64 bytes;                 /* requested bytes */
	__u64 calls[AF_COUNT];       /* per function, allocating or not */
	__u64 frees;                 /* free(p) with p != NULL, realloc(p, 0) */
	__u64 go_classes[GO_NUM_SIZE_CLASSES + 1]; /* Go: by size class; last = large (> 32 KiB) */
	__u64 go_large_bytes;        /* Go: bytes requested by large allocations */
};

#endif

/* Shared between alloc.bpf.c and user/commands/malloc.c. */
#ifndef RTMON_MALLOC_H
#define RTMON_MALLOC_H

#include "log2.h"
#include "go_sizeclasses.h"
#include "user_stack.h"

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
	/* jemalloc's non-standard API: mallocx(size, flags), rallocx(ptr, size, flags) (a realloc),
	 * xallocx (resizes in place, never a new block: a call, not an allocation), dallocx(ptr,
	 * flags) and sdallocx(ptr, size, flags) (frees). nallocx and sallocx allocate nothing. */
	AF_MALLOCX,
	AF_RALLOCX,
	AF_XALLOCX,
	AF_DALLOCX,
	AF_SDALLOCX,
	/* tcmalloc's C++ entry points that are functions of their own (operator new and delete are
	 * their aliases): tc_new(size) and its nothrow and aligned forms; tc_delete_sized(ptr,
	 * size) and the other deletes but plain tc_delete, which is free itself. */
	AF_TC_NEW,
	AF_TC_DELETE,
	/* C++'s operators new (size first) and delete, where the allocator defines them (jemalloc;
	 * tcmalloc's are tc_new's and tc_delete's aliases, counted there). */
	AF_CXX_NEW,
	AF_CXX_DELETE,
	AF_NATIVE_COUNT,               /* the functions above are C allocators' */
	AF_MALLOCGC = AF_NATIVE_COUNT, /* Go: runtime.mallocgc(size, typ, needzero) */
	/* Go with GOEXPERIMENT=sizespecializedmalloc: runtime.mallocgcTinySizeN,
	 * mallocgcSmallNoScanSCN and mallocgcSmallScanNoHeaderSCN (same arguments), which the
	 * compiler calls directly and mallocgc calls for every size up to GO_SPECIALIZED_MAX. */
	AF_MALLOCGC_SPECIALIZED,
	/* CPython's object allocator (pymalloc), exported by the interpreter or libpython: most
	 * objects are carved from its pools and never reach malloc; larger requests it passes on to
	 * malloc, which counts them again in its own group. */
	AF_PYOBJ_MALLOC,
	AF_PYOBJ_CALLOC,
	AF_PYOBJ_REALLOC, /* (ptr, size): a new size for ptr, or a new block for NULL; never frees
			   */
	AF_PYOBJ_FREE,
	AF_COUNT,
};

/* Keys of the stats map: the allocator's counts (libc's, jemalloc's, Go's ...), --budget's
 * calibration hits, and an object allocator that sits on top of it (CPython's), reported apart. */
enum alloc_group {
	ALLOC_GROUP_MAIN,
	ALLOC_GROUP_CALIBRATE,
	ALLOC_GROUP_OBJECTS,
	ALLOC_GROUP_COUNT,
};

static inline enum alloc_group alloc_fn_group(__u64 fn)
{
	return fn >= AF_PYOBJ_MALLOC && fn <= AF_PYOBJ_FREE ? ALLOC_GROUP_OBJECTS
							    : ALLOC_GROUP_MAIN;
}

/* mallocgc hands a request of at most this many bytes to a specialized function when the
 * experiment is on (runtime.heapBitsInSpan: gc.MinSizeForMallocHeader, 8 * 64 on 64-bit). */
#define GO_SPECIALIZED_MAX 512

/* Probe sites of one run: the native functions, or mallocgc and up to 15 + 2 x 67 specialized
 * ones. */
#define MALLOC_SITES_MAX 160
/* The object allocator's sites, on a file of their own (the interpreter or libpython). */
#define MALLOC_OBJ_SITES_MAX 4

/* Cookie flag: a --budget calibration hit on rtmon's own code (user/trace/budget_calib.c), counted
 * apart. */
#define AF_CALIBRATE (1ULL << 32)
/* Cookie flag: the function may call another probed function of its allocator (tcmalloc's
 * posix_memalign and valloc call memalign, its sized delete free, through their public names):
 * its hit remembers the thread's frame and its code's range, and a probed call made inside it is
 * counted apart, once. The range: the probe's distance from the function's start in bits 34-39,
 * the function's size in bits 40-63. */
#define AF_FORWARDS       (1ULL << 33)
#define AF_FWD_SKIP_SHIFT 34
#define AF_FWD_SIZE_SHIFT 40
#define AF_FWD_SKIP_MAX   63
#define AF_FWD_SIZE_MAX   ((1ULL << 24) - 1)
#define AF_OF_COOKIE(c)   ((c)&0xffffffffULL)

/* One per CPU; userspace sums them. 64-bit counters throughout: a busy process wraps 32 bits in
 * seconds. */
struct malloc_stats {
	__u64 slots[LOG2_SLOTS]; /* allocating calls by log2 of the requested size */
	__u64 count;             /* allocating calls */
	__u64 bytes;             /* requested bytes */
	__u64 size_max;          /* the largest request, and the smallest as its complement (a */
	__u64 size_min_inv;      /* zeroed entry: none yet), bounding the percentiles */
	__u64 calls[AF_COUNT];   /* per function, allocating or not */
	__u64 frees;             /* free(p) with p != NULL, realloc(p, 0) */
	__u64 go_classes[GO_NUM_SIZE_CLASSES + 1]; /* Go: by size class; last = large (> 32 KiB) */
	__u64 go_large_bytes;                      /* Go: bytes requested by large allocations */
	__u64 go_zero_size; /* Go: mallocgc(0): it returns &zerobase, no allocation; not counted */
	/* --live (native only). Signed deltas stored as __u64: a block allocated on one CPU may be
	 * freed on another, so a CPU's sum can be negative; the sum over CPUs (mod 2^64) is the
	 * level. */
	__u64 live_allocs;
	__u64 live_bytes;
	__u64 frees_untracked; /* frees of blocks not in the table: allocated before tracing */
	__u64 live_table_full; /* allocations not recorded: the pointer table (or the per-thread
				* table of calls in progress) was full; the live figures miss them
				*/
	__u64 stacks_lost; /* --stacks: allocations whose stack was not recorded (a full stack map
			    * or table, a hash collision in the stack map, a full ring) */
	__u64 nested;      /* calls made from inside another probed function (AF_FORWARDS): counted
			    * there, not again */
};

/* AF_FORWARDS: a forwarding function's frame at its entry, per thread. A later hit is inside it
 * when its return address is in the function's code (a call made inside it), or when it has the
 * same stack pointer and return address (a tail jump: another function reached with the
 * forwarder's frame: a hit outside its code). The forwarder itself at the same sp is a new call
 * from the same call site. */
struct fwd_frame {
	__u64 sp;
	__u64 ret;
	__u64 fn;
	__u64 lo, hi; /* the function's code */
};

/* --live: a block allocated while tracing, by process and address (--binpath traces many
 * processes). */
struct live_key {
	__u32 tgid;
	__u32 pad;
	__u64 ptr;
};

/* --stacks: where an allocating call's stack is. Frame-pointer path: walked = 1 and id is the hash
 * of the walk's frames (stack_walks holds them). DWARF path: walked = 0 and id is the call's
 * record number (alloc_stack_rec.seq). Both 0: no stack was recorded. */
struct alloc_stack_key {
	__u32 tgid;
	__u32 walked;
	__u64 id;
};

/* --stacks, frame-pointer path: the frames of one walk, innermost first: the allocating
 * function's address, its caller (the return address at [sp] at its entry, which a walk from the
 * frame pointer misses: the function has not pushed its frame yet), then the frame-pointer chain.
 * rtmon's own walk rather than bpf_get_stackid: a third of the cost per call here (the kernel's
 * user callchain took about 950 ns a call, this walk about 260 ns; docs/PERFORMANCE.md). */
#define ALLOC_WALK_MAX 128 /* a power of two; at most USER_STACK_MAX_IPS frames are kept */
struct alloc_stack_walk {
	__u32 nips;
	__u32 full; /* the walk stopped at the frame limit */
	__u64 ips[ALLOC_WALK_MAX];
};

/* --stacks: what one stack allocated (both counted in the kernel, per stack). */
struct alloc_stack_value {
	__u64 count;
	__u64 bytes;
};

/* --stacks, DWARF path: one record per allocating call, with its stack copied for userspace's
 * unwinder; seq numbers the thread's allocations (--live joins blocks to their records by it). */
struct alloc_stack_rec {
	__u64 size;
	__u64 seq;
	__u32 tgid;
	__u32 fn;
	struct user_stack us; /* last */
};

/* --live: a block allocated while tracing. */
struct live_block {
	__u64 size;                 /* requested */
	__u64 time_ns;              /* CLOCK_MONOTONIC at its allocation's return */
	struct alloc_stack_key key; /* --stacks: where it was allocated; else zero */
};

/* --live: an allocating call between its entry and its return, per thread. */
struct live_call {
	__u64 size;
	__u64 arg;      /* posix_memalign: memptr; realloc: the old pointer */
	__u64 old_size; /* realloc: the old block's size, when it was in the table */
	__u32 fn;
	__u32 old_found; /* realloc: the old block was in the table (and was taken out at entry) */
	__u64 old_time_ns;              /* realloc: the old block's, to put it back */
	struct alloc_stack_key old_key; /* if realloc fails */
	struct alloc_stack_key key;     /* --stacks: the call's stack */
};

#define LIVE_TABLE_ENTRIES (1U << 20)
#define LIVE_CALLS_ENTRIES 65536
/* --stacks: distinct walks kept (1 KiB each, allocated as they come), and distinct (process,
 * stack) keys counted. */
#define ALLOC_STACK_IDS  16384
#define ALLOC_STACK_KEYS 65536

#endif

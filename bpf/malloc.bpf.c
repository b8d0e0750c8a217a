// SPDX-License-Identifier: GPL-2.0
/* rtmon malloc: a log2 histogram of allocation sizes, aggregated in the kernel (no event per call). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "malloc.h"
#include "target_filter.bpf.h"

/* Key 0: the target's counts. Key 1: --budget's calibration hits on rtmon's own code. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct malloc_stats);
} stats SEC(".maps");

/* A calibration hit does all a target's hit does (the filter included) and counts under key 1, so that
 * --budget measures the whole cost of a hit. */
static __always_inline struct malloc_stats *target_stats(bool calibrating)
{
	bool target = current_is_target();
	__u32 key = calibrating;

	if (!target && !calibrating)
		return NULL;
	return bpf_map_lookup_elem(&stats, &key);
}

/* Counts one allocating call; returns the stats it updated (NULL when the caller is not a target), so
 * callers can add to them without filtering twice. */
static __always_inline struct malloc_stats *record_alloc(__u64 fn, __u64 size, bool calib)
{
	struct malloc_stats *s = target_stats(calib);

	if (!s || fn >= AF_COUNT) /* for the verifier: cookies come from rtmon's own enum */
		return NULL;
	s->calls[fn]++;
	s->count++;
	s->bytes += size;
	s->slots[log2_slot(size) & (LOG2_SLOTS - 1)]++;
	return s;
}

/* Go's register ABI passes the first integer argument in RAX (amd64), X0 (arm64). */
#if defined(__TARGET_ARCH_x86)
#define GO_ARG1(ctx) ((ctx)->ax)
#else
#define GO_ARG1(ctx) PT_REGS_PARM1(ctx)
#endif

static __always_inline int record_go_alloc(struct pt_regs *ctx, bool calib)
{
	__u64 size = GO_ARG1(ctx);
	struct malloc_stats *s = record_alloc(AF_MALLOCGC, size, calib);
	unsigned int cls;

	if (!s)
		return 0;
	cls = go_size_class(size);
	if (cls > GO_CLASS_LARGE)
		return 0;
	s->go_classes[cls]++;
	if (cls == GO_CLASS_LARGE)
		s->go_large_bytes += size;
	return 0;
}

/* One program for every allocator function: userspace attaches it at each function's address with
 * the function's enum alloc_fn as the cookie, so all sites of a file share one uprobe_multi link. */
SEC("uprobe")
int BPF_KPROBE(on_alloc_call, unsigned long a0, unsigned long a1, unsigned long a2)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u64 fn = cookie & ~AF_CALIBRATE;
	bool calib = cookie & AF_CALIBRATE;
	struct malloc_stats *s;

	switch (fn) {
	case AF_MALLOC:
	case AF_VALLOC:
	case AF_PVALLOC:
		record_alloc(fn, a0, calib);
		return 0;
	case AF_CALLOC:
		record_alloc(fn, (__u64)a0 * a1, calib);
		return 0;
	case AF_ALIGNED_ALLOC:
	case AF_MEMALIGN:
		record_alloc(fn, a1, calib);
		return 0;
	case AF_POSIX_MEMALIGN:
		record_alloc(fn, a2, calib);
		return 0;
	case AF_REALLOC:
		/* glibc forwards realloc(NULL, n) to malloc and realloc(p, 0) to free, through the entry
		 * points rtmon probes: those calls are counted there, not twice. */
		if (a0 && a1) {
			record_alloc(fn, a1, calib);
			return 0;
		}
		break;
	case AF_FREE:
		if (!a0)
			return 0;
		break;
	case AF_MALLOCGC:
		return record_go_alloc(ctx, calib);
	default:
		return 0;
	}
	s = target_stats(calib);
	if (!s || fn >= AF_COUNT)
		return 0;
	s->calls[fn]++;
	if (fn == AF_FREE)
		s->frees++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

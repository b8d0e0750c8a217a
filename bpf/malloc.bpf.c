// SPDX-License-Identifier: GPL-2.0
/* rtmon malloc: a log2 histogram of allocation sizes, aggregated in the kernel (no event per call). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "malloc.h"
#include "target_filter.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct malloc_stats);
} stats SEC(".maps");

static __always_inline struct malloc_stats *target_stats(void)
{
	__u32 zero = 0;

	if (!current_is_target())
		return NULL;
	return bpf_map_lookup_elem(&stats, &zero);
}

static __always_inline int record_alloc(enum alloc_fn fn, __u64 size)
{
	struct malloc_stats *s = target_stats();

	if (!s)
		return 0;
	s->calls[fn]++;
	s->count++;
	s->bytes += size;
	s->slots[log2_slot(size) & (LOG2_SLOTS - 1)]++;
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(on_malloc, size_t size)
{
	return record_alloc(AF_MALLOC, size);
}

SEC("uprobe")
int BPF_KPROBE(on_calloc, size_t nmemb, size_t size)
{
	return record_alloc(AF_CALLOC, (__u64)nmemb * size);
}

/* glibc forwards realloc(NULL, n) to malloc and realloc(p, 0) to free, through the same entry points
 * rtmon probes: count those calls there, not twice. */
SEC("uprobe")
int BPF_KPROBE(on_realloc, void *ptr, size_t size)
{
	struct malloc_stats *s;

	if (ptr && size)
		return record_alloc(AF_REALLOC, size);
	s = target_stats();
	if (s)
		s->calls[AF_REALLOC]++;
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(on_aligned_alloc, size_t align, size_t size)
{
	return record_alloc(AF_ALIGNED_ALLOC, size);
}

SEC("uprobe")
int BPF_KPROBE(on_posix_memalign, void **memptr, size_t align, size_t size)
{
	return record_alloc(AF_POSIX_MEMALIGN, size);
}

SEC("uprobe")
int BPF_KPROBE(on_memalign, size_t align, size_t size)
{
	return record_alloc(AF_MEMALIGN, size);
}

SEC("uprobe")
int BPF_KPROBE(on_valloc, size_t size)
{
	return record_alloc(AF_VALLOC, size);
}

SEC("uprobe")
int BPF_KPROBE(on_pvalloc, size_t size)
{
	return record_alloc(AF_PVALLOC, size);
}

SEC("uprobe")
int BPF_KPROBE(on_free, void *ptr)
{
	struct malloc_stats *s;

	if (!ptr)
		return 0;
	s = target_stats();
	if (s) {
		s->calls[AF_FREE]++;
		s->frees++;
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

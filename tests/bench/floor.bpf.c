// SPDX-License-Identifier: GPL-2.0
/* The benchmark's floor: the least a uprobe-based malloc monitor can do per call. Each program only
 * bumps a per-CPU counter; no PID check (the uprobe is attached to one PID), no argument read. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2); /* 0: malloc hits, 1: free hits */
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static __always_inline int bump(__u32 key)
{
	__u64 *n = bpf_map_lookup_elem(&hits, &key);

	if (n)
		(*n)++;
	return 0;
}

SEC("uprobe")
int floor_malloc(void *ctx)
{
	return bump(0);
}

SEC("uprobe")
int floor_free(void *ctx)
{
	return bump(1);
}

char LICENSE[] SEC("license") = "GPL";

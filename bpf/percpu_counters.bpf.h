/* Per-CPU 64-bit counters (lost events, probe hits, ...): an array map with one __u64 per key and
 * CPU, bumped without atomics and summed by userspace (probe_sum_percpu_counters in
 * user/trace/probe.c). */
#ifndef RTMON_PERCPU_COUNTERS_BPF_H
#define RTMON_PERCPU_COUNTERS_BPF_H

#define PERCPU_COUNTERS(name, nkeys)                                                               \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);                                           \
		__uint(max_entries, nkeys);                                                        \
		__type(key, __u32);                                                                \
		__type(value, __u64);                                                              \
	} name SEC(".maps")

static __always_inline void counter_inc(void *map, __u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(map, &idx);

	if (v)
		(*v)++;
}

#endif

/* Ring buffer submission with batched wakeups, shared by the BPF objects that emit events.
 *
 * A wakeup per event (the default of bpf_ringbuf_submit) costs the consumer an epoll return and a
 * drain per record, far more than the record itself. So records are submitted without a wakeup
 * and rtmon drains the ring on its own periodic poll (every 10 ms); only once the unread data
 * passes a threshold is the consumer woken at once, so that a burst cannot fill the ring before
 * the next poll.
 *
 * The ring and counter maps are passed as void *: the helpers are __always_inline, so each call
 * site still hands the verifier a constant map pointer (and a constant reservation size). */
#ifndef RTMON_RINGBUF_BATCH_BPF_H
#define RTMON_RINGBUF_BATCH_BPF_H

#include "percpu_counters.bpf.h"

/* A ring buffer map of the given size in bytes (a power of two, a multiple of the page size). */
#define RINGBUF_MAP(name, bytes)                                                                   \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_RINGBUF);                                                \
		__uint(max_entries, bytes);                                                        \
	} name SEC(".maps")

/* Reserves size bytes in ring rb; on failure (the ring is full) counts one lost event under key
 * lost_idx of the per-CPU counter map counters, and returns NULL. */
static __always_inline void *rb_reserve(void *rb, __u64 size, void *counters, __u32 lost_idx)
{
	void *e = bpf_ringbuf_reserve(rb, size, 0);

	if (!e)
		counter_inc(counters, lost_idx);
	return e;
}

/* How often a CPU asks how much is unread: BPF_RB_AVAIL_DATA reads the consumer's position, a
 * cache line rtmon's reader writes from another CPU, and cost about 0.7 us a record on the
 * goroutine bench (bpf run-time statistics: on_go_site 1.39 us a run with the query, 0.65 us
 * without). Between two queries a CPU adds at most this many records, far below the thresholds'
 * margins (each ring's threshold is at most a quarter of it). */
#define RB_QUERY_EVERY 64

/* Records submitted on this CPU, in this object: every RB_QUERY_EVERY-th one queries. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} rb_submits SEC(".maps");

/* Submits e, reserved in ring rb, waking the consumer only if at least wake_bytes are unread
 * (looked at on every RB_QUERY_EVERY-th submission of the CPU). */
static __always_inline void rb_submit_batched(void *rb, void *e, __u64 wake_bytes)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&rb_submits, &zero), flags = BPF_RB_NO_WAKEUP;

	if (!n || !(++*n & (RB_QUERY_EVERY - 1)))
		flags = bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA) >= wake_bytes ? BPF_RB_FORCE_WAKEUP
									       : BPF_RB_NO_WAKEUP;
	bpf_ringbuf_submit(e, flags);
}

#endif

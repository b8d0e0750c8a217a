// SPDX-License-Identifier: GPL-2.0
/* rtmon profile: a CPU-clock perf event on every CPU runs this program HZ times a second; a sample
 * whose current thread belongs to the target is sent with its user stack (and kernel stack with
 * --kernel). One event per CPU with the target filter in BPF, rather than one per thread: threads
 * started later and every process of --binpath are covered without opening events as they come. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "cpu_samples.h"
#include "user_stack.bpf.h"
#include "percpu_counters.bpf.h"
#include "ringbuf_batch.bpf.h"
#include "target_filter.bpf.h"

/* 16 MiB: about 800 samples with a stack copy, seconds of -F 99 on many CPUs between the 10 ms
 * drains; many more without copies. */
#define RING_BYTES (16 << 20)
#define WAKE_BYTES (RING_BYTES / 8)

const volatile bool stack_copy = false;   /* copy the stack for DWARF unwinding (else the walk) */
const volatile bool kernel_stack = false; /* --kernel */

RINGBUF_MAP(samples, RING_BYTES);
PERCPU_COUNTERS(counters, CS_NCOUNTERS);

static __always_inline void fill(struct bpf_perf_event_data *ctx, struct cpu_sample *s, __u64 id)
{
	long n;

	s->time_ns = bpf_ktime_get_ns();
	s->tgid = id >> 32;
	s->tid = (__u32)id;
	bpf_get_current_comm(s->comm, sizeof(s->comm));
	s->nkips = 0;
	if (kernel_stack) {
		n = bpf_get_stack(ctx, s->kips, sizeof(s->kips), 0);
		s->nkips = n > 0 ? (__u32)n / sizeof(__u64) : 0;
	}
	user_stack_capture(ctx, user_stack_current_regs(), &s->us, stack_copy, false);
}

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct cpu_sample *s;

	if (!(id >> 32) || !current_is_target())
		return 0;
	counter_inc(&counters, CS_SAMPLES);
	if (stack_copy)
		s = rb_reserve(&samples, sizeof(*s), &counters, CS_LOST);
	else
		s = rb_reserve(&samples, USER_STACK_SIZE_NO_COPY(struct cpu_sample), &counters,
			       CS_LOST);
	if (!s)
		return 0;
	fill(ctx, s, id);
	rb_submit_batched(&samples, s, WAKE_BYTES);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

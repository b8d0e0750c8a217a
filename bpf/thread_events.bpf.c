// SPDX-License-Identifier: GPL-2.0
/* rtmon thr: one ring buffer record per thread created or exited in the target. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>
#include "thread_track.bpf.h"
#include "goroutine.bpf.h"
#include "ringbuf_batch.bpf.h"

/* 2 MiB holds about 26,000 records: a quarter of a second of the fastest churn this machine
 * reaches (100,000 goroutines and their threads a second), where the consumer drains every 10 ms
 * and is woken past WAKE_BYTES. The kernel maps a ring's data twice, so its size counts double in
 * rtmon's RSS: 16 MiB made thr's peak 46 MiB, 2 MiB makes it 24 (docs/PERFORMANCE.md). A consumer
 * stalled longer (a terminal that blocks) loses records, counted as lost. */
#define RING_BYTES (2 << 20)
/* Past this much unread data the consumer is woken at once instead of at its next 10 ms poll. */
#define WAKE_BYTES (RING_BYTES / 8)

RINGBUF_MAP(events, RING_BYTES);

static __always_inline struct thr_event *reserve(void)
{
	return rb_reserve(&events, sizeof(struct thr_event), &tt_counters, TC_LOST);
}

static __always_inline void submit(struct thr_event *e)
{
	rb_submit_batched(&events, e, WAKE_BYTES);
}

SEC("uprobe")
int BPF_KPROBE(on_pthread_create, void *thread, void *attr, void *start_routine)
{
	return tt_on_pthread_create((__u64)start_routine);
}

SEC("tp_btf/task_newtask")
int BPF_PROG(on_newtask, struct task_struct *task, __u64 clone_flags)
{
	struct tt_thread th;
	struct thr_event *e;

	if (!tt_on_newtask(task, clone_flags, false, &th))
		return 0;
	e = reserve();
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->kind = THR_EV_CREATE;
	e->ts_ns = th.create_ns;
	e->pid = task->tgid;
	e->tid = task->pid;
	e->ptid = th.ptid;
	if (th.has_start) {
		e->flags = THR_F_START;
		e->start_addr = th.start_addr;
		e->start = th.start;
	}
	/* The creator's name, which the new thread inherits. */
	bpf_get_current_comm(e->name, sizeof(e->name));
	submit(e);
	return 0;
}

/* Exit records carry no start routine or parent: userspace joins them from the create record, which
 * always comes first in the ring (task_newtask runs before the new thread can run). */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *task, bool group_dead)
{
	struct thr_event *e;
	__u64 lifetime;
	bool known, before;

	if (!tt_on_exit(task, false, &known, &before, &lifetime, NULL))
		return 0;
	if (group_dead)
		gr_on_process_exit(task->tgid);
	e = reserve();
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->kind = THR_EV_EXIT;
	e->pid = task->tgid;
	e->tid = task->pid;
	if (known || before) {
		e->flags = THR_F_LIFETIME | (before ? THR_F_BEFORE : 0);
		e->lifetime_ns = lifetime;
		e->ts_ns = task->start_time + lifetime;
	} else {
		e->ts_ns = bpf_ktime_get_ns();
	}
	if (group_dead)
		e->flags |= THR_F_GROUP_DEAD;
	bpf_get_current_comm(e->name, sizeof(e->name));
	submit(e);
	return 0;
}

/* JVM targets: HotSpot's hotspot:thread__start/thread__stop(char *name, int len, jlong java_tid,
 * uintptr_t os_tid, bool daemon), fired by the Java thread itself once it runs and when it exits
 * (libbpf attaches them; userspace loads these programs only for a JVM). */
static __always_inline int java_event(__u8 kind, const void *name, long len, long java_tid,
				      long os_tid, long daemon)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct thr_java_event *e;
	__u32 n;

	if (!current_is_target())
		return 0;
	e = rb_reserve(&events, sizeof(*e), &tt_counters, TC_LOST);
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->base.kind = kind;
	e->base.ts_ns = bpf_ktime_get_ns();
	e->base.pid = id >> 32;
	e->base.tid = os_tid > 0 ? (__u32)os_tid : (__u32)id;
	e->base.flags = (__u8)daemon ? THR_F_DAEMON : 0;
	bpf_get_current_comm(e->base.name, sizeof(e->base.name));
	e->java_tid = java_tid;
	n = len < 0 ? 0 : len > THR_JAVA_NAME_LEN - 1 ? THR_JAVA_NAME_LEN - 1 : (__u32)len;
	n &= THR_JAVA_NAME_LEN - 1;
	if (bpf_probe_read_user(e->java_name, n, name))
		n = 0;
	e->java_name[n & (THR_JAVA_NAME_LEN - 1)] = 0;
	submit(&e->base);
	return 0;
}

SEC("usdt")
int BPF_USDT(on_java_thread_start, void *name, long len, long java_tid, long os_tid, long daemon)
{
	return java_event(THR_EV_JAVA_START, name, len, java_tid, os_tid, daemon);
}

SEC("usdt")
int BPF_USDT(on_java_thread_stop, void *name, long len, long java_tid, long os_tid, long daemon)
{
	return java_event(THR_EV_JAVA_STOP, name, len, java_tid, os_tid, daemon);
}

/* Go targets: goroutine records, in a ring of their own (bpf/goroutine.bpf.h). 1 MiB holds about
 * 17,000: the goroutine bench's 100,000 a second lose none. */
RINGBUF_MAP(gr_events, 1 << 20);

/* Past this much unread goroutine data the consumer is woken at once. */
#define GR_WAKE_BYTES (128 << 10)

SEC("uprobe")
int on_go_site(struct pt_regs *ctx)
{
	struct gr_event ev = {}, *e;

	if (!gr_handle(ctx, &ev))
		return 0;
	e = rb_reserve(&gr_events, sizeof(*e), &gr_counters, GRC_LOST);
	if (!e)
		return 0;
	*e = ev;
	rb_submit_batched(&gr_events, e, GR_WAKE_BYTES);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

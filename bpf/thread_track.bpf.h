/* Thread create/exit tracking shared by thread_events.bpf.c and thread_lifetimes.bpf.c.
 *
 * task_newtask (in the creating thread, with CLONE_THREAD) and sched_process_exit see every thread,
 * raw clones included. A uprobe on pthread_create records the start routine on the calling thread;
 * the clone happens inside that call, in the same thread, so task_newtask finds it there and joins
 * the two.
 *
 * Cost matters: this runs for every thread the target makes. So no per-thread hash map: the
 * lifetime comes from the kernel's own task->start_time (ktime_get_ns() at fork, the clock of
 * bpf_ktime_get_ns()), and per-thread state lives in task local storage (a pointer off the task,
 * freed with it). Each file that includes this header gets its own maps; the SEC() programs stay in
 * the including file so each command decides what to emit. */
#ifndef RTMON_THREAD_TRACK_BPF_H
#define RTMON_THREAD_TRACK_BPF_H

#include <bpf/bpf_core_read.h>
#include "threads.h"
#include "target_filter.bpf.h"

#define TT_CLONE_THREAD 0x00010000ULL
#define TT_PAGE_SHIFT   12

/* Set by userspace once the tracepoints are attached. A thread other than a main thread is "seen
 * created" when it started at or after this time: task_newtask and sched_process_exit both use that
 * one test, so every thread counted as created has its exit counted with a lifetime, and no other
 * does. A main thread (TID = PID) comes from fork, not from a thread create: never counted as
 * created. 0: not tracing yet. */
__u64 tt_trace_start_ns = 0;
/* Set by userspace just before it attaches the tracepoints: a thread (not a main thread) that
 * started between this and tt_trace_start_ns was created while rtmon attached. It is not seen
 * created either, but its exit is counted apart from those of threads older than rtmon. */
__u64 tt_attach_ns = 0;

/* What rtmon keeps on a task. */
struct tt_task {
	/* On a thread inside pthread_create: the start routine of the clone it is about to make. A
	 * call that fails before cloning leaves it set until the thread's next pthread_create. */
	__u64 pend_addr;
	struct thr_start pend;
	__u32 pending;
	/* On a new thread, when the including program asks (lat --by-start): its start routine. */
	__u32 has_start;
	struct thr_start start;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tt_task);
} tt_tasks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TC_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} tt_counters SEC(".maps");

/* Start routines already placed, per process: bpf_find_vma only trylocks mmap_lock, and a process
 * that churns threads holds it for writing often (stack mmap/munmap), so a lookup can fail exactly
 * when it matters most. A routine found once stays found, and the address fallback (resolved by
 * userspace only while the process lives) is left for a routine never placed. */
struct tt_start_key {
	__u32 tgid;
	__u32 pad;
	__u64 addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct tt_start_key);
	__type(value, struct thr_start);
} tt_start_cache SEC(".maps");

/* The new thread as task_newtask saw it. */
struct tt_thread {
	__u64 create_ns;
	__u64 start_addr;
	struct thr_start start;
	__u32 ptid;
	__u32 has_start;
};

static __always_inline void tt_count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&tt_counters, &idx);

	if (v)
		(*v)++;
}

static __always_inline bool tt_seen_created(struct task_struct *task)
{
	__u64 t0 = tt_trace_start_ns;

	return t0 && task->start_time >= t0 && task->pid != task->tgid;
}

/* bpf_find_vma callback: the file and file offset behind the start address, so that userspace can
 * name it after the process is gone and merge processes of one binary. Direct loads through BTF
 * pointers: no helper call per field. */
struct tt_vma_ctx {
	__u64 addr;
	struct thr_start start;
};

static long tt_vma_cb(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct tt_vma_ctx *c = data;
	struct file *f = vma->vm_file;

	if (!f)
		return 0;
	c->start.ino = f->f_inode->i_ino;
	c->start.dev = f->f_inode->i_sb->s_dev;
	c->start.off = c->addr - vma->vm_start + (vma->vm_pgoff << TT_PAGE_SHIFT);
	c->start.tgid = 0;
	return 0;
}

/* pthread_create entry: remember the start routine for the clone this call is about to make. */
static __always_inline int tt_on_pthread_create(__u64 start_routine)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	/* Fallback when the mapping cannot be read (find_vma only trylocks mmap_lock): the address,
	 * for userspace to resolve through /proc/PID/maps. */
	struct tt_vma_ctx c = { .addr = start_routine,
				.start = { .off = start_routine,
					   .tgid = bpf_get_current_pid_tgid() >> 32 } };
	struct tt_start_key key = { .tgid = c.start.tgid, .addr = start_routine };
	struct thr_start *known;
	struct tt_task *s;

	if (!current_is_target())
		return 0;
	s = bpf_task_storage_get(&tt_tasks, cur, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!s)
		return 0;
	known = bpf_map_lookup_elem(&tt_start_cache, &key);
	if (known)
		c.start = *known;
	else if (!bpf_find_vma(cur, start_routine, tt_vma_cb, &c, 0) && c.start.ino)
		bpf_map_update_elem(&tt_start_cache, &key, &c.start, BPF_ANY);
	s->pend_addr = start_routine;
	s->pend = c.start;
	s->pending = 1;
	return 0;
}

/* task_newtask, in the creating thread. Fills th and returns true for a new thread of a target.
 * keep_start: store the start routine on the new thread, for tt_on_exit to return. */
static __always_inline bool tt_on_newtask(struct task_struct *task, __u64 clone_flags,
					  bool keep_start, struct tt_thread *th)
{
	struct tt_task *ps, *cs;

	if (!(clone_flags & TT_CLONE_THREAD) || !tt_seen_created(task))
		return false;
	/* tp_btf arguments are trusted BTF pointers: plain loads, cheaper than BPF_CORE_READ's
	 * helper. */
	if (!task_is_target(task, task->tgid))
		return false;
	th->create_ns = task->start_time;
	th->ptid = (__u32)bpf_get_current_pid_tgid();
	th->has_start = 0;
	ps = bpf_task_storage_get(&tt_tasks, bpf_get_current_task_btf(), 0, 0);
	if (ps && ps->pending) {
		th->start_addr = ps->pend_addr;
		th->start = ps->pend;
		th->has_start = 1;
		ps->pending = 0;
	}
	if (keep_start && th->has_start) {
		cs = bpf_task_storage_get(&tt_tasks, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (cs) {
			cs->start = th->start;
			cs->has_start = 1;
		} else {
			tt_count(TC_TRACK_FULL);
		}
	}
	tt_count(TC_CREATED);
	return true;
}

/* sched_process_exit, in the exiting thread. Returns true for a thread of a target; *known is set
 * when the thread was seen created, *before when it is a thread (not a main thread) that started
 * before tracing; for both, *lifetime_ns is its lifetime from the kernel's task->start_time. With
 * keep_start, *start is its start routine when known (else left all zero). The tracepoint runs
 * before exit_mm (kernel 6.16+, where it has group_dead), so the executable filter works here. */
static __always_inline bool tt_on_exit(struct task_struct *task, bool keep_start, bool *known,
				       bool *before, __u64 *lifetime_ns, struct thr_start *start)
{
	struct tt_task *cs;

	if (!task_is_target(task, task->tgid))
		return false;
	*known = tt_seen_created(task);
	*before = !*known && task->pid != task->tgid;
	*lifetime_ns = *known || *before ? bpf_ktime_get_ns() - task->start_time : 0;
	if (keep_start && *known) {
		cs = bpf_task_storage_get(&tt_tasks, task, 0, 0);
		if (cs && cs->has_start)
			*start = cs->start;
	}
	/* Apart: main threads (no lifetime), threads created while rtmon attached its tracepoints
	 * (after the first was live, before tracing began) and older ones; both of the last with
	 * their lifetime from task->start_time. */
	if (*before && tt_attach_ns && task->start_time >= tt_attach_ns)
		tt_count(TC_EXITED_ATTACHING);
	else if (*before)
		tt_count(TC_EXITED_BEFORE);
	else if (!*known)
		tt_count(TC_EXITED_UNTRACKED);
	tt_count(TC_EXITED);
	return true;
}

#endif

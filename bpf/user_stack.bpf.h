/* Capturing a user stack from any BPF program (a uprobe, a perf event): see bpf/user_stack.h for
 * the two ways. The record's struct user_stack must be in map memory (a ring buffer reservation,
 * a per-CPU array): it is far larger than the BPF stack. */
#ifndef RTMON_USER_STACK_BPF_H
#define RTMON_USER_STACK_BPF_H

#include <bpf/bpf_core_read.h>
#include "user_stack.h"

/* The user registers of the current thread: a uprobe's ctx holds them; a perf event may interrupt
 * the kernel (a syscall, a page fault), and the user state is then the one saved at its entry,
 * which bpf_task_pt_regs gives in both cases. */
static __always_inline struct pt_regs *user_stack_current_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

static __always_inline void user_stack_read_regs(struct user_stack *us, struct pt_regs *r)
{
	us->regs[0] = BPF_CORE_READ(r, ax);
	us->regs[1] = BPF_CORE_READ(r, dx);
	us->regs[2] = BPF_CORE_READ(r, cx);
	us->regs[3] = BPF_CORE_READ(r, bx);
	us->regs[4] = BPF_CORE_READ(r, si);
	us->regs[5] = BPF_CORE_READ(r, di);
	us->regs[6] = BPF_CORE_READ(r, bp);
	us->regs[7] = BPF_CORE_READ(r, sp);
	us->regs[8] = BPF_CORE_READ(r, r8);
	us->regs[9] = BPF_CORE_READ(r, r9);
	us->regs[10] = BPF_CORE_READ(r, r10);
	us->regs[11] = BPF_CORE_READ(r, r11);
	us->regs[12] = BPF_CORE_READ(r, r12);
	us->regs[13] = BPF_CORE_READ(r, r13);
	us->regs[14] = BPF_CORE_READ(r, r14);
	us->regs[15] = BPF_CORE_READ(r, r15);
	us->regs[16] = BPF_CORE_READ(r, ip);
}

/* The top of the stack, from sp up to the end of the stack's mapping or USER_STACK_COPY bytes: a
 * page at a time, so that a read crossing the mapping's end (near the top of a thread's stack)
 * keeps the pages before it. The pages above sp were all touched by the thread, so they are
 * resident: the read does not need to fault. */
static __always_inline void user_stack_copy(struct user_stack *us)
{
	__u64 sp = us->regs[USER_STACK_REG_SP];
	__u32 len = USER_STACK_PAGE - (sp & (USER_STACK_PAGE - 1));

	if (bpf_probe_read_user(us->copy, len, (void *)sp)) {
		us->flags |= USF_COPY_FAILED;
		return;
	}
	for (int i = 0; i < USER_STACK_COPY / USER_STACK_PAGE - 1; i++) {
		/* The compiler knows len stays in bounds and would drop this check; the verifier,
		 * whose bounds of len widen with each page, needs it. */
		asm volatile("" : "+r"(len));
		if (len > USER_STACK_COPY - USER_STACK_PAGE ||
		    bpf_probe_read_user(us->copy + len, USER_STACK_PAGE, (void *)(sp + len)))
			break;
		len += USER_STACK_PAGE;
	}
	us->copy_len = len;
	us->flags |= USF_COPY;
}

/* The kernel's frame-pointer walk of the user stack. At a probed function's entry (at_entry) the
 * function has not pushed its frame yet: its return address is at [sp], and the walk, which starts
 * from the caller's frame pointer, skips it. It is read and put second, unless the walk already
 * has it there (a probe placed after the prologue). */
static __always_inline void user_stack_walk(void *ctx, struct user_stack *us, bool at_entry)
{
	long n = bpf_get_stack(ctx, us->ips, sizeof(us->ips), BPF_F_USER_STACK);
	__u64 ret;

	if (n < 0) {
		us->flags |= USF_WALK_FAILED;
		return;
	}
	us->nips = (__u32)n / sizeof(__u64);
	us->flags |= USF_IPS;
	if (at_entry && us->nips >= 1 &&
	    !bpf_probe_read_user(&ret, sizeof(ret), (void *)us->regs[USER_STACK_REG_SP]) &&
	    (us->nips < 2 || us->ips[1] != ret)) {
		/* shift by one, keeping the last slot's frame only if there is room */
		for (int i = USER_STACK_MAX_IPS - 1; i > 1; i--)
			if ((__u32)i <= us->nips)
				us->ips[i] = us->ips[i - 1];
		us->ips[1] = ret;
		if (us->nips < USER_STACK_MAX_IPS)
			us->nips++;
		us->flags |= USF_CALLER_ADDED;
	}
	if (us->nips >= USER_STACK_MAX_IPS)
		us->flags |= USF_IPS_FULL;
}

/* Fills us: the registers always, then the walk or the copy. ctx: the program's context (for
 * bpf_get_stack); regs: the user registers (a uprobe's ctx, or user_stack_current_regs()). */
static __always_inline void user_stack_capture(void *ctx, struct pt_regs *regs,
					       struct user_stack *us, bool copy, bool at_entry)
{
	us->flags = 0;
	us->nips = 0;
	us->copy_len = 0;
	user_stack_read_regs(us, regs);
	if (copy)
		user_stack_copy(us);
	else
		user_stack_walk(ctx, us, at_entry);
}

#endif

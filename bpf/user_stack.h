/* A user stack as BPF captures it, shared by the BPF objects that take stacks
 * (bpf/user_stack.bpf.h) and by userspace (user/stack/), which turns it into frames.
 *
 * Two ways, chosen per target before load:
 *  - frame pointers: the kernel's walk (bpf_get_stack with BPF_F_USER_STACK) into ips[]. Exact and
 *    cheap where every function keeps a frame pointer (Go on amd64).
 *  - a copy: the registers and the top of the user stack (up to USER_STACK_COPY bytes from sp),
 *    unwound in userspace with the DWARF CFI of .eh_frame (user/stack/unwind.c), as perf
 *    --call-graph dwarf does. Complete through code built without frame pointers (Debian's glibc,
 *    python3.11, -fomit-frame-pointer), as deep as the copy reaches. */
#ifndef RTMON_USER_STACK_H
#define RTMON_USER_STACK_H

#ifndef __VMLINUX_H__ /* userspace */
#include <linux/types.h>
#endif

/* The kernel's own limit (kernel.perf_event_max_stack) is 127 by default. */
#define USER_STACK_MAX_IPS 127
/* 16 KiB holds the frames of ordinary C programs, glibc and CPython's eval loop many calls deep;
 * perf's default is 8 KiB. */
#define USER_STACK_COPY (16 << 10)
#define USER_STACK_PAGE 4096

/* x86-64 registers in DWARF numbering (rax, rdx, rcx, rbx, rsi, rdi, rbp, rsp, r8..r15, rip):
 * what libdw's unwinder takes as a frame's initial state. */
#define USER_STACK_NREGS  17
#define USER_STACK_REG_BP 6
#define USER_STACK_REG_SP 7
#define USER_STACK_REG_IP 16

enum user_stack_flags {
	USF_IPS = 1,           /* ips[] holds the frame-pointer walk */
	USF_COPY = 2,          /* regs[] and copy[] hold the registers and the stack's top */
	USF_IPS_FULL = 4,      /* the walk filled ips[]: deeper frames are cut */
	USF_COPY_FAILED = 8,   /* the stack could not be read (counted as a lost stack) */
	USF_WALK_FAILED = 16,  /* bpf_get_stack failed (counted as a lost stack) */
	USF_CALLER_ADDED = 32, /* at a function's entry: the caller, read at [sp], put in ips[1] */
};

struct user_stack {
	__u32 flags; /* enum user_stack_flags */
	__u32 nips;
	__u32 copy_len; /* bytes of copy[] read, from regs[USER_STACK_REG_SP] up */
	__u32 pad;
	__u64 regs[USER_STACK_NREGS];
	__u64 ips[USER_STACK_MAX_IPS]; /* innermost first: ips[0] is the interrupted instruction */
	__u8 copy[USER_STACK_COPY];    /* last: records without a copy end before it */
};

/* Bytes of a record that ends with a struct user_stack: without the copy, or whole. */
#define USER_STACK_SIZE_NO_COPY(rec_type) (sizeof(rec_type) - USER_STACK_COPY)

#endif

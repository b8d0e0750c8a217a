/* Shared between cpu_samples.bpf.c and user/commands/profile.c: one record per CPU-clock sample of
 * a target thread on CPU. */
#ifndef RTMON_CPU_SAMPLES_H
#define RTMON_CPU_SAMPLES_H

#include "user_stack.h"

#define CPU_SAMPLE_KERNEL_IPS 64

struct cpu_sample {
	__u64 time_ns; /* CLOCK_MONOTONIC */
	__u32 tgid;
	__u32 tid;
	char comm[16]; /* the thread's name */
	__u32 nkips;   /* kernel frames (--kernel), innermost first */
	__u32 pad;
	__u64 kips[CPU_SAMPLE_KERNEL_IPS];
	struct user_stack us; /* last: its copy is left out when unused */
};

enum cpu_sample_counter {
	CS_SAMPLES, /* samples of a target thread */
	CS_LOST,    /* the ring was full: the sample is lost */
	CS_NCOUNTERS,
};

#endif

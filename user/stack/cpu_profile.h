/* A CPU profile being taken: a CPU-clock perf event on each CPU samples what runs there HZ times a
 * second; samples of the target's threads carry their user stack (bpf/cpu_samples.bpf.c), which
 * the stack layer unwinds and symbolizes into a profile (output/profile.h): samples/count and
 * cpu/nanoseconds per stack, one period (1e9/HZ ns) per sample. rtmon profile runs it in its event
 * loop; serve's /debug/pprof/profile polls it on an HTTP worker thread. */
#ifndef RTMON_CPU_PROFILE_H
#define RTMON_CPU_PROFILE_H

#include <stdbool.h>
#include <stdint.h>
#include "output/profile.h"
#include "proc/target.h"
#include "stack/stacks.h"

enum cpu_unwind { CPU_UNWIND_AUTO, CPU_UNWIND_FP, CPU_UNWIND_DWARF };

struct cpu_profile_opts {
	unsigned hz;
	bool per_thread; /* a "thread" label with each thread's name */
	bool kernel;     /* kernel frames above the user frames */
	enum cpu_unwind unwind;
};

struct cpu_profile;

/* Sets up the profile, loads and attaches the sampler for t (kept by pointer: its executable, its
 * files and its BPF filter). cmd names the command in messages. 0, or -1 with one line in err;
 * *out is then still to be closed. */
int cpu_profile_open(struct cpu_profile **out, const struct target *t,
		     const struct cpu_profile_opts *o, const char *cmd, char *err, size_t errlen);
/* The ring of samples: poll it (ring_buffer__poll) to add them to the profile. */
struct ring_buffer *cpu_profile_ring(const struct cpu_profile *cp);
/* Sampling starts now: the profile's time, for a -- CMD let go after the attach. */
void cpu_profile_started(struct cpu_profile *cp);

struct cpu_profile_counts {
	uint64_t samples, lost; /* the kernel's: samples of the target, lost to a full ring */
	struct stacks_counts sc;
	bool oom;   /* samples left out: no memory to add them */
	bool dwarf; /* stacks copied and unwound with DWARF CFI, not frame pointers */
};

/* Sampling ended after secs: the profile's time and losses set, the counts for a summary. */
void cpu_profile_finish(struct cpu_profile *cp, double secs, struct cpu_profile_counts *c);
struct profile *cpu_profile_result(struct cpu_profile *cp);
void cpu_profile_close(struct cpu_profile *cp);

#endif

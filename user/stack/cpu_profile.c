#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "cpu_samples.h"
#include "cpu_samples.skel.h"
#include "runtime/go/goelf.h"
#include "stack/cpu_profile.h"
#include "trace/skel_open.h"

#define MAX_CPUS 1024

struct cpu_profile {
	struct cpu_profile_opts o;
	const struct target *t;
	struct cpu_samples_bpf *skel;
	struct ring_buffer *rb;
	struct profile *prof;
	struct stacks *stacks;
	struct go_symtab *go;
	bool copy; /* the DWARF path: stacks are copied */
	int64_t period_ns;
	int ncpus;
	int fds[MAX_CPUS];
	struct bpf_link *links[MAX_CPUS];
	int add_failed; /* -ENOMEM from the profile */
};

static int on_sample(void *ctx, void *data, size_t size)
{
	struct cpu_profile *cp = ctx;
	const struct cpu_sample *cs = data;
	const size_t head = USER_STACK_SIZE_NO_COPY(struct cpu_sample);
	struct profile_label labels[2];
	int64_t values[2] = { 1, cp->period_ns };
	size_t nlabels = 0;
	int rc;

	if (size < head || ((cs->us.flags & USF_COPY) && size < head + cs->us.copy_len))
		return 0;
	labels[nlabels++] = (struct profile_label){ .key = "pid", .num = cs->tgid };
	if (cp->o.per_thread)
		labels[nlabels++] = (struct profile_label){ .key = "thread", .str = cs->comm };
	rc = stacks_add(cp->stacks, (pid_t)cs->tgid, &cs->us, (const uint64_t *)cs->kips,
			cs->nkips < CPU_SAMPLE_KERNEL_IPS ? cs->nkips : CPU_SAMPLE_KERNEL_IPS,
			values, labels, nlabels);
	if (rc)
		cp->add_failed = rc;
	return 0;
}

static int perf_open_cpu(int cpu, int64_t period_ns)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.sample_period = (uint64_t)period_ns,
	};

	return (int)syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/* One event per CPU, every process: the BPF program keeps the target's samples. */
static int attach_cpus(struct cpu_profile *cp, char *err, size_t errlen)
{
	int n = libbpf_num_possible_cpus(), attached = 0;

	if (n <= 0 || n > MAX_CPUS)
		n = n <= 0 ? 1 : MAX_CPUS;
	cp->ncpus = n;
	for (int cpu = 0; cpu < n; cpu++) {
		int fd = perf_open_cpu(cpu, cp->period_ns);

		cp->fds[cpu] = fd;
		if (fd < 0) {
			if (errno == ENODEV) /* an offline CPU */
				continue;
			snprintf(err, errlen, "cannot open a CPU-clock perf event on CPU %d: %s",
				 cpu, strerror(errno));
			return -1;
		}
		cp->links[cpu] = bpf_program__attach_perf_event(cp->skel->progs.on_sample, fd);
		if (!cp->links[cpu]) {
			snprintf(err, errlen, "cannot attach the sampling program on CPU %d: %s",
				 cpu, strerror(errno));
			return -1;
		}
		attached++;
	}
	if (!attached) {
		snprintf(err, errlen, "no CPU could be sampled");
		return -1;
	}
	return 0;
}

/* Go keeps frame pointers on amd64: the kernel's walk is exact there. */
static void choose_unwind(struct cpu_profile *cp)
{
	struct go_info gi;
	char err[256];
	bool go = !go_read_buildinfo(cp->t->exe, &gi, NULL, 0);

	if (go && go_symtab_open(cp->t->exe, &cp->go, err, sizeof(err)))
		cp->go = NULL;
	if (cp->o.unwind == CPU_UNWIND_AUTO)
		cp->copy = !go;
	else
		cp->copy = cp->o.unwind == CPU_UNWIND_DWARF;
}

int cpu_profile_open(struct cpu_profile **out, const struct target *t,
		     const struct cpu_profile_opts *o, const char *cmd, char *err, size_t errlen)
{
	static const struct profile_value_type types[] = { { "samples", "count" },
							   { "cpu", "nanoseconds" } };
	static const struct profile_value_type period_type = { "cpu", "nanoseconds" };
	struct cpu_profile *cp = calloc(1, sizeof(*cp));
	int rc;

	*out = cp;
	if (!cp) {
		snprintf(err, errlen, "cannot set up the profile: %s", strerror(ENOMEM));
		return -1;
	}
	for (int i = 0; i < MAX_CPUS; i++)
		cp->fds[i] = -1;
	cp->o = *o;
	cp->t = t;
	cp->period_ns = 1000000000LL / (o->hz ? o->hz : 1);
	choose_unwind(cp);
	cp->prof = profile_new(types, 2, &period_type, cp->period_ns);
	cp->stacks = cp->prof ? stacks_new(cp->prof, &t->image, cp->go) : NULL;
	if (!cp->stacks) {
		snprintf(err, errlen, "cannot set up the profile: %s", strerror(ENOMEM));
		return -1;
	}
	cp->skel = SKEL_OPEN(cpu_samples, t, cmd, err, errlen);
	if (!cp->skel)
		return -1;
	cp->skel->rodata->stack_copy = cp->copy;
	cp->skel->rodata->kernel_stack = o->kernel;
	rc = cpu_samples_bpf__load(cp->skel);
	if (rc) {
		probe_load_error(cmd, rc, err, errlen);
		return -1;
	}
	cp->rb = ring_buffer__new(bpf_map__fd(cp->skel->maps.samples), on_sample, cp, NULL);
	if (!cp->rb) {
		snprintf(err, errlen, "cannot set up the ring buffer: %s", strerror(errno));
		return -1;
	}
	return attach_cpus(cp, err, errlen);
}

struct ring_buffer *cpu_profile_ring(const struct cpu_profile *cp)
{
	return cp->rb;
}

void cpu_profile_started(struct cpu_profile *cp)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	profile_set_time(cp->prof, (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec, 0);
}

void cpu_profile_finish(struct cpu_profile *cp, double secs, struct cpu_profile_counts *c)
{
	uint64_t k[CS_NCOUNTERS] = { 0 };
	struct timespec ts;

	memset(c, 0, sizeof(*c));
	probe_sum_percpu_counters(cp->skel->maps.counters, CS_NCOUNTERS, k);
	stacks_get_counts(cp->stacks, &c->sc);
	clock_gettime(CLOCK_REALTIME, &ts);
	profile_set_time(cp->prof, (int64_t)((ts.tv_sec - secs) * 1e9) + ts.tv_nsec,
			 (int64_t)(secs * 1e9));
	profile_count_lost(cp->prof, k[CS_LOST] + c->sc.lost, c->sc.truncated);
	c->samples = k[CS_SAMPLES];
	c->lost = k[CS_LOST];
	c->oom = cp->add_failed != 0;
	c->dwarf = cp->copy;
}

struct profile *cpu_profile_result(struct cpu_profile *cp)
{
	return cp->prof;
}

void cpu_profile_close(struct cpu_profile *cp)
{
	if (!cp)
		return;
	for (int cpu = 0; cpu < cp->ncpus; cpu++) {
		bpf_link__destroy(cp->links[cpu]);
		if (cp->fds[cpu] >= 0)
			close(cp->fds[cpu]);
	}
	ring_buffer__free(cp->rb);
	cpu_samples_bpf__destroy(cp->skel);
	stacks_free(cp->stacks);
	profile_free(cp->prof);
	if (cp->go)
		go_symtab_close(cp->go);
	free(cp);
}

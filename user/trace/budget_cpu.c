/* The target's CPU time for --budget, from the kernel's per-process CPU clocks. clock_gettime on
 * another process's clock sums all its threads, in ns, with no /proc parsing: CPUCLOCK_SCHED (user
 * + system, the scheduler's runtime) and CPUCLOCK_VIRT (user mode only). Uprobe traps run in the
 * kernel, so they are in the first and not in the second: budget.c uses that. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include "trace/budget.h"
#include "trace/loop.h"

/* include/linux/posix-timers.h: a process clock id. */
#define CPUCLOCK_VIRT                1
#define CPUCLOCK_SCHED               2
#define PROCESS_CPUCLOCK(pid, which) ((clockid_t)((~(unsigned int)(pid) << 3) | (which)))

#define RESCAN_NS 1000000000ULL

struct proc_cpu {
	pid_t pid;
	struct budget_cpu_time
		base; /* its reading when first seen (0 for processes started later) */
	struct budget_cpu_time last;
};

struct budget_cpu {
	const struct target *t;
	struct proc_cpu *procs;
	int n, cap;
	struct budget_cpu_time gone; /* what processes that exited had used while seen */
	uint64_t last_scan_ns;
	bool scanned;
};

static int read_clocks(pid_t pid, struct budget_cpu_time *out)
{
	struct timespec all, user;

	if (clock_gettime(PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED), &all) ||
	    clock_gettime(PROCESS_CPUCLOCK(pid, CPUCLOCK_VIRT), &user))
		return -errno;
	out->total_ns = (double)all.tv_sec * 1e9 + (double)all.tv_nsec;
	out->user_ns = (double)user.tv_sec * 1e9 + (double)user.tv_nsec;
	return 0;
}

static bool runs_target(const struct target *t, pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	return !stat(path, &st) && st.st_ino == t->exe_ino &&
	       (uint32_t)(major(st.st_dev) << 20 | minor(st.st_dev)) == t->exe_kdev;
}

static bool known(const struct budget_cpu *c, pid_t pid)
{
	for (int i = 0; i < c->n; i++)
		if (c->procs[i].pid == pid)
			return true;
	return false;
}

/* --binpath: adds processes now running the executable. Those there at the first scan count from
 * then on; later ones from their start, since they started after tracing did. */
static void rescan(struct budget_cpu *c)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		struct proc_cpu p = { .pid = (pid_t)pid };

		if (*end || pid <= 0 || known(c, p.pid) || !runs_target(c->t, p.pid) ||
		    read_clocks(p.pid, &p.last))
			continue;
		if (!c->scanned)
			p.base = p.last;
		if (c->n == c->cap) {
			int cap = c->cap ? 2 * c->cap : 16;
			struct proc_cpu *np = realloc(c->procs, (size_t)cap * sizeof(*np));

			if (!np)
				break;
			c->procs = np;
			c->cap = cap;
		}
		c->procs[c->n++] = p;
	}
	closedir(d);
	c->scanned = true;
	c->last_scan_ns = loop_now_ns();
}

struct budget_cpu *budget_cpu_open(const struct target *t)
{
	struct budget_cpu *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->t = t;
	if (t->kind != TARGET_BINPATH) {
		c->procs = calloc(1, sizeof(*c->procs));
		if (!c->procs) {
			free(c);
			return NULL;
		}
		c->procs[0].pid = t->pid;
		c->n = c->cap = 1;
	} else {
		rescan(c);
	}
	return c;
}

int budget_cpu_read(struct budget_cpu *c, struct budget_cpu_time *out)
{
	bool any = false;

	if (c->t->kind == TARGET_BINPATH && loop_now_ns() - c->last_scan_ns >= RESCAN_NS)
		rescan(c);
	*out = c->gone;
	for (int i = 0; i < c->n; i++) {
		struct proc_cpu *p = &c->procs[i];

		if (read_clocks(p->pid, &p->last) == 0) {
			any = true;
		} else if (c->t->kind == TARGET_BINPATH) {
			/* Exited: keep what it used up to its last reading, forget the PID. */
			c->gone.total_ns += p->last.total_ns - p->base.total_ns;
			c->gone.user_ns += p->last.user_ns - p->base.user_ns;
			out->total_ns += p->last.total_ns - p->base.total_ns;
			out->user_ns += p->last.user_ns - p->base.user_ns;
			c->procs[i--] = c->procs[--c->n];
			continue;
		}
		out->total_ns += p->last.total_ns - p->base.total_ns;
		out->user_ns += p->last.user_ns - p->base.user_ns;
	}
	return any || c->t->kind == TARGET_BINPATH ? 0 : -ESRCH;
}

void budget_cpu_close(struct budget_cpu *c)
{
	if (!c)
		return;
	free(c->procs);
	free(c);
}

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "binary/objfile.h"
#include "trace/loop.h"
#include "trace/thread_track.h"
#include "output/target_report.h"

/* The first file in the loader's lookup order that defines pthread_create: the executable for
 * static builds, else libc.so.6 (glibc 2.34+) or libpthread.so.0. Returns -ENOENT when none does.
 */
static int find_pthread_create(const struct target *t, char *path, size_t pathlen, uint64_t *offset)
{
	for (int i = 0; i < t->image.n; i++) {
		struct objfile ef;
		struct objfile_sym fn;
		char e2[256];
		int rc;

		if (objfile_open(&ef, t->image.paths[i], e2, sizeof(e2)))
			continue;
		/* objfile_find_func, not libbpf's resolver: glibc exports two versions of
		 * pthread_create at one address, which libbpf 1.1 rejects as ambiguous. */
		rc = objfile_find_func(&ef, "pthread_create", &fn);
		objfile_close(&ef);
		if (!rc) {
			snprintf(path, pathlen, "%s", t->image.paths[i]);
			*offset = fn.offset;
			return 0;
		}
	}
	return -ENOENT;
}

static int attach_tp(struct probe_links *pl, struct bpf_program *prog, const char *what, char *err,
		     size_t errlen)
{
	struct bpf_link *link;
	int rc;

	if (pl->n >= PROBE_MAX_LINKS) {
		snprintf(err, errlen, "too many probes (%d)", PROBE_MAX_LINKS);
		return -E2BIG;
	}
	link = bpf_program__attach(prog);
	rc = -libbpf_get_error(link);
	if (!link && !rc)
		rc = -errno;
	if (rc) {
		snprintf(err, errlen, "cannot attach to the %s tracepoint: %s", what,
			 strerror(-rc));
		return rc;
	}
	pl->links[pl->n++] = link;
	return 0;
}

/* Test hook (tests/integration/test_thr.py): RTMON_TEST_ATTACH_PAUSE_MS=N holds rtmon N ms between
 * the tracepoints' attach and the start of tracing, so that a busy target creates threads in that
 * window. */
static void test_attach_pause(void)
{
	const char *v = getenv("RTMON_TEST_ATTACH_PAUSE_MS");
	long ms = v ? strtol(v, NULL, 10) : 0;

	if (ms > 0 && ms < 10000)
		usleep((useconds_t)ms * 1000);
}

int tt_attach(const char *cmd, const struct target *t, const struct tt_progs *p, bool want_start,
	      struct probe_links *pl, char *err, size_t errlen)
{
	char lib[4096];
	uint64_t off;
	int rc;

	*p->attach_ns = loop_now_ns();
	rc = attach_tp(pl, p->newtask, "task_newtask", err, errlen);
	if (!rc)
		rc = attach_tp(pl, p->exit, "sched_process_exit", err, errlen);
	if (rc)
		return rc;
	test_attach_pause();
	/* Both tracepoints see every thread from here on: its create and its exit. */
	*p->trace_start_ns = loop_now_ns();
	if (!want_start)
		return 0;
	if (find_pthread_create(t, lib, sizeof(lib), &off)) {
		char who[64];

		snprintf(who, sizeof(who), "rtmon %s", cmd);
		report_error(who,
			     "note: no pthread_create in %s or its libraries: threads are shown "
			     "without start routines",
			     t->label);
		return 0;
	}
	/* Tracepoints first: a thread created between the two attaches is then still seen, only
	 * without its start routine. */
	return probe_attach_uprobe(pl, p->pthread_create, target_probe_pid(t), lib, off, false,
				   "pthread_create", err, errlen);
}

int tt_read_counters(struct bpf_map *map, uint64_t out[TC_COUNT])
{
	return probe_sum_percpu_counters(map, TC_COUNT, out);
}

void tt_start_name(struct symbolizer *s, const struct thr_start *st, pid_t pid, char *out,
		   size_t len)
{
	if (st->ino)
		symbolize_file_offset(s, pid, st->dev, st->ino, st->off, out, len);
	else
		symbolize_addr(s, (pid_t)st->tgid, st->off, out, len);
}

void tt_print_unknown(FILE *out, uint64_t unknown, uint64_t before, uint64_t attaching,
		      const char *what)
{
	if (unknown)
		fprintf(out,
			"%llu %s not seen created (main threads: the process's own lifetime): "
			"%s\n",
			(unsigned long long)unknown,
			unknown == 1 ? "exit of a thread" : "exits of threads", what);
	if (before)
		fprintf(out,
			"%llu %s started before tracing: lifetime from the kernel's start time, "
			"parent and start routine unknown\n",
			(unsigned long long)before,
			before == 1 ? "exit of a thread" : "exits of threads");
	if (attaching)
		fprintf(out,
			"%llu %s created while rtmon attached, before tracing began: lifetime from "
			"the kernel's start time, parent and start routine unknown\n",
			(unsigned long long)attaching,
			attaching == 1 ? "exit of a thread" : "exits of threads");
}

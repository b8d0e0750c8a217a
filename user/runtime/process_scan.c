#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "proc/procinfo.h"
#include "runtime/process_scan.h"

static struct exe_entry *cache_find(struct ps_scan *s, const struct stat *st)
{
	for (size_t i = 0; i < s->nexes; i++)
		if (s->exes[i]->ino == st->st_ino && s->exes[i]->dev == st->st_dev)
			return s->exes[i];
	return NULL;
}

/* Analyses the executable of pid unless one with the same identity was. NULL when the process went
 * away meanwhile (*gone) or memory ran out. */
static const struct exe_entry *exe_lookup(struct ps_scan *s, pid_t pid, const struct stat *st,
					  bool *gone)
{
	struct exe_entry *ee = cache_find(s, st);
	char exe[64], err[512];
	int rc;

	*gone = false;
	if (ee)
		return ee;
	if (!(ee = calloc(1, sizeof(*ee))))
		return NULL;
	ee->dev = st->st_dev;
	ee->ino = st->st_ino;
	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	rc = runtime_support_read(exe, pid, &ee->rs, err, sizeof(err));
	if (rc == -ENOENT || rc == -ESRCH || rc == -EACCES) {
		/* Not cached: another process running the same file may still be readable. */
		*gone = rc != -EACCES;
		free(ee);
		return NULL;
	}
	ee->known = rc == 0;
	if (s->nexes == s->capexes) {
		size_t cap = s->capexes ? 2 * s->capexes : 64;
		struct exe_entry **nv = realloc(s->exes, cap * sizeof(*nv));

		if (!nv) {
			free(ee);
			return NULL;
		}
		s->exes = nv;
		s->capexes = cap;
	}
	s->exes[s->nexes++] = ee;
	return ee;
}

/* A process still listed in /proc but without an executable is a zombie or on its way out. */
static void count_unreadable(struct ps_scan *s, pid_t pid, int rc)
{
	struct proc_stat st;

	if (rc == -EACCES || rc == -EPERM)
		s->denied++;
	else if (!proc_read_stat(pid, &st) && st.state == 'Z')
		s->zombies++;
	else
		s->exited++;
}

/* Test hook (tests/integration/test_ps.py): with RTMON_TEST_PS_PAUSE_FD=N, rtmon writes "listed\n"
 * to descriptor N once it has listed /proc and waits for one byte there before reading the
 * processes, so that a test can end a listed process at exactly that moment. */
static void test_pause_after_listing(void)
{
	const char *v = getenv("RTMON_TEST_PS_PAUSE_FD");
	char c;
	int fd;

	if (!v || (fd = atoi(v)) <= 2)
		return;
	if (write(fd, "listed\n", 7) == 7 && read(fd, &c, 1) < 0)
		return;
}

/* Lists /proc into s->rows, analysing each executable not in s->exes yet. */
static int scan_rows(struct ps_scan *s)
{
	pid_t *pids;
	size_t n;
	int rc = proc_list_pids(&pids, &n);

	if (rc)
		return rc;
	test_pause_after_listing();
	s->rows = calloc(n ? n : 1, sizeof(*s->rows));
	if (!s->rows) {
		free(pids);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct ps_row *r = &s->rows[s->n];
		struct proc_stat st;
		struct stat est;
		char path[PATH_MAX];
		bool gone;

		rc = proc_read_stat(pids[i], &st);
		if (rc) {
			s->exited++; /* listed a moment ago: it exited */
			continue;
		}
		if (st.kthread) {
			s->kthreads++;
			continue;
		}
		if (st.state == 'Z') {
			s->zombies++;
			continue;
		}
		rc = proc_exe(pids[i], path, sizeof(path), &est);
		if (rc) {
			count_unreadable(s, pids[i], rc);
			continue;
		}
		if (s->want && !s->want(s->want_ctx, &est))
			continue;
		r->ee = exe_lookup(s, pids[i], &est, &gone);
		if (!r->ee) {
			if (gone)
				s->exited++;
			else
				s->denied++;
			continue;
		}
		r->pid = st.pid;
		r->ppid = st.ppid;
		snprintf(r->comm, sizeof(r->comm), "%s", st.comm);
		if (!(r->exe = strdup(path))) {
			free(pids);
			return -ENOMEM;
		}
		s->n++;
	}
	free(pids);
	return 0;
}

static void rows_free(struct ps_scan *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->rows[i].exe);
	free(s->rows);
	s->rows = NULL;
	s->n = 0;
	s->kthreads = s->zombies = s->denied = s->exited = 0;
}

int ps_scan(struct ps_scan *s)
{
	memset(s, 0, sizeof(*s));
	return scan_rows(s);
}

int ps_rescan(struct ps_scan *s)
{
	rows_free(s);
	return scan_rows(s);
}

void ps_free(struct ps_scan *s)
{
	rows_free(s);
	for (size_t i = 0; i < s->nexes; i++)
		free(s->exes[i]);
	free(s->exes);
	memset(s, 0, sizeof(*s));
}

const char *ps_row_runtime(const struct ps_row *r)
{
	return r->ee->known ? runtime_kind_name(r->ee->rs.id.kind) : "unknown";
}

bool ps_row_traced(const struct ps_row *r)
{
	return r->ee->known && r->ee->rs.traced;
}

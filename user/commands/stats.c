/* rtmon stats PID (gops stats): a running Go program's goroutines, OS threads, GOMAXPROCS,
 * NumCPU, GOGC, GOMEMLIMIT and cgo calls, read from outside (runtime/go/goinspect.h). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/commands.h"
#include "cli/opts.h"
#include "output/json.h"
#include "runtime/go/goinspect.h"

/* The kernel's count of the process's threads: every M the runtime started and still runs. */
static int64_t os_threads(pid_t pid)
{
	char path[64];
	struct dirent *e;
	int64_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	if (!(d = opendir(path)))
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void text_i64(const char *label, int64_t v, const char *unknown)
{
	if (v >= 0)
		printf("%-12s %lld\n", label, (long long)v);
	else
		printf("%-12s %s\n", label, unknown);
}

static void json_i64_or_null(const char *key, int64_t v)
{
	if (v >= 0)
		json_field_i64(stdout, key, v);
	else
		json_field_null(stdout, key);
}

static const char stats_doc[] =
	"A running Go program's goroutines (runtime.NumGoroutine), OS threads, GOMAXPROCS, "
	"NumCPU, GOGC, GOMEMLIMIT and cgo calls (runtime.NumCgoCall), read from outside without "
	"stopping it, as gops stats shows them for a program that links its agent. NumCPU and "
	"cgo calls need the binary's symbol table: a stripped binary shows them as unknown. "
	"--json: one object.\v"
	"Examples:\n"
	"  sudo rtmon stats 1234\n"
	"  sudo rtmon stats --json $(pgrep -n myapp)";

int cmd_stats(int argc, char **argv)
{
	char err[1024];
	struct go_proc p;
	struct go_sched_stats s;
	struct go_goroutine *gs = NULL;
	size_t n = 0;
	int64_t goroutines = 0, threads;
	pid_t pid;
	bool json;
	int rc = parse_pid_json(stats_doc, argc, argv, &pid, &json);

	if (rc)
		return rc;
	if (go_proc_open(pid, &p, err, sizeof(err)) ||
	    go_read_goroutines(&p, &gs, &n, err, sizeof(err)) ||
	    go_read_sched_stats(&p, &s, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		free(gs);
		go_proc_close(&p);
		return 1;
	}
	for (size_t i = 0; i < n; i++) /* the goroutines runtime.NumGoroutine counts */
		goroutines += !gs[i].system;
	free(gs);
	threads = os_threads(pid);
	if (json) {
		json_begin(stdout, "stats");
		json_field_i64(stdout, "pid", pid);
		json_field_i64(stdout, "goroutines", goroutines);
		json_i64_or_null("os_threads", threads);
		json_field_i64(stdout, "gomaxprocs", s.gomaxprocs);
		json_i64_or_null("num_cpu", s.ncpu);
		json_field_i64(stdout, "gogc", s.gogc); /* negative: off, as GOGC=off sets it */
		json_i64_or_null("gomemlimit", s.memory_limit);
		json_i64_or_null("cgo_calls", s.cgo_calls);
		json_end(stdout);
	} else {
		text_i64("goroutines", goroutines, "?");
		text_i64("OS threads", threads, "?");
		text_i64("GOMAXPROCS", s.gomaxprocs, "?");
		text_i64("NumCPU", s.ncpu, "unknown (stripped binary)");
		if (s.gogc < 0)
			printf("%-12s off\n", "GOGC");
		else
			text_i64("GOGC", s.gogc, "?");
		text_i64("GOMEMLIMIT", s.memory_limit, "none (before Go 1.19)");
		text_i64("cgo calls", s.cgo_calls, "unknown (stripped binary)");
	}
	go_proc_close(&p);
	return fflush(stdout) ? 1 : 0;
}

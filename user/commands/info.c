/* rtmon info PID: one process in detail, as `gops PID` shows it (parent, threads, memory, CPU,
 * user, command line, elapsed time, listening sockets), plus its runtime and which rtmon commands
 * apply. Everything comes from /proc and the process's files; nothing is attached. */
#include <argp.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/commands.h"
#include "cli/opts.h"
#include "output/escape.h"
#include "output/units.h"
#include "proc/procinfo.h"
#include "runtime/runtime_support.h"

#define LABEL "%-15s "

struct info_args {
	pid_t pid;
	bool have_pid;
};

struct sock_print {
	int n;
};

static void print_socket(const char *proto, const char *addr, void *ctx)
{
	struct sock_print *sp = ctx;

	printf(LABEL "%-5s %s\n", sp->n++ ? "" : "listening:", proto, addr);
}

/* The runtime file as the process sees it: /proc/PID/root/usr/lib/x.so -> /usr/lib/x.so, and
 * /proc/PID/exe -> the executable's path. */
static void display_lib(pid_t pid, char *lib, size_t len)
{
	char prefix[64], path[PATH_MAX];
	size_t n = (size_t)snprintf(prefix, sizeof(prefix), "/proc/%d/root/", pid);

	if (!strncmp(lib, prefix, n)) {
		memmove(lib, lib + n - 1, strlen(lib + n - 1) + 1);
		return;
	}
	snprintf(prefix, sizeof(prefix), "/proc/%d/exe", pid);
	if (!strcmp(lib, prefix) && !proc_exe(pid, path, sizeof(path), NULL))
		snprintf(lib, len, "%s", path);
}

static void print_runtime(pid_t pid, const struct proc_stat *st)
{
	struct runtime_support rs;
	char exe[64], err[1024];
	int rc;

	if (st->kthread) {
		printf(LABEL "none (a kernel thread: rtmon traces user programs)\n", "runtime:");
		return;
	}
	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	rc = runtime_support_read(exe, pid, &rs, err, sizeof(err));
	if (rc == -EACCES) {
		printf(LABEL "unknown: cannot read %s: %s%s\n", "runtime:", exe, strerror(-rc),
		       proc_denied_hint());
		return;
	}
	if (rc) {
		printf(LABEL "unknown: %s\n", "runtime:", err);
		return;
	}
	display_lib(pid, rs.id.lib, sizeof(rs.id.lib));
	printf(LABEL "%s%s%s\n", "runtime:", runtime_kind_name(rs.id.kind),
	       rs.id.version[0] ? " " : "", rs.id.version);
	if (rs.id.module[0])
		printf(LABEL "%s\n", "module:", rs.id.module);
	if (rs.id.engine[0])
		printf(LABEL "V8 %s\n", "engine:", rs.id.engine);
	if (rs.id.lib[0] && rs.id.kind != RUNTIME_GO)
		printf(LABEL "%s%s\n", "runtime file:", rs.id.lib,
		       rs.id.usdt ? " (USDT probes)" : "");
	if (rs.id.boehm)
		printf(LABEL "Boehm GC (libgc)\n", "collector:");
	printf(LABEL "%s\n", "traced fully:", rs.traced ? "yes (*)" : "no");
	printf("rtmon commands:\n");
	runtime_support_print(stdout, &rs, "  ");
}

static int show(pid_t pid, const char *cmd)
{
	struct proc_stat st, parent;
	char buf[8192], mem1[32], mem2[32];
	char safe[sizeof(buf)]; /* buf made safe for the terminal (never longer) */
	long tick = sysconf(_SC_CLK_TCK);
	double cpu, elapsed;
	uint64_t total = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
	struct sock_print sp = { 0 };
	uid_t uid;
	int rc;

	rc = proc_read_stat(pid, &st);
	if (rc == -ENOENT || rc == -ESRCH) {
		fprintf(stderr, "%s: no process with PID %d: check the PID with rtmon ps\n", cmd,
			pid);
		return 1;
	}
	if (rc) {
		fprintf(stderr, "%s: cannot read /proc/%d/stat: %s\n", cmd, pid, strerror(-rc));
		return 1;
	}
	printf(LABEL "%d (%s)\n", "PID:", pid, text_safe(st.comm, safe, sizeof(safe)));
	if (!proc_read_stat(st.ppid, &parent))
		printf(LABEL "%d (%s)\n", "parent PID:", st.ppid,
		       text_safe(parent.comm, safe, sizeof(safe)));
	else
		printf(LABEL "%d\n", "parent PID:", st.ppid);
	printf(LABEL "%ld\n", "threads:", st.threads);
	units_bytes(st.rss, mem1, sizeof(mem1));
	units_bytes(st.vsize, mem2, sizeof(mem2));
	printf(LABEL "RSS %s (%.3f%% of memory), VSZ %s\n", "memory:", mem1,
	       total ? 100.0 * (double)st.rss / (double)total : 0.0, mem2);
	cpu = (double)(st.utime + st.stime) / (double)tick;
	elapsed = proc_uptime() - (double)st.start / (double)tick;
	printf(LABEL "%.2f s (user %.2f, system %.2f), %.3f%% of one CPU since start\n",
	       "CPU time:", cpu, (double)st.utime / (double)tick, (double)st.stime / (double)tick,
	       elapsed > 0 ? 100.0 * cpu / elapsed : 0.0);
	if (!proc_uid(pid, &uid)) {
		struct passwd pw, *res = NULL;
		char pwbuf[1024];

		getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &res);
		printf(LABEL "%s (uid %u)\n", "user:", res ? res->pw_name : "?", (unsigned)uid);
	}
	if (!proc_cmdline(pid, buf, sizeof(buf)))
		printf(LABEL "%s\n",
		       "command line:", buf[0] ? text_safe(buf, safe, sizeof(safe)) : "(none)");
	proc_format_elapsed(elapsed, buf, sizeof(buf));
	printf(LABEL "%s\n", "elapsed time:", buf);
	if (!st.kthread) {
		rc = proc_exe(pid, buf, sizeof(buf), NULL);
		if (rc)
			printf(LABEL "unknown: %s%s\n", "executable:", strerror(-rc),
			       rc == -EACCES ? proc_denied_hint() : "");
		else
			printf(LABEL "%s\n", "executable:", text_safe(buf, safe, sizeof(safe)));
	}
	rc = proc_listening_sockets(pid, print_socket, &sp);
	if (rc == 0)
		printf(LABEL "none\n", "listening:");
	else if (rc < 0)
		printf(LABEL "unknown: cannot read /proc/%d/fd: %s%s\n", "listening:", pid,
		       strerror(-rc), rc == -EACCES ? proc_denied_hint() : "");
	print_runtime(pid, &st);
	return fflush(stdout) ? 1 : 0;
}

static error_t parse_info(int key, char *arg, struct argp_state *state)
{
	struct info_args *a = state->input;

	switch (key) {
	case ARGP_KEY_ARG:
		if (a->have_pid) {
			argp_failure(state, 2, 0, "one PID only: run rtmon info once per process");
			return EINVAL;
		}
		if (parse_pid(arg, &a->pid)) {
			argp_failure(state, 2, 0, "invalid PID '%s': give a positive process id",
				     arg);
			return EINVAL;
		}
		a->have_pid = true;
		return 0;
	case ARGP_KEY_END:
		if (!a->have_pid) {
			argp_failure(state, 2, 0,
				     "no PID: give the process id to show (rtmon ps lists them)");
			return EINVAL;
		}
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static const char info_doc[] =
	"One process in detail: parent, threads, memory, CPU time, user, command line, elapsed "
	"time, listening sockets (TCP in LISTEN, bound UDP, listening unix sockets), then its "
	"runtime, version and Go module, whether rtmon traces it fully (see rtmon ps --help) and "
	"which rtmon commands apply. Nothing is attached. Without root, another user's process "
	"shows only what /proc lets anyone read.\v"
	"Examples:\n"
	"  rtmon info 1234\n"
	"  sudo rtmon info $(pgrep -n myapp)";

static const struct argp info_argp = { NULL, parse_info, "PID", info_doc, NULL, NULL, NULL };

int cmd_info(int argc, char **argv)
{
	struct info_args a = { 0 };
	int rc = parse_args_only(&info_argp, argc, argv, &a);

	return rc ? rc : show(a.pid, argv[0]);
}

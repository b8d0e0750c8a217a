/* What rtmon traces: every process running a binary (--binpath), one running process (-p), or a
 * command rtmon starts (-- CMD), held before its first instruction until the probes are attached.
 */
#ifndef RTMON_TARGET_H
#define RTMON_TARGET_H

#include <limits.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include "proc/image.h"
#include "cli/opts.h"

/* TARGET_ALL: rtmon serve --all, which finds the processes itself (commands/serve_procs.c); the
 * target only names them. */
enum target_kind { TARGET_BINPATH, TARGET_PID, TARGET_CMD, TARGET_ALL };

struct target {
	enum target_kind kind;
	pid_t pid;            /* the process for -p and -- CMD; 0 for --binpath */
	char exe[PATH_MAX];   /* the executable, as a path rtmon can open */
	char label[PATH_MAX]; /* how output names the target: "./app", "PID 1234 (app)" */
	uint64_t exe_ino;     /* the executable's inode and device, for --binpath's BPF filter */
	uint32_t exe_kdev;    /* device in the kernel's encoding (major << 20 | minor) */
	struct image image;   /* the executable and its libraries */
	int pidfd;            /* readable when the process exits; -1 for --binpath */
	int gate_fd;          /* -- CMD: writing to it lets the held child exec; -1 otherwise */
	int exec_err_fd;      /* -- CMD: the child reports a failed exec here */
	bool exited;
	int exit_status; /* wait status of a -- CMD child once exited */
};

/* Validates the target and, for -- CMD, starts the child held before exec. 0, or -errno with one
 * line in err naming the problem and what to do. */
int target_open(struct target *t, const struct common_opts *co, char *err, size_t errlen);
/* -- CMD: lets the held child exec. 0, or -errno when exec failed (message in err). */
int target_release(struct target *t, char *err, size_t errlen);
/* The PID a probe is attached for: -1 (every process) for --binpath, whose processes the BPF side
 * tells apart by executable; the one process otherwise. */
static inline pid_t target_probe_pid(const struct target *t)
{
	return t->kind == TARGET_BINPATH ? -1 : t->pid;
}

/* The PID a report names: 0 (written null in JSON) for --binpath, which sums all its processes. */
static inline pid_t target_report_pid(const struct target *t)
{
	return t->kind == TARGET_BINPATH ? 0 : t->pid;
}

/* Reaps a -- CMD child once its pidfd was readable; stores its status. */
void target_reap(struct target *t);
/* How a -- CMD target was left once tracing ended (target_finish). */
enum target_finish {
	TARGET_FINISHED,     /* not a -- CMD, or the command had ended by itself */
	TARGET_LEFT_RUNNING, /* --keep-running: it runs on, untraced */
	TARGET_TERMINATED,   /* ended by SIGTERM */
	TARGET_KILLED,       /* still running grace_ms after SIGTERM: SIGKILLed */
};

/* -- CMD, once tracing has ended: a command still running is ended, SIGTERM first, then SIGKILL
 * after grace_ms, and reaped; with keep_running it is left running. */
enum target_finish target_finish(struct target *t, bool keep_running, int grace_ms);

/* The exit code rtmon takes from a -- CMD that has exited: its status, or 128 + N when signal N
 * killed it (as shells report it). 0 for other targets or while it runs. */
int target_exit_code(const struct target *t);

/* Kills a -- CMD child still held or running (rtmon failed), and closes descriptors. */
void target_close(struct target *t, bool kill_child);

/* Sets a BPF program's target filter (bpf/target_filter.bpf.h) before load: the PID for -p and --
 * CMD, the executable's inode and device for --binpath. Give it the skeleton's rodata fields, e.g.
 * TARGET_FILTER_SET(t, skel->rodata). */
void target_filter_set(const struct target *t, __u32 *tgid, __u64 *ino, __u32 *dev);
#define TARGET_FILTER_SET(t, rodata)                                                               \
	target_filter_set((t), &(rodata)->target_tgid, &(rodata)->target_ino, &(rodata)->target_dev)

/* -p and -- CMD: the process has exited (its pidfd is readable), e.g. while rtmon attached probes
 * by its PID, which then fail with ENOENT or ESRCH. false for --binpath. */
bool target_exited(const struct target *t);

/* Replaces err, a failure while opening or attaching to the process, with what happened when it
 * exited meanwhile: "PID N (app) exited while rtmon was attaching to it: ...". Keeps err otherwise.
 */
void target_explain_attach_error(const struct target *t, char *err, size_t errlen);

#endif

/* What /proc says about a process, for rtmon ps, tree, info and -n NAME. Read-only, nothing is
 * attached. Every reader returns 0 or -errno: -ENOENT when the process is gone (or, for the
 * executable, has none: a kernel thread or a zombie), -EACCES when it belongs to another user and
 * rtmon is not root. */
#ifndef RTMON_PROCINFO_H
#define RTMON_PROCINFO_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

struct proc_stat {
	pid_t pid, ppid;
	char comm[64]; /* the process name (the kernel keeps 15 characters) */
	char state;    /* R, S, D, Z, ... */
	bool kthread;  /* a kernel thread: no executable, no user memory */
	long threads;
	uint64_t utime, stime; /* clock ticks */
	uint64_t start;        /* clock ticks after boot */
	uint64_t vsize;        /* bytes */
	uint64_t rss;          /* bytes */
};

/* /proc/PID/stat. */
int proc_read_stat(pid_t pid, struct proc_stat *st);

/* Every PID in /proc, ascending. *pids is malloc'ed. */
int proc_list_pids(pid_t **pids, size_t *n);

/* The executable: its path as the process sees it (the /proc/PID/exe link, " (deleted)" kept) and
 * the file's identity (stat through the link, so it works across mount namespaces). Either output
 * may be NULL. */
int proc_exe(pid_t pid, char *path, size_t len, struct stat *st);

/* The file that the kernel names path for pid (in its maps, its exe link), as rtmon reaches it.
 * The kernel prints a path from the reader's root: for a process in rtmon's mount namespace (a
 * chroot included) that is rtmon's own path, used as it is; for one in another namespace (a
 * container) it is the path under the process's root, and out is /proc/PID/root + path, which
 * target_file.c resolves inside that root. -ENAMETOOLONG if out is too small. */
int proc_kernel_path(pid_t pid, const char *path, char *out, size_t len);

/* Real uid (from /proc/PID/status). */
int proc_uid(pid_t pid, uid_t *uid);

/* The command line with arguments separated by spaces ("" for a kernel thread or a zombie). */
int proc_cmdline(pid_t pid, char *out, size_t len);

/* What to add to a "permission denied": " (run as root)", or, for root, that even root may not. */
const char *proc_denied_hint(void);

/* Seconds since boot (/proc/uptime). */
double proc_uptime(void);

/* "[dd-]hh:mm:ss" or "mm:ss", as ps's etime. */
void proc_format_elapsed(double seconds, char *out, size_t len);

/* The process's listening sockets: TCP in LISTEN, bound UDP sockets, listening unix sockets, from
 * /proc/PID/net/{tcp,tcp6,udp,udp6,unix} matched against the socket inodes among its descriptors.
 * fn gets "tcp", "tcp6", "udp", "udp6" or "unix" and the address ("127.0.0.1:8080", "[::]:22",
 * "/run/x.sock", "@abstract"). Returns how many were found, or -errno. */
int proc_listening_sockets(pid_t pid, void (*fn)(const char *proto, const char *addr, void *ctx),
			   void *ctx);

/* What the kernel appends to the path of a file that was removed or replaced (maps, exe link). */
#define PROC_DELETED " (deleted)"

/* One line of /proc/PID/maps: "start-end perms pgoff major:minor inode   path". */
struct proc_maps_line {
	uint64_t start, end, pgoff, ino;
	uint32_t kdev;       /* the kernel's dev_t encoding (major << 20 | minor), as BPF sees it */
	bool deleted;        /* the path ends in PROC_DELETED */
	bool exec;           /* perms has 'x': code */
	char path[PATH_MAX]; /* as the kernel prints it, PROC_DELETED included */
};

/* Parses one line, its newline optional. True for a mapping of a file: an inode, and a path that
 * starts with '/' and fits in path; false for anonymous and special mappings ("[heap]", and
 * "[anon:NAME]" even when NAME holds a '/') and for a line that is not a maps line. */
bool proc_parse_maps_line(const char *line, struct proc_maps_line *m);

/* Calls fn for each file mapping of a /proc/PID/maps stream in order, lines of any length (a line
 * is never split into two), until fn returns non-zero. Returns that value, 0 at the end of the
 * stream, or -errno when reading fails (-ENOMEM for a line too long to hold). */
int proc_maps_each(FILE *maps, int (*fn)(const struct proc_maps_line *m, void *ctx), void *ctx);

/* -n NAME: the processes whose name (comm) or executable's file name is exactly name, ascending,
 * leaving out kernel threads, zombies, rtmon itself and its ancestors (sudo, the shell). Writes up
 * to max PIDs and returns how many matched (may exceed max), or -errno. */
int proc_find_by_name(const char *name, pid_t *pids, size_t max);

#endif

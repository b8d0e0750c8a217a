/* Every process on the host with its runtime and whether rtmon traces it fully (the "*" of rtmon
 * ps and tree), read from its executable through /proc/PID/exe, with nothing attached to any of
 * them. Each distinct executable (device, inode) is analysed once per scan, or once for the whole
 * run when the same scan is renewed with ps_rescan (rtmon serve --all). Processes that cannot be
 * read (kernel threads, another user's processes without root, processes that exit while listed)
 * are skipped and counted. */
#ifndef RTMON_PROCESS_SCAN_H
#define RTMON_PROCESS_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "runtime/runtime_support.h"

struct exe_entry {
	dev_t dev;
	ino_t ino;
	bool known; /* false: the file is not an ELF program rtmon reads (runtime "unknown") */
	struct runtime_support rs;
};

struct ps_row {
	pid_t pid, ppid;
	char comm[64];
	char *exe; /* the /proc/PID/exe link as the process sees it */
	const struct exe_entry *ee;
};

struct ps_scan {
	struct ps_row *rows;
	size_t n;
	struct exe_entry **exes; /* the cache: one entry per distinct executable */
	size_t nexes, capexes;
	uint64_t kthreads, zombies, denied, exited;
	/* Optional, set after ps_scan's initialisation or before the first ps_rescan of a zeroed
	 * scan: a process whose executable want() refuses is left out, its file not analysed
	 * (serve --binpath needs the processes of one file only). */
	bool (*want)(void *ctx, const struct stat *exe);
	void *want_ctx;
};

/* A scan of /proc into s (which it initialises). 0 or -errno; ps_free in either case. */
int ps_scan(struct ps_scan *s);
/* The same scan again, keeping what was learnt of each executable. 0 or -errno. */
int ps_rescan(struct ps_scan *s);
void ps_free(struct ps_scan *s);

/* The runtime's name ("go", ..., "unknown"), and whether rtmon traces the process fully. */
const char *ps_row_runtime(const struct ps_row *r);
bool ps_row_traced(const struct ps_row *r);

#endif

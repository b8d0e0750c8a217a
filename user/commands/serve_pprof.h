/* rtmon serve's /debug/pprof/ paths, with Go's net/http/pprof names and parameters:
 * profile?seconds=N (the CPU profile of rtmon profile, stack/cpu_profile.h), goroutine?debug=0|1|2
 * (rtmon stack's goroutines, runtime/go/goroutine_dump.h), heap (rtmon heap's profile,
 * stack/heap_profile.h, collected since serve attached). They run as worker routes (a thread of
 * their own each, http/server.h): a 30 s profile blocks neither the event loop nor a scrape. With
 * --all or --binpath, ?pid=N chooses one of the processes served. */
#ifndef RTMON_SERVE_PPROF_H
#define RTMON_SERVE_PPROF_H

#include <stdbool.h>
#include "commands/serve_board.h"
#include "http/server.h"
#include "proc/target.h"

struct serve_pprof {
	pid_t pid;                 /* -p, -n, -- CMD: the one process; 0 with a scan */
	const char *scan;          /* "--all" or "--binpath": ?pid= chooses; NULL otherwise */
	struct serve_board *board; /* the processes served, for ?pid= */
};

/* The longest ?seconds= taken, and the default (Go's). */
#define SERVE_PPROF_MAX_SECONDS     600
#define SERVE_PPROF_DEFAULT_SECONDS 30
/* The sampling rate: 99 Hz, not Go's 100. Every CPU's clock event fires on a fixed period, and a
 * period of exactly 10 ms locks into step with a program whose work repeats in 1, 2, 4 or 5 ms:
 * cpuburn's 4 ms round was sampled at the same two phases for a whole profile, and its second
 * burner never showed. A period off the round grid drifts through every phase. */
#define SERVE_PPROF_HZ 99

/* http_handlers; ctx is a struct serve_pprof. */
int serve_pprof_profile(void *ctx, const struct http_request *rq, struct http_reply *rp);
int serve_pprof_goroutine(void *ctx, const struct http_request *rq, struct http_reply *rp);
/* The Go heap profile of rtmon heap, from the collector serve runs on each Go process (the board's
 * serve_board_heap_profile); another runtime's process gets a 400 naming why. */
int serve_pprof_heap(void *ctx, const struct http_request *rq, struct http_reply *rp);

#endif

/* What rtmon serve publishes for the HTTP thread: the snapshot of every traced process with its
 * labels, replaced as a whole by the event loop (every 100 ms) under a mutex and copied as a whole
 * by a scrape, so neither waits for the other longer than a copy and a scrape sees one moment of
 * every process. */
#ifndef RTMON_SERVE_BOARD_H
#define RTMON_SERVE_BOARD_H

#include <pthread.h>
#include <stddef.h>
#include <sys/types.h>
#include "commands/serve_collect.h"

struct serve_entry {
	pid_t pid;    /* the process (serve's ?pid=) */
	char *labels; /* pid, exe, runtime: from prom_labels, owned by the entry */
	struct serve_snapshot snap;
};

/* A process's heap profile collector (or why it has none), for /debug/pprof/heap. */
struct serve_heap {
	pid_t pid;
	struct go_heap *gh; /* NULL: why says why */
	const char *why;
};

struct serve_board {
	pthread_mutex_t mu;
	struct serve_entry *v; /* under mu */
	size_t n;
	/* Under heap_mu, held while a profile is taken: a process's collector is taken off
	 * (serve_board_heap_set with gh NULL) before it is closed. */
	pthread_mutex_t heap_mu;
	struct serve_heap *heaps;
	size_t nheaps;
};

void serve_board_init(struct serve_board *b);
/* Replaces what is published with copies of the n entries. 0, or -ENOMEM (the last stays). */
int serve_board_publish(struct serve_board *b, const struct serve_entry *v, size_t n);
/* A copy of what is published, for serve_entries_free. 0, or -ENOMEM. */
int serve_board_read(struct serve_board *b, struct serve_entry **v, size_t *n);
void serve_entries_free(struct serve_entry *v, size_t n);
/* The loop says which collector serves pid (gh NULL and why NULL: none any more; why is copied). */
void serve_board_heap_set(struct serve_board *b, pid_t pid, struct go_heap *gh, const char *why);
/* The HTTP thread: pid's heap profile now (the caller frees it). 0; -ENOENT: pid has no collector
 * (why, if not empty, says why); -ENOMEM. */
int serve_board_heap_profile(struct serve_board *b, pid_t pid, struct profile **out, char *why,
			     size_t whylen);
void serve_board_close(struct serve_board *b);

#endif

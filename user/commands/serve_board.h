/* What rtmon serve publishes for the HTTP thread: the snapshot of every traced process with its
 * labels, replaced as a whole by the event loop (every 100 ms) under a mutex and copied as a whole
 * by a scrape, so neither waits for the other longer than a copy and a scrape sees one moment of
 * every process. */
#ifndef RTMON_SERVE_BOARD_H
#define RTMON_SERVE_BOARD_H

#include <pthread.h>
#include <stddef.h>
#include "commands/serve_collect.h"

struct serve_entry {
	char *labels; /* pid, exe, runtime: from prom_labels, owned by the entry */
	struct serve_snapshot snap;
};

struct serve_board {
	pthread_mutex_t mu;
	struct serve_entry *v; /* under mu */
	size_t n;
};

void serve_board_init(struct serve_board *b);
/* Replaces what is published with copies of the n entries. 0, or -ENOMEM (the last stays). */
int serve_board_publish(struct serve_board *b, const struct serve_entry *v, size_t n);
/* A copy of what is published, for serve_entries_free. 0, or -ENOMEM. */
int serve_board_read(struct serve_board *b, struct serve_entry **v, size_t *n);
void serve_entries_free(struct serve_entry *v, size_t n);
void serve_board_close(struct serve_board *b);

#endif

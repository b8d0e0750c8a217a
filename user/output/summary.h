/* The summary every tracing command ends with, in text and in JSON from the same calls. A command
 * fills a struct summary, calls summary_begin, adds the facts of its own (summary_count for a count
 * both forms carry, summary_group_open/close for a nested group such as goroutines, its own lines
 * or fields where the two forms differ) and calls summary_end, which writes the part every command
 * shares:
 *   text:  "N events in S s, L lost; LABEL exited with status N"
 *   JSON:  {"type":"summary","command":..,"events":N,"lost":N,"duration_s":S,"end":..,...}
 * (docs/json.md). */
#ifndef RTMON_SUMMARY_H
#define RTMON_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "proc/target.h"

struct summary {
	FILE *out;
	bool json;
	const char *command;     /* "thr", "lat", ... */
	const char *events_noun; /* text: what an event is ("probe hits"); NULL: "events" */
	uint64_t events, lost;
	double secs;
	const char *end;        /* loop_end_name(): why tracing ended */
	const struct target *t; /* how a -- CMD ended goes on the last line */
	/* text only: the line summary_count writes on is open, and how many counts it holds */
	bool line_open;
	unsigned line_items;
};

/* JSON: opens the summary object with the fields every command has. Text: the blank line that sets
 * the summary apart from the tables. */
void summary_begin(struct summary *s);

/* A count: JSON field key (none if NULL); in text "label N" on the current line, after ", " (none
 * if label is NULL). */
void summary_count(struct summary *s, const char *key, const char *label, uint64_t v);

/* Text: a count line in its own group: "goroutines: created 3, ...". JSON: "key":{...}. */
void summary_group_open(struct summary *s, const char *key, const char *text_prefix);
void summary_group_close(struct summary *s, const char *text_note);

/* Text: ends the current count line (a no-op when none is open). */
void summary_line_end(struct summary *s);

/* The shared end: text "N events in S s[DETAIL], L lost" and how a -- CMD ended; JSON the same
 * facts, then the object's end. detail (text only, may be NULL) follows the duration, e.g.
 * " (3 live windows, ...)". Flushes the stream. */
void summary_end(struct summary *s, const char *detail);

#endif

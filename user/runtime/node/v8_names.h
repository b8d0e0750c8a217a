/* V8's names for what collects and why, as node's --trace-gc prints them, by V8 release: the
 * GarbageCollector and GarbageCollectionReason enums that Heap::PerformGarbageCollection takes. */
#ifndef RTMON_V8_NAMES_H
#define RTMON_V8_NAMES_H

#include <stdbool.h>

struct v8_collector {
	const char *kind; /* rtmon's name, JSON "phase": "scavenge", "mark-compact", "minor-mc" */
	const char *name; /* --trace-gc's: "Scavenge", "Mark-Compact", "Minor Mark-Compact" */
};

/* The collector with enum value code in V8 v8_major, or NULL for a value V8 does not have. */
const struct v8_collector *v8_collector(int v8_major, unsigned code);

/* The reason with enum value code, as Heap::GarbageCollectionReasonToString names it ("allocation
 * failure", "testing"), or NULL past the table. */
const char *v8_reason_name(int v8_major, unsigned code);

/* The reason is an API call by the program or a tool (gc() with --expose-gc, a heap snapshot, the
 * inspector, ...) rather than V8's own heuristics. */
bool v8_reason_forced(unsigned code);

#endif

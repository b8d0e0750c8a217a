/* v8_names.c - V8's collectors and GC reasons by release (v8_names.h). From V8's
 * src/common/globals.h (GarbageCollector; GarbageCollectionReason and its ToString), checked
 * against node 20's own table (tests/unit/test_v8_names.c reads the one
 * Heap::GarbageCollectionReasonToString returns from) and against --trace-gc's lines on node 20
 * and 22 (tests/integration/test_gc_node.py). */
#include <stddef.h>
#include "runtime/node/v8_names.h"

/* SCAVENGER, MARK_COMPACTOR, then the young generation's mark collector: MINOR_MARK_COMPACTOR in
 * V8 11, renamed MINOR_MARK_SWEEPER (and "Minor Mark-Sweep" in --trace-gc) by V8 12. */
static const struct v8_collector collectors_v11[] = {
	{ "scavenge", "Scavenge" },
	{ "mark-compact", "Mark-Compact" },
	{ "minor-mc", "Minor Mark-Compact" },
};

static const struct v8_collector collectors_v12[] = {
	{ "scavenge", "Scavenge" },
	{ "mark-compact", "Mark-Compact" },
	{ "minor-ms", "Minor Mark-Sweep" },
};

/* V8 keeps these numbers (they are persisted to UMA logs and must not be renumbered): only the
 * name of 26 changed between V8 11 and 12. */
#define REASON_MINOR_FINALIZE 26
static const char *const reasons[] = {
	"unknown",
	"allocation failure",
	"allocation limit",
	"context disposal",
	"counters extension",
	"debugger",
	"deserialize",
	"external memory pressure",
	"finalize incremental marking via stack guard",
	"finalize incremental marking via task",
	"full hash-table",
	"heap profiler",
	"task",
	"last resort",
	"low memory notification",
	"make heap iterable",
	"memory pressure",
	"memory reducer",
	"runtime",
	"sampling profiler",
	"snapshot creator",
	"testing",
	"external finalize",
	"global allocation limit",
	"measure memory",
	"background allocation failure",
	NULL, /* REASON_MINOR_FINALIZE: by release */
	"CppHeap allocation failure",
};

#define NREASONS (sizeof(reasons) / sizeof(reasons[0]))

const struct v8_collector *v8_collector(int v8_major, unsigned code)
{
	if (code >= 3)
		return NULL;
	return v8_major >= 12 ? &collectors_v12[code] : &collectors_v11[code];
}

const char *v8_reason_name(int v8_major, unsigned code)
{
	if (code == REASON_MINOR_FINALIZE)
		return v8_major >= 12 ? "finalize concurrent MinorMS" : "finalize MinorMC";
	return code < NREASONS ? reasons[code] : NULL;
}

bool v8_reason_forced(unsigned code)
{
	switch (code) {
	case 4:  /* counters extension */
	case 5:  /* debugger */
	case 11: /* heap profiler */
	case 14: /* low memory notification */
	case 19: /* sampling profiler */
	case 20: /* snapshot creator */
	case 21: /* testing: gc() */
	case 24: /* measure memory */
		return true;
	}
	return false;
}

/* rtmon gc, Node.js (V8): an entry and a return probe on
 * v8::internal::Heap::PerformGarbageCollection (user/runtime/native/gc_native.c: node's C++ is
 * native code, return probes are safe there). V8 calls it once per collection, from
 * Heap::CollectGarbage, on the thread of the isolate it collects, inside a safepoint: that
 * isolate's JavaScript is stopped for the whole call, so each call is a pause for the histogram.
 * Its arguments say what collects and why: rsi the GarbageCollector, edx the
 * GarbageCollectionReason (rdi the Heap, which tells isolates apart). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "runtime/native/gc_native.h"
#include "runtime/node/node_id.h"

/* GarbageCollector (src/common/globals.h): SCAVENGER, MARK_COMPACTOR, then the young-generation
 * mark collector that V8 11 calls MINOR_MARK_COMPACTOR and V8 12 MINOR_MARK_SWEEPER. kind is
 * rtmon's name (JSON "phase"), name as --trace-gc prints it. */
struct v8_collector {
	const char *kind, *name;
};

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

/* GarbageCollectionReason, as Heap::GarbageCollectionReasonToString names them for --trace-gc.
 * V8 keeps the numbers (they are persisted to UMA logs): only the name of 26 changed from V8 11
 * to 12 (tests/integration/test_gc_node.py checks this table against node's own). */
#define V8_REASON_MINOR_FINALIZE 26
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
	NULL, /* V8_REASON_MINOR_FINALIZE: by version */
	"CppHeap allocation failure",
};

#define NREASONS (sizeof(reasons) / sizeof(reasons[0]))

/* Reasons that are an API call by the program or a tool rather than V8's own heuristics: gc()
 * with --expose-gc ("testing"), a heap snapshot, the inspector, LowMemoryNotification,
 * performance.measureUserAgentSpecificMemory, ... The summary counts them as forced. */
static bool forced_reason(unsigned r)
{
	switch (r) {
	case 4:  /* counters extension */
	case 5:  /* debugger */
	case 11: /* heap profiler */
	case 14: /* low memory notification */
	case 19: /* sampling profiler */
	case 20: /* snapshot creator */
	case 21: /* testing */
	case 24: /* measure memory */
		return true;
	}
	return false;
}

static int v8_major(const struct gc_session *s)
{
	return atoi(s->id.engine);
}

static const char *reason_name(const struct gc_session *s, unsigned r)
{
	if (r == V8_REASON_MINOR_FINALIZE)
		return v8_major(s) >= 12 ? "finalize concurrent MinorMS" : "finalize MinorMC";
	return r < NREASONS ? reasons[r] : NULL;
}

/* Records are handed on one at a time, on the loop's thread, and the sink copies what it keeps:
 * one buffer for the names of numbers no table has and for the detail column does. */
static char unknown_kind[24], unknown_reason[24], detail[96];

static void node_describe(struct gc_session *s, const struct native_event *e, struct gc_record *r)
{
	const struct v8_collector *tab = v8_major(s) >= 12 ? collectors_v12 : collectors_v11;
	unsigned coll = (unsigned)e->args[1], why = (unsigned)e->args[2];
	const char *kind, *name, *reason = reason_name(s, why);

	if (coll < 3) {
		kind = tab[coll].kind;
		name = tab[coll].name;
	} else {
		snprintf(unknown_kind, sizeof(unknown_kind), "collector-%u", coll);
		kind = name = unknown_kind;
	}
	if (!reason) {
		snprintf(unknown_reason, sizeof(unknown_reason), "reason %u", why);
		reason = unknown_reason;
	}
	r->phase = r->label = kind;
	r->trigger = forced_reason(why) ? "forced" : "auto";
	r->reason = reason;
	snprintf(detail, sizeof(detail), "%s: %s", name, reason);
	r->detail = detail;
	gc_field_u64(r, "reason_code", why);
	gc_field_u64(r, "heap", e->args[0]);
}

static const struct native_spec node_spec = {
	.cycle_phase = "collect",
	.nfuncs = 1,
	.funcs = { { V8_PERFORM_GC_SYM, NR_CYCLE, NULL, true } },
	.describe = node_describe,
};

static int node_detect(struct gc_session *s, const char *exe, char *err, size_t errlen)
{
	const struct runtime_id *id = &s->id;

	(void)exe;
	if (id->kind != RUNTIME_NODE)
		return 0;
	snprintf(s->version, sizeof(s->version), "%s", id->version[0] ? id->version : "unknown");
	snprintf(s->label, sizeof(s->label), "node %s, V8 %s", s->version,
		 id->engine[0] ? id->engine : "unknown");
	if (id->v8_gc)
		return 1;
	snprintf(err, errlen,
		 "%s is node %s (V8 %s) and %s does not define %s, the function rtmon probes; use "
		 "a node that exports it (docs/gc.md lists the versions checked, e.g. node 20 and "
		 "22)",
		 gc_target_name(s), s->version, id->engine[0] ? id->engine : "unknown", id->lib,
		 V8_PERFORM_GC_NAME);
	return -ENOTSUP;
}

static int node_open(struct gc_session *s, char *err, size_t errlen)
{
	return native_open(s, &node_spec, err, errlen);
}

const struct gc_runtime gc_runtime_node = {
	.name = "node",
	.display = "Node.js (V8)",
	.pause_title = "GC pauses (V8 collections: the isolate's JavaScript stopped)",
	.detail_header = "COLLECTOR: REASON",
	.triggers = true,
	.nongc_stops = false,
	.detect = node_detect,
	.open = node_open,
	.counters = native_counters,
	.summary = native_summary,
	.close = native_close,
};

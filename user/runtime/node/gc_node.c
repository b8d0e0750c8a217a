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
#include "output/json.h"
#include "runtime/native/gc_native.h"
#include "runtime/node/node_id.h"
#include "runtime/node/v8_names.h"

/* Collections by GarbageCollector value, for the summary; the last slot counts values V8 11 and 12
 * do not have. */
#define NKINDS 4
struct node_gc {
	uint64_t by_kind[NKINDS];
};

static int v8_major(const struct gc_session *s)
{
	return atoi(s->id.engine);
}

/* Records are handed on one at a time on the loop's thread, and the sink copies what it keeps:
 * static buffers serve for the names of numbers no table has and for the DETAIL text. */
static char unknown_kind[24], unknown_reason[24], detail[96];

static void node_describe(struct gc_session *s, const struct native_event *e, struct gc_record *r)
{
	unsigned coll = (unsigned)e->args[1], why = (unsigned)e->args[2];
	const struct v8_collector *c = v8_collector(v8_major(s), coll);
	struct node_gc *ng = s->rt_priv;
	const char *kind, *name, *reason = v8_reason_name(v8_major(s), why);

	if (c) {
		kind = c->kind;
		name = c->name;
	} else {
		snprintf(unknown_kind, sizeof(unknown_kind), "collector-%u", coll);
		kind = name = unknown_kind;
	}
	if (!reason) {
		snprintf(unknown_reason, sizeof(unknown_reason), "reason %u", why);
		reason = unknown_reason;
	}
	if (ng)
		ng->by_kind[coll < NKINDS - 1 ? coll : NKINDS - 1]++;
	r->phase = r->label = kind;
	r->trigger = v8_reason_forced(why) ? "forced" : "auto";
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
	s->rt_priv = calloc(1, sizeof(struct node_gc));
	if (!s->rt_priv) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return native_open(s, &node_spec, err, errlen);
}

/* The collections by kind (JSON "kinds"), then the native engine's counters. */
static void node_summary(struct gc_session *s, FILE *out, bool json)
{
	const struct node_gc *ng = s->rt_priv;

	if (ng && json) {
		json_object_open(out, "kinds");
		for (unsigned k = 0; k < NKINDS - 1; k++)
			json_field_u64(out, v8_collector(v8_major(s), k)->kind, ng->by_kind[k]);
		if (ng->by_kind[NKINDS - 1])
			json_field_u64(out, "other", ng->by_kind[NKINDS - 1]);
		json_object_close(out);
	} else if (ng) {
		fprintf(out, "collections by kind:");
		for (unsigned k = 0; k < NKINDS - 1; k++)
			fprintf(out, "%s %s %llu", k ? "," : "", v8_collector(v8_major(s), k)->kind,
				(unsigned long long)ng->by_kind[k]);
		if (ng->by_kind[NKINDS - 1])
			fprintf(out, ", other %llu", (unsigned long long)ng->by_kind[NKINDS - 1]);
		fputc('\n', out);
	}
	native_summary(s, out, json);
}

static void node_close(struct gc_session *s)
{
	free(s->rt_priv);
	s->rt_priv = NULL;
	native_close(s);
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
	.summary = node_summary,
	.close = node_close,
};

/* rtmon gc on native code: entry and return probes on a program's own functions
 * (bpf/native_gc.bpf.c), each call of a cycle function one GC cycle, each call of a phase function
 * one phase of the cycle open on its thread. Three backends share it: Boehm GC
 * (user/runtime/boehm/gc_boehm.c: built-in function names), V8 (user/runtime/node/gc_node.c: one
 * function, its arguments read) and --cycle/--phase (user/runtime/native/gc_custom.c: the user's).
 * Never for Go code: return probes crash it. */
#ifndef RTMON_GC_NATIVE_RT_H
#define RTMON_GC_NATIVE_RT_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "native_gc.h"
#include "runtime/gc_backend.h"

struct native_func {
	const char *sym; /* the function's symbol */
	enum native_role role;
	const char *phase; /* NR_PHASE: the phase's name (JSON "phase") */
	bool required;     /* absent: an error naming it; otherwise it is left out */
};

struct native_spec {
	const char *cycle_phase;    /* JSON "phase" of a cycle record: "collect", "cycle" */
	const char *forced_trigger; /* trigger of a cycle call ("forced"), NULL when the runtime has
				       none */
	const char *mark_trigger;   /* trigger of a collection seen only by its mark ("auto") */
	const char *count_sym; /* a data symbol with the collector's count of collections, in the
				* file of the first function (Boehm: GC_gc_no); NULL: none */
	int nfuncs;
	struct native_func funcs[NATIVE_MAX_SITES];
	/* Optional: what a runtime that knows its cycle function's signature reads from the call's
	 * arguments (e->args): it sets the record's phase, label, trigger, detail and fields
	 * (V8: the collector and the reason). NULL: the function's name is the detail. */
	void (*describe)(struct gc_session *s, const struct native_event *e, struct gc_record *r);
};

/* Which file of the target's image (executable first, then its libraries in load order) defines
 * sym: its index, or -ENOENT. */
int native_find_func(const struct target *t, const char *sym);

/* Resolves every function in the target's files, loads the BPF program and attaches. spec must live
 * until native_close. 0, or -errno with one line in err (an absent function is named). */
int native_open(struct gc_session *s, const struct native_spec *spec, char *err, size_t errlen);
void native_counters(struct gc_session *s, uint64_t *lost, uint64_t *hits);
void native_summary(struct gc_session *s, FILE *out, bool json);
void native_close(struct gc_session *s);

#endif

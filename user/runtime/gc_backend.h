/* rtmon gc: what a runtime backend (user/runtime/go/gc_go.c, gc_python.c, gc_java.c, ...) plugs
 * into user/commands/gc.c. A backend detects its runtime in the target, loads and attaches its
 * probes, and turns what they report into struct gc_record; gc.c owns the options, the target, the
 * loop and all output. */
#ifndef RTMON_GC_RT_H
#define RTMON_GC_RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <bpf/libbpf.h>
#include "cli/opts.h"
#include "runtime/runtime_id.h"
#include "proc/target.h"

/* A value only some runtimes have ("generation":2, "pool":"Tenured Gen"): gc.c writes it into the
 * record's JSON object after the common fields, strings quoted and escaped. */
enum gc_field_kind { GF_U64, GF_I64, GF_BOOL, GF_STR };

struct gc_field {
	const char *key;
	enum gc_field_kind kind;
	union {
		uint64_t u;
		int64_t i;
		bool b;
		const char *s; /* NULL prints null */
	};
};

#define GC_MAX_FIELDS 12

/* One phase of a GC cycle, one whole collection, or a stop-the-world that is not GC. A cycle is
 * what the runtime collects in one go: Go's four phases, one CPython collection, one HotSpot GC
 * operation with its memory pools. */
struct gc_record {
	pid_t pid;
	unsigned cycle;      /* 0 when not part of a cycle (a non-GC stop-the-world) */
	const char *trigger; /* "heap", "time", "forced", "unknown"; NULL when not part of a cycle
			      * or when the runtime does not say */
	const char
		*phase; /* JSON name: "sweep-term", "mark", ... "stw"; "collect", "pause", "pool" */
	const char *label;  /* table name: "sweep-term (STW)", "stw (ReadMemStats)" */
	const char *reason; /* a stop-the-world's reason, or a collection's when the runtime
			     * gives one (V8: "allocation failure"); NULL otherwise */
	const char *cause;  /* runtimes with causes: why the collection ran, in the runtime's words
			     * (HotSpot: "System.gc()"); NULL when not known or there is none */
	uint64_t start_ns;  /* CLOCK_MONOTONIC */
	uint64_t dur_ns;
	bool stw;         /* the program was paused for dur_ns */
	bool gc;          /* part of GC: GC pauses make the pause histogram */
	bool cycle_start; /* counts one cycle: its first phase, or the record that stands for it */
	bool cycle_end;   /* the cycle's last record: its totals are reported after it (may be the
			   * same record as cycle_start) */
	bool incomplete;  /* cut short: the end was not seen */
	/* What the record tells about the heap, for the one line per collection: a memory pool of
	 * the heap (not code or class metadata; Go's whole heap is one) with its use before and
	 * after, and the collector that collected it. */
	bool heap_pool;
	uint64_t heap_before, heap_after;
	/* Go, with heap_pool: the cycle's heap as gctrace prints it ("4->4->2 MB, 5 MB goal"):
	 * heap_before and heap_after at GC start and at mark termination, heap_live what marking
	 * found live, heap_goal the goal; and the GC's share of the CPU since the program started
	 * (MemStats.GCCPUFraction, gctrace's "N%") at the cycle's end. */
	bool heap_live_known;
	uint64_t heap_live, heap_goal;
	double gc_cpu_fraction;
	const char *collector; /* NULL when the runtime has one */
	const char
		*detail; /* the table's DETAIL column (runtimes with a detail_header); NULL: "-" */
	int nfields;     /* runtime-specific JSON fields, in order (gc_field_* below) */
	struct gc_field fields[GC_MAX_FIELDS];
};

static inline struct gc_field *gc_field_add(struct gc_record *r, const char *key,
					    enum gc_field_kind k)
{
	struct gc_field *f =
		&r->fields[r->nfields < GC_MAX_FIELDS ? r->nfields++ : GC_MAX_FIELDS - 1];

	f->key = key;
	f->kind = k;
	return f;
}

static inline void gc_field_u64(struct gc_record *r, const char *key, uint64_t v)
{
	gc_field_add(r, key, GF_U64)->u = v;
}

static inline void gc_field_i64(struct gc_record *r, const char *key, int64_t v)
{
	gc_field_add(r, key, GF_I64)->i = v;
}

static inline void gc_field_bool(struct gc_record *r, const char *key, bool v)
{
	gc_field_add(r, key, GF_BOOL)->b = v;
}

/* v must live until gc_out_record returns. */
static inline void gc_field_str(struct gc_record *r, const char *key, const char *v)
{
	gc_field_add(r, key, GF_STR)->s = v;
}

/* Where a backend's records go: rtmon gc's table and JSON (user/commands/gc.c), or rtmon serve's
 * counters (user/commands/serve_collect.c). A sink embeds this as its first member. */
struct gc_out {
	void (*record)(struct gc_out *o, const struct gc_record *r);
};

/* Hands one record to the output (table row or JSON line, histogram, totals). */
static inline void gc_out_record(struct gc_out *o, const struct gc_record *r)
{
	o->record(o, r);
}

/* --cycle SYM [--phase NAME=SYM]...: a native program's own collector
 * (user/runtime/native/gc_custom.c). */
#define GC_MAX_PHASES     16
#define GC_PHASE_NAME_MAX 24

struct gc_custom_args {
	const char *cycle; /* NULL: no --cycle, the runtime is detected */
	int nphases;
	char phase_name[GC_MAX_PHASES][GC_PHASE_NAME_MAX];
	const char *phase_sym[GC_MAX_PHASES];
};

/* Option parsing: one --phase NAME=SYM; then, once all are read, the set as a whole. 0, or -EINVAL
 * with one line in err. */
int gc_custom_add_phase(struct gc_custom_args *a, const char *arg, char *err, size_t errlen);
int gc_custom_check(const struct gc_custom_args *a, char *err, size_t errlen);

struct gc_session {
	const struct common_opts *co;
	const struct gc_custom_args *custom;
	struct target *t;
	struct gc_out *out;
	struct runtime_id id; /* what runtime_identify found in the target (filled before detect) */
	struct ring_buffer
		*rb;      /* set by the backend's open when it reports through a ring buffer */
	char version[64]; /* the runtime's version, e.g. "go1.26.8", "3.11.2", for messages and JSON
			   */
	char label[96]; /* how the text summary names the runtime ("CPython 3.11.2"); "": version */
	const char *probe_kind; /* JSON summary "probe": "usdt"; NULL: probe_sites_kind() (uprobe
				   sites) */
	void *priv;             /* the backend's own state */
	void *rt_priv; /* a backend built on a shared engine: its own state, priv being the engine's
			* (node on the native engine) */
};

/* Sets s->rb to a ring buffer reading events (a BPF_MAP_TYPE_RINGBUF) with fn, which gets s as ctx:
 * gc.c's loop drains it. 0, or -errno with one line in err. */
int gc_session_ring(struct gc_session *s, struct bpf_map *events, ring_buffer_sample_fn fn,
		    char *err, size_t errlen);

/* How a message names the traced file: "PID 1234 (python3)" for -p, else the executable's path. */
static inline const char *gc_target_name(const struct gc_session *s)
{
	return s->t->kind == TARGET_PID ? s->t->label : s->t->exe;
}

struct gc_runtime {
	const char *name;    /* JSON "runtime": "go" */
	const char *display; /* messages: "Go" */
	const char
		*pause_title; /* text heading of the pause histogram: "GC stop-the-world pauses" */
	const char *detail_header; /* non-NULL: the table has a DETAIL column with this heading */
	bool triggers;             /* cycles carry a trigger: the summary counts the forced ones */
	bool nongc_stops; /* reports stop-the-worlds that are not GC (stw && !gc records) */
	bool causes; /* collections carry a cause (gc_cycle's JSON "cause", null when not known) */
	bool gc_cpu; /* cycles may carry the GC's CPU share: the line per cycle has a column */
	/* 1 if the executable at exe runs this runtime (fills s->version), 0 if not, -errno if it
	 * does but cannot be traced (a CPython built without probes): err names it and what to do
	 * instead. */
	int (*detect)(struct gc_session *s, const char *exe, char *err, size_t errlen);
	/* Loads and attaches (target still held for -- CMD). 0, or -errno with one line in err. */
	int (*open)(struct gc_session *s, char *err, size_t errlen);
	/* Events the kernel could not hand over, and probe hits. */
	void (*counters)(struct gc_session *s, uint64_t *lost, uint64_t *hits);
	/* Optional: the runtime's own totals, appended to the summary: JSON fields (,"k":v,...)
	 * when json, else whole text lines. */
	void (*summary)(struct gc_session *s, FILE *out, bool json);
	void (*close)(struct gc_session *s);
};

extern const struct gc_runtime gc_runtime_go;
extern const struct gc_runtime gc_runtime_python;
extern const struct gc_runtime gc_runtime_java;
extern const struct gc_runtime gc_runtime_node;  /* user/runtime/node/gc_node.c */
extern const struct gc_runtime gc_runtime_boehm; /* user/runtime/boehm/gc_boehm.c */
extern const struct gc_runtime
	gc_runtime_custom; /* user/runtime/native/gc_custom.c: chosen by --cycle */

/* With --cycle: gc_runtime_custom, or NULL after one error line (the target is Go). */
const struct gc_runtime *gc_custom_runtime(struct gc_session *s);

#endif

/* rtmon gc: what a runtime backend (user/gc_go.c; CPython, Java later) plugs into user/gc.c.
 * A backend detects its runtime in the target, loads and attaches its probes, and turns what they
 * report into struct gc_record; gc.c owns the options, the target, the loop and all output. */
#ifndef RTMON_GC_RT_H
#define RTMON_GC_RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <bpf/libbpf.h>
#include "opts.h"
#include "target.h"

/* One phase of a GC cycle, or a stop-the-world that is not GC. */
struct gc_record {
	pid_t pid;
	unsigned cycle;       /* 0 when not part of a cycle (a non-GC stop-the-world) */
	const char *trigger;  /* "heap", "time", "forced", "unknown"; NULL when not part of a cycle */
	const char *phase;    /* JSON name: "sweep-term", "mark", "mark-term", "sweep", ... "stw" */
	const char *label;    /* table name: "sweep-term (STW)", "stw (ReadMemStats)" */
	const char *reason;   /* a stop-the-world's reason, NULL otherwise */
	uint64_t start_ns;    /* CLOCK_MONOTONIC */
	uint64_t dur_ns;
	bool stw;             /* the program was paused for dur_ns */
	bool gc;              /* part of GC: GC pauses make the pause histogram */
	bool cycle_end;       /* the cycle's last phase: its totals are reported after it */
	bool incomplete;      /* cut short: the end was not seen */
};

struct gc_out;

/* Hands one record to the output (table row or JSON line, histogram, totals). */
void gc_out_record(struct gc_out *o, const struct gc_record *r);

struct gc_session {
	const struct common_opts *co;
	struct target *t;
	struct gc_out *out;
	struct ring_buffer *rb;  /* set by the backend's open when it reports through a ring buffer */
	char version[64];        /* the runtime's version, e.g. "go1.26.8", for messages and JSON */
	void *priv;              /* the backend's own state */
};

struct gc_runtime {
	const char *name;     /* JSON "runtime": "go" */
	const char *display;  /* messages: "Go" */
	/* true if the executable at exe runs this runtime; fills s->version. */
	bool (*detect)(struct gc_session *s, const char *exe);
	/* Loads and attaches (target still held for -- CMD). 0, or -errno with one line in err. */
	int (*open)(struct gc_session *s, char *err, size_t errlen);
	/* Events the kernel could not hand over, and probe hits. */
	void (*counters)(struct gc_session *s, uint64_t *lost, uint64_t *hits);
	void (*close)(struct gc_session *s);
};

extern const struct gc_runtime gc_runtime_go;

#endif

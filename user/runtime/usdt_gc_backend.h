/* rtmon gc: what the USDT backends (user/runtime/python/gc_python.c, user/runtime/java/gc_java.c)
 * share: one BPF object (bpf/usdt_gc.bpf.c) whose programs they attach, through libbpf, to their
 * runtime's probes, or (CPython without them) to a function's entry and return. */
#ifndef RTMON_GC_USDT_RT_H
#define RTMON_GC_USDT_RT_H

#include <stddef.h>
#include <stdint.h>
#include "runtime/gc_backend.h"
#include "usdt_gc.h"

#include "trace/probe.h"

#define GU_MAX_LINKS 16
#define GU_NSTATS    8

struct usdt_gc_bpf;
struct bpf_link;

/* s->priv of a USDT backend. */
struct gu_state {
	struct usdt_gc_bpf *skel;
	struct bpf_link *links[GU_MAX_LINKS];
	int nlinks;
	struct probe_links pl;     /* function probes */
	uint64_t stats[GU_NSTATS]; /* the backend's own totals, by its own indices */
};

enum gu_probe_kind {
	GU_USDT,   /* the runtime's USDT probe provider:name */
	GU_ENTRY,  /* a uprobe at offset in s->id.lib: a function's entry */
	GU_RETURN, /* a uretprobe on the function whose entry is at offset (native code only) */
};

/* One probe of the runtime and the program (in usdt_gc.bpf.c) that handles it. */
struct gu_probe {
	const char *name; /* "gc__start"; a function probe: the function, for messages */
	const char *prog; /* "py_gc_start" */
	enum gu_probe_kind kind;
	uint64_t offset; /* GU_ENTRY, GU_RETURN: file offset */
};

/* Loads usdt_gc.bpf.c with only the given programs, attaches each to its probe in s->id.lib (a USDT
 * probe at every location, libbpf setting semaphores; a function probe at its offset), and sets up
 * s->rb with on_event, which gets the session as ctx. 0, or -errno with one line in err. */
int gu_open(struct gc_session *s, const char *provider, const struct gu_probe *probes, int n,
	    ring_buffer_sample_fn on_event, char *err, size_t errlen);

/* For struct gc_runtime: lost events and probe hits; and teardown. */
void gu_counters(struct gc_session *s, uint64_t *lost, uint64_t *hits);
void gu_close(struct gc_session *s);

/* One of the BPF side's counters, summed over CPUs: GU_UNPAIRED (ends that came without their
 * begin: rtmon attached mid-collection; not reported as records), GU_NESTED. */
uint64_t gu_counter(struct gc_session *s, enum gu_counter c);

#endif

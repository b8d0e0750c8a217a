/* The goroutines of a running Go process (goinspect.h) written as the runtime itself writes them:
 * runtime.Stack's text (rtmon stack, /debug/pprof/goroutine?debug=2), the goroutine profile's
 * count per stack (debug=1, as runtime/pprof's printCountProfile) and the goroutine profile
 * itself (debug=0: goroutine/count per stack, output/profile.h). Strings from the target go
 * through text_safe. */
#ifndef RTMON_GOROUTINE_DUMP_H
#define RTMON_GOROUTINE_DUMP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "binary/code_line.h"
#include "output/profile.h"
#include "runtime/go/goinspect.h"

/* One frame's source: the levels of inlining at the PC (link-time), and its function's entry. */
struct go_frame_src {
	struct code_line lines[CODE_LINES_MAX];
	int n;
	uint64_t entry, pc; /* link-time */
};

/* Goroutines parked in one place share their PCs: each PC is looked up once per dump. One cache
 * per dump, so that dumps on several threads do not share one. */
struct go_frame_cache {
	struct go_proc *p;
	struct go_frame_cache_slot *slots; /* NULL: every lookup uncached */
};

void go_frame_cache_init(struct go_frame_cache *c, struct go_proc *p);
void go_frame_cache_free(struct go_frame_cache *c);
/* pc: a run-time address; trap: where a signal stopped the code, not a return address. */
void go_frame_lookup(struct go_frame_cache *c, uint64_t pc, bool trap, struct go_frame_src *fs);

/* runtime.showfuncinfo at the default GOTRACEBACK: runtime internals hidden, exported runtime
 * functions shown, runtime.gopanic shown below the first frame. */
bool go_frame_shown(const char *name, bool first);
/* The ns g has waited (waiting or in a syscall), or -1 when not recorded. */
int64_t go_goroutine_waiting_ns(const struct go_goroutine *g);

/* One goroutine as runtime.Stack prints it ("goroutine 1 [running]:" and its frames); a blank
 * line before it unless it is the first. */
void go_write_goroutine(FILE *out, struct go_frame_cache *c, const struct go_goroutine *g,
			bool first);
/* runtime.Stack(buf, true): every goroutine that is not the runtime's own. */
void go_write_goroutines(FILE *out, struct go_frame_cache *c, const struct go_goroutine *gs,
			 size_t n);
/* The goroutine profile with debug=1: "goroutine profile: total N", then each distinct stack once,
 * most frequent first, with its count and PCs and a "#" line per frame. */
void go_write_goroutine_counts(FILE *out, struct go_frame_cache *c, const struct go_goroutine *gs,
			       size_t n);
/* The goroutine profile (debug=0): one sample per distinct stack, its count of goroutines
 * (goroutine/count). Goroutines whose stack was not read (running on a CPU, changing under every
 * read) are counted as lost stacks. NULL on out of memory. */
struct profile *go_goroutine_profile(struct go_frame_cache *c, const struct go_goroutine *gs,
				     size_t n);

#endif

/* rtmon malloc, shared by its three files: malloc.c (options, counters, budget, the run's
 * lifecycle), malloc_sites.c (which allocator and functions to probe, and attaching them) and
 * malloc_output.c (the text and JSON reports). */
#ifndef RTMON_MALLOC_RUN_H
#define RTMON_MALLOC_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h> /* bpf/alloc.h uses __u64, which the BPF side has from vmlinux.h */
#include "alloc.h"
#include "cli/opts.h"
#include "cli/stack_opts.h"
#include "proc/target.h"
#include "runtime/go/goelf.h"
#include "trace/budget.h"
#include "trace/loop.h"
#include "trace/probe.h"

/* The allocation functions by their AF_ index (bpf/alloc.h). */
extern const char *const malloc_fn_names[AF_COUNT];

struct malloc_args {
	struct common_opts co;
	double budget;  /* --budget PCT; 0 = trace every call */
	bool live;      /* --live: return probes too, and a table of the blocks not freed yet */
	bool stacks;    /* --stacks: per call stack (malloc_stacks.c) */
	double min_age; /* --min-age SEC (--live --stacks): only blocks at least this old */
	bool min_age_set;
	int unwind;                   /* --unwind: MALLOC_UNWIND_* */
	struct stack_opts so;         /* --folded, --pprof, --top, --value */
	const char *allocator_prefix; /* --allocator-prefix: the allocator's names start with it */
};

enum { MALLOC_UNWIND_AUTO, MALLOC_UNWIND_FP, MALLOC_UNWIND_DWARF };

struct malloc_run {
	struct malloc_args *args;
	struct target *t;
	struct alloc_bpf *skel;
	char allocator[4096];       /* the file whose functions are probed */
	const char *allocator_kind; /* "glibc", "jemalloc", "tcmalloc", "other", "go" */
	bool realloc_forwards; /* glibc's realloc(NULL, n) and realloc(p, 0) reach malloc, free */
	bool probed[AF_COUNT]; /* the functions with a probe of their own */
	bool has_forwarders;   /* some site has AF_FORWARDS */
	/* CPython's object allocator, when r->objects asks for it and a file exports it: probed on
	 * a link of its own, counted and reported apart (ALLOC_GROUP_OBJECTS). */
	bool objects;
	char obj_allocator[4096];
	struct probe_site obj_sites[MALLOC_OBJ_SITES_MAX];
	int nobj_sites;
	bool go;             /* a Go program: runtime.mallocgc, size classes */
	bool go_specialized; /* GOEXPERIMENT=sizespecializedmalloc: its entry points probed too */
	struct go_info gi;
	/* A function sharing its address with an earlier one (glibc's aligned_alloc is memalign) is
	 * probed once; its calls are reported under the first name. */
	int alias_of[AF_COUNT];
	struct malloc_stats base;     /* totals at the last interval report */
	struct malloc_stats obj_base; /* the object allocator's */
	__u64 total_table_full; /* --live: base.live_table_full (the whole run's, for the summary)
				 */
	int interval_no;
	double start_s;
	/* The probe sites, kept so that --budget can attach them again after each off period. */
	char site_path[4096];
	struct probe_site sites[MALLOC_SITES_MAX];
	bool site_emulated[AF_COUNT]; /* every site of that function is one the kernel emulates */
	int nsites;
	struct probe_links *pl;
	const char *site_what;
	struct probe_site
		ret_sites[MALLOC_SITES_MAX]; /* --live: the allocating functions' returns */
	int nret_sites;
	/* --budget */
	struct budget *budget;
	struct budget_costs costs;
	double hit_ns[AF_COUNT]; /* what one call of each function costs the target while live */
	/* Go: the runtime's own allocation totals, the sampled fraction's basis (budget.h's
	 * runtime_counts); NULL until opened, or when it could not be */
	struct go_proc *gp;
	struct go_alloc_reader *gar;
	/* --stacks */
	bool stack_copy; /* the DWARF path: stacks copied and unwound here (else frame pointers) */
	struct malloc_stacks *ms;
	__u64 stacks_lost_kernel; /* calls whose stack the kernel did not record */
	__u64 stacks_lost;        /* stacks that could not be unwound */
	__u64 stacks_truncated;   /* stacks cut short */
	__u64 stacks_unnamed;     /* calls whose stack was gone before it could be named */
	__u64 live_stacks_lost; /* --live: blocks outstanding whose stack was lost ("[stack lost]")
				 */
	__u64 report_count, report_bytes; /* the last report's allocations and bytes (estimated
					   * under --budget): the summary's, which the stacks add
					   * up to */
};

/* struct malloc_stats is read, subtracted and scaled as an array of __u64. */
#define STATS_WORDS (sizeof(struct malloc_stats) / sizeof(__u64))
_Static_assert(sizeof(struct malloc_stats) % sizeof(__u64) == 0, "malloc_stats holds __u64 only");

/* The words holding the size extremes: combined by maximum over CPUs, never subtracted or scaled
 * (they are since tracing began, and exact). */
static inline bool stats_word_is_extreme(size_t i)
{
	return i == offsetof(struct malloc_stats, size_max) / sizeof(__u64) ||
	       i == offsetof(struct malloc_stats, size_min_inv) / sizeof(__u64);
}

/* Opens and loads the BPF object (named cmd in errors), finds the sites and attaches them, under
 * r->args->budget's duty cycle when it is set (r->budget). r->t, r->pl, r->go and r->gi are set
 * before. 0, or -1 with one line in err; malloc_collect_close in either case. */
int malloc_collect_open(struct malloc_run *r, const char *cmd, char *err, size_t errlen);
void malloc_collect_close(struct malloc_run *r);
/* --budget on a Go program: opens the reader of the runtime's allocation totals, once the target
 * runs its own executable (after target_release for -- CMD; malloc_collect_open does it for -p),
 * while the first live window lasts: what the probes saw until its first reading is the runtime's
 * count until then. Without it the sampled fraction falls back to the target's CPU time (-v says
 * why). */
void malloc_collect_runtime_open(struct malloc_run *r);
/* The counters of one enum alloc_group summed over CPUs; malloc_read_stats: the allocator's. 0 or
 * -errno. */
int malloc_read_group(const struct malloc_run *r, int group, struct malloc_stats *sum);
int malloc_read_stats(const struct malloc_run *r, struct malloc_stats *sum);
/* a -= b, word by word (the extremes kept). */
void malloc_stats_subtract(struct malloc_stats *a, const struct malloc_stats *b);
/* a += b, word by word; the extremes are b's when larger. */
void malloc_stats_add(struct malloc_stats *a, const struct malloc_stats *b);
/* --budget: delta = delta * own_scale + run_total * run_scale, rounded (budget.h). */
void malloc_stats_estimate(struct malloc_stats *delta, const struct malloc_stats *run_total,
			   const struct budget_span *sp);

/* Finds the allocator (static executable, else the first library defining malloc in the loader's
 * order) or Go's runtime.mallocgc, and the probe site of each function. 0, or -1 with err. */
int malloc_find_sites(struct malloc_run *r, char *err, size_t errlen);
/* Attach and detach the entry (and --live return) probes; --budget calls them every duty cycle. */
int malloc_attach_sites(void *ctx, char *err, size_t errlen);
void malloc_detach_sites(void *ctx);

/* --stacks (malloc_stacks.c): the value types (allocations, bytes); the profile and the ring the
 * loop drains, set up after malloc_collect_open; the report, written as r->args->so says. */
const struct profile_value_type *malloc_stack_types(size_t *n);
int malloc_stacks_open(struct malloc_run *r, char *err, size_t errlen);
struct ring_buffer *malloc_stacks_ring(const struct malloc_run *r);
/* Once the target runs (after target_release): its files are read while it does. */
void malloc_stacks_watch(struct malloc_run *r);
void malloc_stacks_close(struct malloc_run *r);
int malloc_stacks_report(struct malloc_run *r, FILE *out, char *err, size_t errlen);

/* The report of one interval or of the whole run; sp is NULL without --budget. */
void malloc_print_text(const struct malloc_run *r, int group, const struct malloc_stats *s,
		       const struct budget_span *sp);
void malloc_print_json(const struct malloc_run *r, int group, const struct malloc_stats *s,
		       const struct budget_span *sp, const struct malloc_stats *seen);
/* The last lines: events, lost, how tracing ended, and --budget's sampling. */
void malloc_print_summary(struct malloc_run *r, enum loop_end end);

#endif

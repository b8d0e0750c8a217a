/* rtmon malloc: allocation sizes as a log2 histogram, counted in the kernel. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <math.h>
#include <bpf/bpf.h>
#include "trace/budget.h"
#include "cli/command.h"
#include "cli/commands.h"
#include "binary/objfile.h"
#include "runtime/go/goelf.h"
#include "output/hist.h"
#include "output/json.h"
#include "trace/loop.h"
#include "alloc.h"
#include "alloc.skel.h"
#include "trace/skel_open.h"
#include "cli/opts.h"
#include "trace/probe.h"
#include "binary/probe_site.h"
#include "proc/target.h"

static const char *const fn_names[AF_COUNT] = {
	[AF_MALLOC] = "malloc", [AF_CALLOC] = "calloc", [AF_REALLOC] = "realloc",
	[AF_ALIGNED_ALLOC] = "aligned_alloc", [AF_POSIX_MEMALIGN] = "posix_memalign",
	[AF_MEMALIGN] = "memalign", [AF_VALLOC] = "valloc", [AF_PVALLOC] = "pvalloc", [AF_FREE] = "free",
	[AF_MALLOCGC] = "mallocgc",
};

struct malloc_args {
	struct common_opts co;
	double budget;  /* --budget PCT; 0 = trace every call */
	bool live;      /* --live: return probes too, and a table of the blocks not freed yet */
};

enum { OPT_BUDGET = 0x2000, OPT_LIVE };

struct malloc_run {
	struct malloc_args *args;
	struct target *t;
	struct alloc_bpf *skel;
	char allocator[4096];       /* the file whose functions are probed */
	bool go;                    /* a Go program: runtime.mallocgc, size classes */
	struct go_info gi;
	/* A function sharing its address with an earlier one (glibc's aligned_alloc is memalign) is
	 * probed once; its calls are reported under the first name. */
	int alias_of[AF_COUNT];
	struct malloc_stats base;  /* totals at the last interval report */
	__u64 total_table_full;    /* --live: base.live_table_full (the whole run's, for the summary) */
	int interval_no;
	double start_s;
	/* The probe sites, kept so that --budget can attach them again after each off period. */
	char site_path[4096];
	struct probe_site sites[AF_COUNT];
	bool site_emulated[AF_COUNT];
	int nsites;
	struct probe_links *pl;
	const char *site_what;
	struct probe_site ret_sites[AF_COUNT];  /* --live: the allocating functions' returns */
	int nret_sites;
	/* --budget */
	struct budget *budget;
	struct budget_costs costs;
	double hit_ns[AF_COUNT];   /* what one call of each function costs the target while live */
};

/* struct malloc_stats is read, subtracted and scaled as an array of __u64. */
#define STATS_WORDS (sizeof(struct malloc_stats) / sizeof(__u64))
_Static_assert(sizeof(struct malloc_stats) % sizeof(__u64) == 0, "malloc_stats holds __u64 only");

static const char doc[] =
	"Histogram of allocation sizes in a native program (glibc malloc and compatible allocators).\v"
	"Probes malloc, calloc (nmemb*size), realloc, aligned_alloc, posix_memalign, memalign, valloc, "
	"pvalloc and free in the executable (static builds) or in the library that provides malloc "
	"(libc.so.6, or an allocator loaded before it). Counts are kept in the kernel.\n\n"
	"Go programs (found by their build info; stripped ones too) are traced at runtime.mallocgc: sizes "
	"as a log2 histogram and by the runtime's size classes, with allocations over 32 KiB apart.\n\n"
	"A probe hit costs the target about 1 us (a malloc costs tens of ns). --budget PCT bounds that: "
	"rtmon attaches and detaches its probes in duty cycles so that they take at most PCT percent of "
	"the target's CPU time, and reports estimates scaled from what it saw (marked ~, with the sampled "
	"fraction). Without --budget every call is traced. rtmon thr, lat and gc need no budget: their "
	"probes fire once per thread or GC cycle, not per call (README, OVERHEAD).\n\n"
	"--live adds return probes on the allocating functions and a table of the blocks allocated while "
	"tracing and not freed yet (live allocations and bytes; with -i a level, not a delta). A return "
	"probe costs about as much again as the entry probe: an allocation costs the target about twice "
	"as much under --live (docs/malloc.md). Native programs only, and not with --budget.\n\n"
	"Examples:\n"
	"  rtmon malloc --binpath ./app      every process running ./app, also ones started later\n"
	"  rtmon malloc -p 1234 -d 10        PID 1234 for 10 seconds\n"
	"  rtmon malloc -i 1 -- ./app args   start ./app, print every second\n"
	"  rtmon malloc --budget 5 -p 1234   slow PID 1234 down by at most ~5%, estimated counts\n"
	"  rtmon malloc --live -p 1234       also the blocks allocated while tracing and not freed\n"
	"  rtmon malloc --json -p 1234       JSON lines (docs/json.md)";

static const struct argp_option malloc_options[] = {
	{ "budget", OPT_BUDGET, "PCT", 0, "Let the probes take at most PCT percent of the target's CPU time "
	  "(0 < PCT <= 100): duty-cycled probes, estimated counts", 0 },
	{ "live", OPT_LIVE, NULL, 0, "Also count the blocks allocated while tracing and not freed (return "
	  "probes: about twice the cost per allocation; native programs only)", 0 },
	{ 0 },
};

static error_t parse_malloc(int key, char *arg, struct argp_state *state)
{
	struct malloc_args *a = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		common_opts_init(state, &a->co);
		return ARGP_ERR_UNKNOWN;
	case OPT_BUDGET:
		if (budget_parse_pct(arg, &a->budget)) {
			argp_failure(state, 2, 0, "invalid budget '%s': give a percentage of the target's CPU time, "
				     "more than 0 and at most 100", arg);
			return EINVAL;
		}
		return 0;
	case OPT_LIVE:
		a->live = true;
		return 0;
	case ARGP_KEY_END:
		if (a->live && a->budget) {
			argp_failure(state, 2, 0, "--live cannot be used with --budget: live bytes need every "
				     "allocation and free; drop one of them");
			return EINVAL;
		}
		return ARGP_ERR_UNKNOWN;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static const struct argp_child children[] = { { &common_argp, 0, NULL, 0 }, { 0 } };
static const struct argp malloc_argp = { malloc_options, parse_malloc, NULL, doc, children, NULL, NULL };

/* The allocator is the first file in lookup order that defines malloc: the executable itself for
 * static builds (or ones that link an allocator in), else a library. */
static int find_allocator(struct malloc_run *r, struct objfile_sym funcs[AF_COUNT], bool found[AF_COUNT],
			  char *err, size_t errlen)
{
	const struct image *img = &r->t->image;

	for (int i = 0; i < img->n; i++) {
		struct objfile ef;
		char e2[256];

		if (objfile_open(&ef, img->paths[i], e2, sizeof(e2)))
			continue;
		if (objfile_find_func(&ef, "malloc", &funcs[AF_MALLOC])) {
			bool stripped_static = i == 0 && ef.is_static && !ef.has_symtab;

			objfile_close(&ef);
			if (stripped_static) {
				snprintf(err, errlen, "%s is static and stripped: no symbols locate its allocator; "
					 "trace an unstripped build", r->t->label);
				return -ENOENT;
			}
			continue;
		}
		found[AF_MALLOC] = true;
		for (int f = 0; f < AF_NATIVE_COUNT; f++)
			if (f != AF_MALLOC)
				found[f] = !objfile_find_func(&ef, fn_names[f], &funcs[f]);
		snprintf(r->allocator, sizeof(r->allocator), "%s", img->paths[i]);
		objfile_close(&ef);
		return 0;
	}
	snprintf(err, errlen, "no allocator (malloc) in %s or its %d libraries: rtmon malloc traces programs "
		 "that call malloc", r->t->label, img->n - 1);
	return -ENOENT;
}

/* Go: one probe in runtime.mallocgc, after its stack-check prologue so that a call that grows the
 * stack (morestack re-runs the prologue) is counted once. Never a return probe: Go moves stacks. */
static int find_go_site(struct malloc_run *r, char *err, size_t errlen)
{
	struct go_symtab *st;
	struct probe_site *site = &r->sites[0];
	int rc = go_symtab_open(r->t->exe, &st, err, errlen);

	if (rc)
		return rc;
	rc = go_func_body_site(st, "runtime.mallocgc", &site->offset, err, errlen);
	go_symtab_close(st);
	if (rc)
		return rc;
	site->offset = probe_site_emulated(r->t->exe, site->offset);
	site->cookie = AF_MALLOCGC;
	r->nsites = 1;
	r->site_what = "runtime.mallocgc";
	snprintf(r->allocator, sizeof(r->allocator), "%s", r->t->exe);
	return 0;
}

/* Where to probe: every allocator function of one file, sharing one link. */
static int find_sites(struct malloc_run *r, char *err, size_t errlen)
{
	struct objfile_sym funcs[AF_COUNT] = { 0 };
	bool found[AF_COUNT] = { 0 };
	int rc;

	for (int f = 0; f < AF_COUNT; f++)
		r->alias_of[f] = -1;
	if (r->go)
		rc = find_go_site(r, err, errlen);
	else
		rc = find_allocator(r, funcs, found, err, errlen);
	if (rc)
		return rc;
	for (int f = 0; !r->go && f < AF_NATIVE_COUNT; f++) {
		if (!found[f])
			continue;
		for (int g = 0; g < f; g++)
			if (found[g] && r->alias_of[g] < 0 && funcs[g].offset == funcs[f].offset)
				r->alias_of[f] = g;
		if (r->alias_of[f] < 0)
			r->sites[r->nsites++] = (struct probe_site){
				.offset = probe_site_emulated(r->allocator, funcs[f].offset),
				.cookie = (uint64_t)f,
			};
	}
	for (int i = 0; i < r->nsites; i++)
		if (!r->go && r->sites[i].cookie != AF_FREE)
			/* At the entry probe's offset: only flag-setting instructions come before it, so the
			 * return address is still on top of the stack, and both share one breakpoint trap. */
			r->ret_sites[r->nret_sites++] = r->sites[i];
	if (!r->go)
		r->site_what = "the allocator functions";
	snprintf(r->site_path, sizeof(r->site_path), "%s", r->allocator);
	for (int i = 0; i < r->nsites; i++)
		r->site_emulated[r->sites[i].cookie] = probe_site_kernel_emulates(r->site_path, r->sites[i].offset);
	return 0;
}

static int attach_sites(void *ctx, char *err, size_t errlen)
{
	struct malloc_run *r = ctx;

	/* Returns first: an entry seen without its return would leave a stale per-thread entry. */
	if (r->args->live && probe_attach_return_sites(r->pl, r->skel->progs.on_alloc_return,
						       target_probe_pid(r->t), r->site_path,
						       r->ret_sites, r->nret_sites, r->site_what, err, errlen))
		return -1;
	return probe_attach_sites(r->pl, r->skel->progs.on_alloc_call, target_probe_pid(r->t),
				  r->site_path, r->sites, r->nsites, r->site_what, err, errlen);
}

static void detach_sites(void *ctx)
{
	struct malloc_run *r = ctx;

	probe_links_destroy(r->pl);
}

static int read_stats(struct malloc_run *r, struct malloc_stats *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	struct malloc_stats *percpu;
	__u64 *out = (__u64 *)sum;
	__u32 zero = 0;
	int rc;

	memset(sum, 0, sizeof(*sum));
	if (ncpu < 0)
		return ncpu;
	percpu = calloc((size_t)ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	rc = bpf_map_lookup_elem(bpf_map__fd(r->skel->maps.stats), &zero, percpu);
	if (rc) {
		rc = -errno;
		free(percpu);
		return rc;
	}
	for (int c = 0; c < ncpu; c++) {
		const __u64 *w = (const __u64 *)&percpu[c];

		for (size_t i = 0; i < STATS_WORDS; i++)
			out[i] += w[i];
	}
	free(percpu);
	return 0;
}

static void subtract(struct malloc_stats *a, const struct malloc_stats *b)
{
	__u64 *x = (__u64 *)a;
	const __u64 *y = (const __u64 *)b;

	for (size_t i = 0; i < STATS_WORDS; i++)
		x[i] -= y[i];
}

/* --budget: counted * own_scale + run_total * run_scale, rounded (budget.h). */
static void estimate(struct malloc_stats *delta, const struct malloc_stats *run_total, const struct budget_span *sp)
{
	__u64 *x = (__u64 *)delta;
	const __u64 *run = (const __u64 *)run_total;

	for (size_t i = 0; i < STATS_WORDS; i++)
		x[i] = (__u64)llround((double)x[i] * sp->own_scale + (double)run[i] * sp->run_scale);
}

/* budget_hooks.cost_ns: what the calls counted so far cost the target, by the kind of site hit. */
static int hits_cost_ns(void *ctx, double *ns)
{
	struct malloc_run *r = ctx;
	struct malloc_stats s;
	int rc = read_stats(r, &s);

	if (rc)
		return rc;
	*ns = 0;
	for (int f = 0; f < AF_COUNT; f++)
		*ns += (double)s.calls[f] * r->hit_ns[f];
	return 0;
}

static void print_calls_text(const struct malloc_run *r, const struct malloc_stats *s, const char *mark)
{
	bool first = true;

	printf("calls:");
	for (int f = 0; f < AF_COUNT; f++) {
		if (r->alias_of[f] >= 0 || !s->calls[f])
			continue;
		printf("%s %s", first ? "" : ",", fn_names[f]);
		for (int g = 0; g < AF_COUNT; g++)
			if (r->alias_of[g] == f)
				printf("/%s", fn_names[g]);
		printf(" %s%llu", mark, (unsigned long long)s->calls[f]);
		first = false;
	}
	printf("%s\n", first ? " none" : "");
}

/* grtmon-style rows, one per size class up to the largest one used, then the large allocations. */
static void print_go_classes(const struct malloc_stats *s, const char *mark)
{
	int last = 0;
	__u64 max = 0;

	for (int i = 0; i <= GO_NUM_SIZE_CLASSES; i++) {
		if (s->go_classes[i])
			last = i;
		if (s->go_classes[i] > max)
			max = s->go_classes[i];
	}
	printf("\n  size class : count    distribution\n");
	for (int i = 0; i <= last; i++) {
		char label[16];
		int stars = max ? (int)((s->go_classes[i] * 40 + max - 1) / max) : 0;

		if (i == GO_CLASS_LARGE)
			snprintf(label, sizeof(label), "> 32K");
		else
			snprintf(label, sizeof(label), "%uB", go_class_size[i]);
		char count[32];

		snprintf(count, sizeof(count), "%s%llu", s->go_classes[i] ? mark : "",
			 (unsigned long long)s->go_classes[i]);
		printf("  %10s : %-8s |%-40.*s|\n", label, count, stars, "****************************************");
	}
	printf("large allocations (> 32 KiB): %s%llu, bytes %s%llu\n", mark,
	       (unsigned long long)s->go_classes[GO_CLASS_LARGE], mark, (unsigned long long)s->go_large_bytes);
}

/* Under --budget: how the counts above were obtained. */
static void print_budget_text(const struct malloc_run *r, const struct budget_span *sp)
{
	if (!sp->estimated) {
		printf("probes attached all the time under --budget %g: counts are exact\n", budget_pct(r->budget));
		return;
	}
	printf("sampled %.3g%% of the time, counts are estimates (~): scaled by the %.3g%% of the target's work "
	       "(its %s) done while the probes were attached; --budget %g\n", 100 * sp->live_fraction,
	       100 * sp->sampled_fraction, !strcmp(sp->basis, "user_cpu") ? "user CPU time" :
	       !strcmp(sp->basis, "cpu") ? "CPU time" : "run time", budget_pct(r->budget));
	if (sp->scale_uncertain)
		printf("the probes took %.0f%% of the target's CPU while attached, so the scale of these counts is "
		       "uncertain (their distribution is not)\n", 100 * sp->probe_share_live);
}

/* --live: the blocks' sums are signed (a block may be freed on another CPU than it was allocated on). */
static void print_live_text(const struct malloc_stats *s)
{
	printf("live: %lld allocations, %lld bytes (allocated while tracing and not freed)\n",
	       (long long)s->live_allocs, (long long)s->live_bytes);
	if (s->frees_untracked)
		printf("frees of memory allocated before tracing: %llu\n", (unsigned long long)s->frees_untracked);
	if (s->live_table_full)
		printf("%llu allocations not tracked: the table of live blocks (%u entries) was full; live "
		       "figures are too low\n", (unsigned long long)s->live_table_full, LIVE_TABLE_ENTRIES);
}

static void print_text(const struct malloc_run *r, const struct malloc_stats *s, const struct budget_span *sp)
{
	const char *mark = sp && sp->estimated ? "~" : "";

	if (r->interval_no) {
		time_t now = time(NULL);
		char ts[32];

		strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&now));
		printf("\n%s (interval %d)\n", ts, r->interval_no);
	}
	if (r->go)
		printf("Allocation sizes in %s, Go %s runtime.mallocgc:\n", r->t->label, r->gi.version);
	else
		printf("Allocation sizes in %s, allocator %s:\n", r->t->label, r->allocator);
	if (!s->count && !s->frees) {
		printf("no allocation calls seen\n");
		if (r->args->live && s->live_allocs)
			print_live_text(s);
		if (sp)
			print_budget_text(r, sp);
		return;
	}
	hist_print_log2_marked(stdout, s->slots, LOG2_SLOTS, "size (bytes)", mark);
	if (r->go)
		print_go_classes(s, mark);
	printf("allocations %s%llu, bytes %s%llu, mean %.1f, p50 ~%.0f, p99 ~%.0f", mark,
	       (unsigned long long)s->count, mark, (unsigned long long)s->bytes,
	       s->count ? (double)s->bytes / (double)s->count : 0.0, hist_percentile(s->slots, LOG2_SLOTS, 0.5),
	       hist_percentile(s->slots, LOG2_SLOTS, 0.99));
	if (r->go) {
		putchar('\n'); /* Go has no free: the collector reclaims memory (see rtmon gc) */
	} else {
		printf(", frees %s%llu\n", mark, (unsigned long long)s->frees);
		print_calls_text(r, s, mark);
	}
	if (r->args->live)
		print_live_text(s);
	if (sp)
		print_budget_text(r, sp);
}

/* ,"budget_pct":5,"estimated":true,"sampled_fraction":0.048,...: how the counts were obtained. */
static void print_json_budget(const struct malloc_run *r, const struct budget_span *sp)
{
	printf(",\"budget_pct\":%g,\"estimated\":%s,\"sampled_fraction\":%.6g,\"live_fraction\":%.6g,"
	       "\"sampled_basis\":\"%s\",\"probe_share_live\":%.3f,\"scale_uncertain\":%s", budget_pct(r->budget),
	       sp->estimated ? "true" : "false", sp->sampled_fraction, sp->live_fraction, sp->basis,
	       sp->probe_share_live, sp->scale_uncertain ? "true" : "false");
}

/* {"type":"size_classes","name":"go_malloc_class",...}: counts by the Go runtime's size classes. */
static void print_json_go_classes(const struct malloc_run *r, const struct malloc_stats *s,
				  const struct budget_span *sp)
{
	bool first = true;

	fputs("{\"type\":\"size_classes\",\"name\":\"go_malloc_class\",\"unit\":\"bytes\",", stdout);
	if (r->t->kind == TARGET_BINPATH)
		fputs("\"pid\":null", stdout);
	else
		printf("\"pid\":%d", r->t->pid);
	fputs(",\"classes\":[", stdout);
	for (int i = 0; i < GO_NUM_SIZE_CLASSES; i++) {
		if (!s->go_classes[i])
			continue;
		printf("%s{\"size\":%u,\"count\":%llu}", first ? "" : ",", go_class_size[i],
		       (unsigned long long)s->go_classes[i]);
		first = false;
	}
	printf("],\"large\":{\"count\":%llu,\"bytes\":%llu}", (unsigned long long)s->go_classes[GO_CLASS_LARGE],
	       (unsigned long long)s->go_large_bytes);
	if (sp)
		print_json_budget(r, sp);
	if (r->interval_no)
		printf(",\"interval\":%d", r->interval_no);
	puts("}");
}

static void print_json(const struct malloc_run *r, const struct malloc_stats *s, const struct budget_span *sp,
		       const struct malloc_stats *seen)
{
	bool first = true;

	putchar('{');
	json_hist_fields(stdout, "malloc_size", "bytes", target_report_pid(r->t),
			 s->slots, LOG2_SLOTS, s->count, s->bytes);
	if (!r->go)
		printf(",\"frees\":%llu", (unsigned long long)s->frees);
	if (r->args->live)
		printf(",\"live_allocs\":%lld,\"live_bytes\":%lld,\"frees_untracked\":%llu,\"live_table_full\":%llu",
		       (long long)s->live_allocs, (long long)s->live_bytes, (unsigned long long)s->frees_untracked,
		       (unsigned long long)s->live_table_full);
	fputs(",\"calls\":{", stdout);
	for (int f = 0; f < AF_COUNT; f++) {
		if (r->alias_of[f] >= 0 || (f == AF_MALLOCGC) != r->go)
			continue;
		printf("%s\"%s\":%llu", first ? "" : ",", fn_names[f], (unsigned long long)s->calls[f]);
		first = false;
	}
	fputs("},\"allocator\":", stdout);
	json_str(stdout, r->allocator);
	printf(",\"probe\":\"%s\"", probe_sites_kind());
	if (r->go) {
		fputs(",\"runtime\":\"go\",\"go_version\":", stdout);
		json_str(stdout, r->gi.version);
	}
	if (sp) {
		print_json_budget(r, sp);
		printf(",\"sampled_count\":%llu", (unsigned long long)seen->count);
	}
	if (r->interval_no)
		printf(",\"interval\":%d", r->interval_no);
	puts("}");
	if (r->go)
		print_json_go_classes(r, s, sp);
}

/* Prints what was counted since the last report (everything, without -i) and remembers the totals. */
static void report(struct malloc_run *r)
{
	struct malloc_stats cur, delta, seen;
	struct budget_span span;

	if (read_stats(r, &cur)) {
		fprintf(stderr, "rtmon malloc: cannot read the counters: %s\n", strerror(errno));
		return;
	}
	delta = cur;
	subtract(&delta, &r->base);
	/* Live allocations are a level: what is allocated now, not what changed in the interval. */
	delta.live_allocs = cur.live_allocs;
	delta.live_bytes = cur.live_bytes;
	seen = delta;
	if (r->budget) {
		budget_take_span(r->budget, &span);
		estimate(&delta, &cur, &span);
	}
	if (r->args->co.interval)
		r->interval_no++;
	if (r->args->co.json)
		print_json(r, &delta, r->budget ? &span : NULL, &seen);
	else
		print_text(r, &delta, r->budget ? &span : NULL);
	r->base = cur;
	r->total_table_full = cur.live_table_full;
	fflush(stdout);
}

static void on_interval(void *ctx)
{
	report(ctx);
}

static double on_tick(void *ctx)
{
	return budget_tick(((struct malloc_run *)ctx)->budget);
}

static void on_target_exit(void *ctx)
{
	budget_target_exited(((struct malloc_run *)ctx)->budget);
}

/* After the final report: r->base holds the totals it printed, so the summary agrees with them. */
static void print_summary(struct malloc_run *r, enum loop_end end)
{
	unsigned long long events = 0;
	/* --live: allocations the table had no room for (the only thing rtmon malloc can lose) */
	unsigned long long lost = r->total_table_full;
	double secs = loop_now_s() - r->start_s;

	struct budget_span run;

	for (int f = 0; f < AF_COUNT; f++)
		events += r->base.calls[f];
	if (r->budget)
		budget_run_span(r->budget, &run);
	if (r->args->co.json) {
		printf("{\"type\":\"summary\",\"command\":\"malloc\",\"events\":%llu,\"lost\":%llu,"
		       "\"duration_s\":%.3f,\"end\":\"%s\"", events, lost, secs, loop_end_name(end));
		if (r->budget) {
			print_json_budget(r, &run);
			printf(",\"windows\":%llu,\"cost_per_hit_ns\":%.0f", (unsigned long long)budget_windows(r->budget),
			       r->costs.emulated_ns);
			if (r->costs.stepped_ns)
				printf(",\"cost_per_stepped_hit_ns\":%.0f", r->costs.stepped_ns);
		}
		target_print_end(stdout, r->t, true);
		puts("}");
	} else {
		printf("\n%llu probe hits in %.1f s", events, secs);
		if (r->budget)
			printf(" (%llu live window%s, %.3g%% of the time; a hit costs ~%.0f ns here)",
			       (unsigned long long)budget_windows(r->budget), budget_windows(r->budget) == 1 ? "" : "s",
			       100 * run.live_fraction, r->costs.emulated_ns);
		printf(", %llu lost", lost);
		target_print_end(stdout, r->t, false);
		putchar('\n');
	}
	fflush(stdout);
}

/* --budget: what a hit costs on this machine, then the probes (live first), then the controller. */
static int start_budget(struct malloc_run *r, const struct budget_hooks *hooks, char *err, size_t errlen)
{
	bool any_stepped = false;
	int rc;

	for (int i = 0; i < r->nsites; i++)
		any_stepped |= !r->site_emulated[r->sites[i].cookie];
	rc = budget_calibrate(r->skel->progs.on_alloc_call, (r->go ? AF_MALLOCGC : AF_MALLOC) | AF_CALIBRATE,
			      any_stepped, &r->costs, err, errlen);
	if (rc)
		return rc;
	for (int i = 0; i < r->nsites; i++) {
		int f = (int)r->sites[i].cookie;

		r->hit_ns[f] = r->site_emulated[f] ? r->costs.emulated_ns : r->costs.stepped_ns;
	}
	rc = attach_sites(r, err, errlen);
	if (rc)
		return rc;
	return budget_new(&r->budget, r->args->budget, r->t, hooks, r->args->co.verbose, err, errlen);
}

int cmd_malloc(int argc, char **argv)
{
	struct malloc_args args = { 0 };
	struct malloc_run r = { .args = &args };
	struct probe_links pl = { 0 };
	struct target t;
	struct loop_ops ops = { .ctx = &r, .on_interval = on_interval };
	struct budget_hooks hooks = { .ctx = &r, .attach = attach_sites, .detach = detach_sites,
				      .cost_ns = hits_cost_ns };
	enum loop_end end;
	char err[1024];
	int rc;

	rc = command_start(&malloc_argp, argc, argv, &args.co, &args, &t);
	if (rc)
		return rc;
	r.t = &t;
	r.pl = &pl;
	/* Go programs are recognised by their build info, which stripped binaries keep. */
	r.go = go_read_buildinfo(t.exe, &r.gi, NULL, 0) == 0;
	if (r.go && args.live) {
		fprintf(stderr, "rtmon malloc: --live is for native programs: %s is a Go program, whose heap is "
			"garbage collected; use rtmon gc for its heap\n", t.label);
		target_close(&t, true);
		return 2;
	}
	r.skel = SKEL_OPEN(alloc, &t, "malloc", err, sizeof(err));
	if (!r.skel)
		goto fail;
	probe_prepare_sites_prog(r.skel->progs.on_alloc_call);
	probe_prepare_sites_prog(r.skel->progs.on_alloc_return);
	r.skel->rodata->track_live = args.live;
	if (!args.live) { /* the tables cost nothing then (they allocate on insert), but keep them small */
		bpf_map__set_max_entries(r.skel->maps.live_blocks, 1);
		bpf_map__set_max_entries(r.skel->maps.live_calls, 1);
	}
	rc = alloc_bpf__load(r.skel);
	if (rc) {
		probe_load_error("malloc", rc, err, sizeof(err));
		goto fail;
	}
	if (find_sites(&r, err, sizeof(err)))
		goto fail;
	if (args.budget && start_budget(&r, &hooks, err, sizeof(err)))
		goto fail;
	if (!args.budget && attach_sites(&r, err, sizeof(err)))
		goto fail;
	if (r.budget) {
		ops.on_tick = on_tick;
		ops.on_target_exit = on_target_exit;
		ops.next_tick = budget_next_tick(r.budget);
	}
	target_announce(&t, "allocations");
	r.start_s = loop_now_s();
	if (target_release(&t, err, sizeof(err)))
		goto fail;
	end = loop_run(&args.co, &t, &ops);
	report(&r);
	print_summary(&r, end);
	probe_links_destroy(&pl);
	budget_free(r.budget);
	alloc_bpf__destroy(r.skel);
	target_close(&t, false);
	return end == END_ERROR ? 1 : 0;
fail:
	fprintf(stderr, "rtmon malloc: %s\n", err);
	probe_links_destroy(&pl);
	budget_free(r.budget);
	alloc_bpf__destroy(r.skel);
	target_close(&t, true);
	return 1;
}

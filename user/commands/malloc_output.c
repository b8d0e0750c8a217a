/* rtmon malloc's reports: the text table and histogram, and the JSON lines (docs/json.md). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "trace/loop.h"
#include "output/target_report.h"
#include "commands/malloc_run.h"
#include "output/escape.h"
#include "output/hist.h"
#include "output/json.h"
#include "output/summary.h"
#include "output/units.h"

static void print_calls_text(const struct malloc_run *r, const struct malloc_stats *s,
			     const char *mark)
{
	bool first = true;

	printf("calls:");
	for (int f = 0; f < AF_COUNT; f++) {
		if (r->alias_of[f] >= 0 || !s->calls[f])
			continue;
		printf("%s %s", first ? "" : ",", malloc_fn_names[f]);
		for (int g = 0; g < AF_COUNT; g++)
			if (r->alias_of[g] == f)
				printf("/%s", malloc_fn_names[g]);
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
		printf("  %10s : %-8s |%-40.*s|\n", label, count, stars,
		       "****************************************");
	}
	printf("large allocations (> 32 KiB): %s%llu, bytes %s%llu\n", mark,
	       (unsigned long long)s->go_classes[GO_CLASS_LARGE], mark,
	       (unsigned long long)s->go_large_bytes);
}

/* Under --budget: how the counts above were obtained. */
static void print_budget_text(const struct malloc_run *r, const struct budget_span *sp)
{
	if (!sp->estimated) {
		printf("probes attached all the time under --budget %g: counts are exact\n",
		       budget_pct(r->budget));
		return;
	}
	const char *what = !strcmp(sp->basis, "runtime")
				   ? "own allocations (the Go runtime's count, MemStats.Mallocs; "
				     "bytes by its TotalAlloc) made"
			   : !strcmp(sp->basis, "user_cpu") ? "work (its user CPU time) done"
			   : !strcmp(sp->basis, "cpu")      ? "work (its CPU time) done"
							    : "work (its run time) done";

	printf("sampled %.3g%% of the time, counts are estimates (~): scaled by the %.3g%% of the "
	       "target's %s while the probes were attached; --budget %g\n",
	       100 * sp->live_fraction, 100 * sp->sampled_fraction, what, budget_pct(r->budget));
	if (sp->mix_uncertain)
		printf("the allocations made while the probes were attached were %.2gx the size "
		       "of the rest on average: the size distribution above is theirs, not the "
		       "whole run's (counts and bytes are each scaled by the runtime's total)\n",
		       sp->mix_ratio);
	if (sp->scale_uncertain)
		printf("the probes took %.0f%% of the target's CPU while attached, so the scale of "
		       "these counts is uncertain (their distribution is not)\n",
		       100 * sp->probe_share_live);
}

/* --live: the blocks' sums are signed (a block may be freed on another CPU than it was allocated
 * on). */
static void print_live_text(const struct malloc_stats *s)
{
	printf("live: %lld allocations, %lld bytes (allocated while tracing and not freed)\n",
	       (long long)s->live_allocs, (long long)s->live_bytes);
	if (s->frees_untracked)
		printf("frees of memory allocated before tracing: %llu\n",
		       (unsigned long long)s->frees_untracked);
	if (s->live_table_full)
		printf("%llu allocations not tracked: the table of live blocks (%u entries) was "
		       "full; live figures are too low\n",
		       (unsigned long long)s->live_table_full, LIVE_TABLE_ENTRIES);
}

void malloc_print_text(const struct malloc_run *r, int group, const struct malloc_stats *s,
		       const struct budget_span *sp)
{
	char b1[TEXT_SAFE_MAX];

	const char *mark = sp && sp->estimated ? "~" : "";

	if (r->interval_no && group == ALLOC_GROUP_MAIN) {
		time_t now = time(NULL);
		char ts[32];

		strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&now));
		printf("\n%s (interval %d)\n", ts, r->interval_no);
	}
	if (group == ALLOC_GROUP_OBJECTS)
		printf("\nObject allocation sizes in %s, allocator pymalloc (CPython's object "
		       "allocator) in %s:\n",
		       r->t->label, text_safe(r->obj_allocator, b1, sizeof(b1)));
	else if (r->go)
		printf("Allocation sizes in %s, Go %s %s:\n", r->t->label, r->gi.version,
		       r->site_what);
	else
		printf("Allocation sizes in %s, allocator %s (%s):\n", r->t->label,
		       text_safe(r->allocator, b1, sizeof(b1)), r->allocator_kind);
	if (!s->count && !s->frees) {
		printf("no allocation calls seen\n");
		if (r->args->live && s->live_allocs)
			print_live_text(s);
		if (sp && group == ALLOC_GROUP_MAIN)
			print_budget_text(r, sp);
		return;
	}
	hist_print_log2_marked(stdout, s->slots, LOG2_SLOTS, "size (bytes)", mark);
	if (r->go)
		print_go_classes(s, mark);
	struct hist_range range = hist_range_of(s->size_max, s->size_min_inv, 1);

	range.bound_only = r->interval_no > 0; /* the kernel's extremes are of the whole run */

	char bytes[UNITS_LEN], mean[UNITS_LEN], p50[UNITS_LEN], p99[UNITS_LEN];

	/* Sizes in binary units (JSON has the integers); the count of calls stays exact. */
	units_bytes(s->bytes, bytes, sizeof(bytes));
	units_bytes(s->count ? (s->bytes + s->count / 2) / s->count : 0, mean, sizeof(mean));
	units_bytes((uint64_t)llround(hist_percentile_in(s->slots, LOG2_SLOTS, 0.5, &range)), p50,
		    sizeof(p50));
	units_bytes((uint64_t)llround(hist_percentile_in(s->slots, LOG2_SLOTS, 0.99, &range)), p99,
		    sizeof(p99));
	printf("allocations %s%llu, bytes %s%s, mean %s, p50 ~%s, p99 ~%s", mark,
	       (unsigned long long)s->count, mark, bytes, mean, p50, p99);
	if (range.known && !range.bound_only) {
		char lo[UNITS_LEN], hi[UNITS_LEN];

		units_bytes((uint64_t)range.min, lo, sizeof(lo));
		units_bytes((uint64_t)range.max, hi, sizeof(hi));
		printf(", min %s%s, max %s%s", mark, lo, mark, hi);
	}
	if (r->go) {
		putchar('\n'); /* Go has no free: the collector reclaims memory (see rtmon gc) */
		if (s->go_zero_size)
			printf("size-0 calls %s%llu (mallocgc(0) returns the zero base: not "
			       "allocations, not counted above)\n",
			       mark, (unsigned long long)s->go_zero_size);
	} else {
		printf(", frees %s%llu\n", mark, (unsigned long long)s->frees);
		print_calls_text(r, s, mark);
		if (s->nested)
			printf("calls the allocator made to its own functions: %s%llu (counted "
			       "once, at the outer call)\n",
			       mark, (unsigned long long)s->nested);
	}
	if (r->args->live)
		print_live_text(s);
	if (sp && group == ALLOC_GROUP_MAIN)
		print_budget_text(r, sp);
}

/* ,"budget_pct":5,"estimated":true,"sampled_fraction":0.048,...: how the counts were obtained. */
static void print_json_budget(const struct malloc_run *r, const struct budget_span *sp)
{
	json_field_g(stdout, "budget_pct", budget_pct(r->budget));
	json_field_bool(stdout, "estimated", sp->estimated);
	json_field_g(stdout, "sampled_fraction", sp->sampled_fraction);
	json_field_g(stdout, "live_fraction", sp->live_fraction);
	json_field_str(stdout, "sampled_basis", sp->basis);
	json_field_f(stdout, "probe_share_live", sp->probe_share_live, 3);
	json_field_bool(stdout, "scale_uncertain", sp->scale_uncertain);
	json_field_bool(stdout, "mix_uncertain", sp->mix_uncertain);
	if (!strcmp(sp->basis, "runtime"))
		json_field_f(stdout, "mix_ratio", sp->mix_ratio, 3);
}

/* {"type":"size_classes","name":"go_malloc_class",...}: counts by the Go runtime's size classes. */
static void print_json_go_classes(const struct malloc_run *r, const struct malloc_stats *s,
				  const struct budget_span *sp)
{
	json_begin(stdout, "size_classes");
	json_field_str(stdout, "name", "go_malloc_class");
	json_field_str(stdout, "unit", "bytes");
	if (r->t->kind == TARGET_BINPATH)
		json_field_null(stdout, "pid");
	else
		json_field_i64(stdout, "pid", r->t->pid);
	json_array_open(stdout, "classes");
	for (int i = 0; i < GO_NUM_SIZE_CLASSES; i++) {
		if (!s->go_classes[i])
			continue;
		json_array_object_open(stdout);
		json_field_u64(stdout, "size", go_class_size[i]);
		json_field_u64(stdout, "count", s->go_classes[i]);
		json_object_close(stdout);
	}
	json_array_close(stdout);
	json_object_open(stdout, "large");
	json_field_u64(stdout, "count", s->go_classes[GO_CLASS_LARGE]);
	json_field_u64(stdout, "bytes", s->go_large_bytes);
	json_object_close(stdout);
	if (sp)
		print_json_budget(r, sp);
	if (r->interval_no)
		json_field_i64(stdout, "interval", r->interval_no);
	json_end(stdout);
}

void malloc_print_json(const struct malloc_run *r, int group, const struct malloc_stats *s,
		       const struct budget_span *sp, const struct malloc_stats *seen)
{
	struct hist_range range = hist_range_of(s->size_max, s->size_min_inv, 1);

	range.bound_only = r->interval_no > 0; /* the kernel's extremes are of the whole run */

	json_hist_begin(stdout, "malloc_size", "bytes", target_report_pid(r->t), s->slots,
			LOG2_SLOTS, s->count, s->bytes, &range);
	if (!r->go) {
		json_field_u64(stdout, "frees", s->frees);
		json_field_u64(stdout, "nested_calls", s->nested);
	}
	if (r->args->live) {
		json_field_i64(stdout, "live_allocs", s->live_allocs);
		json_field_i64(stdout, "live_bytes", s->live_bytes);
		json_field_u64(stdout, "frees_untracked", s->frees_untracked);
		json_field_u64(stdout, "live_table_full", s->live_table_full);
	}
	json_object_open(stdout, "calls");
	for (int f = 0; f < AF_COUNT; f++) {
		bool go_fn = f == AF_MALLOCGC || f == AF_MALLOCGC_SPECIALIZED;

		if (r->go ? !go_fn || (f == AF_MALLOCGC_SPECIALIZED && !r->go_specialized)
			  : !r->probed[f] || (int)alloc_fn_group((__u64)f) != group)
			continue;
		json_field_u64(stdout, malloc_fn_names[f], s->calls[f]);
	}
	json_object_close(stdout);
	json_field_str(stdout, "allocator",
		       group == ALLOC_GROUP_OBJECTS ? r->obj_allocator : r->allocator);
	json_field_str(stdout, "allocator_name",
		       group == ALLOC_GROUP_OBJECTS ? "pymalloc"
		       : r->go                      ? "go"
						    : r->allocator_kind);
	json_field_str(stdout, "probe", probe_sites_kind());
	if (r->go) {
		json_field_str(stdout, "runtime", "go");
		json_field_str(stdout, "go_version", r->gi.version);
		json_field_u64(stdout, "zero_size", s->go_zero_size);
		json_field_bool(stdout, "size_specialized", r->go_specialized);
	}
	if (sp) {
		print_json_budget(r, sp);
		json_field_u64(stdout, "sampled_count", seen->count);
	}
	if (r->interval_no)
		json_field_i64(stdout, "interval", r->interval_no);
	json_end(stdout);
	if (r->go)
		print_json_go_classes(r, s, sp);
}

/* After the final report: r->base holds the totals it printed, so the summary agrees with them. */
void malloc_print_summary(struct malloc_run *r, enum loop_end end)
{
	unsigned long long events = 0;
	/* --live: allocations the table had no room for (the only thing rtmon malloc can lose) */
	unsigned long long lost = r->total_table_full;
	double secs = loop_now_s() - r->start_s;

	struct budget_span run;

	for (int f = 0; f < AF_COUNT; f++)
		events += r->base.calls[f] + r->obj_base.calls[f];
	events += r->base.nested + r->obj_base.nested;
	if (r->budget)
		budget_run_span(r->budget, &run);
	struct summary sum = { .out = r->args->stacks && r->args->so.folded ? stderr : stdout,
			       .json = r->args->co.json,
			       .command = "malloc",
			       .events_noun = "probe hits",
			       .events = events,
			       .lost = lost,
			       .secs = secs,
			       .end = loop_end_name(end),
			       .t = r->t };
	char detail[160] = "";

	summary_begin(&sum);
	if (r->args->stacks) {
		summary_count(&sum, "allocations", "allocations", r->report_count);
		summary_count(&sum, "bytes", "bytes", r->report_bytes);
		summary_count(&sum, "stacks_lost", "stacks lost",
			      r->stacks_lost_kernel + r->stacks_lost + r->stacks_unnamed);
		summary_count(&sum, "stacks_truncated", "truncated", r->stacks_truncated);
		if (r->args->live)
			summary_count(&sum, "live_stacks_lost", "live blocks without a stack",
				      r->live_stacks_lost);
	}
	if (r->budget && sum.json) {
		print_json_budget(r, &run);
		json_field_u64(stdout, "windows", budget_windows(r->budget));
		json_field_f(stdout, "cost_per_hit_ns", r->costs.emulated_ns, 0);
		if (r->costs.stepped_ns)
			json_field_f(stdout, "cost_per_stepped_hit_ns", r->costs.stepped_ns, 0);
		json_field_f(stdout, "cost_target_x", budget_cost_x(r->budget), 2);
	} else if (r->budget) {
		char x[48] = "";

		if (budget_cost_x(r->budget) > 1)
			snprintf(x, sizeof(x), ", %.2gx that in the target",
				 budget_cost_x(r->budget));
		snprintf(detail, sizeof(detail),
			 " (%llu live window%s, %.3g%% of the time; a hit costs ~%.0f ns here%s)",
			 (unsigned long long)budget_windows(r->budget),
			 budget_windows(r->budget) == 1 ? "" : "s", 100 * run.live_fraction,
			 r->costs.emulated_ns, x);
	}
	summary_end(&sum, detail);
}

/* rtmon malloc: allocation sizes as a log2 histogram, counted in the kernel. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <bpf/bpf.h>
#include "command.h"
#include "commands.h"
#include "elfsym.h"
#include "goelf.h"
#include "hist.h"
#include "json.h"
#include "loop.h"
#include "malloc.h"
#include "malloc.skel.h"
#include "min_btf.h"
#include "opts.h"
#include "probe.h"
#include "probe_site.h"
#include "target.h"

static const char *const fn_names[AF_COUNT] = {
	[AF_MALLOC] = "malloc", [AF_CALLOC] = "calloc", [AF_REALLOC] = "realloc",
	[AF_ALIGNED_ALLOC] = "aligned_alloc", [AF_POSIX_MEMALIGN] = "posix_memalign",
	[AF_MEMALIGN] = "memalign", [AF_VALLOC] = "valloc", [AF_PVALLOC] = "pvalloc", [AF_FREE] = "free",
	[AF_MALLOCGC] = "mallocgc",
};

struct malloc_args {
	struct common_opts co;
};

struct malloc_run {
	struct malloc_args *args;
	struct target *t;
	struct malloc_bpf *skel;
	char allocator[4096];       /* the file whose functions are probed */
	bool go;                    /* a Go program: runtime.mallocgc, size classes */
	struct go_info gi;
	/* A function sharing its address with an earlier one (glibc's aligned_alloc is memalign) is
	 * probed once; its calls are reported under the first name. */
	int alias_of[AF_COUNT];
	struct malloc_stats base;  /* totals at the last interval report */
	int interval_no;
	double start_s;
};

static const char doc[] =
	"Histogram of allocation sizes in a native program (glibc malloc and compatible allocators).\v"
	"Probes malloc, calloc (nmemb*size), realloc, aligned_alloc, posix_memalign, memalign, valloc, "
	"pvalloc and free in the executable (static builds) or in the library that provides malloc "
	"(libc.so.6, or an allocator loaded before it). Counts are kept in the kernel.\n\n"
	"Go programs (found by their build info; stripped ones too) are traced at runtime.mallocgc: sizes "
	"as a log2 histogram and by the runtime's size classes, with allocations over 32 KiB apart.\n\n"
	"Examples:\n"
	"  rtmon malloc --binpath ./app      every process running ./app, also ones started later\n"
	"  rtmon malloc -p 1234 -d 10        PID 1234 for 10 seconds\n"
	"  rtmon malloc -i 1 -- ./app args   start ./app, print every second\n"
	"  rtmon malloc --json -p 1234       JSON lines (docs/json.md)";

static error_t parse_malloc(int key, char *arg, struct argp_state *state)
{
	struct malloc_args *a = state->input;

	(void)arg;
	if (key == ARGP_KEY_INIT)
		common_opts_init(state, &a->co);
	return ARGP_ERR_UNKNOWN;
}

static const struct argp_child children[] = { { &common_argp, 0, NULL, 0 }, { 0 } };
static const struct argp malloc_argp = { NULL, parse_malloc, NULL, doc, children, NULL, NULL };

/* The allocator is the first file in lookup order that defines malloc: the executable itself for
 * static builds (or ones that link an allocator in), else a library. */
static int find_allocator(struct malloc_run *r, struct elf_func funcs[AF_COUNT], bool found[AF_COUNT],
			  char *err, size_t errlen)
{
	const struct image *img = &r->t->image;

	for (int i = 0; i < img->n; i++) {
		struct elf_file ef;
		char e2[256];

		if (elf_file_open(&ef, img->paths[i], e2, sizeof(e2)))
			continue;
		if (elf_find_func(&ef, "malloc", &funcs[AF_MALLOC])) {
			bool stripped_static = i == 0 && ef.is_static && !ef.has_symtab;

			elf_file_close(&ef);
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
				found[f] = !elf_find_func(&ef, fn_names[f], &funcs[f]);
		snprintf(r->allocator, sizeof(r->allocator), "%s", img->paths[i]);
		elf_file_close(&ef);
		return 0;
	}
	snprintf(err, errlen, "no allocator (malloc) in %s or its %d libraries: rtmon malloc traces programs "
		 "that call malloc", r->t->label, img->n - 1);
	return -ENOENT;
}

/* Go: one probe in runtime.mallocgc, after its stack-check prologue so that a call that grows the
 * stack (morestack re-runs the prologue) is counted once. Never a return probe: Go moves stacks. */
static int attach_go(struct malloc_run *r, struct probe_links *pl, pid_t pid, char *err, size_t errlen)
{
	struct go_symtab *st;
	struct probe_site site = { .cookie = AF_MALLOCGC };
	int rc = go_symtab_open(r->t->exe, &st, err, errlen);

	if (rc)
		return rc;
	rc = go_func_body_site(st, "runtime.mallocgc", &site.offset, err, errlen);
	go_symtab_close(st);
	if (rc)
		return rc;
	site.offset = probe_site_emulated(r->t->exe, site.offset);
	snprintf(r->allocator, sizeof(r->allocator), "%s", r->t->exe);
	return probe_attach_sites(pl, r->skel->progs.on_alloc_call, pid, r->t->exe, &site, 1,
				  "runtime.mallocgc", err, errlen);
}

static int attach_all(struct malloc_run *r, struct probe_links *pl, char *err, size_t errlen)
{
	struct elf_func funcs[AF_COUNT] = { 0 };
	bool found[AF_COUNT] = { 0 };
	pid_t pid = r->t->kind == TARGET_BINPATH ? -1 : r->t->pid;
	int rc;

	for (int f = 0; f < AF_COUNT; f++)
		r->alias_of[f] = -1;
	if (r->go)
		return attach_go(r, pl, pid, err, errlen);
	rc = find_allocator(r, funcs, found, err, errlen);
	if (rc)
		return rc;
	{
	struct probe_site sites[AF_COUNT];
	int n = 0;

	for (int f = 0; f < AF_NATIVE_COUNT; f++) {
		if (!found[f])
			continue;
		for (int g = 0; g < f; g++)
			if (found[g] && r->alias_of[g] < 0 && funcs[g].offset == funcs[f].offset)
				r->alias_of[f] = g;
		if (r->alias_of[f] < 0)
			sites[n++] = (struct probe_site){
				.offset = probe_site_emulated(r->allocator, funcs[f].offset),
				.cookie = (uint64_t)f,
			};
	}
	return probe_attach_sites(pl, r->skel->progs.on_alloc_call, pid, r->allocator, sites, n,
				  "the allocator functions", err, errlen);
	}
}

static int read_stats(struct malloc_run *r, struct malloc_stats *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	struct malloc_stats *percpu;
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
		for (int i = 0; i < LOG2_SLOTS; i++)
			sum->slots[i] += percpu[c].slots[i];
		for (int f = 0; f < AF_COUNT; f++)
			sum->calls[f] += percpu[c].calls[f];
		for (int i = 0; i <= GO_NUM_SIZE_CLASSES; i++)
			sum->go_classes[i] += percpu[c].go_classes[i];
		sum->count += percpu[c].count;
		sum->bytes += percpu[c].bytes;
		sum->frees += percpu[c].frees;
		sum->go_large_bytes += percpu[c].go_large_bytes;
	}
	free(percpu);
	return 0;
}

static void subtract(struct malloc_stats *a, const struct malloc_stats *b)
{
	for (int i = 0; i < LOG2_SLOTS; i++)
		a->slots[i] -= b->slots[i];
	for (int f = 0; f < AF_COUNT; f++)
		a->calls[f] -= b->calls[f];
	for (int i = 0; i <= GO_NUM_SIZE_CLASSES; i++)
		a->go_classes[i] -= b->go_classes[i];
	a->count -= b->count;
	a->bytes -= b->bytes;
	a->frees -= b->frees;
	a->go_large_bytes -= b->go_large_bytes;
}

static void print_calls_text(const struct malloc_run *r, const struct malloc_stats *s)
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
		printf(" %llu", (unsigned long long)s->calls[f]);
		first = false;
	}
	printf("%s\n", first ? " none" : "");
}

/* grtmon-style rows, one per size class up to the largest one used, then the large allocations. */
static void print_go_classes(const struct malloc_stats *s)
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
		printf("  %10s : %-8llu |%-40.*s|\n", label, (unsigned long long)s->go_classes[i], stars,
		       "****************************************");
	}
	printf("large allocations (> 32 KiB): %llu, bytes %llu\n",
	       (unsigned long long)s->go_classes[GO_CLASS_LARGE], (unsigned long long)s->go_large_bytes);
}

static void print_text(const struct malloc_run *r, const struct malloc_stats *s)
{
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
		return;
	}
	hist_print_log2(stdout, s->slots, LOG2_SLOTS, "size (bytes)");
	if (r->go)
		print_go_classes(s);
	printf("allocations %llu, bytes %llu, mean %.1f, p50 ~%.0f, p99 ~%.0f",
	       (unsigned long long)s->count, (unsigned long long)s->bytes,
	       s->count ? (double)s->bytes / (double)s->count : 0.0, hist_percentile(s->slots, LOG2_SLOTS, 0.5),
	       hist_percentile(s->slots, LOG2_SLOTS, 0.99));
	if (r->go) {
		putchar('\n'); /* Go has no free: the collector reclaims memory (see rtmon gc) */
		return;
	}
	printf(", frees %llu\n", (unsigned long long)s->frees);
	print_calls_text(r, s);
}

/* {"type":"size_classes","name":"go_malloc_class",...}: counts by the Go runtime's size classes. */
static void print_json_go_classes(const struct malloc_run *r, const struct malloc_stats *s)
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
	if (r->interval_no)
		printf(",\"interval\":%d", r->interval_no);
	puts("}");
}

static void print_json(const struct malloc_run *r, const struct malloc_stats *s)
{
	bool first = true;

	putchar('{');
	json_hist_fields(stdout, "malloc_size", "bytes", r->t->kind == TARGET_BINPATH ? 0 : r->t->pid,
			 s->slots, LOG2_SLOTS, s->count, s->bytes);
	if (!r->go)
		printf(",\"frees\":%llu", (unsigned long long)s->frees);
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
	if (r->interval_no)
		printf(",\"interval\":%d", r->interval_no);
	puts("}");
	if (r->go)
		print_json_go_classes(r, s);
}

/* Prints what was counted since the last report (everything, without -i) and remembers the totals. */
static void report(struct malloc_run *r)
{
	struct malloc_stats cur, delta;

	if (read_stats(r, &cur)) {
		fprintf(stderr, "rtmon malloc: cannot read the counters: %s\n", strerror(errno));
		return;
	}
	delta = cur;
	subtract(&delta, &r->base);
	if (r->args->co.interval)
		r->interval_no++;
	if (r->args->co.json)
		print_json(r, &delta);
	else
		print_text(r, &delta);
	r->base = cur;
	fflush(stdout);
}

static void on_interval(void *ctx)
{
	report(ctx);
}

/* After the final report: r->base holds the totals it printed, so the summary agrees with them. */
static void print_summary(struct malloc_run *r, enum loop_end end)
{
	unsigned long long events = 0;
	double secs = loop_now_s() - r->start_s;

	for (int f = 0; f < AF_COUNT; f++)
		events += r->base.calls[f];
	if (r->args->co.json) {
		printf("{\"type\":\"summary\",\"command\":\"malloc\",\"events\":%llu,\"lost\":0,"
		       "\"duration_s\":%.3f,\"end\":\"%s\"", events, secs, loop_end_name(end));
		target_print_end(stdout, r->t, true);
		puts("}");
	} else {
		printf("\n%llu probe hits in %.1f s, 0 lost", events, secs);
		target_print_end(stdout, r->t, false);
		putchar('\n');
	}
	fflush(stdout);
}

int cmd_malloc(int argc, char **argv)
{
	struct malloc_args args = { 0 };
	struct malloc_run r = { .args = &args };
	struct probe_links pl = { 0 };
	struct target t;
	struct loop_ops ops = { .ctx = &r, .on_interval = on_interval };
	enum loop_end end;
	char err[1024];
	int rc;

	rc = command_start(&malloc_argp, argc, argv, &args.co, &args, &t);
	if (rc)
		return rc;
	r.t = &t;
	/* Go programs are recognised by their build info, which stripped binaries keep. */
	r.go = go_read_buildinfo(t.exe, &r.gi, NULL, 0) == 0;
	{
		LIBBPF_OPTS(bpf_object_open_opts, open_opts, .btf_custom_path = min_btf_path("malloc"));

		r.skel = malloc_bpf__open_opts(&open_opts);
	}
	if (!r.skel) {
		probe_load_error("malloc", errno, err, sizeof(err));
		goto fail;
	}
	if (t.kind == TARGET_BINPATH) {
		r.skel->rodata->target_ino = t.exe_ino;
		r.skel->rodata->target_dev = t.exe_kdev;
	} else {
		r.skel->rodata->target_tgid = (__u32)t.pid;
	}
	probe_prepare_sites_prog(r.skel->progs.on_alloc_call);
	rc = malloc_bpf__load(r.skel);
	if (rc) {
		probe_load_error("malloc", rc, err, sizeof(err));
		goto fail;
	}
	if (attach_all(&r, &pl, err, sizeof(err)))
		goto fail;
	target_announce(&t, "allocations");
	r.start_s = loop_now_s();
	if (target_release(&t, err, sizeof(err)))
		goto fail;
	end = loop_run(&args.co, &t, &ops);
	report(&r);
	print_summary(&r, end);
	probe_links_destroy(&pl);
	malloc_bpf__destroy(r.skel);
	target_close(&t, false);
	return end == END_ERROR ? 1 : 0;
fail:
	fprintf(stderr, "rtmon malloc: %s\n", err);
	probe_links_destroy(&pl);
	malloc_bpf__destroy(r.skel);
	target_close(&t, true);
	return 1;
}

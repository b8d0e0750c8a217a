/* rtmon memstats PID: a running Go program's runtime.MemStats, computed from its runtime's own
 * state as ReadMemStats computes it in that release, without stopping the program
 * (runtime/go/goinspect.h). JSON field names are MemStats' own. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/opts.h"
#include "output/json.h"
#include "output/units.h"
#include "runtime/go/goinspect.h"

/* The plain uint64 fields, in MemStats' order; bytes: printed with a human size too. */
static const struct {
	const char *name;
	size_t off;
	bool bytes;
} fields[] = {
/* clang-format off */
#define F(name, bytes) { #name, offsetof(struct go_memstats, name), bytes }
	/* clang-format on */
	F(Alloc, true),       F(TotalAlloc, true), F(Sys, true),          F(Lookups, false),
	F(Mallocs, false),    F(Frees, false),     F(HeapAlloc, true),    F(HeapSys, true),
	F(HeapIdle, true),    F(HeapInuse, true),  F(HeapReleased, true), F(HeapObjects, false),
	F(StackInuse, true),  F(StackSys, true),   F(MSpanInuse, true),   F(MSpanSys, true),
	F(MCacheInuse, true), F(MCacheSys, true),  F(BuckHashSys, true),  F(GCSys, true),
	F(OtherSys, true),
#undef F
};

static uint64_t field(const struct go_memstats *m, size_t i)
{
	return *(const uint64_t *)((const char *)m + fields[i].off);
}

static void print_text(const struct go_memstats *m)
{
	char h[32];

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		printf("%-14s %llu", fields[i].name, (unsigned long long)field(m, i));
		if (fields[i].bytes) {
			units_bytes(field(m, i), h, sizeof(h));
			printf(" (%s)", h);
		}
		printf("\n");
	}
	if (m->next_gc_known) {
		units_bytes(m->NextGC, h, sizeof(h));
		printf("%-14s %llu (%s)\n", "NextGC", (unsigned long long)m->NextGC, h);
	} else {
		printf("%-14s not derived: GOMEMLIMIT or GOGC=off sets the goal\n", "NextGC");
	}
	printf("%-14s %llu\n", "LastGC", (unsigned long long)m->LastGC);
	printf("%-14s %llu\n", "PauseTotalNs", (unsigned long long)m->PauseTotalNs);
	printf("%-14s %llu\n", "PauseNs[last]",
	       (unsigned long long)(m->NumGC ? m->PauseNs[(m->NumGC + 255) % 256] : 0));
	printf("%-14s %u\n", "NumGC", m->NumGC);
	printf("%-14s %u\n", "NumForcedGC", m->NumForcedGC);
	printf("%-14s %g\n", "GCCPUFraction", m->GCCPUFraction);
	printf("%-14s true\n", "EnableGC");
	printf("%-14s false\n", "DebugGC");
	if (m->changing)
		printf("(the heap figures changed under every read: a moving heap)\n");
}

static void print_json(pid_t pid, const struct go_memstats *m)
{
	json_begin(stdout, "memstats");
	json_field_i64(stdout, "pid", pid);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		json_field_u64(stdout, fields[i].name, field(m, i));
	if (m->next_gc_known)
		json_field_u64(stdout, "NextGC", m->NextGC);
	else
		json_field_null(stdout, "NextGC");
	json_field_u64(stdout, "LastGC", m->LastGC);
	json_field_u64(stdout, "PauseTotalNs", m->PauseTotalNs);
	json_field_u64_array(stdout, "PauseNs", m->PauseNs, 256);
	json_field_u64_array(stdout, "PauseEnd", m->PauseEnd, 256);
	json_field_u64(stdout, "NumGC", m->NumGC);
	json_field_u64(stdout, "NumForcedGC", m->NumForcedGC);
	json_field_g(stdout, "GCCPUFraction", m->GCCPUFraction);
	json_field_bool(stdout, "EnableGC", true);
	json_field_bool(stdout, "DebugGC", false);
	json_array_open(stdout, "BySize");
	for (int i = 0; i < GO_MEMSTATS_BYSIZE; i++) {
		json_array_object_open(stdout);
		json_field_u64(stdout, "Size", m->BySize[i].Size);
		json_field_u64(stdout, "Mallocs", m->BySize[i].Mallocs);
		json_field_u64(stdout, "Frees", m->BySize[i].Frees);
		json_object_close(stdout);
	}
	json_array_close(stdout);
	/* What is not as ReadMemStats would say it: named, never invented. */
	json_field_str(stdout, "not_derived", m->next_gc_known ? "" : "NextGC");
	json_field_bool(stdout, "changing", m->changing);
	json_end(stdout);
}

static const char memstats_doc[] =
	"A running Go program's runtime.MemStats (Alloc, TotalAlloc, Sys, Mallocs, Frees, the "
	"heap and stack figures, NextGC, LastGC, PauseTotalNs, NumGC, NumForcedGC, "
	"GCCPUFraction, ...), computed from its runtime's own state as ReadMemStats computes it "
	"in that release, without stopping the program or linking anything into it; stripped "
	"and PIE binaries work. A field that cannot be derived from outside is said so (NextGC "
	"under GOMEMLIMIT or GOGC=off); heap figures that changed under every read are marked. "
	"--json: one object, MemStats' field names.\v"
	"Examples:\n"
	"  sudo rtmon memstats 1234\n"
	"  sudo rtmon memstats --json $(pgrep -n myapp)";

int cmd_memstats(int argc, char **argv)
{
	char err[1024];
	struct go_proc p;
	struct go_memstats m;
	pid_t pid;
	bool json;
	int rc = parse_pid_json(memstats_doc, argc, argv, &pid, &json);

	if (rc)
		return rc;
	if (go_proc_open(pid, &p, err, sizeof(err)) || go_read_memstats(&p, &m, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		go_proc_close(&p);
		return 1;
	}
	if (json)
		print_json(pid, &m);
	else
		print_text(&m);
	go_proc_close(&p);
	return fflush(stdout) ? 1 : 0;
}

/* rtmon memstats PID: a running Go program's runtime.MemStats, computed from its runtime's own
 * state as ReadMemStats computes it in that release, without stopping the program
 * (runtime/go/goinspect.h). JSON field names are MemStats' own. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/opts.h"
#include "output/json.h"
#include "output/units.h"
#include "runtime/go/goinspect.h"

#define FIELDS(X)                                                                                 \
	X(Alloc, 1)                                                                               \
	X(TotalAlloc, 1) X(Sys, 1) X(Lookups, 0) X(Mallocs, 0) X(Frees, 0) X(HeapAlloc, 1)        \
		X(HeapSys, 1) X(HeapIdle, 1) X(HeapInuse, 1) X(HeapReleased, 1) X(HeapObjects, 0) \
			X(StackInuse, 1) X(StackSys, 1) X(MSpanInuse, 1) X(MSpanSys, 1)           \
				X(MCacheInuse, 1) X(MCacheSys, 1) X(BuckHashSys, 1) X(GCSys, 1)   \
					X(OtherSys, 1)

static void print_text(const struct go_memstats *m)
{
	char h[32];

#define TEXT(name, bytes)                                                                         \
	if (bytes)                                                                                \
		units_bytes(m->name, h, sizeof(h));                                               \
	printf("%-14s %llu%s%s%s\n", #name, (unsigned long long)m->name, bytes ? " (" : "",       \
	       bytes ? h : "", bytes ? ")" : "");
	FIELDS(TEXT)
#undef TEXT
	if (m->next_gc_known) {
		units_bytes(m->NextGC, h, sizeof(h));
		printf("%-14s %llu (%s)\n", "NextGC", (unsigned long long)m->NextGC, h);
	} else {
		printf("%-14s not derived: a memory limit is set (GOMEMLIMIT)\n", "NextGC");
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
		printf("(the heap figures changed under every read: they are from a moving heap)\n");
}

static void print_json(pid_t pid, const struct go_memstats *m)
{
	json_begin(stdout, "memstats");
	json_field_i64(stdout, "pid", pid);
#define JSON(name, bytes) json_field_u64(stdout, #name, m->name);
	FIELDS(JSON)
#undef JSON
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
	"A running Go program's runtime.MemStats (Alloc, TotalAlloc, Sys, Mallocs, Frees, the heap "
	"and stack figures, NextGC, LastGC, PauseTotalNs, NumGC, NumForcedGC, GCCPUFraction, ...), "
	"computed from its runtime's own state as ReadMemStats computes it in that release, without "
	"stopping the program or linking anything into it; stripped and PIE binaries work. A field "
	"that cannot be derived from outside is said so (NextGC under a memory limit); heap figures "
	"that changed under every read are marked. --json: one object, MemStats' field names.\v"
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
	if (go_proc_open(pid, &p, err, sizeof(err)) ||
	    go_read_memstats(&p, &m, err, sizeof(err))) {
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

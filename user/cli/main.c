/* rtmon: an external runtime monitor built on eBPF. This file only dispatches to a command. */
#include <argp.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "build_info.h"
#include "cli/commands.h"

/* The one place that says where bugs go: every --help ends with "Report bugs to ...". */
const char *argp_program_bug_address =
	"the developers as 'Reporting bugs' in " RTMON_DOCDIR "/README.md says";

/* rtmon --version and every command's --version (-V): the release, the commit it was built from,
 * and the libbpf it runs with (the library loaded now, which may be newer than the headers). */
static void print_version(FILE *out)
{
	char path[PATH_MAX] = "";
	Dl_info dl;

	if (dladdr((void *)libbpf_version_string, &dl) && dl.dli_fname &&
	    !realpath(dl.dli_fname, path))
		snprintf(path, sizeof(path), "%s", dl.dli_fname);
	fprintf(out, "rtmon %s (commit %s)\n", RTMON_VERSION, RTMON_COMMIT);
	fprintf(out, "libbpf %s%s%s%s, built with %d.%d\n", libbpf_version_string(),
		path[0] ? " (" : "", path, path[0] ? ")" : "", LIBBPF_MAJOR_VERSION,
		LIBBPF_MINOR_VERSION);
}

static void argp_version(FILE *out, struct argp_state *state)
{
	(void)state;
	print_version(out);
}

void (*argp_program_version_hook)(FILE *, struct argp_state *) = argp_version;

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "malloc", cmd_malloc, "allocation sizes as a log2 histogram, counts and bytes" },
	{ "thr", cmd_thr, "threads created and exited: name, start routine, parent, lifetime" },
	{ "lat", cmd_lat, "thread lifetimes as a log2 histogram, optionally per start routine" },
	{ "gc", cmd_gc,
	  "GC cycles and pauses: Go, CPython, HotSpot, Boehm GC, or --cycle SYM; pause histogram" },
	{ "profile", cmd_profile, "CPU time by call stack: the target's threads sampled at -F HZ" },
	{ "heap", cmd_heap,
	  "a Go program's heap profile: the runtime's own sampling, read at its probes" },
	{ "ps", cmd_ps, "every process with its runtime, version, Go module; * = traced fully" },
	{ "tree", cmd_tree, "the same processes as a tree by parent" },
	{ "info", cmd_info,
	  "one process: parent, threads, memory, CPU, sockets, runtime, commands" },
	{ "serve", cmd_serve, "an exporter: GC, thread and goroutine metrics for Prometheus" },
	{ "stack", cmd_stack,
	  "a Go program's goroutines and their stacks, as runtime.Stack prints them" },
	{ "memstats", cmd_memstats, "a Go program's runtime.MemStats, read from outside" },
	{ "stats", cmd_stats, "a Go program's goroutines, threads, GOMAXPROCS, GOGC, GOMEMLIMIT" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: rtmon COMMAND [OPTION...] {--binpath PATH | --pid PID | --name NAME | -- "
		"CMD [ARGS...]}\n"
		"       rtmon {ps | tree | info PID | stack PID | memstats PID | stats PID} "
		"[OPTION...]\n"
		"       rtmon {--help | --version}\n"
		"Watch what a program's runtime does, from outside, with eBPF: the program is not "
		"changed or restarted.\n\nCommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\nCommon options (every tracing command): -b/--binpath PATH, -p/--pid PID, "
		"-n/--name NAME,\n"
		"  -- CMD ARGS, -d/--duration SEC, -i/--interval SEC, --json, -T/--timestamps,\n"
		"  -v/--verbose, --keep-running (-- CMD: do not end CMD when tracing ends first).\n"
		"Every command: -o/--output FILE (stdout to FILE, truncated).\n"
		"ps, tree, info and stack take no target. 'rtmon COMMAND --help' has the "
		"rest.\n\n"
		"Exit status: 0 when tracing ends normally; with -- CMD that ends while traced, "
		"CMD's status\n"
		"  (128+N when signal N killed it); 1 on an error, 2 on bad usage.\n\n"
		"Examples:\n"
		"  rtmon ps\n"
		"  rtmon info 1234\n"
		"  sudo rtmon gc -n myapp\n"
		"  sudo rtmon malloc --binpath ./app\n"
		"  sudo rtmon malloc -p 1234 -d 10 --json\n"
		"  sudo rtmon malloc -- ./app args\n"
		"  sudo rtmon thr -p 1234\n"
		"  sudo rtmon lat --by-start -- ./app args\n"
		"  sudo rtmon profile --folded -d 10 -p 1234 > out.folded\n"
		"  sudo rtmon serve --all\n"
		"  sudo rtmon stack 1234\n");
}

int main(int argc, char **argv)
{
	char name[64];

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		print_version(stdout);
		return 0;
	}
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		/* argp names itself after argv[0]: "rtmon malloc: ..." in messages and usage. */
		snprintf(name, sizeof(name), "rtmon %s", commands[i].name);
		argv[1] = name;
		return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "rtmon: unknown command '%s': run 'rtmon --help' for the list\n", argv[1]);
	return 2;
}

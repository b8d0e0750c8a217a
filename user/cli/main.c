/* rtmon: an external runtime monitor built on eBPF. This file only dispatches to a command. */
#include <argp.h>
#include <stdio.h>
#include <string.h>
#include "cli/commands.h"

const char *argp_program_version = "rtmon 0.1";
const char *argp_program_bug_address = "the rtmon issue tracker";

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
	{ "ps", cmd_ps, "every process with its runtime, version, Go module; * = traced fully" },
	{ "tree", cmd_tree, "the same processes as a tree by parent" },
	{ "info", cmd_info,
	  "one process: parent, threads, memory, CPU, sockets, runtime, commands" },
	{ "serve", cmd_serve, "an exporter: GC, thread and goroutine metrics for Prometheus" },
	{ "stack", cmd_stack,
	  "a Go program's goroutines and their stacks, as runtime.Stack prints them" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: rtmon COMMAND [OPTION...] {--binpath PATH | --pid PID | --name NAME | -- "
		"CMD [ARGS...]}\n"
		"       rtmon {ps | tree | info PID | stack PID} [OPTION...]\n"
		"Watch what a program's runtime does, from outside, with eBPF: the program is not "
		"changed or restarted.\n\nCommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nCommon options (every tracing command): -b/--binpath PATH, -p/--pid PID, "
		     "-n/--name NAME,\n"
		     "  -- CMD ARGS, -d/--duration SEC, -i/--interval SEC, --json, -v/--verbose.\n"
		     "ps, tree and info take no target. 'rtmon COMMAND --help' has the "
		     "rest.\n\nExamples:\n"
		     "  rtmon ps\n"
		     "  rtmon info 1234\n"
		     "  sudo rtmon gc -n myapp\n"
		     "  sudo rtmon malloc --binpath ./app\n"
		     "  sudo rtmon malloc -p 1234 -d 10 --json\n"
		     "  sudo rtmon malloc -- ./app args\n"
		     "  sudo rtmon thr -p 1234\n"
		     "  sudo rtmon lat --by-start -- ./app args\n");
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
		puts(argp_program_version);
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

/* The steps every tracing command starts with, in one place. */
#ifndef RTMON_COMMAND_H
#define RTMON_COMMAND_H

#include "cli/opts.h"
#include "proc/target.h"

/* Parses the command line, routes libbpf's log, checks root and BTF, takes SIGINT/SIGTERM through the
 * loop, and opens the target (a -- CMD is started held at its gate). argv[0] is "rtmon CMD" and names
 * the command in errors. Returns 0, or the exit code after one error line on stderr. */
int command_start(const struct argp *argp, int argc, char **argv, struct common_opts *co, void *input,
		  struct target *t);

#endif

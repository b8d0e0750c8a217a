/* The steps every tracing command starts with, in one place. */
#ifndef RTMON_COMMAND_H
#define RTMON_COMMAND_H

#include <stdbool.h>
#include "cli/opts.h"
#include "proc/target.h"
#include "trace/loop.h"

/* Parses the command line, routes libbpf's log, checks root and BTF, takes SIGINT/SIGTERM through
 * the loop, and opens the target (a -- CMD is started held at its gate). argv[0] is "rtmon CMD" and
 * names the command in errors. Returns 0, or the exit code after one error line on stderr. */
int command_start(const struct argp *argp, int argc, char **argv, struct common_opts *co,
		  void *input, struct target *t);

/* What a tracing command plugs into the one path every trace takes (command_trace). */
struct trace_steps {
	const char *cmd;  /* "thr": names the command in errors */
	const char *what; /* "threads": "Tracing threads in ... Hit Ctrl-C to end." */
	void *ctx;
	/* Opens, loads and attaches; may set ops->rb. 0, or -1 with a one-line message in err. */
	int (*attach)(void *ctx, struct loop_ops *ops, char *err, size_t errlen);
	/* Optional: after the announcement, just before the target is let go (a header, time zero).
	 */
	void (*before_release)(void *ctx);
	/* The final output: how the loop ended and how long tracing ran. */
	void (*report)(void *ctx, enum loop_end end, double secs);
};

/* Attaches, announces, lets the target go, runs the loop to its end, reads what the ring buffer
 * still holds, and reports. Returns the exit code: 0, or 1 after an error line on stderr. *ran says
 * whether tracing began (false: the caller ends a -- CMD it started, which never ran traced). The
 * caller cleans up its objects in either case. */
int command_trace(const struct trace_steps *s, const struct common_opts *co, struct target *t,
		  struct loop_ops *ops, bool *ran);

#endif

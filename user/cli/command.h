/* The steps every tracing command starts with, in one place. */
#ifndef RTMON_COMMAND_H
#define RTMON_COMMAND_H

#include <stdbool.h>
#include "cli/opts.h"
#include "proc/target.h"
#include "trace/loop.h"

/* Parses the command line, routes libbpf's log, checks root and BTF, takes the ending signals
 * through the loop, and opens the target (a -- CMD is started held at its gate). argv[0] is "rtmon
 * CMD" and names the command in errors. Returns 0, or the exit code after one error line on stderr.
 */
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
 * still holds, reports, and ends a -- CMD still running (command_finish). Returns the exit code
 * (command_finish's), or 1 after an error line on stderr. *ran says whether tracing began (false:
 * the caller ends a -- CMD it started, which never ran traced). The caller cleans up its objects
 * in either case. */
int command_trace(const struct trace_steps *s, const struct common_opts *co, struct target *t,
		  struct loop_ops *ops, bool *ran);

/* How long a -- CMD has to end after SIGTERM before rtmon sends SIGKILL. */
#define COMMAND_GRACE_MS 2000

/* After the final output: a -- CMD still running is ended (SIGTERM, SIGKILL after
 * COMMAND_GRACE_MS), or left running with --keep-running (a note on stderr says so). Returns the
 * exit code: 1 when the loop failed; the command's status (128 + N for signal N) when it ended
 * tracing by ending; else 0. cmd ("rtmon thr") names the command in notes. */
int command_finish(const char *cmd, const struct common_opts *co, struct target *t,
		   enum loop_end end);

#endif

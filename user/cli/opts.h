/* Options every tracing command shares: the target, how long to run, and the output form. */
#ifndef RTMON_OPTS_H
#define RTMON_OPTS_H

#include <argp.h>
#include <stdbool.h>
#include <sys/types.h>

struct common_opts {
	const char *binpath; /* -b: every process running this executable */
	pid_t pid;           /* -p: one process */
	const char *name; /* -n: the one process with this name (target.c resolves it to a PID) */
	char **cmd_argv;  /* after --: a command rtmon starts */
	bool all;         /* rtmon serve --all (its own option): every process rtmon traces fully */
	double duration;  /* -d seconds; 0 = until Ctrl-C or the target ends */
	double interval;  /* -i seconds; 0 = one final report */
	bool json;        /* --json: JSON lines on stdout */
	bool wall_clock;  /* -T: event rows start with their wall-clock time */
	bool verbose;     /* -v: libbpf debug output */
	bool keep_running; /* --keep-running: -- CMD runs on when tracing ends first */
};

/* argp child parsing the common options. A command's parser hands it the struct common_opts with
 * common_opts_init() on ARGP_KEY_INIT (argp gives children no input otherwise). */
extern const struct argp common_argp;

static inline void common_opts_init(struct argp_state *state, struct common_opts *co)
{
	state->child_inputs[0] = co;
}

/* Parses argv for one command: splits at the first "--" (the rest is the command to run), runs argp
 * with the command's own parser (whose children must include common_argp), then checks that exactly
 * one target was given. Returns 0, or a non-zero exit code after printing one error line. */
int parse_command_line(const struct argp *argp, int argc, char **argv, struct common_opts *co,
		       void *cmd_input);

/* The same one-line error handling for a command without a target (ps, tree, info). 0 or exit code.
 */
int parse_args_only(const struct argp *argp, int argc, char **argv, void *input);

/* A command that reads one process once (stack, memstats, stats): "PID [--json] [-o FILE]". doc
 * is argp's doc string. 0, or the exit code after one error line. */
int parse_pid_json(const char *doc, int argc, char **argv, pid_t *pid, bool *json);

/* Strict numeric parsing for option values: whole string, in range. 0 or -EINVAL. */
int parse_seconds(const char *s, double *out);
int parse_pid(const char *s, pid_t *out);
/* A decimal integer in 1..INT_MAX, nothing after it: 0, or -EINVAL. */
int parse_positive_int(const char *s, int *out);

#endif

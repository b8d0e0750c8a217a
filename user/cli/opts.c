#include <errno.h>
#include <unistd.h>
#include <sys/mman.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/opts.h"
#include "cli/output_opt.h"

enum { OPT_JSON = 0x1000, OPT_KEEP_RUNNING };

static const struct argp_option common_options[] = {
	{ "binpath", 'b', "PATH", 0,
	  "Trace every process running the executable PATH, including ones "
	  "started later",
	  1 },
	{ "pid", 'p', "PID", 0, "Trace the running process PID", 1 },
	{ "name", 'n', "NAME", 0,
	  "Trace the one running process named NAME (its name or its executable's "
	  "file name, exactly); several matches are listed with their PIDs",
	  1 },
	{ "duration", 'd', "SEC", 0,
	  "Stop after SEC seconds (default: until Ctrl-C or the target ends)", 2 },
	{ "interval", 'i', "SEC", 0, "Print and reset the results every SEC seconds", 2 },
	{ "json", OPT_JSON, NULL, 0, "Print JSON lines on stdout (see docs/json.md)", 2 },
	{ "timestamps", 'T', NULL, 0,
	  "Start each event row with its wall clock time of day (CLOCK, local time, microseconds); "
	  "JSON records always carry it as \"time\"",
	  2 },
	{ "verbose", 'v', NULL, 0, "Show libbpf's debug output", 2 },
	{ "keep-running", OPT_KEEP_RUNNING, NULL, 0,
	  "With -- CMD: when tracing ends first (-d or a signal), leave the command running "
	  "instead of ending it",
	  3 },
	{ NULL, 0, NULL, OPTION_DOC,
	  "-- CMD ARGS: rtmon starts CMD and traces it from its first instruction. When CMD ends, "
	  "tracing ends and rtmon exits with CMD's exit status (128+N when signal N killed it). "
	  "When "
	  "tracing ends first, rtmon ends CMD: SIGTERM, then SIGKILL 2 s later, unless "
	  "--keep-running is given (CMD also gets SIGTERM if rtmon itself is killed). SIGINT, "
	  "SIGTERM, SIGHUP and SIGQUIT end tracing with the final output. rtmon's own errors exit "
	  "1, bad usage 2.",
	  4 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Give this help list", -1 },
	/* -c CMD, bpftrace's and BCC's way to name the command to run, gets a hint */
	{ NULL, 'c', "CMD", OPTION_HIDDEN | OPTION_ARG_OPTIONAL, NULL, -1 },
	{ 0 },
};

int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 1e7)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_positive_int(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > INT_MAX)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

int parse_pid(const char *s, pid_t *out)
{
	int v;

	if (parse_positive_int(s, &v))
		return -EINVAL;
	*out = (pid_t)v;
	return 0;
}

static error_t parse_common(int key, char *arg, struct argp_state *state)
{
	struct common_opts *co = state->input;

	switch (key) {
	case 'b':
		co->binpath = arg;
		break;
	case 'p':
		if (parse_pid(arg, &co->pid)) {
			argp_failure(state, 2, 0, "invalid PID '%s': give a positive process id",
				     arg);
			return EINVAL;
		}
		break;
	case 'n':
		if (!*arg) {
			argp_failure(state, 2, 0,
				     "empty process name: give -n NAME as rtmon ps shows it");
			return EINVAL;
		}
		co->name = arg;
		break;
	case 'd':
		if (parse_seconds(arg, &co->duration)) {
			argp_failure(state, 2, 0,
				     "invalid duration '%s': give a positive number of seconds",
				     arg);
			return EINVAL;
		}
		break;
	case 'i':
		if (parse_seconds(arg, &co->interval)) {
			argp_failure(state, 2, 0,
				     "invalid interval '%s': give a positive number of seconds",
				     arg);
			return EINVAL;
		}
		break;
	case OPT_JSON:
		co->json = true;
		break;
	case 'T':
		co->wall_clock = true;
		break;
	case 'v':
		co->verbose = true;
		break;
	case OPT_KEEP_RUNNING:
		co->keep_running = true;
		break;
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case 'c':
		argp_failure(
			state, 2, 0,
			"-c is not an option: run a command with -- CMD ARGS (e.g. %s -- ./app)",
			state->name);
		return EINVAL;
	case ARGP_KEY_ARG:
		argp_failure(state, 2, 0,
			     "unexpected argument '%s': put the command to trace after --", arg);
		return EINVAL;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child common_children[] = { { &output_argp, 0, NULL, 0 }, { 0 } };
const struct argp common_argp = { common_options,  parse_common, NULL, NULL,
				  common_children, NULL,         NULL };

static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-?") ||
		    !strcmp(argv[i], "-h") || !strcmp(argv[i], "--usage") ||
		    !strcmp(argv[i], "--version") || !strcmp(argv[i], "-V"))
			return true;
	return false;
}

/* argp reports a bad option on two lines (the problem, then "Try --help"); rtmon's rule is one
 * line. So argp runs without exiting, with stderr captured, and the first captured line is
 * reprinted with the hint appended. Help and version requests run argp normally: it prints and
 * exits 0. */
static int argp_parse_one_line_errors(const struct argp *argp, int argc, char **argv, void *input)
{
	char buf[512] = "";
	int saved, cap, err;
	ssize_t n;

	if (wants_help(argc, argv))
		return argp_parse(argp, argc, argv, 0, NULL, input) ? 2 : 0;
	fflush(stderr);
	cap = memfd_create("rtmon-argp", MFD_CLOEXEC);
	saved = cap < 0 ? -1 : dup(STDERR_FILENO);
	if (cap < 0 || saved < 0 || dup2(cap, STDERR_FILENO) < 0) {
		/* Cannot capture: fall back to argp's own two-line messages. */
		if (cap >= 0)
			close(cap);
		if (saved >= 0)
			close(saved);
		return argp_parse(argp, argc, argv, 0, NULL, input) ? 2 : 0;
	}
	err = argp_parse(argp, argc, argv, ARGP_NO_EXIT, NULL, input);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(cap, buf, sizeof(buf) - 1, 0);
	close(cap);
	if (n > 0) {
		buf[n] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
	}
	if (!err && !buf[0])
		return 0;
	fprintf(stderr, "%s (see '%s --help')\n", buf[0] ? buf : "invalid arguments", argv[0]);
	return 2;
}

/* The command's own argp, with -o beside it (the commands without a target have no
 * common_argp to carry it). */
static error_t parse_args_only_wrapper(int key, char *arg, struct argp_state *state)
{
	(void)arg;
	if (key == ARGP_KEY_INIT)
		state->child_inputs[0] = state->input;
	return ARGP_ERR_UNKNOWN;
}

int parse_args_only(const struct argp *argp, int argc, char **argv, void *input)
{
	const struct argp_child children[] = { { argp, 0, NULL, 0 },
					       { &output_argp, 0, NULL, 0 },
					       { 0 } };
	const struct argp wrapper = { NULL, parse_args_only_wrapper, NULL, NULL, children, NULL,
				      NULL };

	return argp_parse_one_line_errors(&wrapper, argc, argv, input);
}

struct pid_json_args {
	pid_t pid;
	bool have_pid, json;
};

static error_t parse_pid_json_opt(int key, char *arg, struct argp_state *state)
{
	struct pid_json_args *a = state->input;

	switch (key) {
	case OPT_JSON:
		a->json = true;
		return 0;
	case ARGP_KEY_ARG:
		if (a->have_pid || parse_pid(arg, &a->pid)) {
			argp_failure(state, 2, 0, "%s '%s': give one positive process id",
				     a->have_pid ? "one PID only, not" : "invalid PID", arg);
			return EINVAL;
		}
		a->have_pid = true;
		return 0;
	case ARGP_KEY_END:
		if (!a->have_pid) {
			argp_failure(state, 2, 0,
				     "no PID: give the process id (rtmon ps lists them)");
			return EINVAL;
		}
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

int parse_pid_json(const char *doc, int argc, char **argv, pid_t *pid, bool *json)
{
	static const struct argp_option options[] = {
		{ "json", OPT_JSON, NULL, 0, "Print JSON lines on stdout (see docs/json.md)", 0 },
		{ 0 },
	};
	const struct argp argp = { options, parse_pid_json_opt, "PID", doc, NULL, NULL, NULL };
	struct pid_json_args a = { 0 };
	int rc = parse_args_only(&argp, argc, argv, &a); /* with -o, as every command */

	*pid = a.pid;
	*json = a.json;
	return rc;
}

/* Splits argv at the first "--" (the rest is the command to run), parses the rest, then checks that
 * exactly one target was given. */
int parse_command_line(const struct argp *argp, int argc, char **argv, struct common_opts *co,
		       void *cmd_input)
{
	int i, n = argc, targets, rc;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			n = i;
			if (i + 1 >= argc) {
				fprintf(stderr, "%s: nothing after '--': give the command to run\n",
					argv[0]);
				return 2;
			}
			co->cmd_argv = &argv[i + 1];
			break;
		}
	}
	rc = argp_parse_one_line_errors(argp, n, argv, cmd_input);
	if (rc)
		return rc;
	targets = !!co->binpath + !!co->pid + !!co->name + !!co->cmd_argv + co->all;
	if (targets != 1) {
		fprintf(stderr,
			"%s: %s: give one of --binpath PATH, --pid PID, --name NAME "
			"or -- COMMAND\n",
			argv[0], targets ? "more than one target" : "no target");
		return 2;
	}
	if (co->keep_running && !co->cmd_argv) {
		fprintf(stderr,
			"%s: --keep-running is for a command rtmon starts (-- CMD): rtmon never "
			"ends a process it did not start\n",
			argv[0]);
		return 2;
	}
	return 0;
}

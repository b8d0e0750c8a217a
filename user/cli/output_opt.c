#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cli/output_opt.h"

static const struct argp_option output_options[] = {
	{ "output", 'o', "FILE", 0, "Write the output to FILE instead of stdout (truncated)", 2 },
	{ 0 },
};

/* The parse of one command line: argp gives a child without input no place of its own. */
static const char *output_path;

/* glibc's stdout is a variable that may be set (its manual shows this for redirecting output);
 * fd 1 stays as it is, for the target that rtmon starts. */
static int reopen_stdout(struct argp_state *state, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	FILE *f;

	if (fd < 0) {
		int e = errno;

		argp_failure(state, 2, 0, "cannot write the output to %s: %s; give a writable path",
			     path, strerror(e));
		return e;
	}
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		argp_failure(state, 2, 0, "cannot write the output to %s: out of memory", path);
		return ENOMEM;
	}
	fflush(stdout);
	stdout = f;
	return 0;
}

static error_t parse_output(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case ARGP_KEY_INIT:
		output_path = NULL;
		return 0;
	case 'o':
		if (!*arg) {
			argp_failure(state, 2, 0, "empty -o path: give the file to write to");
			return EINVAL;
		}
		output_path = arg;
		return 0;
	case ARGP_KEY_SUCCESS:
		return output_path ? reopen_stdout(state, output_path) : 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

const struct argp output_argp = { output_options, parse_output, NULL, NULL, NULL, NULL, NULL };

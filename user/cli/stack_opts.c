#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "cli/stack_opts.h"

enum { OPT_FOLDED = 0x1100, OPT_PPROF, OPT_TOP, OPT_VALUE };

static const struct argp_option stack_options[] = {
	{ "folded", OPT_FOLDED, NULL, 0,
	  "Print folded stacks, one line per stack (flamegraph.pl, inferno, speedscope)", 3 },
	{ "pprof", OPT_PPROF, "FILE", 0, "Write a gzipped pprof profile to FILE (go tool pprof)",
	  3 },
	{ "top", OPT_TOP, "N", 0, "Show the top N stacks in the text report (default 10)", 3 },
	{ "value", OPT_VALUE, "NAME", 0,
	  "The value that orders and folds the stacks: count or bytes, or a sample type's name",
	  3 },
	{ 0 },
};

static int parse_top(const char *s, size_t *out)
{
	int v;

	if (parse_positive_int(s, &v))
		return -EINVAL;
	*out = (size_t)v;
	return 0;
}

/* The checks that need every option. */
static error_t finish(struct stack_opts *so, struct argp_state *state)
{
	char buf[512];
	long v;

	if (so->folded && so->pprof) {
		argp_failure(state, 2, 0,
			     "--folded and --pprof together: give one (folded stacks go to stdout, "
			     "the pprof profile to its file)");
		return EINVAL;
	}
	if (so->folded && so->co && so->co->json) {
		argp_failure(state, 2, 0, "--folded and --json together: give one");
		return EINVAL;
	}
	if (so->value_name) {
		v = profile_value_type_find(so->types, so->ntypes, so->value_name);
		if (v < 0) {
			profile_value_type_names(so->types, so->ntypes, buf, sizeof(buf));
			argp_failure(state, 2, 0, "unknown --value '%s': give one of %s",
				     so->value_name, buf);
			return EINVAL;
		}
		so->value = (size_t)v;
	}
	if (so->pprof && profile_pprof_check_path(so->pprof, buf, sizeof(buf))) {
		argp_failure(state, 2, 0, "%s", buf);
		return EINVAL;
	}
	return 0;
}

static error_t parse_stack(int key, char *arg, struct argp_state *state)
{
	struct stack_opts *so = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		if (so && !so->top)
			so->top = 10;
		return 0;
	case OPT_FOLDED:
		so->folded = true;
		return 0;
	case OPT_PPROF:
		so->pprof = arg;
		return 0;
	case OPT_TOP:
		if (parse_top(arg, &so->top)) {
			argp_failure(state, 2, 0,
				     "invalid --top '%s': give a positive number of stacks", arg);
			return EINVAL;
		}
		return 0;
	case OPT_VALUE:
		so->value_name = arg;
		return 0;
	case ARGP_KEY_END:
		return so ? finish(so, state) : 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

const struct argp stack_argp = { stack_options, parse_stack, NULL, NULL, NULL, NULL, NULL };

int stack_output_write(const struct stack_opts *so, struct profile *p, FILE *out, char *err,
		       size_t errlen)
{
	size_t value = so->value < profile_ntypes(p) ? so->value : 0;
	int e;

	/* pprof opens on the value the text and the folded stacks show. */
	profile_set_default_value(p, value);
	if (so->folded)
		profile_write_folded(p, out, value);
	else if (so->co && so->co->json)
		profile_write_json(p, out);
	else
		profile_write_text(p, out, value, so->top);
	if (fflush(out)) {
		e = errno;
		snprintf(err, errlen, "cannot write the stacks: %s", strerror(e));
		return -e;
	}
	return so->pprof ? profile_write_pprof(p, so->pprof, err, errlen) : 0;
}

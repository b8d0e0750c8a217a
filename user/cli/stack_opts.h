/* The options of every command that reports call stacks (profile, malloc --stacks, heap) and the
 * one way their profile is written: text top N, --folded, --json (the common option) or --pprof
 * FILE (docs/profiles.md). */
#ifndef RTMON_STACK_OPTS_H
#define RTMON_STACK_OPTS_H

#include <argp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "cli/opts.h"
#include "output/profile.h"

struct stack_opts {
	/* Set by the command before parsing: its value types and the one shown by default. */
	const struct profile_value_type *types;
	size_t ntypes;
	size_t value;
	/* Parsed. */
	bool folded;                  /* --folded: folded stacks on stdout */
	const char *pprof;            /* --pprof FILE: checked writable when parsed */
	size_t top;                   /* --top N: stacks in the text report (default 10) */
	const char *value_name;       /* --value NAME, resolved into value */
	const struct common_opts *co; /* for --json */
};

/* argp child parsing the stack options. The command's parser, on ARGP_KEY_INIT, hands it its
 * struct stack_opts (types, ntypes and value set) with stack_opts_init(state, CHILD, so, co),
 * CHILD being its index in the command's children. Bad input is refused in one line:
 * --folded with --pprof or --json, --top that is not a positive number, a --value that names no
 * value type, a --pprof path that cannot be written (before anything is traced). */
extern const struct argp stack_argp;

static inline void stack_opts_init(struct argp_state *state, unsigned child, struct stack_opts *so,
				   const struct common_opts *co)
{
	so->co = co;
	state->child_inputs[child] = so;
}

/* Writes p as the options say: out gets folded stacks, JSON lines or the text top N, and --pprof
 * writes its file besides, opening on the same value (profile_set_default_value). 0, or -errno
 * with a one-line message in err. */
int stack_output_write(const struct stack_opts *so, struct profile *p, FILE *out, char *err,
		       size_t errlen);

#endif

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cli/command.h"
#include "trace/loop.h"
#include "trace/probe.h"

int command_start(const struct argp *argp, int argc, char **argv, struct common_opts *co, void *input,
		  struct target *t)
{
	char err[1024];
	int rc = parse_command_line(argp, argc, argv, co, input);

	if (rc)
		return rc;
	probe_setup_libbpf(co->verbose);
	if (probe_check_system(err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		return 1;
	}
	if (loop_block_signals()) {
		fprintf(stderr, "%s: cannot set up signal handling: %s\n", argv[0], strerror(errno));
		return 1;
	}
	if (target_open(t, co, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		target_close(t, true);
		return 1;
	}
	return 0;
}

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "cli/command.h"
#include "output/target_report.h"
#include "trace/loop.h"
#include "trace/probe.h"

int command_start(const struct argp *argp, int argc, char **argv, struct common_opts *co,
		  void *input, struct target *t)
{
	char err[1024];
	int rc = parse_command_line(argp, argc, argv, co, input);

	if (rc)
		return rc;
	probe_setup_libbpf(co->verbose);
	if (probe_check_system(err, sizeof(err))) {
		report_error(argv[0], "%s", err);
		return 1;
	}
	if (loop_block_signals(argv[0])) {
		fprintf(stderr, "%s: cannot set up signal handling: %s\n", argv[0],
			strerror(errno));
		return 1;
	}
	if (target_open(t, co, err, sizeof(err))) {
		report_error(argv[0], "%s", err);
		target_close(t, true);
		return 1;
	}
	return 0;
}

int command_trace(const struct trace_steps *s, const struct common_opts *co, struct target *t,
		  struct loop_ops *ops, bool *ran)
{
	enum loop_end end;
	char err[1024], cmd[64];
	double start_s;

	*ran = false;
	snprintf(cmd, sizeof(cmd), "rtmon %s", s->cmd);
	if (s->attach(s->ctx, ops, err, sizeof(err))) {
		/* a -p target that exited meanwhile is named as such, not by the failed attach */
		target_explain_attach_error(t, err, sizeof(err));
		goto fail;
	}
	loop_setup_done();
	report_tracing(t, s->what);
	if (s->before_release)
		s->before_release(s->ctx);
	start_s = loop_now_s();
	if (target_release(t, err, sizeof(err)))
		goto fail;
	*ran = true;
	end = loop_run(co, t, ops);
	/* The loop drains every 10 ms: what the last events of an exiting target left is read here.
	 */
	if (ops->rb)
		ring_buffer__consume(ops->rb);
	s->report(s->ctx, end, loop_now_s() - start_s);
	return command_finish(cmd, co, t, end);
fail:
	report_error(cmd, "%s", err);
	return 1;
}

int command_finish(const char *cmd, const struct common_opts *co, struct target *t,
		   enum loop_end end)
{
	report_command_left(cmd, t, target_finish(t, co->keep_running, COMMAND_GRACE_MS));
	if (end == END_ERROR)
		return 1;
	/* The command ended by itself: its status is rtmon's, as with strace and time. */
	return end == END_TARGET_EXIT ? target_exit_code(t) : 0;
}

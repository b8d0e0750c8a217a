#include <stdarg.h>
#include <sys/wait.h>
#include "output/escape.h"
#include "output/json.h"
#include "output/target_report.h"

void report_tracing(const struct target *t, const char *what)
{
	char label[sizeof(t->label)];

	fprintf(stderr, "Tracing %s in %s... Hit Ctrl-C to end.\n", what,
		text_safe(t->label, label, sizeof(label)));
}

void report_target_end(FILE *out, const struct target *t, bool json)
{
	char label[sizeof(t->label)];
	int st = t->exit_status;

	if (t->kind == TARGET_BINPATH || !t->exited)
		return;
	text_safe(t->label, label, sizeof(label));
	if (t->kind == TARGET_PID) {
		if (!json)
			fprintf(out, "; %s exited", label);
		return;
	}
	if (WIFEXITED(st) && json)
		json_field_i64(out, "target_exit", WEXITSTATUS(st));
	else if (WIFEXITED(st))
		fprintf(out, "; %s exited with status %d", label, WEXITSTATUS(st));
	else if (WIFSIGNALED(st) && json)
		json_field_i64(out, "target_signal", WTERMSIG(st));
	else if (WIFSIGNALED(st))
		fprintf(out, "; %s was killed by signal %d", label, WTERMSIG(st));
}

void report_command_left(const char *cmd, const struct target *t, enum target_finish how)
{
	if (how == TARGET_LEFT_RUNNING)
		report_error(cmd, "left %s running, untraced (--keep-running)", t->label);
	else if (how == TARGET_KILLED)
		report_error(cmd, "%s did not end within 2 s of SIGTERM: killed it (SIGKILL)",
			     t->label);
}

void report_error(const char *cmd, const char *fmt, ...)
{
	char msg[2048], safe[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", cmd, text_safe(msg, safe, sizeof(safe)));
}

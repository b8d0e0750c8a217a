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

	if (t->kind != TARGET_CMD || !t->exited)
		return;
	text_safe(t->label, label, sizeof(label));
	if (WIFEXITED(st) && json)
		json_field_i64(out, "target_exit", WEXITSTATUS(st));
	else if (WIFEXITED(st))
		fprintf(out, "; %s exited with status %d", label, WEXITSTATUS(st));
	else if (WIFSIGNALED(st) && json)
		json_field_i64(out, "target_signal", WTERMSIG(st));
	else if (WIFSIGNALED(st))
		fprintf(out, "; %s was killed by signal %d", label, WTERMSIG(st));
}

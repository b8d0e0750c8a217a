/* What rtmon says about its target: that tracing began (stderr) and how a -- CMD target ended (the
 * summary line). Here rather than in proc/, so that the target layer prints nothing. The target's
 * label holds its path or process name: it is made safe for the terminal (output/escape.h). */
#ifndef RTMON_TARGET_REPORT_H
#define RTMON_TARGET_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include "proc/target.h"

/* "Tracing WHAT in LABEL... Hit Ctrl-C to end." on stderr, once every probe is attached. */
void report_tracing(const struct target *t, const char *what);

/* Appends how a -- CMD target ended to the summary line: ',"target_exit":N' or ',"target_signal":N'
 * in JSON, "; LABEL exited with status N" or "; LABEL was killed by signal N" in text. Nothing for
 * other targets, or while the command still runs. */
void report_target_end(FILE *out, const struct target *t, bool json);

#endif

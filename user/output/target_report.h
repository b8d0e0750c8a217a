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

/* Appends how the target ended to the summary line. A -- CMD: ',"target_exit":N' or
 * ',"target_signal":N' in JSON, "; LABEL exited with status N" or "; LABEL was killed by signal N"
 * in text. A -p process (not rtmon's child: its status is its parent's): "; LABEL exited" in text,
 * nothing in JSON, whose "end" says "target-exit". Nothing for --binpath, or while the target runs.
 */
void report_target_end(FILE *out, const struct target *t, bool json);

/* The notes on how a -- CMD was left once tracing ended first (target_finish): on stderr, "CMD:
 * left LABEL running (--keep-running)" or "... did not end within 2 s of SIGTERM: killed". */
void report_command_left(const char *cmd, const struct target *t, enum target_finish how);

/* "CMD: MESSAGE" on stderr, the message made safe for the terminal (text_safe): an error or a note
 * that may hold the target's label, paths or symbols, which the target's owner chose. */
void report_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

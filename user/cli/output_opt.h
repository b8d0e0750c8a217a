/* -o FILE, an option of every command: what rtmon prints on stdout goes to FILE instead. */
#ifndef RTMON_OUTPUT_OPT_H
#define RTMON_OUTPUT_OPT_H

#include <argp.h>

/* argp child with -o/--output FILE. When the whole command line has parsed, FILE is opened
 * (created, truncated) and becomes stdout; a path that cannot be written is a one-line error.
 * Only the FILE *stdout changes, not file descriptor 1, so a command started with -- CMD still
 * writes to rtmon's own standard output. */
extern const struct argp output_argp;

#endif

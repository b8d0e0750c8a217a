/* What a code address means in the source: the function, file and line, one per inlining level.
 * Filled by the symbolizers (native: .symtab and DWARF through libdw; Go: .gopclntab with its
 * inline tree) and read by the profile model (output/profile.h). */
#ifndef RTMON_CODE_LINE_H
#define RTMON_CODE_LINE_H

#include <stdint.h>

struct code_line {
	const char *func; /* NULL: no symbol covers the address */
	const char *file; /* NULL: no line table */
	uint32_t line;    /* 0: unknown */
};

/* The most inlining levels kept for one address (deeper ones are cut, the outermost kept). */
#define CODE_LINES_MAX 16

#endif

/* A copied user stack (bpf/user_stack.h: registers and the stack's top) unwound with the DWARF CFI
 * of each module's .eh_frame (or .debug_frame), through libdw's unwinder, as perf --call-graph
 * dwarf does: rtmon gives it the registers and serves its memory reads from the copy. */
#ifndef RTMON_UNWIND_H
#define RTMON_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "stack/stack_proc.h"

enum unwind_end {
	UNWIND_COMPLETE,    /* reached the outermost frame (its CFI says there is no caller) */
	UNWIND_CUT,         /* stopped early: the copy ended, or a module had no usable CFI */
	UNWIND_FULL,        /* max frames filled */
	UNWIND_UNAVAILABLE, /* libdw could not start (no module of the process could be read) */
};

/* Fills pcs[] innermost first: the interrupted instruction, then return addresses. */
enum unwind_end unwind_dwarf(struct stack_proc *p, const struct user_stack *us, uint64_t *pcs,
			     size_t max, size_t *n);

#endif

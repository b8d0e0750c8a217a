/* One traced process as the stack layer sees it: its file mappings (from /proc/PID/maps, read
 * while it runs and again when an address falls outside them: dlopen, or the exec of a -- CMD),
 * and a libdw session (Dwfl) with those files reported as modules, for DWARF unwinding and line
 * tables. Files are opened through /proc/PID/root, so that a process in a container is read from
 * its own filesystem. */
#ifndef RTMON_STACK_PROC_H
#define RTMON_STACK_PROC_H

#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "proc/maps.h"
#include "user_stack.h"

struct stack_proc {
	pid_t pid;
	struct maps_line *maps; /* file mappings, ascending */
	size_t nmaps;
	Dwfl *dwfl;
	bool attached;                /* dwfl_attach_state done: the unwinder can run */
	const struct user_stack *cur; /* the stack being unwound (the unwinder's memory) */
	uint64_t exe_ino;             /* the executable's identity (/proc/PID/exe) */
	uint32_t exe_kdev;
};

/* Reads the maps and reports the modules. NULL on out of memory or when the process is gone. */
struct stack_proc *stack_proc_new(pid_t pid);
void stack_proc_free(struct stack_proc *p);

/* Reads the maps again and reports the modules anew. 0, or -errno (the process is gone). */
int stack_proc_refresh(struct stack_proc *p);

/* The file mapping holding addr, or NULL. */
const struct maps_line *stack_proc_mapping(const struct stack_proc *p, uint64_t addr);

/* Whether m maps the process's executable. */
bool stack_proc_is_exe(const struct stack_proc *p, const struct maps_line *m);

#endif

/* What rtmon can do with a program, given its runtime: the "traced fully" mark of rtmon ps and
 * tree, and the list of commands rtmon info prints. */
#ifndef RTMON_RUNTIME_SUPPORT_H
#define RTMON_RUNTIME_SUPPORT_H

#include <stdbool.h>
#include <stdio.h>
#include "runtime/runtime_id.h"
#include "runtime/python/gc_func.h"

struct runtime_support {
	struct runtime_id id;
	bool go_layout; /* Go 1.17+ whose runtime.g layout rtmon knows (its table, or the binary's
			   DWARF) */
	/* Traced fully: every rtmon command that fits the runtime applies. Go: a known layout
	 * (malloc, thr and lat with goroutines, gc). CPython and Java: the runtime's USDT probes
	 * (gc; CPython without them: its collector function, py_gc_sym) on top of glibc (malloc,
	 * thr, lat). Native: glibc's libc.so.6, or a static binary with malloc's symbol (malloc,
	 * thr, lat; gc with libgc or --cycle). */
	bool traced;
	/* CPython without USDT probes: the functions rtmon gc probes instead (py_gc.sym NULL when
	 * none, with the reason in py_gc_why). */
	struct py_gc_func py_gc;
	char py_gc_why[256];
};

/* runtime_identify (runtime_id.h) plus the two flags above. */
int runtime_support_read(const char *exe, pid_t pid, struct runtime_support *rs, char *err,
			 size_t errlen);

/* One line per rtmon command, each prefixed by indent: "malloc  yes: ..." or "gc      no: ...". */
void runtime_support_print(FILE *out, const struct runtime_support *rs, const char *indent);

#endif

/* start_func.c - a goroutine's start function as the user wrote it. Since Go 1.17 `go f(x)` and
 * `go obj.m()` start a function the compiler made (main.main.dwrap.N in 1.17, main.main.funcN in
 * 1.18 to 1.21, main.main.gowrapN from 1.22) that loads the arguments and calls f; the compiler
 * marks it as a wrapper, and Go's tracebacks (runtime.Stack, panics) hide it and show f. rtmon
 * names the goroutine the same way: the wrapper's funcID says it is one (pcline.c), and its code
 * says what it runs (ret_sites.c decodes its calls). */
#include <errno.h>
#include <string.h>

#include "runtime/go/goelf_int.h"

/* A wrapper makes a handful of calls (its callee, morestack, panicwrap...); more is not one. */
#define WRAPPER_CALLS_MAX 64
#define LEVELS_MAX        32

static int in_runtime(const char *name)
{
	return !strncmp(name, "runtime.", 8);
}

/* What a wrapper calls besides its callee: the stack growth path, panics (nil receiver), write
 * barriers and copies of its arguments. */
static int runtime_helper(const char *name)
{
	static const char *const prefixes[] = { "runtime.morestack",      "runtime.panic",
						"runtime.goPanic",        "runtime.sigpanic",
						"runtime.gcWriteBarrier", "runtime.wbBuf",
						"runtime.duff",           "runtime.mem",
						"runtime.typedmemmove" };

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return 1;
	return 0;
}

int go_start_func(struct go_symtab *st, uint64_t pc, const char **user, const char **wrapper)
{
	uint64_t sites[WRAPPER_CALLS_MAX], targets[WRAPPER_CALLS_MAX];
	struct code_line lines[LEVELS_MAX];
	const char *name = go_func_name_at(st, pc), *callee = NULL, *in_rt = NULL;
	int n;

	*user = name;
	*wrapper = NULL;
	if (!name)
		return -ENOENT;
	if (go_func_is_wrapper(st, pc) != 1 ||
	    go_func_direct_calls(st, name, sites, targets, WRAPPER_CALLS_MAX, &n, NULL, 0))
		return 0;
	for (int i = 0; i < n && !callee; i++) {
		/* Inlined into the wrapper at this call (`go func(a int){...}(x)`, a small f): the
		 * outermost inlined level is what the user wrote; the wrapper's own level is hidden
		 * by go_pc_lines, as in Go's tracebacks. */
		int levels = go_pc_lines(st, sites[i], lines, LEVELS_MAX);
		const char *t;

		if (levels > 0 && lines[levels - 1].func && !in_runtime(lines[levels - 1].func))
			callee = lines[levels - 1].func;
		else if ((t = go_func_name_at(st, targets[i])) && !in_runtime(t))
			callee = t;
		else if (t && !in_rt && !runtime_helper(t))
			in_rt = t; /* the runtime's own `go bgsweep(c)` */
	}
	if (!callee)
		callee = in_rt;
	if (callee) {
		*user = callee;
		*wrapper = name;
	}
	return 0;
}

int go_start_captured_wrappers(struct go_symtab *st, struct go_captured_wrapper *out, int max,
			       int *n)
{
	size_t count = go_symtab_count(st);
	int found = 0;

	*n = 0;
	for (size_t i = 0; i < count; i++) {
		const char *name, *user, *wrapper;
		uint64_t entry, end;
		int64_t off;

		/* Wrappers of go statements only (not the many method wrappers): dwrap in 1.17,
		 * funcN in 1.18 to 1.21; from 1.22 gowrapN always calls its callee directly. */
		if (go_symtab_func(st, i, &name, &entry, &end) ||
		    (!strstr(name, "dwrap") && !strstr(name, ".func")) ||
		    go_func_is_wrapper(st, entry) != 1 ||
		    go_start_func(st, entry, &user, &wrapper) || wrapper ||
		    go_func_captured_call(st, name, &off) || off > UINT32_MAX)
			continue;
		if (found < max)
			out[found] = (struct go_captured_wrapper){ .entry = entry,
								   .capture_off = (uint32_t)off };
		found++;
	}
	*n = found;
	return found > max ? -ENOSPC : 0;
}

/* CPython built without USDT probes (pyenv's, python.org's, conda's): the collector's main
 * function, a static function of the interpreter that its symbol table (.symtab) keeps, whose entry
 * and return stand in for python:gc__start and python:gc__done. Which function that is depends on
 * the version; user/runtime/python/gc_python.c probes it, runtime_support.c tells rtmon ps and
 * info. */
#ifndef RTMON_PY_GC_FUNC_H
#define RTMON_PY_GC_FUNC_H

#include <stddef.h>
#include <stdint.h>
#include "runtime/runtime_id.h"

/* In every version covered, the function is (PyThreadState *tstate, int generation, ...), so the
 * generation is its second argument, and it returns the objects it found unreachable (collected +
 * uncollectable), which is what gc__done reports. */
struct py_gc_func {
	const char *sym; /* "gc_collect_main" */
	uint64_t offset; /* file offset of the entry probe in id->lib (past leading test/cmp) */
	/* 3.13: automatic collections pass GENERATION_AUTO (-1) and the generation chosen inside
	 * is an argument of invoke_gc_callback(tstate, "start", generation, stats): the symbol as
	 * the file has it ("invoke_gc_callback.isra.0") and its probe's offset; NULL before 3.13.
	 */
	char gen_sym[96];
	uint64_t gen_offset;
};

/* Finds the function in id->lib (a RUNTIME_PYTHON id). 0 with *out filled; -ENOENT or -ENOTSUP
 * with the reason in why, a clause that completes "CPython 3.X built without USDT probes, and ...":
 * the version is not covered, the file is stripped, or the compiler split the function. */
int py_gc_func_find(const struct runtime_id *id, struct py_gc_func *out, char *why, size_t len);

#endif

/* runtime_support.c - which rtmon commands apply to a program (runtime_support.h). */
#include <string.h>
#include "runtime/go/goelf.h"
#include "runtime/runtime_support.h"
#include "runtime/node/node_id.h"

/* Goroutine ids (thr, lat) need runtime.g's layout: rtmon's table for the build info's version
 * first (no file read), else the binary's DWARF. Go before 1.17 has no register ABI: never. */
static bool go_layout_known(const char *exe, const char *version)
{
	struct go_offsets off;
	int major, minor, patch;

	if (go_parse_version(version, &major, &minor, &patch) || major != 1 || minor < 17)
		return false;
	if (!go_offsets_from_table(major, minor, &off))
		return true;
	return !go_offsets_from_dwarf(exe, &off, NULL, 0) && off.g_goid > 0;
}

int runtime_support_read(const char *exe, pid_t pid, struct runtime_support *rs, char *err,
			 size_t errlen)
{
	int rc;

	memset(rs, 0, sizeof(*rs));
	rc = runtime_identify(exe, pid, &rs->id, err, errlen);
	if (rc)
		return rc;
	switch (rs->id.kind) {
	case RUNTIME_GO:
		rs->go_layout = go_layout_known(exe, rs->id.version);
		rs->traced = rs->go_layout;
		break;
	case RUNTIME_PYTHON:
		if (!rs->id.usdt)
			py_gc_func_find(&rs->id, &rs->py_gc, rs->py_gc_why, sizeof(rs->py_gc_why));
		rs->traced = (rs->id.usdt || rs->py_gc.sym) && rs->id.libc;
		break;
	case RUNTIME_JAVA:
		rs->traced = rs->id.usdt && rs->id.libc;
		break;
	case RUNTIME_NODE:
		rs->traced = rs->id.v8_gc && rs->id.libc;
		break;
	case RUNTIME_NATIVE:
		rs->traced = rs->id.libc;
		break;
	}
	return 0;
}

static void line(FILE *out, const char *indent, const char *cmd, bool yes, const char *how)
{
	fprintf(out, "%s%-7s %-4s %s\n", indent, cmd, yes ? "yes" : "no", how);
}

void runtime_support_print(FILE *out, const struct runtime_support *rs, const char *indent)
{
	const struct runtime_id *id = &rs->id;
	const char *nolibc = "no glibc libc.so.6 and no malloc symbol (a static, stripped binary?)";
	const char *python_hint = "build CPython with --with-dtrace, or use Debian's python3.X";
	const char *java_hint =
		"use a JDK built with DTrace probes: Debian's OpenJDK and Temurin are";

	switch (id->kind) {
	case RUNTIME_GO:
		line(out, indent, "malloc", true, "runtime.mallocgc: sizes by Go size class");
		line(out, indent, "thr", true,
		     rs->go_layout
			     ? "OS threads and goroutines"
			     : "OS threads; no goroutines (runtime.g layout unknown for this Go "
			       "version without DWARF)");
		line(out, indent, "lat", true,
		     rs->go_layout ? "thread and goroutine lifetimes"
				   : "thread lifetimes; no goroutines (runtime.g layout unknown)");
		line(out, indent, "gc", true, "GC cycles, phases and stop-the-world pauses");
		return;
	case RUNTIME_PYTHON:
	case RUNTIME_JAVA:
		line(out, indent, "malloc", id->libc,
		     !id->libc ? nolibc
		     : id->kind == RUNTIME_PYTHON
			     ? "glibc malloc (pymalloc's small objects come from its own arenas)"
			     : "glibc malloc: the JVM's native memory, not Java objects");
		line(out, indent, "thr", true,
		     id->kind == RUNTIME_JAVA && id->usdt
			     ? "OS threads; Java thread names and ids on exits"
			     : "OS threads");
		line(out, indent, "lat", true, "thread lifetimes");
		if (id->usdt)
			line(out, indent, "gc", true,
			     id->kind == RUNTIME_PYTHON ? "USDT python:gc__start/gc__done"
							: "USDT hotspot:gc__begin/gc__end");
		else if (rs->py_gc.sym)
			fprintf(out,
				"%s%-7s yes  no USDT probes: entry and return of %s%s%s in %s\n",
				indent, "gc", rs->py_gc.sym,
				rs->py_gc.gen_sym[0] ? ", generation from " : "", rs->py_gc.gen_sym,
				id->lib);
		else if (id->kind == RUNTIME_PYTHON)
			fprintf(out, "%s%-7s no   %s has no USDT probes, and %s (%s)\n", indent,
				"gc", id->lib, rs->py_gc_why, python_hint);
		else
			fprintf(out, "%s%-7s no   %s has no USDT probes (%s)\n", indent, "gc",
				id->lib, id->kind == RUNTIME_PYTHON ? python_hint : java_hint);
		return;
	case RUNTIME_NODE:
		line(out, indent, "malloc", id->libc,
		     id->libc ? "glibc malloc: node's native memory, not JavaScript objects"
			      : nolibc);
		line(out, indent, "thr", true,
		     "OS threads: V8's workers, libuv's pool, worker_threads (docs/thr.md)");
		line(out, indent, "lat", true, "thread lifetimes");
		if (id->v8_gc)
			line(out, indent, "gc", true,
			     "V8's collections (Heap::PerformGarbageCollection): kind and reason");
		else
			fprintf(out,
				"%s%-7s no   %s does not define %s (docs/gc.md lists the node "
				"versions that do)\n",
				indent, "gc", id->lib, V8_PERFORM_GC_NAME);
		return;
	case RUNTIME_NATIVE:
		line(out, indent, "malloc", id->libc,
		     id->libc ? "glibc malloc and friends" : nolibc);
		line(out, indent, "thr", true, "OS threads");
		line(out, indent, "lat", true, "thread lifetimes");
		if (id->boehm)
			line(out, indent, "gc", true, "Boehm GC (libgc)");
		else
			fprintf(out, "%s%-7s %-4s %s\n", indent, "gc", "with",
				"--cycle SYM [--phase NAME=SYM]: the program's own collector "
				"functions");
		return;
	}
}

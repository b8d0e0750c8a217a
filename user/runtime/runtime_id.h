/* Which runtime a program runs, read from its files with nothing added to the process: rtmon ps,
 * tree and info name it, and gc and thr pick their backend with it. */
#ifndef RTMON_RUNTIME_ID_H
#define RTMON_RUNTIME_ID_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum runtime_kind { RUNTIME_NATIVE, RUNTIME_GO, RUNTIME_PYTHON, RUNTIME_JAVA, RUNTIME_NODE };

struct runtime_id {
	enum runtime_kind kind;
	char version[64]; /* "go1.22.3", "3.11.7" (CPython), "17.0.15" (Java), "20.20.2" (node); ""
			   * when unknown */
	char engine[32];  /* node: its V8's version, "11.3.244"; "" otherwise */
	char module[256]; /* Go: the main module's path; "" otherwise */
	/* The file holding the runtime's code and USDT probes, as a path rtmon can open: the
	 * executable for Go and for a CPython built without a shared libpython, else
	 * libpython3.X.so or libjvm.so, the executable or libnode.so.N for node.
	 * "" for native programs. */
	char lib[PATH_MAX];
	bool usdt;  /* lib carries the runtime's USDT probes (provider "python" or "hotspot") */
	bool v8_gc; /* node: lib defines the V8 function rtmon gc probes (node_id.h) */
	bool boehm; /* uses Boehm GC: libgc.so among its libraries, or GC_gcollect in the executable
		     */
	bool libc; /* glibc's libc.so.6 among its libraries, or a static executable defining malloc:
		    * where rtmon malloc and thr find their functions (not filled for Go) */
};

/* exe: the executable, as a path rtmon can open (/proc/PID/exe works). pid: the running process
 * whose /proc/PID/maps names its libraries (a JVM loads libjvm.so with dlopen), or 0 for a binary
 * on disk, where the libraries come from DT_NEEDED and, for a java launcher, the JDK's own layout
 * (bin/java -> lib/server/libjvm.so). 0, or -errno with one line in err. */
int runtime_identify(const char *exe, pid_t pid, struct runtime_id *out, char *err, size_t errlen);

/* The same with the libraries already found (paths[0] the executable): a -- CMD target's, which
 * the LD_LIBRARY_PATH and LD_PRELOAD of its `env` wrapper decide, so the libpython it will load is
 * the one named. */
struct image;
int runtime_identify_image(const struct image *img, struct runtime_id *out, char *err,
			   size_t errlen);

/* "native", "go", "python", "java", "node": the JSON and table names. */
const char *runtime_kind_name(enum runtime_kind kind);

/* True if the ELF file at path has a USDT note (.note.stapsdt) for provider:name; name NULL matches
 * any probe of the provider. */
bool usdt_probe_exists(const char *path, const char *provider, const char *name);

#endif

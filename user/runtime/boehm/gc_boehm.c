/* rtmon gc, Boehm GC (libgc, bdwgc): programs linked with libgc.so or a static libgc, found by the
 * file that defines GC_gcollect. Debian's libgc exports no function that every collection enters
 * and leaves (GC_stop_world, GC_try_to_collect_inner are hidden), so (docs/gc.md):
 *   - the collections the program asks for are timed by entry and return probes on the exported
 * entry points GC_gcollect, GC_gcollect_and_unmap and GC_try_to_collect;
 *   - every collection, also those that start inside allocation or GC_init, passes once through the
 *     exported GC_push_finalizer_structures while it pushes its roots: an entry probe there sees
 * its start, and GC_gc_no (an exported variable: the collector's own count) numbers it and tells a
 *     second root push of the same collection (after a mark stack overflow) from a new one. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "binary/objfile.h"
#include "runtime/native/gc_native.h"
#include "runtime/runtime_id.h"

static const struct native_spec boehm_spec = {
	.cycle_phase = "collect",
	.forced_trigger = "forced",
	.mark_trigger = "auto",
	.count_sym = "GC_gc_no",
	.nfuncs = 4,
	.funcs = {
		/* First: GC_gc_no is looked up in the file that defines it. */
		{ "GC_gcollect", NR_CYCLE, NULL, true },
		{ "GC_gcollect_and_unmap", NR_CYCLE, NULL, false },
		{ "GC_try_to_collect", NR_CYCLE, NULL, false },
		{ "GC_push_finalizer_structures", NR_MARK, NULL, false },
	},
};

/* GC_get_version() is `mov $VERSION,%eax; ret` on x86-64 (checked in libgc 8.2.2): "8.2.2", or ""
 * when its code looks different. */
static void read_version(const char *path, char *out, size_t len)
{
	struct objfile ef;
	struct objfile_sym fn;
	unsigned char b[6];
	char e2[256];
	bool ok = false;

	out[0] = '\0';
	if (objfile_open(&ef, path, e2, sizeof(e2)))
		return;
	if (!objfile_find_func(&ef, "GC_get_version", &fn) &&
	    pread(ef.fd, b, sizeof(b), (off_t)fn.offset) == 6)
		ok = b[0] == 0xb8 && b[5] == 0xc3;
	objfile_close(&ef);
	if (ok)
		snprintf(out, len, "%u.%u.%u", b[3], b[2], b[1]);
}

/* What rtmon ps calls a Boehm program (runtime_id.c) is what rtmon gc traces as one. */
static int boehm_detect(struct gc_session *s, const char *exe, char *err, size_t errlen)
{
	const struct target *t = s->t;
	struct runtime_id id;
	char path[PATH_MAX] = "", version[32] = "";
	int file;

	/* A -- CMD child is still rtmon's fork: its maps are not the command's yet. */
	if (runtime_identify(exe, t->kind == TARGET_PID ? t->pid : 0, &id, err, errlen) ||
	    !id.boehm)
		return 0;
	file = native_find_func(t, "GC_gcollect");
	if (file >= 0) {
		read_version(t->image.paths[file], version, sizeof(version));
		snprintf(path, sizeof(path), "%s", t->image.paths[file]);
	}
	snprintf(s->version, sizeof(s->version), "%s", version[0] ? version : "unknown");
	snprintf(s->label, sizeof(s->label), "Boehm GC %s, %s", s->version,
		 file > 0 ? basename(path) : "linked in statically");
	return 1;
}

static int boehm_open(struct gc_session *s, char *err, size_t errlen)
{
	return native_open(s, &boehm_spec, err, errlen);
}

const struct gc_runtime gc_runtime_boehm = {
	.name = "boehm",
	.display = "Boehm GC",
	.pause_title = "Times of the collections the program asked for (GC_gcollect, ...)",
	.detail_header = "FUNCTION",
	.triggers = true,
	.nongc_stops = false,
	.detect = boehm_detect,
	.open = boehm_open,
	.counters = native_counters,
	.summary = native_summary,
	.close = native_close,
};

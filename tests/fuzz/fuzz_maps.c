/* fuzz_maps.c - the /proc/PID/maps reader (proc/procinfo.c: proc_maps_each, proc_parse_maps_line)
 * that rtmon's image of a running process and the symbolizer read a target's mappings with. Each
 * mapping given must be a file mapping, and must read back the same when written out as the kernel
 * writes it. */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc/procinfo.h"

static int check(const struct proc_maps_line *m, void *ctx)
{
	static char line[PATH_MAX + 256];
	static struct proc_maps_line again;
	size_t len = strlen(m->path);

	(void)ctx;
	assert(m->ino && m->path[0] == '/' && len < sizeof(m->path) && !strchr(m->path, '\n'));
	assert(m->deleted == (len >= strlen(PROC_DELETED) &&
			      !strcmp(m->path + len - strlen(PROC_DELETED), PROC_DELETED)));
	snprintf(line, sizeof(line),
		 "%" PRIx64 "-%" PRIx64 " r-xp %08" PRIx64 " %02x:%02x %" PRIu64
		 "                          %s\n",
		 m->start, m->end, m->pgoff, m->kdev >> 20, m->kdev & 0xfffff, m->ino, m->path);
	assert(proc_parse_maps_line(line, &again));
	assert(again.start == m->start && again.end == m->end && again.pgoff == m->pgoff &&
	       again.ino == m->ino && again.kdev == m->kdev && again.deleted == m->deleted &&
	       !strcmp(again.path, m->path));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f;

	if (!size || !(f = fmemopen((void *)data, size, "r")))
		return 0;
	assert(proc_maps_each(f, check, NULL) == 0);
	fclose(f);
	return 0;
}

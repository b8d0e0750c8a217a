#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "proc/maps.h"

bool maps_parse_line(const char *line, struct maps_line *m)
{
	unsigned maj, min;
	char perms[8];
	int n = 0;

	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 " %n", &m->start,
		   &m->end, perms, &m->pgoff, &maj, &min, &m->ino, &n) < 7 ||
	    !n)
		return false;
	m->kdev = (uint32_t)(maj << 20 | min);
	m->exec = strchr(perms, 'x') != NULL;
	snprintf(m->path, sizeof(m->path), "%s", line + n);
	m->path[strcspn(m->path, "\n")] = '\0';
	return m->ino && m->path[0] == '/';
}

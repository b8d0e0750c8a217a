#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "binary/target_file.h"
#include "proc/procinfo.h"
#include "stack/stack_proc.h"

/* A module's file, named by its path as rtmon reaches it (proc_kernel_path), opened the way every
 * file of a target's is (target_file_open: never blocking, never a host file through a
 * container's symlink); libdw's own dwfl_linux_proc_find_elf would open the path plainly. Names
 * that are not paths ([vdso]) go to libdw's, which reads them from the process. */
static int find_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
		    char **file_name, Elf **elfp)
{
	int fd;

	if (name[0] != '/')
		return dwfl_linux_proc_find_elf(mod, userdata, name, base, file_name, elfp);
	fd = target_file_open(name);
	if (fd < 0)
		return -1;
	*file_name = strdup(name);
	if (!*file_name) {
		close(fd);
		return -1;
	}
	return fd;
}

static char *debuginfo_path;
static const Dwfl_Callbacks dwfl_callbacks = {
	.find_elf = find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo, /* the file itself, or a -dbg package's */
	.debuginfo_path = &debuginfo_path,
};

/* A failed read (the process is gone: a zombie's maps are empty) keeps the maps read before, so
 * that the addresses seen while it ran can still be named. */
static int read_maps(struct stack_proc *p)
{
	char path[64], line[PATH_MAX + 256];
	struct proc_maps_line *maps = NULL;
	size_t cap = 0, n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", p->pid);
	if (!(f = fopen(path, "re")))
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		struct proc_maps_line m;

		if (!proc_parse_maps_line(line, &m))
			continue;
		if (n == cap) {
			size_t c = cap ? cap * 2 : 64;
			struct proc_maps_line *grown = realloc(maps, c * sizeof(*grown));

			if (!grown) {
				free(maps);
				fclose(f);
				return -ENOMEM;
			}
			maps = grown;
			cap = c;
		}
		maps[n++] = m;
	}
	fclose(f);
	if (!n) {
		free(maps);
		return -ESRCH;
	}
	free(p->maps);
	p->maps = maps;
	p->nmaps = n;
	return 0;
}

/* One module per file: from the start of its first mapping (less that mapping's file offset) to the
 * end of its last, as libdwfl's own /proc reader does. */
static void report_modules(struct stack_proc *p)
{
	char name[PATH_MAX + 32];

	dwfl_report_begin(p->dwfl);
	for (size_t i = 0; i < p->nmaps;) {
		const struct proc_maps_line *m = &p->maps[i];
		uint64_t low = m->pgoff <= m->start ? m->start - m->pgoff : m->start, high = m->end;
		size_t j = i + 1;

		while (j < p->nmaps && p->maps[j].ino == m->ino && p->maps[j].kdev == m->kdev)
			high = p->maps[j++].end;
		if (!strstr(m->path, " (deleted)") &&
		    !proc_kernel_path(p->pid, m->path, name, sizeof(name)))
			dwfl_report_module(p->dwfl, name, low, high);
		i = j;
	}
	dwfl_report_end(p->dwfl, NULL, NULL);
}

int stack_proc_refresh(struct stack_proc *p)
{
	int rc = read_maps(p);

	if (!rc)
		report_modules(p);
	return rc;
}

struct stack_proc *stack_proc_new(pid_t pid)
{
	struct stack_proc *p = calloc(1, sizeof(*p));
	char exe[64];
	struct stat st;

	if (!p)
		return NULL;
	p->pid = pid;
	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	if (!stat(exe, &st)) {
		p->exe_ino = st.st_ino;
		p->exe_kdev = (uint32_t)(major(st.st_dev) << 20 | minor(st.st_dev));
	}
	if (!(p->dwfl = dwfl_begin(&dwfl_callbacks)) || stack_proc_refresh(p)) {
		stack_proc_free(p);
		return NULL;
	}
	return p;
}

void stack_proc_free(struct stack_proc *p)
{
	if (!p)
		return;
	if (p->dwfl)
		dwfl_end(p->dwfl);
	free(p->maps);
	free(p);
}

const struct proc_maps_line *stack_proc_mapping(const struct stack_proc *p, uint64_t addr)
{
	size_t lo = 0, hi = p->nmaps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < p->maps[mid].start)
			hi = mid;
		else if (addr >= p->maps[mid].end)
			lo = mid + 1;
		else
			return &p->maps[mid];
	}
	return NULL;
}

bool stack_proc_is_exe(const struct stack_proc *p, const struct proc_maps_line *m)
{
	return m->ino == p->exe_ino && m->kdev == p->exe_kdev;
}

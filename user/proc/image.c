#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "binary/objfile.h"
#include "proc/image.h"
#include "proc/procinfo.h"

static bool image_has(const struct image *img, const char *path)
{
	for (int i = 0; i < img->n; i++)
		if (!strcmp(img->paths[i], path))
			return true;
	return false;
}

static void image_add(struct image *img, const char *path)
{
	if (img->n < IMAGE_MAX_FILES && !image_has(img, path))
		snprintf(img->paths[img->n++], PATH_MAX, "%s", path);
}

static void append_dir(char *out, size_t len, const char *dir)
{
	size_t used = strlen(out);

	if (!dir[0] || used + strlen(dir) + 2 > len)
		return;
	snprintf(out + used, len - used, "%s%s", used ? ":" : "", dir);
}

/* /etc/ld.so.conf: one directory a line, "include GLOB" lines, '#' comments. */
static void read_ld_so_conf(const char *file, char *out, size_t len, int depth)
{
	char line[PATH_MAX];
	FILE *f;

	if (depth > 4 || !(f = fopen(file, "re")))
		return;
	while (fgets(line, sizeof(line), f)) {
		char *s = line, *e;

		s[strcspn(s, "#\n")] = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		e = s + strlen(s);
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (!*s)
			continue;
		if (!strncmp(s, "include", 7) && (s[7] == ' ' || s[7] == '\t')) {
			glob_t g;

			s += 8;
			while (*s == ' ' || *s == '\t')
				s++;
			if (!glob(s, 0, NULL, &g))
				for (size_t i = 0; i < g.gl_pathc; i++)
					read_ld_so_conf(g.gl_pathv[i], out, len, depth + 1);
			globfree(&g);
		} else {
			append_dir(out, len, s);
		}
	}
	fclose(f);
}

int loader_search_path(char *out, size_t len)
{
	static const char *defaults[] = { "/lib/x86_64-linux-gnu",
					  "/usr/lib/x86_64-linux-gnu",
					  "/lib64",
					  "/usr/lib64",
					  "/lib",
					  "/usr/lib" };

	out[0] = '\0';
	read_ld_so_conf("/etc/ld.so.conf", out, len, 0);
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		append_dir(out, len, defaults[i]);
	return 0;
}

static bool is_elf64(const char *path)
{
	unsigned char ident[EI_NIDENT];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = read(fd, ident, sizeof(ident)) == (ssize_t)sizeof(ident) &&
	     !memcmp(ident, ELFMAG, SELFMAG) && ident[EI_CLASS] == ELFCLASS64;
	close(fd);
	return ok;
}

/* Looks for a DT_NEEDED name along a ':'-separated path; $ORIGIN expands to origin. */
static bool search_dirs(const char *dirs, const char *name, const char *origin, char *found)
{
	char copy[8192], *save = NULL;

	snprintf(copy, sizeof(copy), "%s", dirs);
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char dir[PATH_MAX];

		if (!strncmp(d, "$ORIGIN", 7))
			snprintf(dir, sizeof(dir), "%s%s", origin, d + 7);
		else if (!strncmp(d, "${ORIGIN}", 9))
			snprintf(dir, sizeof(dir), "%s%s", origin, d + 9);
		else
			snprintf(dir, sizeof(dir), "%s", d);
		if (snprintf(found, PATH_MAX, "%s/%s", dir, name) < PATH_MAX && is_elf64(found))
			return true;
	}
	return false;
}

struct needed_list {
	int n;
	char names[64][256];
};

static void collect_needed(const char *needed, void *ctx)
{
	struct needed_list *l = ctx;

	if (l->n < 64)
		snprintf(l->names[l->n++], sizeof(l->names[0]), "%s", needed);
}

int image_from_binary(struct image *img, const char *exe, char *err, size_t errlen)
{
	char syspath[8192];

	img->n = 0;
	image_add(img, exe);
	loader_search_path(syspath, sizeof(syspath));
	/* Breadth-first, as the loader orders its symbol search scope. */
	for (int i = 0; i < img->n; i++) {
		struct objfile ef;
		struct needed_list needed = { 0 };
		char runpath[4096], origin[PATH_MAX], tmp[PATH_MAX], found[PATH_MAX];

		if (objfile_open(&ef, img->paths[i], err, errlen)) {
			if (i == 0)
				return -ENOEXEC;
			continue; /* a broken library: the loader would fail, rtmon just skips it */
		}
		objfile_dynamic_info(&ef, collect_needed, &needed, runpath, sizeof(runpath));
		objfile_close(&ef);
		snprintf(tmp, sizeof(tmp), "%s", img->paths[i]);
		snprintf(origin, sizeof(origin), "%s", dirname(tmp));
		for (int k = 0; k < needed.n; k++) {
			const char *name = needed.names[k];

			if (strchr(name, '/')) {
				if (is_elf64(name))
					image_add(img, name);
			} else if ((runpath[0] && search_dirs(runpath, name, origin, found)) ||
				   search_dirs(syspath, name, origin, found)) {
				image_add(img, found);
			}
		}
	}
	return 0;
}

struct maps_ctx {
	struct image *img;
	pid_t pid;
	struct stat exe_st;
};

static int add_mapped_file(const struct proc_maps_line *m, void *arg)
{
	struct maps_ctx *c = arg;
	char full[PATH_MAX];
	struct stat st;
	int len = (int)strlen(m->path) - (m->deleted ? (int)strlen(PROC_DELETED) : 0);

	if (snprintf(full, sizeof(full), "/proc/%d/root%.*s", c->pid, len, m->path) >=
	    (int)sizeof(full))
		return 0;
	/* The executable's own mappings name it again: keep it once, as /proc/PID/exe. */
	if (!stat(full, &st) && st.st_ino == c->exe_st.st_ino && st.st_dev == c->exe_st.st_dev)
		return 0;
	if (!image_has(c->img, full) && is_elf64(full))
		image_add(c->img, full);
	return 0;
}

int image_from_pid(struct image *img, pid_t pid, char *err, size_t errlen)
{
	struct maps_ctx c = { .img = img, .pid = pid };
	char path[PATH_MAX];
	FILE *f;

	img->n = 0;
	/* /proc/PID/exe opens the executable even from another mount namespace or after it was
	 * deleted. */
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	image_add(img, path);
	stat(path, &c.exe_st);
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f) {
		int rc = -errno;

		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return rc;
	}
	/* A read error (the process exiting) leaves the files read so far, as before. */
	proc_maps_each(f, add_mapped_file, &c);
	fclose(f);
	return 0;
}

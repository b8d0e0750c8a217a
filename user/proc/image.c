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
#include "binary/target_file.h"
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
	int fd = target_file_open(path);
	bool ok;

	if (fd < 0)
		return false;
	ok = read(fd, ident, sizeof(ident)) == (ssize_t)sizeof(ident) &&
	     !memcmp(ident, ELFMAG, SELFMAG) && ident[EI_CLASS] == ELFCLASS64;
	close(fd);
	return ok;
}

/* A small regular file of the target's (its /etc/ld.so.preload), read whole into buf: a FIFO in
 * its place is refused rather than waited on (target_file_open). */
static bool read_small_regular(const char *path, char *buf, size_t len)
{
	int fd = target_file_open(path);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return true;
}

static void env_set(struct loader_env *env, const char *entry)
{
	if (!strncmp(entry, "LD_PRELOAD=", 11))
		snprintf(env->preload, sizeof(env->preload), "%s", entry + 11);
	else if (!strncmp(entry, "LD_LIBRARY_PATH=", 16))
		snprintf(env->library_path, sizeof(env->library_path), "%s", entry + 16);
}

void loader_env_from_environ(struct loader_env *env, char *const *envp)
{
	env->preload[0] = env->library_path[0] = '\0';
	for (size_t i = 0; envp && envp[i]; i++)
		env_set(env, envp[i]);
}

int loader_env_from_pid(struct loader_env *env, pid_t pid)
{
	char path[64], *entry = NULL;
	size_t cap = 0;
	FILE *f;

	env->preload[0] = env->library_path[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	if (!(f = fopen(path, "re")))
		return -errno;
	/* NUL-separated; what the process was started with (setenv does not change it). */
	while (getdelim(&entry, &cap, '\0', f) > 0)
		env_set(env, entry);
	free(entry);
	fclose(f);
	return 0;
}

/* A file of a running process's, as its maps name it. */
struct mapped_file {
	char path[PATH_MAX]; /* the path in maps as rtmon reaches it (proc_kernel_path) */
	dev_t dev;
	ino_t ino;
	signed char soname_state; /* 0: not read yet, 1: read, -1: none or unreadable */
	char soname[256];
};

/* One computation of the lookup order. A binary on disk has root "" and no maps; a process has
 * root "/proc/PID/root" and its mapped files, the only ones a library may be taken from. */
struct walk {
	struct image *img;
	const struct loader_env *env;
	char root[64];
	pid_t pid;
	char syspath[8192];        /* ld.so.conf and the default directories (a binary only) */
	char exe_rpath[4096];      /* the executable's DT_RPATH, searched for every library too */
	char exe_origin[PATH_MAX]; /* $ORIGIN of the executable, as rtmon reaches it */
	struct mapped_file *maps;
	int nmaps;
};

/* The mapped file that path (as rtmon reaches it) is; stat only, never open: the path comes from
 * the target's search directories, where anything may be planted. */
static struct mapped_file *mapped_at(struct walk *w, const char *path)
{
	struct stat st;

	if (target_file_stat(path, &st) || !S_ISREG(st.st_mode))
		return NULL;
	for (int i = 0; i < w->nmaps; i++)
		if (w->maps[i].dev == st.st_dev && w->maps[i].ino == st.st_ino)
			return &w->maps[i];
	return NULL;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static const char *mapped_soname(struct mapped_file *m)
{
	struct objfile ef;
	struct objfile_dyn dyn;
	char err[256];

	if (!m->soname_state) {
		m->soname_state = -1;
		if (!objfile_open(&ef, m->path, err, sizeof(err))) {
			if (!objfile_dynamic_info(&ef, NULL, NULL, &dyn) && dyn.soname[0]) {
				snprintf(m->soname, sizeof(m->soname), "%s", dyn.soname);
				m->soname_state = 1;
			}
			objfile_close(&ef);
		}
	}
	return m->soname_state > 0 ? m->soname : "";
}

/* The mapped file a DT_NEEDED or LD_PRELOAD name stands for: its file name, else its DT_SONAME
 * (libstdc++.so.6 is mapped as libstdc++.so.6.0.30). */
static struct mapped_file *mapped_named(struct walk *w, const char *name)
{
	for (int i = 0; i < w->nmaps; i++)
		if (!strcmp(base_name(w->maps[i].path), name))
			return &w->maps[i];
	for (int i = 0; i < w->nmaps; i++)
		if (!strcmp(mapped_soname(&w->maps[i]), name))
			return &w->maps[i];
	return NULL;
}

/* Looks for name along a ':'-separated list of directories of the target; $ORIGIN expands to
 * origin (already as rtmon reaches it). A binary's candidates must be 64-bit ELF files; a process's
 * must be one of its mapped files. */
static bool search_dirs(struct walk *w, const char *dirs, const char *name, const char *origin,
			char *found)
{
	char copy[8192], *save = NULL;

	snprintf(copy, sizeof(copy), "%s", dirs);
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char cand[PATH_MAX];
		struct mapped_file *m;
		int n;

		if (!strncmp(d, "$ORIGIN", 7))
			n = snprintf(cand, sizeof(cand), "%s%s/%s", origin, d + 7, name);
		else if (!strncmp(d, "${ORIGIN}", 9))
			n = snprintf(cand, sizeof(cand), "%s%s/%s", origin, d + 9, name);
		else if (d[0] == '/' || !w->maps)
			n = snprintf(cand, sizeof(cand), "%s%s/%s", w->root, d, name);
		else
			continue; /* relative to a process's start directory, long gone */
		if (n >= (int)sizeof(cand))
			continue;
		if (!w->maps && is_elf64(cand)) {
			snprintf(found, PATH_MAX, "%s", cand);
			return true;
		}
		if (w->maps && (m = mapped_at(w, cand))) {
			snprintf(found, PATH_MAX, "%s", m->path);
			return true;
		}
	}
	return false;
}

/* Where the loader finds name, needed by a file with dynamic section dyn and $ORIGIN origin
 * (is_exe: the executable itself, or an LD_PRELOAD entry, which is looked up like its needs). */
static bool resolve(struct walk *w, const char *name, const struct objfile_dyn *dyn, bool is_exe,
		    const char *origin, char *found)
{
	struct mapped_file *m = NULL;
	char path[PATH_MAX];
	int n;

	if (strchr(name, '/')) {
		if (!w->maps) {
			snprintf(found, PATH_MAX, "%s", name);
			return is_elf64(found);
		}
		/* A relative path is relative to where the process started: its cwd, if unchanged.
		 */
		if (name[0] == '/')
			n = snprintf(path, sizeof(path), "%s%s", w->root, name);
		else
			n = snprintf(path, sizeof(path), "/proc/%d/cwd/%s", w->pid, name);
		if (n < (int)sizeof(path))
			m = mapped_at(w, path);
		if (!m)
			m = mapped_named(w, base_name(name));
		if (m)
			snprintf(found, PATH_MAX, "%s", m->path);
		return m != NULL;
	}
	/* ld.so's order: DT_RPATH (the file's own, then the executable's, unless the file has a
	 * DT_RUNPATH), LD_LIBRARY_PATH, DT_RUNPATH, then ld.so.cache and the default directories.
	 */
	if (dyn->rpath[0] && search_dirs(w, dyn->rpath, name, origin, found))
		return true;
	if (!is_exe && !dyn->runpath[0] && w->exe_rpath[0] &&
	    search_dirs(w, w->exe_rpath, name, w->exe_origin, found))
		return true;
	if (w->env && w->env->library_path[0] &&
	    search_dirs(w, w->env->library_path, name, origin, found))
		return true;
	if (dyn->runpath[0] && search_dirs(w, dyn->runpath, name, origin, found))
		return true;
	if (!w->maps)
		return search_dirs(w, w->syspath, name, origin, found);
	/* A process: the file it mapped under that name, wherever the loader found it. */
	if ((m = mapped_named(w, name)))
		snprintf(found, PATH_MAX, "%s", m->path);
	return m != NULL;
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

/* The preloads: LD_PRELOAD's entries, then /etc/ld.so.preload's, looked up like the executable's
 * needs. An entry the loader could not load is skipped, as the loader skips it. */
static void add_preloads(struct walk *w, const struct objfile_dyn *exe_dyn)
{
	char list[8192], file[PATH_MAX], found[PATH_MAX], *save = NULL;
	size_t used;

	snprintf(list, sizeof(list), "%s ", w->env ? w->env->preload : "");
	used = strlen(list);
	snprintf(file, sizeof(file), "%s/etc/ld.so.preload", w->root);
	if (!read_small_regular(file, list + used, sizeof(list) - used))
		list[used] = '\0';
	for (char *e = strtok_r(list, " :\t\n", &save); e; e = strtok_r(NULL, " :\t\n", &save))
		if (resolve(w, e, exe_dyn, true, w->exe_origin, found))
			image_add(w->img, found);
}

/* Breadth-first from the executable, as the loader orders its global scope. */
static int walk_needed(struct walk *w, char *err, size_t errlen)
{
	for (int i = 0; i < w->img->n; i++) {
		struct objfile ef;
		struct objfile_dyn dyn;
		struct needed_list needed = { 0 };
		char origin[PATH_MAX], tmp[PATH_MAX], found[PATH_MAX];

		if (objfile_open(&ef, w->img->paths[i], err, errlen)) {
			if (i == 0)
				return -ENOEXEC;
			continue; /* a broken library: the loader would fail, rtmon just skips it */
		}
		objfile_dynamic_info(&ef, collect_needed, &needed, &dyn);
		objfile_close(&ef);
		if (i == 0) {
			snprintf(w->exe_rpath, sizeof(w->exe_rpath), "%s", dyn.rpath);
			add_preloads(w, &dyn);
			snprintf(origin, sizeof(origin), "%s", w->exe_origin);
		} else {
			snprintf(tmp, sizeof(tmp), "%s", w->img->paths[i]);
			snprintf(origin, sizeof(origin), "%s", dirname(tmp));
		}
		for (int k = 0; k < needed.n; k++)
			if (resolve(w, needed.names[k], &dyn, i == 0, origin, found))
				image_add(w->img, found);
	}
	return 0;
}

int image_from_binary(struct image *img, const char *exe, const struct loader_env *env, char *err,
		      size_t errlen)
{
	struct walk *w = calloc(1, sizeof(*w));
	char tmp[PATH_MAX];
	int rc;

	if (!w) {
		snprintf(err, errlen, "out of memory reading the libraries of %s", exe);
		return -ENOMEM;
	}
	w->img = img;
	w->env = env;
	img->n = 0;
	image_add(img, exe);
	loader_search_path(w->syspath, sizeof(w->syspath));
	snprintf(tmp, sizeof(tmp), "%s", exe);
	snprintf(w->exe_origin, sizeof(w->exe_origin), "%s", dirname(tmp));
	rc = walk_needed(w, err, errlen);
	free(w);
	return rc;
}

struct maps_walk {
	struct walk *w;
	const struct stat *exe_st;
};

/* One mapped file (proc_maps_each, the one maps parser: lines of any length, " (deleted)" only at
 * the end): kept once by identity, a regular 64-bit ELF file, not the executable. */
static int add_mapped_file(const struct proc_maps_line *pm, void *arg)
{
	struct maps_walk *mw = arg;
	struct walk *w = mw->w;
	struct mapped_file *m;
	struct stat st;
	char path[PATH_MAX];
	bool dup = false;
	int len = (int)strlen(pm->path) - (pm->deleted ? (int)strlen(PROC_DELETED) : 0);

	if (w->nmaps >= IMAGE_MAX_FILES)
		return 1;
	m = &w->maps[w->nmaps];
	if (snprintf(path, sizeof(path), "%.*s", len, pm->path) >= (int)sizeof(path) ||
	    proc_kernel_path(w->pid, path, m->path, sizeof(m->path)) ||
	    target_file_stat(m->path, &st) || !S_ISREG(st.st_mode))
		return 0;
	if (st.st_ino == mw->exe_st->st_ino && st.st_dev == mw->exe_st->st_dev)
		return 0;
	for (int i = 0; i < w->nmaps && !dup; i++)
		dup = w->maps[i].dev == st.st_dev && w->maps[i].ino == st.st_ino;
	if (dup || !is_elf64(m->path))
		return 0;
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	m->soname_state = 0;
	w->nmaps++;
	return 0;
}

/* The files pid maps, once each (by identity), the executable left out: it is /proc/PID/exe. */
static int read_maps(struct walk *w, const struct stat *exe_st, char *err, size_t errlen)
{
	struct maps_walk mw = { w, exe_st };
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", w->pid);
	f = fopen(path, "re");
	if (!f) {
		int rc = -errno;

		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return rc;
	}
	/* A read error (the process exiting) leaves the files read so far. */
	proc_maps_each(f, add_mapped_file, &mw);
	fclose(f);
	return 0;
}

int image_from_pid(struct image *img, pid_t pid, char *err, size_t errlen)
{
	struct walk *w = calloc(1, sizeof(*w));
	struct loader_env env;
	struct stat exe_st = { 0 };
	char path[PATH_MAX], link[PATH_MAX], *del;
	ssize_t n;
	int rc;

	img->n = 0;
	if (!w || !(w->maps = calloc(IMAGE_MAX_FILES, sizeof(*w->maps)))) {
		free(w);
		snprintf(err, errlen, "out of memory reading the libraries of PID %d", pid);
		return -ENOMEM;
	}
	w->img = img;
	w->pid = pid;
	snprintf(w->root, sizeof(w->root), "/proc/%d/root", pid);
	/* /proc/PID/exe opens the executable even from another mount namespace or after it was
	 * deleted. */
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	image_add(img, path);
	stat(path, &exe_st);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	if ((del = strstr(link, " (deleted)")) && !del[10])
		*del = '\0';
	if (link[0] == '/' &&
	    proc_kernel_path(pid, dirname(link), w->exe_origin, sizeof(w->exe_origin)))
		w->exe_origin[0] = '\0';
	if (!loader_env_from_pid(&env, pid))
		w->env = &env;
	rc = read_maps(w, &exe_st, err, errlen);
	if (!rc && walk_needed(w, err, errlen))
		err[0] = '\0'; /* an unreadable executable: its maps still list the libraries */
	/* What the closure did not reach (libraries loaded with dlopen, the loader), in maps
	 * order. */
	for (int i = 0; !rc && i < w->nmaps; i++)
		image_add(img, w->maps[i].path);
	free(w->maps);
	free(w);
	return rc;
}

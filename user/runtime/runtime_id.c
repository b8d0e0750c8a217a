/* runtime_id.c - which runtime a program runs, read from its ELF files only (runtime_id.h).
 *
 * Go: the build info (gobuildinfo.c). CPython: the executable defines Py_GetVersion (built with
 * libpython inside, as Debian's python3.X), or a libpython*.so is among its libraries (pyenv's
 * shared builds); the version is the Py_Version constant (3.11+), else the unique "M.m.p" string in
 * .rodata (the build's PY_VERSION), else "M.m" from the file name. Java: libjvm.so among the
 * libraries (a running JVM dlopens it), or the JDK layout around the launcher (bin/java ->
 * lib/server/libjvm.so); the version is JAVA_VERSION from the JDK's `release` file. Node.js: the
 * executable or a libnode.so* among its libraries defines Node-API; its versions and V8's from that
 * file (user/runtime/node/node_id.c). Everything else is native. This runs once per distinct
 * executable in `rtmon ps`, so it reads little: the executable's symbol tables and notes, and the
 * names of its libraries. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "binary/objfile.h"
#include "proc/procinfo.h"
#include "runtime/go/goelf.h"
#include "proc/image.h"
#include "runtime/runtime_id.h"
#include "runtime/node/node_id.h"

#define NT_STAPSDT 3

const char *runtime_kind_name(enum runtime_kind kind)
{
	switch (kind) {
	case RUNTIME_GO:
		return "go";
	case RUNTIME_PYTHON:
		return "python";
	case RUNTIME_JAVA:
		return "java";
	case RUNTIME_NODE:
		return "node";
	case RUNTIME_NATIVE:
		break;
	}
	return "native";
}

/* Each note: n_type 3, owner "stapsdt", desc = pc, base, semaphore (address-sized), then
 * "provider\0name\0args\0". */
static bool stapsdt_has(struct objfile *ef, const char *provider, const char *name)
{
	size_t asz = ef->ehdr.e_ident[EI_CLASS] == ELFCLASS64 ? 8 : 4;
	GElf_Shdr sh;
	Elf_Scn *scn = objfile_section(ef, ".note.stapsdt", &sh);
	Elf_Data *data;
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;

	if (!scn || sh.sh_type != SHT_NOTE || !(data = elf_getdata(scn, NULL)) || !data->d_buf)
		return false;
	while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		const char *owner = (const char *)data->d_buf + name_off;
		const char *desc = (const char *)data->d_buf + desc_off, *end, *prov, *pname;

		if (nh.n_type != NT_STAPSDT || nh.n_namesz != sizeof("stapsdt") ||
		    memcmp(owner, "stapsdt", sizeof("stapsdt")) || nh.n_descsz <= 3 * asz)
			continue;
		end = desc + nh.n_descsz;
		prov = desc + 3 * asz;
		pname = memchr(prov, '\0', end - prov);
		if (!pname || ++pname >= end || !memchr(pname, '\0', end - pname))
			continue;
		if (!strcmp(prov, provider) && (!name || !strcmp(pname, name)))
			return true;
	}
	return false;
}

bool usdt_probe_exists(const char *path, const char *provider, const char *name)
{
	struct objfile ef;
	char err[256];
	bool found;

	if (objfile_open(&ef, path, err, sizeof(err)))
		return false;
	found = stapsdt_has(&ef, provider, name);
	objfile_close(&ef);
	return found;
}

/* "3.10" from "libpython3.10.so.1.0", "libpython3.6m.so", "python3.11", "python2.7". */
static bool python_minor_from_name(const char *path, int *major, int *minor)
{
	const char *base = strrchr(path, '/'), *p;

	base = base ? base + 1 : path;
	p = strstr(base, "python");
	return p && sscanf(p + 6, "%d.%d", major, minor) == 2;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* CPython up to 3.10 has no Py_Version: its PY_VERSION string ("3.10.13") is somewhere in .rodata,
 * often merged into the tail of a longer string (".../Python-3.10.13"). Accepted only when exactly
 * one distinct "M.m.p[suffix]" string ends that way: a version is never guessed. */
static bool python_version_in_rodata(struct objfile *ef, int major, int minor, char *out,
				     size_t len)
{
	char prefix[16], found[32] = "";
	GElf_Shdr sh;
	Elf_Scn *scn = objfile_section(ef, ".rodata", &sh);
	Elf_Data *data;
	size_t plen;

	if (!scn || sh.sh_type != SHT_PROGBITS || !(data = elf_rawdata(scn, NULL)) || !data->d_buf)
		return false;
	plen = (size_t)snprintf(prefix, sizeof(prefix), "%d.%d.", major, minor);
	const char *buf = data->d_buf, *end = buf + data->d_size, *p = buf;

	while ((p = memmem(p, end - p, prefix, plen))) {
		const char *q = p + plen, *start = p;

		p++;
		if (start > buf && (is_digit(start[-1]) || start[-1] == '.'))
			continue;
		if (q >= end || !is_digit(*q))
			continue;
		while (q < end && is_digit(*q))
			q++;
		/* a1, b2, rc1, "+" (a development build) */
		while (q < end && ((*q >= 'a' && *q <= 'z') || is_digit(*q) || *q == '+'))
			q++;
		if (q >= end || *q || (size_t)(q - start) >= sizeof(found))
			continue;
		if (!found[0])
			memcpy(found, start, q - start + 1);
		else if (strcmp(found, start))
			return false;
	}
	if (!found[0])
		return false;
	snprintf(out, len, "%s", found);
	return true;
}

/* Py_Version (3.11+) is PY_VERSION_HEX: major, minor, micro bytes, then release level (0xA alpha,
 * 0xB beta, 0xC candidate, 0xF final) and serial nibbles. */
static bool python_version_constant(struct objfile *ef, char *out, size_t len)
{
	static const char *const level[16] = { [0xA] = "a", [0xB] = "b", [0xC] = "rc" };
	struct objfile_sym sym;
	unsigned char b[4];
	uint32_t hex;

	if (objfile_find_object(ef, "Py_Version", &sym) || sym.size < 4 ||
	    pread(ef->fd, b, sizeof(b), (off_t)sym.offset) != (ssize_t)sizeof(b))
		return false;
	hex = b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
	if (hex >> 24 < 2 || hex >> 24 > 9)
		return false;
	if ((hex >> 4 & 0xf) == 0xf || !level[hex >> 4 & 0xf])
		snprintf(out, len, "%u.%u.%u", hex >> 24, hex >> 16 & 0xff, hex >> 8 & 0xff);
	else
		snprintf(out, len, "%u.%u.%u%s%u", hex >> 24, hex >> 16 & 0xff, hex >> 8 & 0xff,
			 level[hex >> 4 & 0xf], hex & 0xf);
	return true;
}

static void python_version(struct objfile *ef, const char *name, char *out, size_t len)
{
	int major, minor;

	if (python_version_constant(ef, out, len))
		return;
	if (!python_minor_from_name(name, &major, &minor))
		return;
	if (!python_version_in_rodata(ef, major, minor, out, len))
		snprintf(out, len, "%d.%d", major, minor);
}

/* JAVA_VERSION="17.0.15" from the `release` file of the JDK holding libjvm: JAVA_HOME/release, with
 * libjvm in JAVA_HOME/lib/server (9+) or JAVA_HOME/jre/lib/amd64/server (8). */
static void java_version(const char *libjvm, char *out, size_t len)
{
	char dir[PATH_MAX], release[PATH_MAX + 16], line[256];

	snprintf(dir, sizeof(dir), "%s", libjvm);
	for (int up = 0; up < 5; up++) {
		char *slash = strrchr(dir, '/');
		FILE *f;

		if (!slash || slash == dir)
			return;
		*slash = '\0';
		snprintf(release, sizeof(release), "%s/release", dir);
		if (!(f = fopen(release, "re")))
			continue;
		while (fgets(line, sizeof(line), f)) {
			char *v, *e;

			if (strncmp(line, "JAVA_VERSION=", 13))
				continue;
			v = line + 13;
			if (*v == '"')
				v++;
			e = v + strcspn(v, "\"\n");
			*e = '\0';
			snprintf(out, len, "%s", v);
			break;
		}
		fclose(f);
		return;
	}
}

/* The executable's real path as rtmon can open it: for a process, the link target of /proc/PID/exe
 * read inside its root (/proc/PID/root/...); for a file, realpath (/usr/bin/java ->
 * /usr/lib/jvm/...). */
static bool real_exe_path(const char *exe, pid_t pid, char *out, size_t len)
{
	char link[PATH_MAX + 64], target[PATH_MAX], *del;
	ssize_t n;

	if (pid <= 0) {
		if (!realpath(exe, target))
			return false;
		snprintf(out, len, "%s", target);
		return true;
	}
	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return false;
	target[n] = '\0';
	if ((del = strstr(target, " (deleted)")) && !del[10])
		*del = '\0';
	return !proc_kernel_path(pid, target, out, len);
}

/* A JDK launcher (java, jshell, ...) dlopens JAVA_HOME/lib/server/libjvm.so; JAVA_HOME is the
 * parent of the launcher's bin/. */
static bool jdk_libjvm(const char *real_exe, char *out, size_t len)
{
	static const char *const rel[] = { "lib/server/libjvm.so", "lib/client/libjvm.so",
					   "jre/lib/amd64/server/libjvm.so" };
	char home[PATH_MAX];
	char *slash;

	snprintf(home, sizeof(home), "%s", real_exe);
	for (int i = 0; i < 2; i++) { /* strip "/java", then "/bin" */
		if (!(slash = strrchr(home, '/')) || slash == home)
			return false;
		if (i == 1 && strcmp(slash, "/bin"))
			return false;
		*slash = '\0';
	}
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		if (snprintf(out, len, "%s/%s", home, rel[i]) < (int)len && !access(out, R_OK))
			return true;
	}
	return false;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static bool is_libpython(const char *base)
{
	return !strncmp(base, "libpython", 9) && strstr(base, ".so");
}

static bool is_libnode(const char *base)
{
	return !strncmp(base, "libnode.so", 10);
}

/* Fills out's node fields from the file at path when it is node or libnode. */
static bool node_file(struct objfile *ef, const char *path, struct runtime_id *out)
{
	struct node_info ni;

	if (!node_identify(ef, &ni))
		return false;
	out->kind = RUNTIME_NODE;
	snprintf(out->lib, sizeof(out->lib), "%s", path);
	snprintf(out->version, sizeof(out->version), "%s", ni.version);
	snprintf(out->engine, sizeof(out->engine), "%s", ni.v8);
	out->v8_gc = ni.gc_symbols;
	return true;
}

static bool is_libc(const char *base)
{
	return !strcmp(base, "libc.so.6");
}

/* The libraries: /proc/PID/maps for a process (what it really loaded), else DT_NEEDED. */
static struct image *load_image(const char *exe, pid_t pid)
{
	struct image *img = calloc(1, sizeof(*img));
	char err[256];

	if (!img)
		return NULL;
	if (pid > 0 && !image_from_pid(img, pid, err, sizeof(err)))
		return img;
	if (!image_from_binary(img, exe, NULL, err, sizeof(err)))
		return img;
	img->n = 0;
	return img;
}

/* given: the libraries already resolved, or NULL to read them here. */
static int identify(const char *exe, pid_t pid, const struct image *given, struct runtime_id *out,
		    char *err, size_t errlen)
{
	struct objfile ef;
	struct go_info gi;
	struct objfile_sym f;
	const struct image *img;
	struct image *own = NULL;
	char real[PATH_MAX + 64];
	int rc;

	memset(out, 0, sizeof(*out));
	rc = objfile_open(&ef, exe, err, errlen);
	if (rc)
		return rc;
	if (!go_read_buildinfo(exe, &gi, NULL, 0)) {
		out->kind = RUNTIME_GO;
		snprintf(out->version, sizeof(out->version), "%s", gi.version);
		snprintf(out->module, sizeof(out->module), "%s", gi.module);
		snprintf(out->lib, sizeof(out->lib), "%s", exe);
		out->boehm = !objfile_find_func(&ef, "GC_gcollect", &f);
		objfile_close(&ef);
		return 0;
	}
	if (!real_exe_path(exe, pid, real, sizeof(real)))
		snprintf(real, sizeof(real), "%s", exe);
	if (!objfile_find_func(&ef, "Py_GetVersion", &f)) {
		out->kind = RUNTIME_PYTHON;
		snprintf(out->lib, sizeof(out->lib), "%s", exe);
		python_version(&ef, real, out->version, sizeof(out->version));
		out->usdt = stapsdt_has(&ef, "python", NULL);
	} else {
		node_file(&ef, exe, out);
	}
	out->boehm = !objfile_find_func(&ef, "GC_gcollect", &f);
	out->libc = ef.is_static && !objfile_find_func(&ef, "malloc", &f);
	objfile_close(&ef);

	img = given ? given : (own = load_image(exe, pid));
	if (!img) {
		snprintf(err, errlen, "out of memory reading the libraries of %s", exe);
		return -ENOMEM;
	}
	for (int i = 1; i < img->n; i++) {
		const char *path = img->paths[i], *base = base_name(path);

		if (out->kind == RUNTIME_NATIVE && is_libpython(base)) {
			out->kind = RUNTIME_PYTHON;
			snprintf(out->lib, sizeof(out->lib), "%s", path);
		} else if (out->kind == RUNTIME_NATIVE && !strcmp(base, "libjvm.so")) {
			out->kind = RUNTIME_JAVA;
			snprintf(out->lib, sizeof(out->lib), "%s", path);
		} else if (out->kind == RUNTIME_NATIVE && is_libnode(base)) {
			struct objfile lf;

			if (!objfile_open(&lf, path, err, errlen)) {
				node_file(&lf, path, out);
				objfile_close(&lf);
			}
		}
		if (!strncmp(base, "libgc.so", 8))
			out->boehm = true;
		if (is_libc(base))
			out->libc = true;
	}
	free(own);
	if (out->kind == RUNTIME_NATIVE && jdk_libjvm(real, out->lib, sizeof(out->lib)))
		out->kind = RUNTIME_JAVA;
	if (out->kind == RUNTIME_NATIVE)
		out->lib[0] = '\0';
	if (out->kind == RUNTIME_PYTHON && strcmp(out->lib, exe)) {
		if (!objfile_open(&ef, out->lib, err, errlen)) {
			python_version(&ef, out->lib, out->version, sizeof(out->version));
			out->usdt = stapsdt_has(&ef, "python", NULL);
			objfile_close(&ef);
		}
	} else if (out->kind == RUNTIME_JAVA) {
		java_version(out->lib, out->version, sizeof(out->version));
		out->usdt = usdt_probe_exists(out->lib, "hotspot", NULL);
	}
	if (err && errlen)
		err[0] = '\0';
	return 0;
}

int runtime_identify(const char *exe, pid_t pid, struct runtime_id *out, char *err, size_t errlen)
{
	return identify(exe, pid, NULL, out, err, errlen);
}

int runtime_identify_image(const struct image *img, struct runtime_id *out, char *err,
			   size_t errlen)
{
	return identify(img->paths[0], 0, img, out, err, errlen);
}

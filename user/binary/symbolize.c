#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "binary/objfile.h"
#include "binary/symbolize.h"
#include "binary/target_file.h"
#include "proc/procinfo.h"

#define MAX_SEGS  32
#define CACHE_MAX 4096
/* Symbols sharing an address, or a nearer one that does not contain the address (a size-0 label):
 * how many groups below the address are tried before giving up. */
#define MAX_BACKTRACK 16

struct sym {
	uint64_t addr;
	uint64_t size;
	unsigned seq; /* order found: .symtab before .dynsym, so ties prefer the fuller table */
	char *name;
};

struct seg {
	uint64_t off, filesz, vaddr;
};

struct symfile {
	uint32_t kdev;
	uint64_t ino;
	/* Held open from the moment the file is known: paths like /proc/PID/exe or
	 * /proc/PID/root/... stop working when the process exits, and reports often come after
	 * that. */
	int fd;
	char path[PATH_MAX];
	char base[256]; /* file name for "file+0x..." */
	bool loaded;    /* symbols read (or reading failed: nsyms 0) */
	struct sym *syms;
	size_t nsyms;
	struct seg segs[MAX_SEGS];
	int nsegs;
};

struct cache_ent {
	uint32_t kdev;
	uint64_t ino, off;
	int rc;
	char name[160];
};

struct symbolizer {
	struct symfile *files;
	int nfiles, capfiles;
	struct cache_ent *cache;
	size_t ncache;
};

static uint32_t kernel_dev(dev_t d)
{
	return (uint32_t)(major(d) << 20 | minor(d));
}

/* The file's own name, also for /proc/PID/exe (a symlink to it). */
static void set_base(struct symfile *f)
{
	char real[PATH_MAX];
	const char *p = realpath(f->path, real) ? real : f->path, *slash = strrchr(p, '/');

	snprintf(f->base, sizeof(f->base), "%s", slash ? slash + 1 : p);
}

static struct symfile *add_file(struct symbolizer *s, uint32_t kdev, uint64_t ino, const char *path)
{
	struct symfile *f;

	if (s->nfiles == s->capfiles) {
		int cap = s->capfiles ? s->capfiles * 2 : 16;
		struct symfile *n = realloc(s->files, (size_t)cap * sizeof(*n));

		if (!n)
			return NULL;
		s->files = n;
		s->capfiles = cap;
	}
	f = &s->files[s->nfiles++];
	memset(f, 0, sizeof(*f));
	f->kdev = kdev;
	f->ino = ino;
	f->fd = target_file_open(path);
	snprintf(f->path, sizeof(f->path), "%s", path);
	set_base(f);
	return f;
}

struct symbolizer *symbolizer_new(const struct image *img)
{
	struct symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	for (int i = 0; img && i < img->n; i++) {
		struct stat st;

		if (!stat(img->paths[i], &st) &&
		    !add_file(s, kernel_dev(st.st_dev), st.st_ino, img->paths[i])) {
			symbolizer_free(s);
			return NULL;
		}
	}
	return s;
}

int symbolizer_add_path(struct symbolizer *s, const char *path)
{
	struct stat st;
	uint32_t kdev;

	if (stat(path, &st))
		return -errno;
	kdev = kernel_dev(st.st_dev);
	for (int i = 0; i < s->nfiles; i++)
		if (s->files[i].ino == st.st_ino && s->files[i].kdev == kdev)
			return 0;
	return add_file(s, kdev, st.st_ino, path) ? 0 : -ENOMEM;
}

void symbolizer_free(struct symbolizer *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nfiles; i++) {
		for (size_t j = 0; j < s->files[i].nsyms; j++)
			free(s->files[i].syms[j].name);
		free(s->files[i].syms);
		if (s->files[i].fd >= 0)
			close(s->files[i].fd);
	}
	free(s->files);
	free(s->cache);
	free(s);
}

static int cmp_sym(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int push_sym(struct symfile *f, size_t *cap, const GElf_Sym *sym, const char *name)
{
	size_t n = strcspn(name, "@"); /* "pthread_create@@GLIBC_2.34" is pthread_create */

	if (f->nsyms == *cap) {
		size_t c = *cap ? *cap * 2 : 256;
		struct sym *ns = realloc(f->syms, c * sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		f->syms = ns;
		*cap = c;
	}
	f->syms[f->nsyms].name = strndup(name, n);
	if (!f->syms[f->nsyms].name)
		return -ENOMEM;
	f->syms[f->nsyms].addr = sym->st_value;
	f->syms[f->nsyms].size = sym->st_size;
	f->syms[f->nsyms].seq = (unsigned)f->nsyms;
	f->nsyms++;
	return 0;
}

struct table_walk {
	struct symfile *f;
	size_t *cap;
};

static int collect_sym(const GElf_Sym *sym, const char *name, void *ctx)
{
	struct table_walk *w = ctx;

	return *name && push_sym(w->f, w->cap, sym, name) ? -ENOMEM : 0;
}

static int read_table(struct symfile *f, struct objfile *ef, Elf64_Word type, size_t *cap)
{
	struct table_walk w = { f, cap };

	return objfile_for_each_func(ef, type, collect_sym, &w);
}

static void read_segments(struct symfile *f, struct objfile *ef)
{
	size_t phnum;

	if (elf_getphdrnum(ef->elf, &phnum))
		return;
	for (size_t i = 0; i < phnum && f->nsegs < MAX_SEGS; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(ef->elf, (int)i, &ph) && ph.p_type == PT_LOAD)
			f->segs[f->nsegs++] = (struct seg){ ph.p_offset, ph.p_filesz, ph.p_vaddr };
	}
}

/* Reads a file's symbols once. A file that cannot be read keeps no symbols: its locations are then
 * named by file and offset. */
static void load_file(struct symfile *f)
{
	struct objfile ef;
	char err[256], path[64];
	size_t cap = 0;

	if (f->loaded)
		return;
	f->loaded = true;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", f->fd);
	if (f->fd < 0 || objfile_open(&ef, path, err, sizeof(err)))
		return;
	read_segments(f, &ef);
	if (read_table(f, &ef, SHT_SYMTAB, &cap) || read_table(f, &ef, SHT_DYNSYM, &cap)) {
		for (size_t j = 0; j < f->nsyms; j++)
			free(f->syms[j].name);
		free(f->syms);
		f->syms = NULL;
		f->nsyms = 0;
	}
	objfile_close(&ef);
	if (f->nsyms)
		qsort(f->syms, f->nsyms, sizeof(*f->syms), cmp_sym);
}

static bool offset_to_vaddr(const struct symfile *f, uint64_t off, uint64_t *vaddr)
{
	for (int i = 0; i < f->nsegs; i++) {
		if (off >= f->segs[i].off && off < f->segs[i].off + f->segs[i].filesz) {
			*vaddr = off - f->segs[i].off + f->segs[i].vaddr;
			return true;
		}
	}
	return false;
}

/* Index of the first symbol of the last address group at or below vaddr; -1 when none. */
static long group_below(const struct symfile *f, uint64_t vaddr)
{
	size_t lo = 0, hi = f->nsyms;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->syms[mid].addr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -1;
	lo--;
	while (lo > 0 && f->syms[lo - 1].addr == f->syms[lo].addr)
		lo--;
	return (long)lo;
}

static const struct sym *find_containing(const struct symfile *f, uint64_t vaddr)
{
	long i = group_below(f, vaddr);

	for (int tries = 0; i >= 0 && tries < MAX_BACKTRACK; tries++) {
		const struct sym *best = NULL;

		for (size_t j = (size_t)i; j < f->nsyms && f->syms[j].addr == f->syms[i].addr;
		     j++) {
			const struct sym *c = &f->syms[j];

			if (vaddr == c->addr || vaddr < c->addr + c->size) {
				best = c;
				break;
			}
		}
		if (best)
			return best;
		if (i == 0)
			break;
		i = group_below(f, f->syms[i].addr - 1);
	}
	return NULL;
}

/* The C++ runtime's demangler (libstdc++, the Itanium ABI every Linux C++ compiler uses): a JVM's
 * threads start in _ZL19thread_native_entryP6Thread, which users read as
 * thread_native_entry(Thread*). */
char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

/* The symbol holding file offset off of f, with the offset's link-time address; NULL when none. */
static const struct sym *sym_at(struct symfile *f, uint64_t off, uint64_t *vaddr)
{
	load_file(f);
	return offset_to_vaddr(f, off, vaddr) ? find_containing(f, *vaddr) : NULL;
}

/* The name as users read it: demangled when mangled (malloc'ed), else NULL. Done once per address
 * (the callers cache). */
static char *demangled(const struct sym *sym)
{
	return strncmp(sym->name, "_Z", 2) ? NULL : __cxa_demangle(sym->name, NULL, NULL, NULL);
}

static int name_in_file(struct symfile *f, uint64_t off, char *out, size_t len)
{
	uint64_t vaddr;
	const struct sym *sym = sym_at(f, off, &vaddr);

	if (sym) {
		char *plain = demangled(sym);
		const char *name = plain ? plain : sym->name;

		if (vaddr == sym->addr)
			snprintf(out, len, "%s", name);
		else
			snprintf(out, len, "%s+0x%" PRIx64, name, vaddr - sym->addr);
		free(plain);
		return 0;
	}
	snprintf(out, len, "%s+0x%" PRIx64, f->base, off);
	return 1;
}

struct mapping_query {
	uint32_t kdev;
	uint64_t ino, addr;
	struct proc_maps_line *out;
};

static int match_mapping(const struct proc_maps_line *m, void *ctx)
{
	struct mapping_query *q = ctx;

	if (q->ino ? m->ino != q->ino || m->kdev != q->kdev
		   : q->addr < m->start || q->addr >= m->end)
		return 0;
	*q->out = *m;
	return 1;
}

/* Finds a mapping of pid by (kdev, ino), or holding addr when ino is 0. */
static bool find_mapping(pid_t pid, uint32_t kdev, uint64_t ino, uint64_t addr,
			 struct proc_maps_line *out)
{
	struct mapping_query q = { .kdev = kdev, .ino = ino, .addr = addr, .out = out };
	char path[64];
	bool found;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	if (!(fp = fopen(path, "re")))
		return false;
	found = proc_maps_each(fp, match_mapping, &q) == 1;
	fclose(fp);
	return found;
}

static struct symfile *file_for(struct symbolizer *s, pid_t pid, uint32_t kdev, uint64_t ino)
{
	struct proc_maps_line m;
	char path[PATH_MAX + 32];

	for (int i = 0; i < s->nfiles; i++)
		if (s->files[i].ino == ino && s->files[i].kdev == kdev)
			return &s->files[i];
	if (pid <= 0 || !find_mapping(pid, kdev, ino, 0, &m))
		return NULL;
	/* A file in a container is read from its own filesystem (proc_kernel_path). */
	if (proc_kernel_path(pid, m.path, path, sizeof(path)))
		return NULL;
	return add_file(s, kdev, ino, path);
}

int symbolizer_add_maps(struct symbolizer *s, pid_t pid)
{
	char path[PATH_MAX + 32], line[PATH_MAX + 128];
	struct proc_maps_line m;
	int added = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	if (!(fp = fopen(path, "re")))
		return -errno;
	while (fgets(line, sizeof(line), fp)) {
		bool known = false;

		/* Code only: "r-xp" is the mapping a start routine is in. */
		if (!proc_parse_maps_line(line, &m) || !m.exec)
			continue;
		for (int i = 0; i < s->nfiles && !known; i++)
			known = s->files[i].ino == m.ino && s->files[i].kdev == m.kdev;
		if (!known && !proc_kernel_path(pid, m.path, path, sizeof(path)) &&
		    add_file(s, m.kdev, m.ino, path))
			added++;
	}
	fclose(fp);
	return added;
}

static struct cache_ent *cache_find(struct symbolizer *s, uint32_t kdev, uint64_t ino, uint64_t off)
{
	for (size_t i = 0; i < s->ncache; i++)
		if (s->cache[i].off == off && s->cache[i].ino == ino && s->cache[i].kdev == kdev)
			return &s->cache[i];
	return NULL;
}

static void cache_add(struct symbolizer *s, uint32_t kdev, uint64_t ino, uint64_t off, int rc,
		      const char *name)
{
	struct cache_ent *e;

	if (!s->cache && !(s->cache = calloc(CACHE_MAX, sizeof(*s->cache))))
		return;
	if (s->ncache >= CACHE_MAX)
		return;
	e = &s->cache[s->ncache++];
	*e = (struct cache_ent){ .kdev = kdev, .ino = ino, .off = off, .rc = rc };
	snprintf(e->name, sizeof(e->name), "%s", name);
}

int symbolize_file_offset(struct symbolizer *s, pid_t pid, uint32_t kdev, uint64_t ino,
			  uint64_t off, char *out, size_t len)
{
	struct cache_ent *c = cache_find(s, kdev, ino, off);
	struct symfile *f;
	int rc;

	if (c) {
		snprintf(out, len, "%s", c->name);
		return c->rc;
	}
	f = file_for(s, pid, kdev, ino);
	if (!f) {
		/* Not cached: the file may be found later, from another live process. */
		snprintf(out, len, "[unknown]");
		return -ENOENT;
	}
	rc = name_in_file(f, off, out, len);
	cache_add(s, kdev, ino, off, rc, out);
	return rc;
}

int symbolize_addr(struct symbolizer *s, pid_t pid, uint64_t addr, char *out, size_t len)
{
	struct proc_maps_line m;

	if (pid > 0 && find_mapping(pid, 0, 0, addr, &m))
		return symbolize_file_offset(s, pid, m.kdev, m.ino, addr - m.start + m.pgoff, out,
					     len);
	snprintf(out, len, "0x%" PRIx64, addr);
	return -ENOENT;
}

int symbolize_func(struct symbolizer *s, pid_t pid, uint32_t kdev, uint64_t ino, uint64_t off,
		   char *out, size_t len)
{
	struct symfile *f = file_for(s, pid, kdev, ino);
	const struct sym *sym;
	uint64_t vaddr;
	char *plain;

	out[0] = '\0';
	if (!f)
		return -ENOENT;
	if (!(sym = sym_at(f, off, &vaddr)))
		return 1;
	plain = demangled(sym);
	snprintf(out, len, "%s", plain ? plain : sym->name);
	free(plain);
	return 0;
}

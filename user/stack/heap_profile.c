/* The collector of heap_profile.h: Go's heap profile from its runtime's own sampling. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <bpf/bpf.h>
#include "go_heap.h"
#include "go_heap.skel.h"
#include "proc/procmem.h"
#include "runtime/go/goelf.h"
#include "runtime/go/heap_sites.h"
#include "stack/heap_profile.h"
#include "trace/skel_open.h"

const struct profile_value_type go_heap_types[GH_NTYPES] = {
	{ "alloc_objects", "count" },
	{ "alloc_space", "bytes" },
	{ "inuse_objects", "count" },
	{ "inuse_space", "bytes" },
};

/* What one (process, stack, size) allocated and freed, unscaled: the runtime's bucket. */
struct entry {
	pid_t pid;
	uint32_t nlocs;
	uint64_t size, hash;
	uint32_t *locs; /* in gh->locprof, innermost first */
	int64_t allocs, alloc_bytes, frees, free_bytes;
};

/* A sampled object not freed yet. */
struct object {
	uint64_t addr; /* 0: free slot */
	pid_t pid;
	uint32_t entry; /* index + 1 */
};

/* A process seen: where its MemProfileRate is, and its value. */
struct proc {
	pid_t pid;
	bool bias_known;
	uint64_t bias;
	int64_t rate;     /* -1: not read yet */
	uint64_t read_ns; /* when it was read last */
};

struct go_heap {
	pthread_mutex_t lock; /* everything below: the loop adds, serve's HTTP thread reads */
	const struct target *t;
	struct go_heap_bpf *skel;
	struct probe_links pl;
	struct ring_buffer *rb;
	struct go_symtab *go;
	struct go_heap_sites sites;
	dev_t dev;
	ino_t ino;
	struct profile *locprof; /* holds the locations only: snapshots copy them */
	struct stacks *stacks;
	struct entry *entries;
	size_t nentries, capentries;
	uint32_t *index; /* entry index + 1 by hash, open addressing, a power of two */
	size_t capindex;
	struct object *objs; /* open addressing, a power of two */
	size_t nobjs, capobjs;
	struct proc *procs;
	size_t nprocs;
	int64_t time_ns;
	uint64_t allocs, frees, frees_untraced;
	bool oom;
};

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

/* ---- the processes and their MemProfileRate ---- */

static struct proc *proc_get(struct go_heap *gh, pid_t pid)
{
	struct proc *n;

	for (size_t i = 0; i < gh->nprocs; i++)
		if (gh->procs[i].pid == pid)
			return &gh->procs[i];
	n = realloc(gh->procs, (gh->nprocs + 1) * sizeof(*n));
	if (!n)
		return NULL;
	gh->procs = n;
	n = &gh->procs[gh->nprocs++];
	*n = (struct proc){ .pid = pid, .rate = -1 };
	return n;
}

/* The process's load bias from where it maps mProf_Malloc's probe (PIE), then the variable. */
static void read_rate(struct go_heap *gh, struct proc *p)
{
	uint64_t code;
	int64_t rate;

	if (!gh->sites.rate_vaddr)
		return;
	if (!p->bias_known) {
		if (proc_file_offset_addr(p->pid, gh->dev, gh->ino, gh->sites.malloc_off, &code))
			return;
		p->bias = code - gh->sites.malloc_vaddr;
		p->bias_known = true;
	}
	if (!proc_mem_read(p->pid, gh->sites.rate_vaddr + p->bias, &rate, sizeof(rate)))
		p->rate = rate;
}

void go_heap_read_rates(struct go_heap *gh)
{
	pthread_mutex_lock(&gh->lock);
	for (size_t i = 0; i < gh->nprocs; i++)
		read_rate(gh, &gh->procs[i]);
	pthread_mutex_unlock(&gh->lock);
}

void go_heap_started(struct go_heap *gh)
{
	struct timespec ts;
	struct proc *p;

	clock_gettime(CLOCK_REALTIME, &ts);
	pthread_mutex_lock(&gh->lock);
	gh->time_ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	if (gh->t->pid > 0 && (p = proc_get(gh, gh->t->pid)))
		read_rate(gh, p);
	pthread_mutex_unlock(&gh->lock);
}

/* ---- entries: one per (process, stack, size) ---- */

static bool entry_is(const struct entry *e, pid_t pid, uint64_t size, const uint32_t *locs,
		     size_t n)
{
	return e->pid == pid && e->size == size && e->nlocs == n &&
	       !memcmp(e->locs, locs, n * sizeof(*locs));
}

static int index_grow(struct go_heap *gh)
{
	size_t cap = gh->capindex ? gh->capindex * 2 : 1024;
	uint32_t *n = calloc(cap, sizeof(*n));

	if (!n)
		return -ENOMEM;
	for (size_t i = 0; i < gh->nentries; i++) {
		size_t j = gh->entries[i].hash & (cap - 1);

		while (n[j])
			j = (j + 1) & (cap - 1);
		n[j] = (uint32_t)i + 1;
	}
	free(gh->index);
	gh->index = n;
	gh->capindex = cap;
	return 0;
}

/* The entry of this stack and size (made if new); -1 on out of memory. */
static long entry_find(struct go_heap *gh, pid_t pid, uint64_t size, const uint32_t *locs, size_t n)
{
	uint64_t h = mix(mix((uint64_t)pid, size), n);
	struct entry *e;
	size_t j;

	for (size_t i = 0; i < n; i++)
		h = mix(h, locs[i]);
	if ((gh->nentries + 1) * 2 > gh->capindex && index_grow(gh))
		return -1;
	for (j = h & (gh->capindex - 1); gh->index[j]; j = (j + 1) & (gh->capindex - 1)) {
		e = &gh->entries[gh->index[j] - 1];
		if (e->hash == h && entry_is(e, pid, size, locs, n))
			return (long)gh->index[j] - 1;
	}
	if (gh->nentries == gh->capentries) {
		size_t cap = gh->capentries ? gh->capentries * 2 : 256;

		e = realloc(gh->entries, cap * sizeof(*e));
		if (!e)
			return -1;
		gh->entries = e;
		gh->capentries = cap;
	}
	e = &gh->entries[gh->nentries];
	*e = (struct entry){ .pid = pid, .nlocs = (uint32_t)n, .size = size, .hash = h };
	e->locs = malloc(n * sizeof(*locs));
	if (!e->locs)
		return -1;
	memcpy(e->locs, locs, n * sizeof(*locs));
	gh->index[j] = (uint32_t)++gh->nentries;
	return (long)gh->nentries - 1;
}

/* ---- live objects by address ---- */

static size_t obj_slot(uint64_t addr, pid_t pid, size_t cap)
{
	return mix(addr, (uint64_t)pid) & (cap - 1);
}

static int objs_grow(struct go_heap *gh)
{
	size_t cap = gh->capobjs ? gh->capobjs * 2 : 4096;
	struct object *n = calloc(cap, sizeof(*n));

	if (!n)
		return -ENOMEM;
	for (size_t i = 0; i < gh->capobjs; i++) {
		const struct object *o = &gh->objs[i];
		size_t j;

		if (!o->addr)
			continue;
		for (j = obj_slot(o->addr, o->pid, cap); n[j].addr; j = (j + 1) & (cap - 1))
			;
		n[j] = *o;
	}
	free(gh->objs);
	gh->objs = n;
	gh->capobjs = cap;
	return 0;
}

static int obj_add(struct go_heap *gh, uint64_t addr, pid_t pid, uint32_t entry)
{
	size_t j;

	if ((gh->nobjs + 1) * 2 > gh->capobjs && objs_grow(gh))
		return -ENOMEM;
	for (j = obj_slot(addr, pid, gh->capobjs); gh->objs[j].addr;
	     j = (j + 1) & (gh->capobjs - 1))
		if (gh->objs[j].addr == addr && gh->objs[j].pid == pid)
			break; /* a free not seen (a lost record): the address is reused */
	if (!gh->objs[j].addr)
		gh->nobjs++;
	gh->objs[j] = (struct object){ addr, pid, entry };
	return 0;
}

/* Takes the object out (backward-shift deletion keeps the probe chains whole); its entry + 1, or
 * 0 when the object was not sampled while tracing. */
static uint32_t obj_take(struct go_heap *gh, uint64_t addr, pid_t pid)
{
	size_t mask = gh->capobjs - 1, j, k;
	uint32_t entry;

	if (!gh->capobjs)
		return 0;
	for (j = obj_slot(addr, pid, gh->capobjs); gh->objs[j].addr; j = (j + 1) & mask)
		if (gh->objs[j].addr == addr && gh->objs[j].pid == pid)
			break;
	if (!gh->objs[j].addr)
		return 0;
	entry = gh->objs[j].entry;
	gh->nobjs--;
	for (k = (j + 1) & mask; gh->objs[k].addr; k = (k + 1) & mask) {
		size_t home = obj_slot(gh->objs[k].addr, gh->objs[k].pid, gh->capobjs);

		/* k may move to j when its home is not in (j, k] (cyclically) */
		if (((k - home) & mask) >= ((k - j) & mask)) {
			gh->objs[j] = gh->objs[k];
			j = k;
		}
	}
	gh->objs[j].addr = 0;
	return entry;
}

/* ---- records ---- */

static bool func_is(const struct profile *p, uint32_t loc, const char *name)
{
	const char *f = profile_location_func(p, loc);

	return f && !strcmp(f, name);
}

/* The frames of a sampled allocation as the runtime records them (mProf_Malloc's callers()) and
 * runtime/pprof writes them (protomem.go), from the walk at mProf_Malloc: the probed function and
 * profilealloc left out; a walk from the system stack ends at runtime.systemstack, where the
 * runtime's own traceback stops; then the runtime's frames above the code that allocated are
 * hidden (up to the first function not named runtime.*), unless every frame is the runtime's.
 * *first and the count returned say which part of locs is kept. */
static size_t runtime_view(const struct profile *p, uint32_t *locs, size_t n, size_t *first)
{
	size_t i = 0, skip;

	while (i < n && (func_is(p, locs[i], "runtime.mProf_Malloc") ||
			 func_is(p, locs[i], "runtime.profilealloc")))
		i++;
	for (size_t j = i; j < n; j++)
		if (func_is(p, locs[j], "runtime.systemstack")) {
			n = j + 1;
			break;
		}
	for (skip = i; skip < n; skip++) {
		const char *f = profile_location_func(p, locs[skip]);

		if (!f || strncmp(f, "runtime.", 8))
			break;
	}
	*first = skip < n ? skip : i;
	return n - *first;
}

static void on_alloc(struct go_heap *gh, const struct go_heap_alloc *a)
{
	uint32_t locs[STACKS_MAX_FRAMES];
	pid_t pid = (pid_t)a->h.tgid;
	struct proc *p;
	size_t n = stacks_locations(gh->stacks, pid, &a->us, NULL, 0, locs), first;
	struct entry *e;
	long i;

	if (!(p = proc_get(gh, pid)))
		gh->oom = true;
	else if (a->rate >= 0) /* read by the probe, with the sample */
		p->rate = a->rate;
	if (!n)
		return; /* counted by the stack layer (lost) or out of memory */
	n = runtime_view(gh->locprof, locs, n, &first);
	if (!n)
		return;
	i = entry_find(gh, pid, a->h.size, locs + first, n);
	if (i < 0) {
		gh->oom = true;
		return;
	}
	e = &gh->entries[i];
	e->allocs++;
	e->alloc_bytes += (int64_t)a->h.size;
	gh->allocs++;
	if (a->h.addr && obj_add(gh, a->h.addr, pid, (uint32_t)i + 1))
		gh->oom = true;
}

static void on_free(struct go_heap *gh, const struct go_heap_hdr *h)
{
	uint32_t i = h->addr ? obj_take(gh, h->addr, (pid_t)h->tgid) : 0;
	struct entry *e;

	if (!i) {
		gh->frees_untraced++;
		return;
	}
	e = &gh->entries[i - 1];
	e->frees++;
	e->free_bytes += (int64_t)h->size;
	gh->frees++;
}

static int on_rec(void *ctx, void *data, size_t size)
{
	struct go_heap *gh = ctx;
	const struct go_heap_hdr *h = data;

	if (size < sizeof(*h))
		return 0;
	pthread_mutex_lock(&gh->lock);
	if (h->kind == GHR_ALLOC && size >= USER_STACK_SIZE_NO_COPY(struct go_heap_alloc))
		on_alloc(gh, data);
	else if (h->kind == GHR_FREE)
		on_free(gh, h);
	pthread_mutex_unlock(&gh->lock);
	return 0;
}

/* ---- open, attach ---- */

static int find_sites(struct go_heap *gh, char *err, size_t errlen)
{
	const struct target *t = gh->t;
	struct go_info gi;
	struct stat sb;
	int rc = go_read_buildinfo(t->exe, &gi, NULL, 0);

	if (rc) {
		snprintf(err, errlen,
			 "%s is not a Go program (no Go build info in %s): rtmon heap reads the Go "
			 "runtime's heap profile; for other programs use rtmon malloc --stacks",
			 t->label, t->exe);
		return -ENOEXEC;
	}
	rc = go_symtab_open(t->exe, &gh->go, err, errlen);
	if (rc)
		return rc;
	rc = go_heap_sites_find(gh->go, &gi, &gh->sites, err, errlen);
	if (rc)
		return rc;
	if (stat(t->exe, &sb)) {
		rc = -errno;
		snprintf(err, errlen, "cannot stat %s: %s", t->exe, strerror(errno));
		return rc;
	}
	gh->dev = sb.st_dev;
	gh->ino = sb.st_ino;
	return 0;
}

int go_heap_open(struct go_heap **out, const struct target *t, const char *cmd, size_t ring_bytes,
		 char *err, size_t errlen)
{
	struct go_heap *gh = calloc(1, sizeof(*gh));
	struct probe_site sites[3];
	int rc;

	*out = gh;
	if (!gh) {
		snprintf(err, errlen, "cannot set up the heap profile: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	pthread_mutex_init(&gh->lock, NULL);
	gh->t = t;
	rc = find_sites(gh, err, errlen);
	if (rc)
		return rc;
	gh->locprof = profile_new(go_heap_types, GH_NTYPES, NULL, 0);
	gh->stacks = gh->locprof ? stacks_new(gh->locprof, &t->image, gh->go) : NULL;
	if (!gh->stacks) {
		snprintf(err, errlen, "cannot set up the heap profile: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	gh->skel = SKEL_OPEN(go_heap, t, cmd, err, errlen);
	if (!gh->skel)
		return -errno;
	gh->skel->rodata->malloc_has_mp = gh->sites.malloc_has_mp;
	gh->skel->rodata->malloc_site_vaddr = gh->sites.malloc_vaddr;
	gh->skel->rodata->rate_vaddr = gh->sites.rate_vaddr;
	gh->skel->rodata->special_kind_off = gh->sites.special_kind_off;
	gh->skel->rodata->special_profile_kind = gh->sites.special_profile_kind;
	if (ring_bytes) {
		bpf_map__set_max_entries(gh->skel->maps.recs, (__u32)ring_bytes);
		gh->skel->rodata->wake_bytes = ring_bytes / 8;
	}
	probe_prepare_sites_prog(gh->skel->progs.on_heap_site);
	rc = go_heap_bpf__load(gh->skel);
	if (rc) {
		probe_load_error(cmd, rc, err, errlen);
		return rc;
	}
	gh->rb = ring_buffer__new(bpf_map__fd(gh->skel->maps.recs), on_rec, gh, NULL);
	if (!gh->rb) {
		rc = -errno;
		snprintf(err, errlen, "cannot set up the ring buffer: %s", strerror(errno));
		return rc;
	}
	sites[0] = (struct probe_site){ gh->sites.malloc_off, GH_MALLOC };
	sites[1] = (struct probe_site){ gh->sites.free_special_off, GH_FREE_SPECIAL };
	sites[2] = (struct probe_site){ gh->sites.free_off, GH_FREE };
	/* mProf_Free only where freeSpecial cannot tell a profile record by itself */
	return probe_attach_sites(&gh->pl, gh->skel->progs.on_heap_site, target_probe_pid(t),
				  t->exe, sites, gh->sites.special_kind_off < 0 ? 3 : 2,
				  "the Go runtime's heap profiling functions", err, errlen);
}

struct ring_buffer *go_heap_ring(const struct go_heap *gh)
{
	return gh->rb;
}

int go_heap_ring_add(struct go_heap *gh, struct ring_buffer *rb)
{
	return ring_buffer__add(rb, bpf_map__fd(gh->skel->maps.recs), on_rec, gh);
}

/* ---- results ---- */

static int64_t proc_rate(const struct go_heap *gh, pid_t pid)
{
	for (size_t i = 0; i < gh->nprocs; i++)
		if (gh->procs[i].pid == pid)
			return gh->procs[i].rate;
	return -1;
}

void go_heap_get_counts(struct go_heap *gh, struct go_heap_counts *c)
{
	uint64_t k[GHC_NCOUNTERS] = { 0 };

	memset(c, 0, sizeof(*c));
	probe_sum_percpu_counters(gh->skel->maps.counters, GHC_NCOUNTERS, k);
	pthread_mutex_lock(&gh->lock);
	c->hits = k[GHC_HITS];
	c->lost = k[GHC_LOST];
	c->allocs = gh->allocs;
	c->frees = gh->frees;
	c->frees_untraced = gh->frees_untraced;
	c->live = gh->nobjs;
	c->rate = gh->nprocs ? gh->procs[0].rate : -1;
	c->rate_from_code = !gh->sites.rate_from_symtab;
	stacks_get_counts(gh->stacks, &c->sc);
	c->oom = gh->oom;
	pthread_mutex_unlock(&gh->lock);
}

/* runtime/pprof's scaleHeapSample: a sampled object of avg bytes was sampled with probability
 * 1 - exp(-avg / rate). */
static void scale(int64_t count, int64_t size, int64_t rate, int64_t *c, int64_t *s)
{
	double avg, f;

	if (count == 0 || size == 0) {
		*c = *s = 0;
		return;
	}
	if (rate <= 1) {
		*c = count;
		*s = size;
		return;
	}
	avg = (double)size / (double)count;
	f = 1 / (1 - exp(-avg / (double)rate));
	*c = (int64_t)((double)count * f);
	*s = (int64_t)((double)size * f);
}

static int add_entry(struct profile *p, const struct entry *e, int64_t rate, uint32_t *map,
		     const struct profile *src)
{
	uint32_t locs[STACKS_MAX_FRAMES];
	int64_t v[GH_NTYPES];
	struct profile_label labels[2] = { { .key = "pid", .num = e->pid },
					   { .key = "bytes",
					     .num = e->allocs ? e->alloc_bytes / e->allocs : 0 } };

	for (uint32_t i = 0; i < e->nlocs; i++) {
		uint32_t l = e->locs[i];

		if (!map[l - 1] && !(map[l - 1] = profile_location_copy(p, src, l)))
			return -ENOMEM;
		locs[i] = map[l - 1];
	}
	scale(e->allocs, e->alloc_bytes, rate, &v[GH_ALLOC_OBJECTS], &v[GH_ALLOC_SPACE]);
	scale(e->allocs - e->frees, e->alloc_bytes - e->free_bytes, rate, &v[GH_INUSE_OBJECTS],
	      &v[GH_INUSE_SPACE]);
	return profile_add(p, locs, e->nlocs, v, labels, 2);
}

struct profile *go_heap_profile(struct go_heap *gh)
{
	static const struct profile_value_type period_type = { "space", "bytes" };
	struct profile *p = NULL;
	uint32_t *map = NULL;
	struct timespec ts;
	int64_t rate, first_rate;
	uint64_t k[GHC_NCOUNTERS] = { 0 };
	struct stacks_counts sc;
	int rc = 0;

	pthread_mutex_lock(&gh->lock);
	first_rate = gh->nprocs ? gh->procs[0].rate : -1;
	p = profile_new(go_heap_types, GH_NTYPES, &period_type,
			first_rate > 0 ? first_rate : 512 * 1024);
	map = calloc(profile_location_count(gh->locprof) + 1, sizeof(*map));
	for (size_t i = 0; p && map && !rc && i < gh->nentries; i++) {
		const struct entry *e = &gh->entries[i];

		rate = proc_rate(gh, e->pid);
		if (rate < 0) /* not read: the runtime's default */
			rate = 512 * 1024;
		if (e->nlocs)
			rc = add_entry(p, e, rate, map, gh->locprof);
	}
	stacks_get_counts(gh->stacks, &sc);
	pthread_mutex_unlock(&gh->lock);
	free(map);
	if (!p || !map || rc) {
		profile_free(p);
		return NULL;
	}
	probe_sum_percpu_counters(gh->skel->maps.counters, GHC_NCOUNTERS, k);
	profile_count_lost(p, k[GHC_LOST] + sc.lost, sc.truncated);
	clock_gettime(CLOCK_REALTIME, &ts);
	profile_set_time(p, gh->time_ns,
			 gh->time_ns ? (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec - gh->time_ns
				     : 0);
	return p;
}

void go_heap_close(struct go_heap *gh)
{
	if (!gh)
		return;
	probe_links_destroy(&gh->pl);
	ring_buffer__free(gh->rb);
	go_heap_bpf__destroy(gh->skel);
	stacks_free(gh->stacks);
	profile_free(gh->locprof);
	for (size_t i = 0; i < gh->nentries; i++)
		free(gh->entries[i].locs);
	free(gh->entries);
	free(gh->index);
	free(gh->objs);
	free(gh->procs);
	if (gh->go)
		go_symtab_close(gh->go);
	pthread_mutex_destroy(&gh->lock);
	free(gh);
}

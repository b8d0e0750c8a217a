/* rtmon malloc --stacks: allocations and bytes per call stack, and with --live the blocks not freed
 * per stack (memleak's report), as a profile (output/profile.h) written by the stack options.
 *
 * Frame-pointer path: the kernel walks the frames and counts per (process, walk) (bpf/alloc.bpf.c)
 * and announces each new stack once on the ring; its frames are named then, while the process runs,
 * and kept per key; the values are read from the kernel's table at the end. DWARF path: a record
 * per call with the stack copied, unwound and added as it comes (as rtmon profile does); with
 * --live each record's stack is kept by its seq instead (malloc_live_seqs.h), which the live
 * blocks name, and resolved at the report. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "alloc.skel.h"
#include "commands/malloc_run.h"
#include "commands/malloc_live_seqs.h"
#include "stack/stacks.h"

#define LIVE_BATCH 4096

/* A (process, stack) key of the kernel's tables and the locations its frames became. */
struct key_ent {
	struct alloc_stack_key key;
	bool used;    /* the slot holds a key */
	bool located; /* its frames were named (locs may still be empty: the stack was gone) */
	uint32_t nlocs;
	uint32_t *locs;
	/* --live, at the report: the blocks still allocated, their bytes, the oldest's time */
	uint64_t live_count, live_bytes, live_oldest_ns;
};

struct malloc_stacks {
	struct profile *prof;
	struct stacks *stacks;
	struct go_symtab *go;
	struct ring_buffer *rb;
	struct user_stack *us; /* scratch: a stack read from the stack map */
	pid_t *pids; /* the processes whose files were read once they ran (first record) */
	size_t npids, cappids;
	struct key_ent *keys; /* open addressing, a power of two */
	size_t nkeys, capkeys;
	struct live_seqs *seqs; /* --live on the DWARF path: each record's stack by its seq */
	uint64_t *keep;         /* scratch of the prune: the seqs the kernel's tables still name */
	size_t nkeep, capkeep;
	struct live_key *batch_keys; /* scratch of the prune's batch reads (LIVE_BATCH each) */
	struct live_block *batch_vals;
	uint32_t lost_loc; /* the "[stack lost]" frame, made at the first block without a stack */
	int add_failed;
};

static const struct profile_value_type value_types[] = { { "allocations", "count" },
							 { "bytes", "bytes" } };

const struct profile_value_type *malloc_stack_types(size_t *n)
{
	*n = sizeof(value_types) / sizeof(value_types[0]);
	return value_types;
}

static size_t key_slot(const struct alloc_stack_key *k, size_t cap)
{
	uint64_t h = ((uint64_t)k->tgid << 32 | k->walked) * 0x9e3779b97f4a7c15ull;

	h ^= k->id * 0xc2b2ae3d27d4eb4full;
	return (size_t)(h >> 17) & (cap - 1);
}

static bool key_eq(const struct alloc_stack_key *a, const struct alloc_stack_key *b)
{
	return a->tgid == b->tgid && a->walked == b->walked && a->id == b->id;
}

static struct key_ent *key_find(struct malloc_stacks *ms, const struct alloc_stack_key *k)
{
	size_t i;

	if ((ms->nkeys + 1) * 2 > ms->capkeys) {
		size_t cap = ms->capkeys ? ms->capkeys * 2 : 1024;
		struct key_ent *n = calloc(cap, sizeof(*n));

		if (!n)
			return NULL;
		for (size_t j = 0; j < ms->capkeys; j++) {
			if (!ms->keys[j].used)
				continue;
			for (i = key_slot(&ms->keys[j].key, cap); n[i].used;
			     i = (i + 1) & (cap - 1))
				;
			n[i] = ms->keys[j];
		}
		free(ms->keys);
		ms->keys = n;
		ms->capkeys = cap;
	}
	for (i = key_slot(k, ms->capkeys); ms->keys[i].used; i = (i + 1) & (ms->capkeys - 1))
		if (key_eq(&ms->keys[i].key, k))
			return &ms->keys[i];
	ms->keys[i] = (struct key_ent){ .key = *k, .used = true };
	ms->nkeys++;
	return &ms->keys[i];
}

/* The walk of key k (bpf/alloc.h: struct alloc_stack_walk) as a struct user_stack. false: the
 * walk is not in the table (it was full). */
static bool read_walk(struct malloc_run *r, const struct alloc_stack_key *k, struct user_stack *us)
{
	struct alloc_stack_walk w;
	__u32 n;

	if (!k->walked || bpf_map_lookup_elem(bpf_map__fd(r->skel->maps.stack_walks), &k->id, &w))
		return false;
	n = w.nips < USER_STACK_MAX_IPS ? w.nips : USER_STACK_MAX_IPS;
	if (!n)
		return false;
	memcpy(us->ips, w.ips, n * sizeof(w.ips[0]));
	us->nips = n;
	us->flags = USF_IPS | USF_CALLER_ADDED | (w.full ? USF_IPS_FULL : 0);
	us->regs[USER_STACK_REG_IP] = w.ips[0];
	return true;
}

/* Names the frames of key k (once). */
static struct key_ent *locate_key(struct malloc_run *r, const struct alloc_stack_key *k)
{
	struct malloc_stacks *ms = r->ms;
	uint32_t locs[STACKS_MAX_FRAMES];
	struct key_ent *e = key_find(ms, k);
	size_t n;

	if (!e || e->located)
		return e;
	e->located = true;
	if (!read_walk(r, k, ms->us))
		return e;
	n = stacks_locations(ms->stacks, (pid_t)k->tgid, ms->us, NULL, 0, locs);
	if (n && (e->locs = malloc(n * sizeof(*locs)))) {
		memcpy(e->locs, locs, n * sizeof(*locs));
		e->nlocs = (uint32_t)n;
	}
	return e;
}

static int add(struct malloc_stacks *ms, const uint32_t *locs, size_t nlocs, int64_t count,
	       int64_t bytes, __u32 tgid, const int64_t *oldest_ms)
{
	int64_t values[2] = { count, bytes };
	struct profile_label labels[2] = { { .key = "pid", .num = tgid } };
	size_t nlabels = 1;
	int rc;

	if (oldest_ms)
		labels[nlabels++] = (struct profile_label){ .key = "oldest_age",
							    .num = *oldest_ms,
							    .num_unit = "ms" };
	rc = profile_add(ms->prof, locs, nlocs, values, labels, nlabels);
	if (rc == -ENOMEM)
		ms->add_failed = rc;
	return rc;
}

/* A process's first record: it runs its allocator, so its libraries are loaded now (a -- CMD was
 * read at its exec, before the loader). Its files are read again, once. */
static void watch_once(struct malloc_stacks *ms, pid_t pid)
{
	pid_t *n;

	for (size_t i = 0; i < ms->npids; i++)
		if (ms->pids[i] == pid)
			return;
	if (ms->npids == ms->cappids) {
		ms->cappids = ms->cappids ? ms->cappids * 2 : 16;
		if (!(n = realloc(ms->pids, ms->cappids * sizeof(*n))))
			return;
		ms->pids = n;
	}
	ms->pids[ms->npids++] = pid;
	stacks_watch(ms->stacks, pid);
}

static void prune_seqs(struct malloc_run *r);

static int on_stack_rec(void *ctx, void *data, size_t size)
{
	struct malloc_run *r = ctx;
	const struct alloc_stack_rec *rec = data;
	const size_t head = USER_STACK_SIZE_NO_COPY(struct alloc_stack_rec);
	uint32_t locs[STACKS_MAX_FRAMES];
	size_t n;

	if (size == sizeof(struct alloc_stack_key)) { /* the frame-pointer path: a new stack */
		watch_once(r->ms, (pid_t)((const struct alloc_stack_key *)data)->tgid);
		locate_key(r, data);
		return 0;
	}
	if (size < head || ((rec->us.flags & USF_COPY) && size < head + rec->us.copy_len))
		return 0;
	watch_once(r->ms, (pid_t)rec->tgid);
	n = stacks_locations(r->ms->stacks, (pid_t)rec->tgid, &rec->us, NULL, 0, locs);
	if (!n)
		return 0;
	if (!r->ms->seqs) {
		add(r->ms, locs, n, 1, (int64_t)rec->size, rec->tgid, NULL);
		return 0;
	}
	if (live_seqs_add(r->ms->seqs, rec->seq, rec->tgid, locs, n))
		r->ms->add_failed = -ENOMEM;
	else if (live_seqs_prune_due(r->ms->seqs))
		prune_seqs(r);
	return 0;
}

static int keep_seq(struct malloc_stacks *ms, const struct alloc_stack_key *k)
{
	uint64_t *n;

	if (k->walked || !k->id)
		return 0;
	if (ms->nkeep == ms->capkeep) {
		size_t cap = ms->capkeep ? ms->capkeep * 2 : 4096;

		if (!(n = realloc(ms->keep, cap * sizeof(*n))))
			return -ENOMEM;
		ms->keep = n;
		ms->capkeep = cap;
	}
	ms->keep[ms->nkeep++] = k->id;
	return 0;
}

/* The seqs the live blocks name, read in batches (a hash map's batch walk goes bucket by bucket:
 * a block there through the walk is seen, however the table changes meanwhile). */
static int keep_live_blocks(struct malloc_run *r)
{
	struct malloc_stacks *ms = r->ms;
	int fd = bpf_map__fd(r->skel->maps.live_blocks);
	struct live_key token;
	bool first = true;
	__u32 n;
	int rc;

	do {
		n = LIVE_BATCH;
		rc = bpf_map_lookup_batch(fd, first ? NULL : &token, &token, ms->batch_keys,
					  ms->batch_vals, &n, NULL);
		if (rc && errno != ENOENT)
			return -errno;
		first = false;
		for (__u32 i = 0; i < n; i++)
			if (keep_seq(ms, &ms->batch_vals[i].key))
				return -ENOMEM;
	} while (!rc);
	return 0;
}

/* The calls in progress: their record is out, their block not in the table yet (and realloc's old
 * block, taken out at its entry, put back if it fails). */
static int keep_live_calls(struct malloc_run *r)
{
	int fd = bpf_map__fd(r->skel->maps.live_calls);
	__u64 k, next;
	struct live_call c;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &c))
			continue;
		if (keep_seq(r->ms, &c.key) || (c.old_found && keep_seq(r->ms, &c.old_key)))
			return -ENOMEM;
	}
	return 0;
}

/* Drops the seqs of the blocks freed since: those that neither table names. A record younger than
 * a second before the walks is kept whatever they say: its call may have been between the two
 * tables (its return moves it from live_calls to live_blocks) while they were read. Blocks freed
 * meanwhile are dropped at the next prune. When the walk fails nothing is dropped. */
static void prune_seqs(struct malloc_run *r)
{
	struct malloc_stacks *ms = r->ms;
	uint64_t young = loop_now_ns() - 1000000000ULL;

	ms->nkeep = 0;
	if (keep_live_blocks(r) || keep_live_calls(r))
		live_seqs_postpone(ms->seqs);
	else
		live_seqs_prune(ms->seqs, ms->keep, ms->nkeep, live_seq_time_ns(young));
}

int malloc_stacks_open(struct malloc_run *r, char *err, size_t errlen)
{
	struct malloc_stacks *ms = calloc(1, sizeof(*ms));
	char e2[256];

	r->ms = ms;
	if (ms && r->go && go_symtab_open(r->t->exe, &ms->go, e2, sizeof(e2)))
		ms->go = NULL;
	if (ms)
		ms->prof = profile_new(value_types, 2, NULL, 0);
	if (ms && ms->prof)
		ms->stacks = stacks_new(ms->prof, &r->t->image, ms->go);
	if (ms && ms->stacks)
		ms->us = calloc(1, sizeof(*ms->us));
	if (ms && ms->us && r->args->live && r->stack_copy) {
		ms->seqs = live_seqs_new();
		ms->batch_keys = calloc(LIVE_BATCH, sizeof(*ms->batch_keys));
		ms->batch_vals = calloc(LIVE_BATCH, sizeof(*ms->batch_vals));
	}
	if (!ms || !ms->us ||
	    (r->args->live && r->stack_copy && (!ms->seqs || !ms->batch_keys || !ms->batch_vals))) {
		snprintf(err, errlen, "cannot set up the stacks: %s", strerror(ENOMEM));
		return -1;
	}
	ms->rb = ring_buffer__new(bpf_map__fd(r->skel->maps.stack_recs), on_stack_rec, r, NULL);
	if (!ms->rb) {
		snprintf(err, errlen, "cannot set up the ring buffer: %s", strerror(errno));
		return -1;
	}
	/* --budget's calibration hits reserved and discarded records (the DWARF path): the ring
	 * holds them until they are read past, and would be full when the target starts. */
	ring_buffer__consume(ms->rb);
	return 0;
}

void malloc_stacks_watch(struct malloc_run *r)
{
	pid_t pid = target_report_pid(r->t);

	if (r->ms && pid > 0)
		stacks_watch(r->ms->stacks, pid);
}

struct ring_buffer *malloc_stacks_ring(const struct malloc_run *r)
{
	return r->ms ? r->ms->rb : NULL;
}

void malloc_stacks_close(struct malloc_run *r)
{
	struct malloc_stacks *ms = r->ms;

	if (!ms)
		return;
	ring_buffer__free(ms->rb);
	for (size_t i = 0; i < ms->capkeys; i++)
		free(ms->keys[i].locs);
	free(ms->keys);
	live_seqs_free(ms->seqs);
	free(ms->keep);
	free(ms->batch_keys);
	free(ms->batch_vals);
	free(ms->pids);
	free(ms->us);
	stacks_free(ms->stacks);
	profile_free(ms->prof);
	if (ms->go)
		go_symtab_close(ms->go);
	free(ms);
	r->ms = NULL;
}

/* The frame-pointer path without --live: the kernel's counts per key. */
static int add_counted(struct malloc_run *r)
{
	int fd = bpf_map__fd(r->skel->maps.stack_counts);
	struct alloc_stack_key k, next;
	struct alloc_stack_value v;
	struct key_ent *e;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &v) || !v.count)
			continue;
		e = locate_key(r, &k);
		if (!e)
			return -ENOMEM;
		if (!e->nlocs) {
			r->stacks_unnamed += v.count;
			continue;
		}
		add(r->ms, e->locs, e->nlocs, (int64_t)v.count, (int64_t)v.bytes, k.tgid, NULL);
	}
	return 0;
}

/* The entry of a live block without a stack (its record lost in a full ring, or not unwound; a
 * full stack map): a "[stack lost]" frame, so that every block is in the report. */
static struct key_ent *lost_entry(struct malloc_run *r, __u32 tgid)
{
	struct malloc_stacks *ms = r->ms;
	struct alloc_stack_key lost = { .tgid = tgid, .walked = 2 }; /* no kernel key has 2 */
	struct code_line line = { .func = "[stack lost]" };
	struct key_ent *e = key_find(ms, &lost);

	if (!e || e->located)
		return e;
	e->located = true;
	if (!ms->lost_loc)
		ms->lost_loc = profile_location(ms->prof, 0, 0, &line, 1);
	if (ms->lost_loc && (e->locs = malloc(sizeof(*e->locs)))) {
		e->locs[0] = ms->lost_loc;
		e->nlocs = 1;
	}
	return e;
}

static void live_sum(uint64_t *count, uint64_t *bytes, uint64_t *oldest, const struct live_block *b)
{
	if (!*count || b->time_ns < *oldest)
		*oldest = b->time_ns;
	(*count)++;
	*bytes += b->size;
}

/* --live: the blocks still allocated, at least min_age old, per stack: the frame-pointer path's
 * keys, or the DWARF path's stacks by seq. */
static int add_live(struct malloc_run *r)
{
	struct malloc_stacks *ms = r->ms;
	int fd = bpf_map__fd(r->skel->maps.live_blocks);
	uint64_t now = loop_now_ns(), min_age = (uint64_t)(r->args->min_age * 1e9);
	struct live_stack *st, *all = NULL;
	struct live_key k, next;
	struct live_block b;
	struct key_ent *e;
	void *prev = NULL;
	size_t nall = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &b) || now - b.time_ns < min_age)
			continue;
		if (!b.key.walked && ms->seqs && (st = live_seqs_find(ms->seqs, b.key.id))) {
			live_sum(&st->live_count, &st->live_bytes, &st->live_oldest_ns, &b);
			continue;
		}
		e = b.key.walked ? locate_key(r, &b.key) : lost_entry(r, k.tgid);
		if (!e)
			return -ENOMEM;
		if (!b.key.walked)
			r->live_stacks_lost++;
		live_sum(&e->live_count, &e->live_bytes, &e->live_oldest_ns, &b);
	}
	for (size_t i = 0; i < ms->capkeys; i++) {
		struct key_ent *x = &ms->keys[i];
		int64_t age_ms = (int64_t)((now - x->live_oldest_ns) / 1000000);

		if (!x->used || !x->live_count)
			continue;
		if (!x->nlocs) {
			r->stacks_unnamed += x->live_count;
			continue;
		}
		add(ms, x->locs, x->nlocs, (int64_t)x->live_count, (int64_t)x->live_bytes,
		    x->key.tgid, &age_ms);
	}
	if (ms->seqs)
		all = live_seqs_stacks(ms->seqs, &nall);
	for (size_t i = 0; i < nall; i++) {
		int64_t age_ms = (int64_t)((now - all[i].live_oldest_ns) / 1000000);

		if (all[i].live_count)
			add(ms, all[i].locs, all[i].nlocs, (int64_t)all[i].live_count,
			    (int64_t)all[i].live_bytes, all[i].tgid, &age_ms);
	}
	return 0;
}

int malloc_stacks_report(struct malloc_run *r, FILE *out, char *err, size_t errlen)
{
	struct malloc_stacks *ms = r->ms;
	struct stacks_counts sc;
	struct budget_span run;
	int rc = 0;

	ring_buffer__consume(ms->rb);
	if (r->args->live)
		rc = add_live(r);
	else if (!r->stack_copy)
		rc = add_counted(r);
	if (rc || ms->add_failed) {
		snprintf(err, errlen, "out of memory: some stacks are missing");
		return -ENOMEM;
	}
	if (r->budget) {
		double f[2];

		budget_run_span(r->budget, &run);
		/* value_types' order; bytes by their own scale (the runtime's TotalAlloc on Go) */
		f[0] = run.own_scale + run.run_scale;
		f[1] = run.own_scale_bytes + run.run_scale_bytes;
		profile_scale_types(ms->prof, f);
	}
	stacks_get_counts(ms->stacks, &sc);
	r->stacks_lost = sc.lost;
	r->stacks_truncated = sc.truncated;
	profile_count_lost(ms->prof, r->stacks_lost_kernel + sc.lost + r->stacks_unnamed,
			   sc.truncated);
	if (sc.unnamed)
		fprintf(stderr,
			"rtmon malloc: %llu addresses had no symbol (first in %s): shown as "
			"module+0xoffset\n",
			(unsigned long long)sc.unnamed, sc.unnamed_file);
	return stack_output_write(&r->args->so, ms->prof, out, err, errlen);
}

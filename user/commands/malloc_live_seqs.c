/* seq -> stack for rtmon malloc --live --stacks by DWARF unwinding (malloc_live_seqs.h). Two open
 * addressing tables, powers of two at most half full: seqs to stack indexes, and the stacks by
 * their hash (interning). A prune builds the seq table anew from what it keeps. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "commands/malloc_live_seqs.h"

#define PRUNE_MIN 65536

struct seq_ent {
	uint64_t seq; /* 0: free slot (the kernel's seqs are never 0: the clock is past boot) */
	uint32_t stack;
};

struct live_seqs {
	struct seq_ent *seqs;
	size_t nseqs, capseqs;
	size_t prune_at;
	struct live_stack *stacks;
	size_t nstacks, capstacks;
	uint32_t *index; /* stack index + 1 by hash; 0: free */
	size_t capindex;
};

static size_t seq_slot(uint64_t seq, size_t cap)
{
	return (size_t)((seq * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);
}

static uint64_t stack_hash(uint32_t tgid, const uint32_t *locs, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull ^ tgid;

	for (size_t i = 0; i < n; i++)
		h = (h ^ locs[i]) * 0x100000001b3ull;
	return h;
}

struct live_seqs *live_seqs_new(void)
{
	struct live_seqs *ls = calloc(1, sizeof(*ls));

	if (ls)
		ls->prune_at = PRUNE_MIN;
	return ls;
}

void live_seqs_free(struct live_seqs *ls)
{
	if (!ls)
		return;
	for (size_t i = 0; i < ls->nstacks; i++)
		free(ls->stacks[i].locs);
	free(ls->stacks);
	free(ls->index);
	free(ls->seqs);
	free(ls);
}

static void seq_put(struct seq_ent *tab, size_t cap, uint64_t seq, uint32_t stack)
{
	size_t i = seq_slot(seq, cap);

	while (tab[i].seq && tab[i].seq != seq)
		i = (i + 1) & (cap - 1);
	tab[i] = (struct seq_ent){ seq, stack };
}

static int seqs_reserve(struct live_seqs *ls)
{
	size_t cap = ls->capseqs ? ls->capseqs * 2 : 4096;
	struct seq_ent *n;

	if ((ls->nseqs + 1) * 2 <= ls->capseqs)
		return 0;
	if (!(n = calloc(cap, sizeof(*n))))
		return -ENOMEM;
	for (size_t j = 0; j < ls->capseqs; j++)
		if (ls->seqs[j].seq)
			seq_put(n, cap, ls->seqs[j].seq, ls->seqs[j].stack);
	free(ls->seqs);
	ls->seqs = n;
	ls->capseqs = cap;
	return 0;
}

/* The stack's index, interned. -1 on out of memory. */
static long intern(struct live_seqs *ls, uint32_t tgid, const uint32_t *locs, size_t n)
{
	uint64_t h = stack_hash(tgid, locs, n);
	struct live_stack *s;
	size_t i;

	if ((ls->nstacks + 1) * 2 > ls->capindex) {
		size_t cap = ls->capindex ? ls->capindex * 2 : 1024;
		uint32_t *x = calloc(cap, sizeof(*x));

		if (!x)
			return -1;
		for (size_t j = 0; j < ls->nstacks; j++) {
			for (i = ls->stacks[j].hash & (cap - 1); x[i]; i = (i + 1) & (cap - 1))
				;
			x[i] = (uint32_t)j + 1;
		}
		free(ls->index);
		ls->index = x;
		ls->capindex = cap;
	}
	for (i = h & (ls->capindex - 1); ls->index[i]; i = (i + 1) & (ls->capindex - 1)) {
		s = &ls->stacks[ls->index[i] - 1];
		if (s->hash == h && s->tgid == tgid && s->nlocs == n &&
		    !memcmp(s->locs, locs, n * sizeof(*locs)))
			return ls->index[i] - 1;
	}
	if (ls->nstacks == ls->capstacks) {
		size_t cap = ls->capstacks ? ls->capstacks * 2 : 256;
		struct live_stack *ns = realloc(ls->stacks, cap * sizeof(*ns));

		if (!ns)
			return -1;
		ls->stacks = ns;
		ls->capstacks = cap;
	}
	s = &ls->stacks[ls->nstacks];
	*s = (struct live_stack){ .tgid = tgid, .nlocs = (uint32_t)n, .hash = h };
	if (!(s->locs = malloc(n * sizeof(*locs) + 1)))
		return -1;
	memcpy(s->locs, locs, n * sizeof(*locs));
	ls->index[i] = (uint32_t)ls->nstacks + 1;
	return (long)ls->nstacks++;
}

int live_seqs_add(struct live_seqs *ls, uint64_t seq, uint32_t tgid, const uint32_t *locs,
		  size_t nlocs)
{
	long st;

	if (!seq || seqs_reserve(ls) || (st = intern(ls, tgid, locs, nlocs)) < 0)
		return -ENOMEM;
	if (!live_seqs_find(ls, seq))
		ls->nseqs++;
	seq_put(ls->seqs, ls->capseqs, seq, (uint32_t)st);
	return 0;
}

struct live_stack *live_seqs_find(struct live_seqs *ls, uint64_t seq)
{
	size_t i;

	if (!seq || !ls->capseqs)
		return NULL;
	for (i = seq_slot(seq, ls->capseqs); ls->seqs[i].seq; i = (i + 1) & (ls->capseqs - 1))
		if (ls->seqs[i].seq == seq)
			return &ls->stacks[ls->seqs[i].stack];
	return NULL;
}

struct live_stack *live_seqs_stacks(struct live_seqs *ls, size_t *n)
{
	*n = ls->nstacks;
	return ls->stacks;
}

size_t live_seqs_count(const struct live_seqs *ls)
{
	return ls->nseqs;
}

int live_seqs_prune_due(const struct live_seqs *ls)
{
	return ls->nseqs >= ls->prune_at;
}

/* Adds seq to the table being built by a prune, once. */
static int keep_put(struct live_seqs *next, uint64_t seq, uint32_t stack)
{
	size_t i;

	if (seqs_reserve(next))
		return -ENOMEM;
	for (i = seq_slot(seq, next->capseqs); next->seqs[i].seq; i = (i + 1) & (next->capseqs - 1))
		if (next->seqs[i].seq == seq)
			return 0;
	next->seqs[i] = (struct seq_ent){ seq, stack };
	next->nseqs++;
	return 0;
}

void live_seqs_postpone(struct live_seqs *ls)
{
	ls->prune_at = ls->nseqs * 2 > PRUNE_MIN ? ls->nseqs * 2 : PRUNE_MIN;
}

int live_seqs_prune(struct live_seqs *ls, const uint64_t *keep, size_t nkeep, uint64_t young_ns)
{
	struct live_seqs next = { 0 };
	struct live_stack *s;

	for (size_t i = 0; i < ls->capseqs; i++) {
		uint64_t seq = ls->seqs[i].seq;

		if (seq && live_seq_time_ns(seq) >= young_ns &&
		    keep_put(&next, seq, ls->seqs[i].stack))
			goto nomem;
	}
	for (size_t i = 0; i < nkeep; i++) {
		if (!(s = live_seqs_find(ls, keep[i])))
			continue; /* never unwound: the report counts its block as a lost stack */
		if (keep_put(&next, keep[i], (uint32_t)(s - ls->stacks)))
			goto nomem;
	}
	free(ls->seqs);
	ls->seqs = next.seqs;
	ls->nseqs = next.nseqs;
	ls->capseqs = next.capseqs;
	live_seqs_postpone(ls);
	return 0;
nomem:
	free(next.seqs);
	live_seqs_postpone(ls);
	return -ENOMEM;
}

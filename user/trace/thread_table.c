/* TID-keyed open-addressing table: see thread_table.h for why it is built this way. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "trace/thread_table.h"

static void *rec_at(const struct thread_table *t, size_t i)
{
	return t->slots + i * t->esize;
}

static uint32_t tid_at(const struct thread_table *t, size_t i)
{
	uint32_t tid;

	memcpy(&tid, rec_at(t, i), sizeof(tid));
	return tid;
}

/* Fibonacci hashing: consecutive TIDs (the common case) spread over the table. */
static size_t home_slot(const struct thread_table *t, uint32_t tid)
{
	return (tid * 2654435761u) & (t->cap - 1);
}

/* The slot holding tid, or the empty slot that ends its probe chain. */
static size_t find_slot(const struct thread_table *t, uint32_t tid)
{
	size_t i = home_slot(t, tid);

	while (tid_at(t, i) && tid_at(t, i) != tid)
		i = (i + 1) & (t->cap - 1);
	return i;
}

static int grow(struct thread_table *t)
{
	struct thread_table nt = { .esize = t->esize, .cap = t->cap ? t->cap * 2 : 1024 };

	nt.slots = calloc(nt.cap, nt.esize);
	if (!nt.slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (tid_at(t, i))
			memcpy(rec_at(&nt, find_slot(&nt, tid_at(t, i))), rec_at(t, i), t->esize);
	nt.n = t->n;
	free(t->slots);
	*t = nt;
	return 0;
}

int thread_table_put(struct thread_table *t, const void *rec)
{
	uint32_t tid;
	size_t i;

	memcpy(&tid, rec, sizeof(tid));
	if (!tid)
		return -EINVAL;
	if ((t->n + 1) * 2 > t->cap && grow(t))
		return -ENOMEM;
	i = find_slot(t, tid);
	t->n += !tid_at(t, i);
	memcpy(rec_at(t, i), rec, t->esize);
	return 0;
}

void *thread_table_get(struct thread_table *t, uint32_t tid)
{
	size_t i;

	if (!t->cap || !tid)
		return NULL;
	i = find_slot(t, tid);
	return tid_at(t, i) ? rec_at(t, i) : NULL;
}

bool thread_table_take(struct thread_table *t, uint32_t tid, void *out)
{
	static const uint32_t empty;
	size_t i, j;

	if (!t->cap || !tid || !tid_at(t, i = find_slot(t, tid)))
		return false;
	memcpy(out, rec_at(t, i), t->esize);
	/* Backward-shift deletion: walk the rest of the chain (up to the next empty slot) and move
	 * each record that could not be found past the hole at i (its home is not cyclically in (i,
	 * j]) into the hole, which moves the hole to j. */
	for (j = (i + 1) & (t->cap - 1); tid_at(t, j); j = (j + 1) & (t->cap - 1)) {
		size_t home = home_slot(t, tid_at(t, j));

		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			memcpy(rec_at(t, i), rec_at(t, j), t->esize);
			i = j;
		}
	}
	memcpy(rec_at(t, i), &empty, sizeof(empty));
	t->n--;
	return true;
}

void thread_table_free(struct thread_table *t)
{
	free(t->slots);
	*t = THREAD_TABLE_INIT(t->esize);
}

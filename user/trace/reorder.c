/* reorder.c: a binary min-heap on (key, arrival), see reorder.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace/reorder.h"

struct entry_head {
	uint64_t key, seq;
};

static size_t entry_size(const struct reorder *q)
{
	return sizeof(struct entry_head) + ((q->item_size + 7) & ~(size_t)7);
}

static struct entry_head *at(const struct reorder *q, size_t i)
{
	return (struct entry_head *)(q->heap + i * entry_size(q));
}

static int less(const struct entry_head *a, const struct entry_head *b)
{
	return a->key != b->key ? a->key < b->key : a->seq < b->seq;
}

static void swap(struct reorder *q, size_t i, size_t j, void *tmp)
{
	size_t sz = entry_size(q);

	memcpy(tmp, at(q, i), sz);
	memcpy(at(q, i), at(q, j), sz);
	memcpy(at(q, j), tmp, sz);
}

void reorder_init(struct reorder *q, size_t item_size)
{
	memset(q, 0, sizeof(*q));
	q->item_size = item_size;
}

int reorder_push(struct reorder *q, uint64_t key, const void *item)
{
	size_t sz = entry_size(q), i;

	if (q->n + 1 >= q->cap) { /* one spare entry: swap's scratch space */
		size_t cap = q->cap ? 2 * q->cap : 256;
		unsigned char *h = realloc(q->heap, cap * sz);

		if (!h)
			return -ENOMEM;
		q->heap = h;
		q->cap = cap;
	}
	i = q->n++;
	*at(q, i) = (struct entry_head){ .key = key, .seq = q->seq++ };
	memcpy(at(q, i) + 1, item, q->item_size);
	while (i && less(at(q, i), at(q, (i - 1) / 2))) {
		swap(q, i, (i - 1) / 2, at(q, q->cap - 1));
		i = (i - 1) / 2;
	}
	return 0;
}

void reorder_release(struct reorder *q, uint64_t limit, void (*emit)(void *ctx, void *item),
		     void *ctx)
{
	while (q->n && at(q, 0)->key <= limit) {
		void *tmp = at(q, q->cap - 1);
		size_t i = 0;

		emit(ctx, at(q, 0) + 1);
		q->n--;
		if (!q->n)
			break;
		memcpy(at(q, 0), at(q, q->n), entry_size(q));
		for (;;) {
			size_t l = 2 * i + 1, r = l + 1, m = i;

			if (l < q->n && less(at(q, l), at(q, m)))
				m = l;
			if (r < q->n && less(at(q, r), at(q, m)))
				m = r;
			if (m == i)
				break;
			swap(q, i, m, tmp);
			i = m;
		}
	}
}

void reorder_free(struct reorder *q)
{
	free(q->heap);
	memset(q, 0, sizeof(*q));
}

/* reorder.c: a binary min-heap on (key, arrival) of small entries, each naming a slot of an item
 * store with a free list, so that reordering moves 24 bytes, not the items; see reorder.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace/reorder.h"

struct reorder_entry {
	uint64_t key, seq;
	size_t slot;
};

static int less(const struct reorder_entry *a, const struct reorder_entry *b)
{
	return a->key != b->key ? a->key < b->key : a->seq < b->seq;
}

void reorder_init(struct reorder *q, size_t item_size)
{
	memset(q, 0, sizeof(*q));
	q->item_size = item_size;
}

/* Room for one more entry and item: both arrays grow together (cap), free slots are chained. */
static int grow(struct reorder *q)
{
	size_t cap = q->cap ? 2 * q->cap : 256;
	struct reorder_entry *h = realloc(q->heap, cap * sizeof(*h));
	unsigned char *items;
	size_t *free_slots;

	if (!h)
		return -ENOMEM;
	q->heap = h;
	items = realloc(q->items, cap * q->item_size);
	if (!items)
		return -ENOMEM;
	q->items = items;
	free_slots = realloc(q->free_slots, cap * sizeof(*free_slots));
	if (!free_slots)
		return -ENOMEM;
	q->free_slots = free_slots;
	for (size_t s = q->cap; s < cap; s++)
		q->free_slots[q->nfree++] = s;
	q->cap = cap;
	return 0;
}

int reorder_push(struct reorder *q, uint64_t key, const void *item)
{
	struct reorder_entry e = { .key = key, .seq = q->seq++ };
	size_t i;

	if (!q->nfree && grow(q))
		return -ENOMEM;
	e.slot = q->free_slots[--q->nfree];
	memcpy(q->items + e.slot * q->item_size, item, q->item_size);
	for (i = q->n++; i && less(&e, &q->heap[(i - 1) / 2]); i = (i - 1) / 2)
		q->heap[i] = q->heap[(i - 1) / 2];
	q->heap[i] = e;
	return 0;
}

void reorder_release(struct reorder *q, uint64_t limit, void (*emit)(void *ctx, void *item),
		     void *ctx)
{
	while (q->n && q->heap[0].key <= limit) {
		size_t slot = q->heap[0].slot, i = 0;
		struct reorder_entry last = q->heap[--q->n];

		emit(ctx, q->items + slot * q->item_size);
		q->free_slots[q->nfree++] = slot;
		/* Sift the last entry down from the root. */
		for (;;) {
			size_t c = 2 * i + 1;

			if (c >= q->n)
				break;
			if (c + 1 < q->n && less(&q->heap[c + 1], &q->heap[c]))
				c++;
			if (!less(&q->heap[c], &last))
				break;
			q->heap[i] = q->heap[c];
			i = c;
		}
		if (q->n)
			q->heap[i] = last;
	}
}

void reorder_free(struct reorder *q)
{
	free(q->heap);
	free(q->items);
	free(q->free_slots);
	memset(q, 0, sizeof(*q));
}

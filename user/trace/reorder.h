/* Records from several ring buffers put back in time order: each ring is in the order its records
 * were committed, but a drain reads one ring after the other, and a record may be committed a
 * while after the time it carries. Records wait here until their time is older than a window, then
 * go out oldest first (equal times in arrival order). */
#ifndef RTMON_REORDER_H
#define RTMON_REORDER_H

#include <stddef.h>
#include <stdint.h>

struct reorder_entry;

struct reorder {
	size_t item_size;
	size_t n, cap; /* entries in the heap; room for entries and items */
	uint64_t seq;
	struct reorder_entry *heap;
	unsigned char *items; /* cap items */
	size_t *free_slots;   /* nfree of them */
	size_t nfree;
};

void reorder_init(struct reorder *q, size_t item_size);
/* Copies item in with its time key. 0, or -ENOMEM (the caller emits it at once). */
int reorder_push(struct reorder *q, uint64_t key, const void *item);
/* Calls emit for every item whose key is <= limit (UINT64_MAX: all), in key order. */
void reorder_release(struct reorder *q, uint64_t limit, void (*emit)(void *ctx, void *item),
		     void *ctx);
void reorder_free(struct reorder *q);

#endif

#include <errno.h>
#include <stdlib.h>
#include "output/id_table.h"

uint64_t id_hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ULL;
	}
	return h;
}

uint64_t id_hash_u64(uint64_t h, uint64_t v)
{
	return id_hash_bytes(h, &v, sizeof(v));
}

uint32_t id_table_find(const struct id_table *t, uint64_t hash, id_table_eq eq, const void *ctx)
{
	if (!t->cap)
		return 0;
	for (size_t i = hash & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		if (!t->slots[i])
			return 0;
		if (t->hashes[i] == hash && eq(ctx, t->slots[i]))
			return t->slots[i];
	}
}

static void put(uint32_t *slots, uint64_t *hashes, size_t cap, uint64_t hash, uint32_t id)
{
	size_t i = hash & (cap - 1);

	while (slots[i])
		i = (i + 1) & (cap - 1);
	slots[i] = id;
	hashes[i] = hash;
}

/* Kept at most half full, so that a lookup ends at an empty slot soon. */
static int grow(struct id_table *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	uint32_t *slots = calloc(cap, sizeof(*slots));
	uint64_t *hashes = calloc(cap, sizeof(*hashes));

	if (!slots || !hashes) {
		free(slots);
		free(hashes);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i])
			put(slots, hashes, cap, t->hashes[i], t->slots[i]);
	free(t->slots);
	free(t->hashes);
	t->slots = slots;
	t->hashes = hashes;
	t->cap = cap;
	return 0;
}

int id_table_insert(struct id_table *t, uint64_t hash, uint32_t id)
{
	if ((t->used + 1) * 2 > t->cap && grow(t))
		return -ENOMEM;
	put(t->slots, t->hashes, t->cap, hash, id);
	t->used++;
	return 0;
}

void id_table_free(struct id_table *t)
{
	free(t->slots);
	free(t->hashes);
	*t = (struct id_table){ 0 };
}

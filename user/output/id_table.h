/* A hash set of ids (> 0) whose keys live elsewhere: the profile's tables (strings, mappings,
 * functions, locations, samples) keep their entries in arrays and find one again through this, by
 * a hash the caller computes and an equality test it passes. Open addressing, linear probing. */
#ifndef RTMON_ID_TABLE_H
#define RTMON_ID_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct id_table {
	uint32_t *slots; /* 0 = empty */
	uint64_t *hashes;
	size_t cap; /* a power of two, or 0 */
	size_t used;
};

/* eq(ctx, id): whether the entry id is the key being looked up. */
typedef bool (*id_table_eq)(const void *ctx, uint32_t id);

/* The id whose key has this hash and passes eq, or 0. */
uint32_t id_table_find(const struct id_table *t, uint64_t hash, id_table_eq eq, const void *ctx);
/* Adds id (not there yet) under hash. 0, or -ENOMEM. */
int id_table_insert(struct id_table *t, uint64_t hash, uint32_t id);
void id_table_free(struct id_table *t);

/* FNV-1a, for the callers' hashes: bytes, then a 64-bit number, into a running hash. */
#define ID_HASH_SEED 14695981039346656037ULL
uint64_t id_hash_bytes(uint64_t h, const void *p, size_t n);
uint64_t id_hash_u64(uint64_t h, uint64_t v);

#endif

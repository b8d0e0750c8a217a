/* A hash table of per-thread records keyed by TID, for joining a thread's exit event with what was
 * recorded at its creation. The record type is the caller's: every record starts with its uint32_t
 * TID, and the table copies whole records of the size given to THREAD_TABLE_INIT. */
#ifndef RTMON_THREAD_TABLE_H
#define RTMON_THREAD_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Open addressing with linear probing: one flat array, no allocation per thread, and a lookup
 * touches a few adjacent records, which matters when a target creates threads at a high rate. TID 0
 * marks an empty slot (no thread of a target has TID 0, so it cannot be stored). The table grows
 * (doubling) before it is half full, which keeps probe chains short. Deletion shifts later records
 * of the chain back into the hole instead of leaving tombstones, so lookups never scan dead slots
 * and a take never breaks the chain of a record stored past it. */
struct thread_table {
	unsigned char *slots; /* cap records of esize bytes; NULL until the first put */
	size_t esize;         /* bytes per record; the record starts with its uint32_t tid */
	size_t cap;           /* a power of two, or 0 */
	size_t n;             /* records stored */
};

/* An empty table of records of esize bytes (esize >= sizeof(uint32_t)). */
#define THREAD_TABLE_INIT(esize_) ((struct thread_table){ .esize = (esize_) })

/* Stores a copy of *rec under its tid, replacing a record with the same tid. 0, -EINVAL for tid 0,
 * or -ENOMEM (the table is unchanged). */
int thread_table_put(struct thread_table *t, const void *rec);

/* The record stored under tid, to read or change in place (not its tid); valid until the next put
 * or take. NULL when absent. */
void *thread_table_get(struct thread_table *t, uint32_t tid);

/* Removes the record of tid, copying it into *out; false when absent. */
bool thread_table_take(struct thread_table *t, uint32_t tid, void *out);

/* Frees the slots; the table is empty again and can be reused. */
void thread_table_free(struct thread_table *t);

#endif

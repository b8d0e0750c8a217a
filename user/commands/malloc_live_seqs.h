/* rtmon malloc --live --stacks by DWARF unwinding: each allocating call's record (bpf/alloc.h:
 * struct alloc_stack_rec) is unwound as it comes, but the report needs the stacks of the blocks
 * still allocated at the end. A live block names its record by seq (its alloc_stack_key.id), so
 * this table keeps seq -> stack for the records unwound, the stacks interned (one copy of each
 * distinct stack, a 16-byte entry per seq). The seqs of freed blocks are dropped by a prune that
 * the caller runs with the seqs still referenced (the kernel's live tables), so that memory follows
 * the blocks outstanding, not the calls made. */
#ifndef RTMON_MALLOC_LIVE_SEQS_H
#define RTMON_MALLOC_LIVE_SEQS_H

#include <stddef.h>
#include <stdint.h>

struct live_seqs;

/* One distinct stack: its process and locations (profile ids, innermost first), and what the
 * report sums on it. */
struct live_stack {
	uint32_t tgid;
	uint32_t nlocs;
	uint32_t *locs;
	uint64_t hash;
	uint64_t live_count, live_bytes, live_oldest_ns;
};

struct live_seqs *live_seqs_new(void);
void live_seqs_free(struct live_seqs *ls);

/* Record seq's stack. 0 or -ENOMEM. */
int live_seqs_add(struct live_seqs *ls, uint64_t seq, uint32_t tgid, const uint32_t *locs,
		  size_t nlocs);
/* seq's stack, or NULL when its record was not unwound (lost in the ring, or no frame). */
struct live_stack *live_seqs_find(struct live_seqs *ls, uint64_t seq);
/* The distinct stacks, for the report's sums (index 0 to *n - 1). */
struct live_stack *live_seqs_stacks(struct live_seqs *ls, size_t *n);

/* How many seqs are held, and whether the table has grown enough since the last prune that one is
 * due (twice what the last prune kept, at least 65536): the prune's walk of the kernel's table is
 * then paid for by as many new records. */
size_t live_seqs_count(const struct live_seqs *ls);
int live_seqs_prune_due(const struct live_seqs *ls);

/* Keeps the seqs in keep[0..nkeep) and those whose record was taken at or after young_ns (the
 * seq's clock, bpf/alloc.bpf.c: stack_seq: a call whose block was not in the tables yet when they
 * were read); drops the others. 0 or -ENOMEM (then nothing is dropped). */
int live_seqs_prune(struct live_seqs *ls, const uint64_t *keep, size_t nkeep, uint64_t young_ns);
/* The kernel's tables could not be read: the next prune when the table has doubled, not at every
 * record. */
void live_seqs_postpone(struct live_seqs *ls);

/* The clock part of a seq (CLOCK_MONOTONIC ns, mod 2^52). */
static inline uint64_t live_seq_time_ns(uint64_t seq)
{
	return seq & ((1ULL << 52) - 1);
}

#endif

/* The stack layer's front: captured user stacks (bpf/user_stack.h) of the target's processes made
 * into the frames of a profile (output/profile.h). Per process: the copy is unwound with DWARF CFI
 * (stack/unwind.h) or the frame-pointer walk is taken as it is; each address is symbolized once
 * (cached per process): its module from /proc/PID/maps with the module's build id, the function
 * from the ELF symbols (binary/symbolize.h) or, in a Go executable, from its function table
 * (go_func_name_at), the file and line from DWARF line tables through libdw where the file has
 * them. A frame nothing names is kept as an unnamed location in its module (module+0xoffset). */
#ifndef RTMON_STACKS_H
#define RTMON_STACKS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "output/profile.h"
#include "proc/image.h"
#include "user_stack.h"

struct stacks;
struct go_symtab;

/* prof: filled by stacks_add. img: the target's files (may be NULL). go: the function table of a
 * Go executable (may be NULL), used for addresses in the process's executable. Both stay owned by
 * the caller. NULL on out of memory. */
struct stacks *stacks_new(struct profile *prof, const struct image *img, struct go_symtab *go);
void stacks_free(struct stacks *s);

/* Adds one sample of process pid: kernel frames kips (innermost first, nkips may be 0) on top of
 * the user stack us, with the values and labels profile_add takes. Call it while the process runs
 * (its maps are read then). 0, or -ENOMEM. */
int stacks_add(struct stacks *s, pid_t pid, const struct user_stack *us, const uint64_t *kips,
	       size_t nkips, const int64_t *values, const struct profile_label *labels,
	       size_t nlabels);

struct stacks_counts {
	uint64_t lost;          /* stacks not read (copy or walk failed, no unwinder): leaf only */
	uint64_t truncated;     /* stacks cut: frame limit, end of the copy, a module without CFI */
	uint64_t unnamed;       /* distinct addresses no symbol names (module+0xoffset) */
	char unnamed_file[256]; /* the first file that had one */
};
void stacks_get_counts(const struct stacks *s, struct stacks_counts *c);

#endif

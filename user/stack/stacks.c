#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <elfutils/libdwfl.h>
#include "binary/symbolize.h"
#include "runtime/go/goelf.h"
#include "stack/kernel_syms.h"
#include "stack/stack_proc.h"
#include "stack/stacks.h"
#include "stack/unwind.h"

#define MAX_FRAMES (USER_STACK_MAX_IPS + 64)

/* An address of one process and the profile location it became. */
struct loc_ent {
	uint64_t addr; /* 0: free slot */
	uint32_t loc;
};

struct proc_ent {
	struct stack_proc *sp;
	struct loc_ent *locs; /* open addressing, a power of two */
	size_t nlocs, caplocs;
};

struct stacks {
	struct profile *prof;
	struct symbolizer *sym;
	struct go_symtab *go;
	struct kernel_syms *ksyms;
	bool ksyms_tried;
	struct proc_ent *procs;
	size_t nprocs, capprocs;
	struct stacks_counts counts;
};

struct stacks *stacks_new(struct profile *prof, const struct image *img, struct go_symtab *go)
{
	struct stacks *s = calloc(1, sizeof(*s));

	if (!s || !(s->sym = symbolizer_new(img))) {
		free(s);
		return NULL;
	}
	s->prof = prof;
	s->go = go;
	return s;
}

void stacks_free(struct stacks *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nprocs; i++) {
		stack_proc_free(s->procs[i].sp);
		free(s->procs[i].locs);
	}
	free(s->procs);
	kernel_syms_free(s->ksyms);
	symbolizer_free(s->sym);
	free(s);
}

void stacks_get_counts(const struct stacks *s, struct stacks_counts *c)
{
	*c = s->counts;
}

/* A process seen for the first time is read at once, while it runs. NULL: gone before its first
 * sample could be read (its frames then stay unnamed addresses) or out of memory. */
static struct proc_ent *proc_for(struct stacks *s, pid_t pid)
{
	struct proc_ent *e;

	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i].sp->pid == pid)
			return &s->procs[i];
	if (s->nprocs == s->capprocs) {
		size_t c = s->capprocs ? s->capprocs * 2 : 8;
		struct proc_ent *n = realloc(s->procs, c * sizeof(*n));

		if (!n)
			return NULL;
		s->procs = n;
		s->capprocs = c;
	}
	e = &s->procs[s->nprocs];
	memset(e, 0, sizeof(*e));
	if (!(e->sp = stack_proc_new(pid)))
		return NULL;
	s->nprocs++;
	return e;
}

static size_t slot(const struct proc_ent *e, uint64_t addr)
{
	return (size_t)((addr * 0x9e3779b97f4a7c15ull) >> 20) & (e->caplocs - 1);
}

static uint32_t cached(const struct proc_ent *e, uint64_t addr)
{
	if (!e->caplocs)
		return 0;
	for (size_t i = slot(e, addr);; i = (i + 1) & (e->caplocs - 1)) {
		if (e->locs[i].addr == addr)
			return e->locs[i].loc;
		if (!e->locs[i].addr)
			return 0;
	}
}

static int cache_put(struct proc_ent *e, uint64_t addr, uint32_t loc)
{
	if ((e->nlocs + 1) * 2 > e->caplocs) {
		struct proc_ent grown = *e;

		grown.caplocs = e->caplocs ? e->caplocs * 2 : 1024;
		grown.nlocs = 0;
		if (!(grown.locs = calloc(grown.caplocs, sizeof(*grown.locs))))
			return -ENOMEM;
		for (size_t i = 0; i < e->caplocs; i++)
			if (e->locs[i].addr)
				cache_put(&grown, e->locs[i].addr, e->locs[i].loc);
		free(e->locs);
		*e = grown;
	}
	for (size_t i = slot(e, addr);; i = (i + 1) & (e->caplocs - 1)) {
		if (!e->locs[i].addr) {
			e->locs[i] = (struct loc_ent){ addr, loc };
			e->nlocs++;
			return 0;
		}
	}
}

static void build_id_hex(Dwfl_Module *mod, char *out, size_t len)
{
	const unsigned char *bits;
	GElf_Addr vaddr;
	int n = mod ? dwfl_module_build_id(mod, &bits, &vaddr) : 0;

	out[0] = '\0';
	for (int i = 0; i < n && (size_t)(2 * i + 2) < len; i++)
		snprintf(out + 2 * i, 3, "%02x", bits[i]);
}

/* The function at addr of mapping m: Go's table in a Go executable, else the ELF symbols. */
static bool func_name(struct stacks *s, const struct stack_proc *sp, const struct maps_line *m,
		      Dwfl_Module *mod, uint64_t addr, char *out, size_t len)
{
	Dwarf_Addr bias;

	if (s->go && stack_proc_is_exe(sp, m) && mod && dwfl_module_getelf(mod, &bias)) {
		const char *name = go_func_name_at(s->go, addr - bias);

		snprintf(out, len, "%s", name ? name : "");
		return name != NULL;
	}
	return symbolize_func(s->sym, sp->pid, m->kdev, m->ino, addr - m->start + m->pgoff, out,
			      len) == 0;
}

static uint32_t symbolize(struct stacks *s, struct proc_ent *e, uint64_t addr)
{
	const struct maps_line *m = stack_proc_mapping(e->sp, addr);
	struct code_line line = { 0 };
	char func[512], build_id[128];
	uint32_t mapping;
	Dwfl_Module *mod;
	Dwfl_Line *dl;
	int lineno;

	/* Not mapped when the maps were read: a library loaded since, or the exec of a -- CMD. */
	if (!m && !stack_proc_refresh(e->sp))
		m = stack_proc_mapping(e->sp, addr);
	if (!m)
		return profile_location(s->prof, 0, addr, NULL, 0);
	mod = dwfl_addrmodule(e->sp->dwfl, addr);
	build_id_hex(mod, build_id, sizeof(build_id));
	mapping = profile_mapping(s->prof, m->start, m->end, m->pgoff, m->path,
				  build_id[0] ? build_id : NULL);
	if (!mapping)
		return 0;
	if (func_name(s, e->sp, m, mod, addr, func, sizeof(func)))
		line.func = func;
	else if (s->counts.unnamed++ == 0)
		snprintf(s->counts.unnamed_file, sizeof(s->counts.unnamed_file), "%s", m->path);
	if (mod && (dl = dwfl_module_getsrc(mod, addr)) &&
	    (line.file = dwfl_lineinfo(dl, NULL, &lineno, NULL, NULL, NULL)))
		line.line = lineno > 0 ? (uint32_t)lineno : 0;
	return profile_location(s->prof, mapping, addr, &line, line.func || line.file ? 1 : 0);
}

/* pc: the interrupted instruction (first) or a return address, looked up at the call before it,
 * so that the frame names the call's function and line. */
static uint32_t user_location(struct stacks *s, struct proc_ent *e, uint64_t pc, bool first)
{
	uint64_t addr = first || !pc ? pc : pc - 1;
	uint32_t loc;

	if (!addr)
		return 0;
	if (!e)
		return profile_location(s->prof, 0, addr, NULL, 0);
	if ((loc = cached(e, addr)))
		return loc;
	loc = symbolize(s, e, addr);
	if (loc && cache_put(e, addr, loc))
		return 0;
	return loc;
}

static uint32_t kernel_location(struct stacks *s, uint64_t pc)
{
	struct code_line line = { 0 };

	if (!s->ksyms_tried) {
		s->ksyms = kernel_syms_load();
		s->ksyms_tried = true;
	}
	line.func = s->ksyms ? kernel_syms_name(s->ksyms, pc) : NULL;
	return profile_location(s->prof, 0, pc, &line, line.func ? 1 : 0);
}

/* The user frames of us, innermost first. */
static size_t user_pcs(struct stacks *s, struct proc_ent *e, const struct user_stack *us,
		       uint64_t *pcs, size_t max)
{
	size_t n = 0;

	if (us->flags & (USF_COPY_FAILED | USF_WALK_FAILED)) {
		s->counts.lost++;
	} else if (us->flags & USF_IPS) {
		n = us->nips < max ? us->nips : max;
		memcpy(pcs, us->ips, n * sizeof(*pcs));
		if (us->flags & USF_IPS_FULL)
			s->counts.truncated++;
	} else if (us->flags & USF_COPY) {
		switch (e ? unwind_dwarf(e->sp, us, pcs, max, &n) : UNWIND_UNAVAILABLE) {
		case UNWIND_COMPLETE:
			break;
		case UNWIND_CUT:
		case UNWIND_FULL:
			s->counts.truncated++;
			break;
		case UNWIND_UNAVAILABLE:
			s->counts.lost++;
			break;
		}
	}
	if (!n) { /* the interrupted instruction at least: the time is not dropped */
		pcs[0] = us->regs[USER_STACK_REG_IP];
		n = 1;
	}
	return n;
}

int stacks_add(struct stacks *s, pid_t pid, const struct user_stack *us, const uint64_t *kips,
	       size_t nkips, const int64_t *values, const struct profile_label *labels,
	       size_t nlabels)
{
	uint64_t pcs[MAX_FRAMES];
	uint32_t locs[MAX_FRAMES];
	struct proc_ent *e = proc_for(s, pid);
	size_t nlocs = 0, npcs;

	for (size_t i = 0; i < nkips && nlocs < MAX_FRAMES; i++)
		if ((locs[nlocs] = kernel_location(s, kips[i])))
			nlocs++;
	npcs = user_pcs(s, e, us, pcs, MAX_FRAMES - nlocs);
	for (size_t i = 0; i < npcs; i++)
		if ((locs[nlocs] = user_location(s, e, pcs[i], i == 0)))
			nlocs++;
	return profile_add(s->prof, locs, nlocs, values, labels, nlabels);
}

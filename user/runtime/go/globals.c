/* globals.c - where the runtime's globals are: .symtab when the binary has it, else read from the
 * instructions of runtime functions that use them (a stripped binary keeps its code and
 * .gopclntab, so the functions are found by name). Each way is checked against the other on
 * unstripped builds of every supported Go release (tests/unit/test_go_inspect.c). */
#include <errno.h>
#include <string.h>

#include "runtime/go/goelf_int.h"
#include "runtime/go/goinspect.h"
#include "runtime/go/heap_sites.h"

/* A link-time address in a writable segment (the runtime's variables, not its constants). */
static bool writable(const struct goelf *ge, uint64_t vaddr)
{
	for (size_t i = 0; i < ge->nsegs; i++)
		if ((ge->segs[i].flags & PF_W) && vaddr >= ge->segs[i].vaddr &&
		    vaddr < ge->segs[i].vaddr + ge->segs[i].memsz)
			return true;
	return false;
}

/* The address the RIP-relative memory operand of the walk's instruction names, or 0. */
static uint64_t rip_target(const struct go_code_walk *w)
{
	const cs_x86 *x = &w->insn->detail->x86;

	for (int i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_MEM && x->operands[i].mem.base == X86_REG_RIP)
			return w->insn->address + w->insn->size + (uint64_t)x->operands[i].mem.disp;
	return 0;
}

static int from_forEachG(struct go_symtab *st, struct go_globals *out, char *err, size_t errlen)
{
	struct go_code_walk w;
	int rc = go_code_walk_open(&w, st, "runtime.forEachG", err, errlen);

	if (rc)
		return rc;
	while (!out->allgs && go_code_walk_next(&w)) {
		uint64_t t = rip_target(&w);

		if (w.insn->id == X86_INS_MOV && t && writable(&st->ge, t))
			out->allgs = t;
	}
	go_code_walk_close(&w);
	if (!out->allgs) {
		goelf_err(err, errlen, "%s: no load of runtime.allgs found in runtime.forEachG",
			  st->path);
		return -ENOENT;
	}
	return 0;
}

static int from_goroutineheader(struct go_symtab *st, struct go_globals *out, char *err,
				size_t errlen)
{
	struct go_code_walk w;
	int64_t bound = -1, cmp_imm = -1;
	int rc = go_code_walk_open(&w, st, "runtime.goroutineheader", err, errlen);

	if (rc)
		return rc;
	while (!out->wait_reason_strings && go_code_walk_next(&w)) {
		const cs_x86 *x = &w.insn->detail->x86;
		uint64_t t = rip_target(&w);

		/* A bounds check: cmp index, len then jb (in range) or jae (out of range). */
		if ((w.insn->id == X86_INS_JB || w.insn->id == X86_INS_JAE) && cmp_imm >= 0)
			bound = cmp_imm;
		cmp_imm = -1;
		if (w.insn->id == X86_INS_CMP && x->op_count == 2 &&
		    x->operands[1].type == X86_OP_IMM)
			cmp_imm = x->operands[1].imm;
		if (w.insn->id != X86_INS_LEA || !t || !writable(&st->ge, t))
			continue;
		if (bound <= 0 || bound > 1024)
			break;
		if (!out->gstatus_strings) {
			out->gstatus_strings = t;
			out->ngstatus = (int)bound;
		} else {
			out->wait_reason_strings = t;
			out->nwait_reasons = (int)bound;
		}
		bound = -1;
	}
	go_code_walk_close(&w);
	if (!out->wait_reason_strings) {
		goelf_err(err, errlen,
			  "%s: runtime.goroutineheader does not take the addresses of "
			  "gStatusStrings and waitReasonStrings as rtmon expects",
			  st->path);
		return -ENOENT;
	}
	return 0;
}

int go_globals_from_code(struct go_symtab *st, struct go_globals *out, char *err, size_t errlen)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = from_forEachG(st, out, err, errlen);
	return rc ? rc : from_goroutineheader(st, out, err, errlen);
}

/* A variable's address from .symtab; 0 if absent. Variables in .bss have no file offset, which
 * objfile_find_object reports with an error after filling vaddr: the address is all we need. */
static uint64_t symtab_var(struct go_symtab *st, const char *name, uint64_t *size)
{
	struct objfile_sym sym = { 0 };

	if (objfile_find_object(&st->ge.of, name, &sym) && !sym.vaddr)
		return 0;
	if (size)
		*size = sym.size;
	return sym.vaddr;
}

int go_globals_find(struct go_symtab *st, struct go_globals *out, char *err, size_t errlen)
{
	uint64_t ns = 0, nw = 0;

	memset(out, 0, sizeof(*out));
	if (st->ge.of.has_symtab) {
		out->allgs = symtab_var(st, "runtime.allgs", NULL);
		out->gstatus_strings = symtab_var(st, "runtime.gStatusStrings", &ns);
		out->wait_reason_strings = symtab_var(st, "runtime.waitReasonStrings", &nw);
		out->ngstatus = (int)(ns / 16);
		out->nwait_reasons = (int)(nw / 16);
		if (out->allgs && out->gstatus_strings && out->wait_reason_strings) {
			out->from_symtab = true;
			return 0;
		}
	}
	return go_globals_from_code(st, out, err, errlen);
}

/* The address loaded into RAX (lea rax, [rip+X]) just before a call, in fn, to a function whose
 * name starts with callee: a method's receiver. 0 if none. */
static uint64_t receiver_of_call(struct go_symtab *st, const char *fn, const char *callee)
{
	struct go_code_walk w;
	uint64_t rax = 0, found = 0;
	char err[256];

	if (go_code_walk_open(&w, st, fn, err, sizeof(err)))
		return 0;
	while (!found && go_code_walk_next(&w)) {
		const cs_x86 *x = &w.insn->detail->x86;
		uint64_t t = rip_target(&w);

		if (w.insn->id == X86_INS_CALL && rax && x->op_count == 1 &&
		    x->operands[0].type == X86_OP_IMM) {
			const char *name = go_func_name_at(st, (uint64_t)x->operands[0].imm);

			if (name && !strncmp(name, callee, strlen(callee)))
				found = rax;
		}
		rax = 0;
		if (w.insn->id == X86_INS_LEA && t && writable(&st->ge, t) && x->op_count == 2 &&
		    x->operands[0].type == X86_OP_REG && x->operands[0].reg == X86_REG_RAX)
			rax = t;
	}
	go_code_walk_close(&w);
	return found;
}

/* The first load (mov) from writable data in fn, or 0. */
static uint64_t first_load(struct go_symtab *st, const char *fn)
{
	struct go_code_walk w;
	uint64_t found = 0;
	char err[256];

	if (go_code_walk_open(&w, st, fn, err, sizeof(err)))
		return 0;
	while (!found && go_code_walk_next(&w)) {
		uint64_t t = rip_target(&w);

		if (w.insn->id == X86_INS_MOV && t && writable(&st->ge, t))
			found = t;
	}
	go_code_walk_close(&w);
	return found;
}

int go_work_cycles_find(struct go_symtab *st, uint64_t *vaddr)
{
	if (!go_func_rip_load(st, "runtime.GC", 4, vaddr))
		return 0;
	return go_func_last_rip_increment(st, "runtime.gcStart", vaddr);
}

int go_mem_globals_from_code(struct go_symtab *st, const struct go_layout *lay,
			     struct go_mem_globals *out, char *err, size_t errlen)
{
	uint64_t cycles;
	uint64_t hs =
		receiver_of_call(st, "runtime.(*mcache).refill", "runtime.(*consistentHeapStats).");

	memset(out, 0, sizeof(*out));
	if (hs && lay->off[GF_MS_HEAPSTATS] >= 0)
		out->memstats = hs - (uint64_t)lay->off[GF_MS_HEAPSTATS];
	out->gc_controller =
		receiver_of_call(st, "runtime.findRunnable", "runtime.(*gcControllerState).");
	if (!out->gc_controller)
		out->gc_controller =
			receiver_of_call(st, "runtime.schedule", "runtime.(*gcControllerState).");
	out->mheap = receiver_of_call(st, "runtime.allocmcache.func1", "runtime.lock");
	out->allp = first_load(st, "runtime.gcMarkTinyAllocs");
	if (lay->off[GF_WORK_CYCLES] >= 0 && !go_work_cycles_find(st, &cycles))
		out->work = cycles - (uint64_t)lay->off[GF_WORK_CYCLES];
	if (!out->memstats || !out->gc_controller || !out->mheap || !out->allp) {
		goelf_err(err, errlen,
			  "%s: the runtime's memory statistics were not found in its code "
			  "(memstats %s, gcController %s, mheap_ %s, allp %s)",
			  st->path, out->memstats ? "found" : "not found",
			  out->gc_controller ? "found" : "not found",
			  out->mheap ? "found" : "not found", out->allp ? "found" : "not found");
		return -ENOENT;
	}
	return 0;
}

int go_mem_globals_find(struct go_symtab *st, const struct go_layout *lay,
			struct go_mem_globals *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (st->ge.of.has_symtab) {
		out->memstats = symtab_var(st, "runtime.memstats", NULL);
		out->gc_controller = symtab_var(st, "runtime.gcController", NULL);
		out->mheap = symtab_var(st, "runtime.mheap_", NULL);
		out->allp = symtab_var(st, "runtime.allp", NULL);
		out->work = symtab_var(st, "runtime.work", NULL);
		out->allm = symtab_var(st, "runtime.allm", NULL);
		out->ncgocall = symtab_var(st, "runtime.ncgocall", NULL);
		out->ncpu = symtab_var(st, "runtime.ncpu", NULL);
		if (!out->ncpu) /* Go 1.26 */
			out->ncpu = symtab_var(st, "runtime.numCPUStartup", NULL);
		if (out->memstats && out->gc_controller && out->mheap && out->allp) {
			out->from_symtab = true;
			return 0;
		}
	}
	return go_mem_globals_from_code(st, lay, out, err, errlen);
}

/* The second variable runtime.profilealloc loads 8 bytes of (the header says why that is
 * MemProfileRate). */
int go_memprofilerate_from_code(struct go_symtab *st, uint64_t *vaddr)
{
	struct go_code_walk w;
	uint64_t first = 0, found = 0;

	if (go_code_walk_open(&w, st, "runtime.profilealloc", NULL, 0))
		return -ENOENT;
	while (!found && go_code_walk_next(&w)) {
		const cs_x86 *x = &w.insn->detail->x86;
		uint64_t t = rip_target(&w);

		if (w.insn->id == X86_INS_CALL)
			break;
		if (w.insn->id != X86_INS_MOV || !t || !writable(&st->ge, t) || x->op_count != 2 ||
		    x->operands[0].type != X86_OP_REG || x->operands[1].size != 8)
			continue;
		if (!first)
			first = t;
		else if (t != first)
			found = t;
	}
	go_code_walk_close(&w);
	*vaddr = found;
	return found ? 0 : -ENOENT;
}

/* ret_sites.c - uprobe sites inside a Go function (x86-64), found by decoding its
 * bytes with capstone:
 *  - every RET, for "return" probes (uretprobes crash Go programs: the
 *    runtime's stack copying and unwinding meet the rewritten return address);
 *  - the first instruction after the stack-check prologue, so that an entry
 *    probe does not fire again when morestack grows the stack and re-runs
 *    the function from its entry.
 * Prologues recognised (Go >= 1.17 keeps g in R14; stackguard0 is g+0x10,
 * stackguard1 g+0x18):
 *    cmp rsp, [r14+0x10]; jbe L                       small frames
 *    lea r12, [rsp-N]; cmp r12, [r14+0x10]; jbe L     frames > StackSmall
 *    mov r12, rsp; sub r12, N; jb L; cmp r12, [r14+0x10]; jbe L   huge frames
 * and the pre-1.17 forms that first load g with mov rcx, fs:[-8]. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "binary/disasm.h"
#include "runtime/go/goelf_int.h"

/* The function's bytes: pointer into the mapping, length, entry, file offset. The offset is where
 * the decoded bytes are (code - map), so that it names the bytes decoded even where PT_LOAD
 * segments overlap. */
static int func_code(struct go_symtab *st, const char *name, const uint8_t **code, size_t *len,
		     uint64_t *entry, uint64_t *off, char *err, size_t errlen)
{
	uint64_t end;

	if (st->ge.of.ehdr.e_machine != EM_X86_64) {
		goelf_err(err, errlen,
			  "%s: probe sites are only found in x86-64 code (ELF machine %u)",
			  st->path, st->ge.of.ehdr.e_machine);
		return -ENOTSUP;
	}
	if (go_func_by_name(st, name, entry, &end, NULL)) {
		goelf_err(err, errlen, "%s: no function %s (check the name with `go tool nm`)",
			  st->path, name);
		return -ENOENT;
	}
	*len = end - *entry;
	*code = goelf_at_vaddr(&st->ge, *entry, *len);
	if (!*code || !*len) {
		goelf_err(err, errlen, "%s: the code of %s is not in the file", st->path, name);
		return -EPROTO;
	}
	*off = (uint64_t)(*code - st->ge.map);
	return 0;
}

int go_code_walk_open(struct go_code_walk *w, struct go_symtab *st, const char *name, char *err,
		      size_t errlen)
{
	int ret = func_code(st, name, &w->p, &w->left, &w->entry, &w->off, err, errlen);

	if (ret)
		return ret;
	w->addr = w->entry;
	if (disasm_open(&w->h)) {
		goelf_err(err, errlen, "%s: capstone cannot open an x86-64 disassembler", st->path);
		return -ENOTSUP;
	}
	w->insn = cs_malloc(w->h);
	if (!w->insn) {
		disasm_close(&w->h);
		goelf_err(err, errlen, "out of memory decoding %s", name);
		return -ENOMEM;
	}
	return 0;
}

/* The next instruction in w->insn; false at the end or at bytes that do not decode. */
bool go_code_walk_next(struct go_code_walk *w)
{
	return w->left && cs_disasm_iter(w->h, &w->p, &w->left, &w->addr, w->insn);
}

void go_code_walk_close(struct go_code_walk *w)
{
	cs_free(w->insn, 1);
	disasm_close(&w->h);
}

int go_func_ret_sites(struct go_symtab *st, const char *name, uint64_t *offs, int max, int *n,
		      char *err, size_t errlen)
{
	struct go_code_walk w;
	int ret, count = 0;

	*n = 0;
	ret = go_code_walk_open(&w, st, name, err, errlen);
	if (ret)
		return ret;
	while (w.left) {
		if (!go_code_walk_next(&w)) {
			/* Undecodable byte (data or padding): step over it. */
			w.p++;
			w.left--;
			w.addr++;
			continue;
		}
		if (w.insn->id == X86_INS_RET) {
			if (count < max && offs)
				offs[count] = w.off + (w.insn->address - w.entry);
			count++;
		}
	}
	go_code_walk_close(&w);
	*n = count;
	if (count > max) {
		goelf_err(err, errlen, "%s: %s has %d RET instructions, more than the %d asked for",
			  st->path, name, count, max);
		return -ENOSPC;
	}
	return 0;
}

int go_func_direct_calls(struct go_symtab *st, const char *name, uint64_t *sites, uint64_t *targets,
			 int max, int *n, char *err, size_t errlen)
{
	struct go_code_walk w;
	int ret, count = 0;

	*n = 0;
	ret = go_code_walk_open(&w, st, name, err, errlen);
	if (ret)
		return ret;
	/* A wrapper's or closure's code is all instructions up to its padding: stop at the first
	 * byte that does not decode rather than guess past it. */
	while (go_code_walk_next(&w)) {
		const cs_x86 *x = &w.insn->detail->x86;

		if (w.insn->id != X86_INS_CALL || x->op_count != 1 ||
		    x->operands[0].type != X86_OP_IMM)
			continue;
		if (count < max) {
			if (sites)
				sites[count] = w.insn->address;
			if (targets)
				targets[count] = (uint64_t)x->operands[0].imm;
		}
		count++;
	}
	go_code_walk_close(&w);
	*n = count;
	if (count > max) {
		goelf_err(err, errlen, "%s: %s has %d calls, more than the %d asked for", st->path,
			  name, count, max);
		return -ENOSPC;
	}
	return 0;
}

/* Registers 0..X86_REG_ENDING: what the walk below knows a register holds. */
enum held { HELD_NONE, HELD_CAPTURE, HELD_CODE };

int go_func_captured_call(struct go_symtab *st, const char *name, int64_t *capture_off)
{
	enum held held[X86_REG_ENDING] = { 0 };
	int64_t from[X86_REG_ENDING] = { 0 };
	struct go_code_walk w;
	int ctx_ok = 1, found = 0;

	if (go_code_walk_open(&w, st, name, NULL, 0))
		return -ENOENT;
	/* Go's ABIInternal passes the closure context in RDX: mov rA, [rdx+d] loads capture d,
	 * mov rB, [rA] its code pointer, call rB runs it. The first call decides. */
	while (!found && go_code_walk_next(&w)) {
		const cs_x86 *x = &w.insn->detail->x86;
		const cs_x86_op *o = x->operands;

		if (w.insn->id == X86_INS_CALL) {
			if (x->op_count == 1 && o[0].type == X86_OP_REG &&
			    held[o[0].reg] == HELD_CODE) {
				*capture_off = from[o[0].reg];
				found = 1;
			} else if (x->op_count == 1 && o[0].type == X86_OP_IMM) {
				const char *t = go_func_name_at(st, (uint64_t)o[0].imm);

				if (!t || strncmp(t, "runtime.morestack", 17))
					break; /* a direct call first: not this shape */
			}
			continue;
		}
		if (w.insn->id != X86_INS_MOV || x->op_count != 2 || o[0].type != X86_OP_REG)
			continue;
		x86_reg d = o[0].reg;

		if (d >= X86_REG_ENDING)
			continue;
		held[d] = HELD_NONE;
		if (o[1].type == X86_OP_MEM && o[1].mem.index == X86_REG_INVALID &&
		    o[1].mem.segment == X86_REG_INVALID && o[1].mem.base < X86_REG_ENDING) {
			x86_reg b = o[1].mem.base;

			if (b == X86_REG_RDX && ctx_ok && o[1].mem.disp > 0) {
				held[d] = HELD_CAPTURE;
				from[d] = o[1].mem.disp;
			} else if (held[b] == HELD_CAPTURE && o[1].mem.disp == 0) {
				held[d] = HELD_CODE;
				from[d] = from[b];
			}
		}
		if (d == X86_REG_RDX || d == X86_REG_EDX)
			ctx_ok = 0;
	}
	go_code_walk_close(&w);
	return found ? 0 : -ENOENT;
}

int go_func_rip_load(struct go_symtab *st, const char *name, int size, uint64_t *vaddr)
{
	struct go_code_walk w;
	int found = 0;

	if (go_code_walk_open(&w, st, name, NULL, 0))
		return -ENOENT;
	/* The first load from a RIP-relative address, within the first instructions. */
	for (int i = 0; i < 16 && !found && go_code_walk_next(&w); i++) {
		const cs_x86 *x = &w.insn->detail->x86;
		const cs_x86_op *o = x->operands;

		if (w.insn->id == X86_INS_CALL)
			break;
		if (w.insn->id != X86_INS_MOV || x->op_count != 2 || o[0].type != X86_OP_REG ||
		    o[1].type != X86_OP_MEM || o[1].mem.base != X86_REG_RIP ||
		    o[1].mem.index != X86_REG_INVALID || o[1].size != size)
			continue;
		*vaddr = w.insn->address + w.insn->size + (uint64_t)o[1].mem.disp;
		found = 1;
	}
	go_code_walk_close(&w);
	return found ? 0 : -ENOENT;
}

static int is_rip_mem(const cs_x86_op *o)
{
	return o->type == X86_OP_MEM && o->mem.base == X86_REG_RIP &&
	       o->mem.index == X86_REG_INVALID;
}

int go_func_last_rip_increment(struct go_symtab *st, const char *name, uint64_t *vaddr)
{
	uint64_t lea[X86_REG_ENDING] = { 0 };
	struct go_code_walk w;
	int found = 0;

	if (go_code_walk_open(&w, st, name, NULL, 0))
		return -ENOENT;
	while (go_code_walk_next(&w)) {
		const cs_x86 *x = &w.insn->detail->x86;
		const cs_x86_op *o = x->operands;
		uint64_t next = w.insn->address + w.insn->size;

		if (w.insn->id == X86_INS_LEA && x->op_count == 2 && o[0].type == X86_OP_REG &&
		    o[0].reg < X86_REG_ENDING && is_rip_mem(&o[1])) {
			lea[o[0].reg] = next + (uint64_t)o[1].mem.disp;
		} else if (w.insn->id == X86_INS_INC && x->op_count == 1 && is_rip_mem(&o[0]) &&
			   o[0].size == 4) {
			*vaddr = next + (uint64_t)o[0].mem.disp; /* Go <= 1.20: work.cycles++ */
			found = 1;
		} else if (w.insn->id == X86_INS_XADD && x->prefix[0] == X86_PREFIX_LOCK &&
			   x->op_count == 2 && o[0].type == X86_OP_MEM && o[0].size == 4 &&
			   o[0].mem.base < X86_REG_ENDING && lea[o[0].mem.base] &&
			   o[0].mem.index == X86_REG_INVALID && o[0].mem.disp == 0) {
			*vaddr = lea[o[0].mem.base]; /* 1.21+: work.cycles.Add(1) */
			found = 1;
		} else if (x->op_count >= 1 && o[0].type == X86_OP_REG &&
			   o[0].reg < X86_REG_ENDING) {
			lea[o[0].reg] = 0; /* written otherwise */
		}
	}
	go_code_walk_close(&w);
	return found ? 0 : -ENOENT;
}

static int is_reg(const cs_x86_op *o, x86_reg r)
{
	return o->type == X86_OP_REG && o->reg == r;
}

/* [g+0x10] (g.stackguard0) or [g+0x18] (g.stackguard1, which Go 1.17 checks
 * in some runtime functions), no index, no segment. */
static int is_stackguard(const cs_x86_op *o, x86_reg g)
{
	return o->type == X86_OP_MEM && o->mem.base == g && o->mem.index == X86_REG_INVALID &&
	       o->mem.segment == X86_REG_INVALID && (o->mem.disp == 0x10 || o->mem.disp == 0x18);
}

int go_func_body_site(struct go_symtab *st, const char *name, uint64_t *off, char *err,
		      size_t errlen)
{
	x86_reg g = X86_REG_R14, sp = X86_REG_RSP;
	struct go_code_walk w;
	int ret, state = 0; /* 1: after the cmp */

	ret = go_code_walk_open(&w, st, name, err, errlen);
	if (ret)
		return ret;
	*off = w.off; /* no prologue: the entry itself */
	for (int i = 0; i < 8 && go_code_walk_next(&w); i++) {
		const cs_insn *insn = w.insn;
		const cs_x86 *x = &insn->detail->x86;
		const cs_x86_op *o = x->operands;

		if (state == 1) {
			if (insn->id == X86_INS_JBE)
				*off = w.off + (w.addr - w.entry); /* w.addr: next instruction */
			break;
		}
		if (insn->id == X86_INS_CMP && x->op_count == 2 && is_reg(&o[0], sp) &&
		    is_stackguard(&o[1], g)) {
			state = 1;
		} else if (insn->id == X86_INS_LEA && x->op_count == 2 && o[0].type == X86_OP_REG &&
			   o[1].type == X86_OP_MEM && o[1].mem.base == X86_REG_RSP &&
			   o[1].mem.index == X86_REG_INVALID && o[1].mem.disp < 0) {
			sp = o[0].reg; /* lea r12, [rsp-N] */
		} else if (insn->id == X86_INS_MOV && x->op_count == 2 && o[0].type == X86_OP_REG &&
			   is_reg(&o[1], X86_REG_RSP)) {
			sp = o[0].reg; /* mov r12, rsp (then sub r12, N; jb) */
		} else if (insn->id == X86_INS_SUB && sp != X86_REG_RSP && is_reg(&o[0], sp)) {
			continue;
		} else if (insn->id == X86_INS_JB && sp != X86_REG_RSP) {
			continue;
		} else if (insn->id == X86_INS_MOV && x->op_count == 2 && o[0].type == X86_OP_REG &&
			   o[1].type == X86_OP_MEM && o[1].mem.segment == X86_REG_FS && i == 0) {
			g = o[0].reg; /* pre-1.17: mov rcx, fs:[-8] loads g */
		} else {
			break; /* not a prologue instruction: NOSPLIT, no check */
		}
	}
	go_code_walk_close(&w);
	return 0;
}

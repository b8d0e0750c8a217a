#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <unistd.h>
#include "binary/disasm.h"
#include "binary/target_file.h"
#include "binary/probe_site.h"

/* How far past the entry rtmon looks: glibc's flag-only preambles are one instruction long. */
#define MAX_SKIPPED 3

#if defined(__x86_64__)
/* arch/x86/kernel/uprobes.c emulates these instead of single-stepping them. */
static bool kernel_emulates(csh cs, const cs_insn *insn)
{
	const cs_x86 *x86 = &insn->detail->x86;

	switch (insn->id) {
	case X86_INS_NOP:
		return true;
	case X86_INS_PUSH:
		return x86->op_count == 1 && x86->operands[0].type == X86_OP_REG && insn->size <= 2;
	default:
		break;
	}
	if (cs_insn_group(cs, insn, CS_GRP_JUMP) || cs_insn_group(cs, insn, CS_GRP_CALL))
		return x86->op_count == 1 &&
		       x86->operands[0].type == X86_OP_IMM; /* direct, rel8/rel32 */
	return false;
}

/* Reads memory or registers, writes only flags: skipping it changes nothing a probe reads. */
static bool flags_only(const cs_insn *insn)
{
	return insn->id == X86_INS_TEST || insn->id == X86_INS_CMP;
}

/* A mov into rax, r10 or r11 (or their 32-bit halves): in the SysV ABI none of them carries an
 * argument, so a probe that reads only the arguments and the stack pointer sees the same. */
static bool loads_scratch(const cs_insn *insn)
{
	const cs_x86 *x86 = &insn->detail->x86;

	if (insn->id != X86_INS_MOV || x86->op_count != 2 || x86->operands[0].type != X86_OP_REG)
		return false;
	switch (x86->operands[0].reg) {
	case X86_REG_RAX:
	case X86_REG_EAX:
	case X86_REG_R10:
	case X86_REG_R10D:
	case X86_REG_R11:
	case X86_REG_R11D:
		return true;
	default:
		return false;
	}
}

static uint64_t emulated_site(const uint8_t *code, size_t len, uint64_t offset, bool scratch)
{
	csh cs;
	cs_insn *insn = NULL;
	size_t n;
	uint64_t site = offset;

	if (disasm_open(&cs))
		return offset;
	n = cs_disasm(cs, code, len, offset, MAX_SKIPPED + 1, &insn);
	for (size_t i = 0; i < n; i++) {
		if (kernel_emulates(cs, &insn[i])) {
			site = insn[i].address;
			break;
		}
		if (!flags_only(&insn[i]) && !(scratch && loads_scratch(&insn[i])))
			break; /* anything else may change what the probe reads: keep the entry */
	}
	if (n)
		cs_free(insn, n);
	disasm_close(&cs);
	return site;
}

uint64_t probe_site_emulated_bytes(const uint8_t *code, size_t len, uint64_t offset)
{
	return emulated_site(code, len, offset, false);
}

uint64_t probe_site_emulated_args_bytes(const uint8_t *code, size_t len, uint64_t offset)
{
	return emulated_site(code, len, offset, true);
}

static bool emulates_bytes(const uint8_t *code, size_t len)
{
	csh cs;
	cs_insn *insn = NULL;
	bool yes = false;

	if (disasm_open(&cs))
		return false;
	if (cs_disasm(cs, code, len, 0, 1, &insn) == 1) {
		yes = kernel_emulates(cs, insn);
		cs_free(insn, 1);
	}
	disasm_close(&cs);
	return yes;
}
#else
/* Other architectures: one kind of site, costed by the calibration's first function. */
static bool emulates_bytes(const uint8_t *code, size_t len)
{
	(void)code;
	(void)len;
	return true;
}

uint64_t probe_site_emulated_bytes(const uint8_t *code, size_t len, uint64_t offset)
{
	(void)code;
	(void)len;
	return offset;
}

uint64_t probe_site_emulated_args_bytes(const uint8_t *code, size_t len, uint64_t offset)
{
	(void)code;
	(void)len;
	return offset;
}
#endif

/* Up to len bytes of path at offset: how many, or -1. */
static ssize_t read_code(const char *path, uint64_t offset, uint8_t *code, size_t len)
{
	ssize_t got;
	int fd = target_file_open(path);

	if (fd < 0)
		return -1;
	got = pread(fd, code, len, (off_t)offset);
	close(fd);
	return got;
}

uint64_t probe_site_emulated(const char *path, uint64_t offset)
{
	uint8_t code[64];
	ssize_t got = read_code(path, offset, code, sizeof(code));

	return got > 0 ? probe_site_emulated_bytes(code, (size_t)got, offset) : offset;
}

uint64_t probe_site_emulated_args(const char *path, uint64_t offset)
{
	uint8_t code[64];
	ssize_t got = read_code(path, offset, code, sizeof(code));

	return got > 0 ? probe_site_emulated_args_bytes(code, (size_t)got, offset) : offset;
}

bool probe_site_kernel_emulates(const char *path, uint64_t offset)
{
	uint8_t code[16];
	ssize_t got = read_code(path, offset, code, sizeof(code));

	return got > 0 && emulates_bytes(code, (size_t)got);
}

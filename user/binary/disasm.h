/* The one x86-64 disassembler setup rtmon uses (capstone), for every caller that decodes code
 * bytes: uprobe sites (binary/probe_site.c), Go RET sites and prologues (runtime/go/ret_sites.c)
 * and the runqput call in runtime.newproc.func1 (runtime/go/goroutine.c). */
#ifndef RTMON_DISASM_H
#define RTMON_DISASM_H

#include <capstone/capstone.h>

/* Opens an x86-64 (64-bit mode) capstone handle with CS_OPT_DETAIL on: every caller reads operands
 * (insn->detail->x86) or instruction groups, which capstone only fills in with detail. Returns 0,
 * or -ENOTSUP when capstone cannot open it (built without x86, out of memory); the caller words the
 * error. Close with disasm_close. */
int disasm_open(csh *h);

void disasm_close(csh *h);

#endif

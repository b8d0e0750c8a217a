/* See disasm.h. */
#include <errno.h>
#include "binary/disasm.h"

int disasm_open(csh *h)
{
	if (cs_open(CS_ARCH_X86, CS_MODE_64, h) != CS_ERR_OK)
		return -ENOTSUP;
	/* Off by default; without it insn->detail is NULL and every caller dereferences it. */
	cs_option(*h, CS_OPT_DETAIL, CS_OPT_ON);
	return 0;
}

void disasm_close(csh *h)
{
	cs_close(h);
}

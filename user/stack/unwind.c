#include <string.h>
#include <elfutils/libdwfl.h>
#include "stack/unwind.h"

/* The unwinder asks for threads by TID; every request is answered with the stack being unwound. */
static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_arg)
{
	(void)dwfl, (void)arg, (void)thread_arg;
	return 0;
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_arg)
{
	(void)dwfl, (void)tid;
	*thread_arg = arg;
	return true;
}

/* Stack reads come from the copy; an address outside it ends the unwinding there. */
static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	const struct stack_proc *p = arg;
	const struct user_stack *us = p->cur;
	uint64_t sp = us->regs[USER_STACK_REG_SP];

	(void)dwfl;
	if (addr < sp || addr - sp > us->copy_len || us->copy_len - (addr - sp) < sizeof(*result))
		return false;
	memcpy(result, us->copy + (addr - sp), sizeof(*result));
	return true;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	const struct stack_proc *p = arg;
	Dwarf_Word regs[USER_STACK_NREGS];

	for (int i = 0; i < USER_STACK_NREGS; i++)
		regs[i] = p->cur->regs[i];
	return dwfl_thread_state_registers(thread, 0, USER_STACK_NREGS, regs);
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

struct walk {
	uint64_t *pcs;
	size_t max, n;
};

static int on_frame(Dwfl_Frame *frame, void *arg)
{
	struct walk *w = arg;
	Dwarf_Addr pc;

	if (!dwfl_frame_pc(frame, &pc, NULL))
		return DWARF_CB_ABORT;
	if (w->n == w->max)
		return DWARF_CB_ABORT;
	w->pcs[w->n++] = pc;
	return DWARF_CB_OK;
}

enum unwind_end unwind_dwarf(struct stack_proc *p, const struct user_stack *us, uint64_t *pcs,
			     size_t max, size_t *n)
{
	struct walk w = { pcs, max, 0 };
	int rc;

	*n = 0;
	if (!p->attached) {
		/* The machine (x86-64) comes from the first module libdw can read. */
		if (!dwfl_attach_state(p->dwfl, NULL, p->pid, &thread_callbacks, p))
			return UNWIND_UNAVAILABLE;
		p->attached = true;
	}
	p->cur = us;
	rc = dwfl_getthread_frames(p->dwfl, p->pid, on_frame, &w);
	p->cur = NULL;
	*n = w.n;
	if (w.n == max)
		return UNWIND_FULL;
	return rc == 0 ? UNWIND_COMPLETE : UNWIND_CUT;
}

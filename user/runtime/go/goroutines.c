/* goroutines.c - every goroutine of a running Go process and its frames, read from outside.
 *
 * runtime.allgs lists every g. Each g's header is read in one batch (process_vm_readv, up to
 * IOV_MAX ranges per call), then the used part of each stack (saved SP up to the stack's top),
 * then the headers again: a goroutine whose status, saved registers or stack bounds changed
 * meanwhile ran while it was read, and is read again (GO_TEAR_RETRIES times at most, then marked
 * torn and shown without frames, never with frames from two moments). Frames come from the saved
 * PC, SP and BP (g.sched, or g.syscallpc/syscallsp in a system call), unwound by frame pointers
 * (Go amd64 keeps them): [BP] is the caller's BP, [BP+8] the return address. Every BP must lie
 * inside the copied stack and grow, or the walk stops (marked cut). The status values are the
 * runtime's (goinspect.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc/procmem.h"
#include "runtime/go/goinspect.h"

#define GO_TEAR_RETRIES 3
#define STACK_COPY_MAX  (256 * 1024) /* bytes of stack copied per goroutine, at most */

/* A g as read once: its header bytes, then its stack's used part. */
struct g_read {
	uint64_t addr;
	uint8_t *hdr; /* lay.g_read bytes */
	uint64_t pc, sp, bp, lo, hi;
	uint8_t *stack; /* [sp, sp + stack_len) */
	size_t stack_len;
	bool hdr_ok, stack_ok, want_stack;
};

static uint64_t field(const struct go_layout *lay, const uint8_t *hdr, enum go_field f, int size)
{
	uint64_t v = 0;

	if (lay->off[f] < 0)
		return 0;
	memcpy(&v, hdr + lay->off[f], (size_t)size); /* little-endian amd64 */
	return v;
}

static int read_headers(struct go_proc *p, struct g_read *r, size_t n)
{
	struct iovec *l = calloc(n ? n : 1, sizeof(*l)), *rm = calloc(n ? n : 1, sizeof(*rm));
	unsigned char *ok = calloc(n ? n : 1, 1);
	int rc = l && rm && ok ? 0 : -ENOMEM;

	for (size_t i = 0; !rc && i < n; i++) {
		l[i] = (struct iovec){ r[i].hdr, (size_t)p->lay.g_read };
		rm[i] = (struct iovec){ (void *)(uintptr_t)r[i].addr, (size_t)p->lay.g_read };
	}
	if (!rc)
		rc = proc_mem_readv(p->pid, l, rm, n, ok);
	for (size_t i = 0; !rc && i < n; i++)
		r[i].hdr_ok = ok[i];
	free(l);
	free(rm);
	free(ok);
	return rc;
}

/* Where the goroutine's frames start, from its header; want_stack false when it has none. */
static void regs_from_header(const struct go_layout *lay, struct g_read *r)
{
	uint32_t status = (uint32_t)field(lay, r->hdr, GF_G_ATOMICSTATUS, 4) & ~GO_SCAN_BIT;
	uint64_t syscallsp = field(lay, r->hdr, GF_G_SYSCALLSP, 8);

	r->lo = field(lay, r->hdr, GF_G_STACK_LO, 8);
	r->hi = field(lay, r->hdr, GF_G_STACK_HI, 8);
	r->bp = field(lay, r->hdr, GF_G_SCHED_BP, 8);
	if (status == GO_G_SYSCALL && syscallsp) { /* as the runtime's own traceback does */
		r->pc = field(lay, r->hdr, GF_G_SYSCALLPC, 8);
		r->sp = syscallsp;
	} else {
		r->pc = field(lay, r->hdr, GF_G_SCHED_PC, 8);
		r->sp = field(lay, r->hdr, GF_G_SCHED_SP, 8);
	}
	r->want_stack = r->hdr_ok && status != GO_G_RUNNING && status != GO_G_DEAD && r->pc &&
			r->sp && r->lo < r->hi && r->sp >= r->lo && r->sp < r->hi;
	r->stack_len = 0;
	if (r->want_stack)
		r->stack_len = r->hi - r->sp < STACK_COPY_MAX ? r->hi - r->sp : STACK_COPY_MAX;
}

static int read_stacks(struct go_proc *p, struct g_read *r, const size_t *idx, size_t nidx)
{
	struct iovec *l = calloc(nidx ? nidx : 1, sizeof(*l));
	struct iovec *rm = calloc(nidx ? nidx : 1, sizeof(*rm));
	unsigned char *ok = calloc(nidx ? nidx : 1, 1);
	int rc = l && rm && ok ? 0 : -ENOMEM;

	for (size_t k = 0; !rc && k < nidx; k++) {
		struct g_read *g = &r[idx[k]];

		free(g->stack);
		g->stack = malloc(g->stack_len ? g->stack_len : 1);
		if (!g->stack) {
			rc = -ENOMEM;
			break;
		}
		l[k] = (struct iovec){ g->stack, g->stack_len };
		rm[k] = (struct iovec){ (void *)(uintptr_t)g->sp, g->stack_len };
	}
	if (!rc)
		rc = proc_mem_readv(p->pid, l, rm, nidx, ok);
	for (size_t k = 0; !rc && k < nidx; k++)
		r[idx[k]].stack_ok = ok[k];
	free(l);
	free(rm);
	free(ok);
	return rc;
}

/* The fields that must not have moved between the two reads of a header. */
static bool same_regs(const struct go_layout *lay, const uint8_t *a, const uint8_t *b)
{
	static const enum go_field keep[] = { GF_G_ATOMICSTATUS, GF_G_SCHED_PC,  GF_G_SCHED_SP,
					      GF_G_SCHED_BP,     GF_G_SYSCALLSP, GF_G_SYSCALLPC,
					      GF_G_STACK_LO,     GF_G_STACK_HI,  GF_G_GOID };

	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (field(lay, a, keep[i], keep[i] == GF_G_ATOMICSTATUS ? 4 : 8) !=
		    field(lay, b, keep[i], keep[i] == GF_G_ATOMICSTATUS ? 4 : 8))
			return false;
	return true;
}

static bool func_is(struct go_proc *p, uint64_t pc, const char *name)
{
	const char *f = go_func_name_at(p->st, pc - p->bias);

	return f && !strcmp(f, name);
}

static uint64_t stack_word(const struct g_read *r, uint64_t addr)
{
	uint64_t v;

	memcpy(&v, r->stack + (addr - r->sp), 8);
	return v;
}

static void unwind(struct go_proc *p, const struct g_read *r, struct go_goroutine *g)
{
	uint64_t pc = r->pc, bp = r->bp;
	bool trap = false;

	g->npcs = 0;
	for (;;) {
		uint64_t next_bp, ret;

		if (func_is(p, pc, "runtime.goexit"))
			return; /* the bottom of every goroutine's stack */
		if (g->npcs == GO_MAX_FRAMES) {
			g->elided = true;
			return;
		}
		g->pcs[g->npcs] = pc;
		g->trap[g->npcs++] = trap;
		if (!go_func_name_at(p->st, pc - p->bias) || bp < r->sp || bp & 7 ||
		    bp + 16 > r->sp + r->stack_len) {
			g->cut = true;
			return;
		}
		next_bp = stack_word(r, bp);
		ret = stack_word(r, bp + 8);
		/* After a signal's preemption the next PC is where the code stopped, not a return
		 * address. */
		trap = func_is(p, pc, "runtime.asyncPreempt");
		if (next_bp && next_bp <= bp) {
			g->cut = true;
			return;
		}
		pc = ret;
		bp = next_bp;
		if (!bp) { /* the last frame with a frame pointer: its caller is the last one */
			if (!func_is(p, pc, "runtime.goexit") && g->npcs < GO_MAX_FRAMES) {
				g->pcs[g->npcs] = pc;
				g->trap[g->npcs++] = trap;
			}
			return;
		}
	}
}

/* runtime.isSystemGoroutine by the start function's name: runtime.* except runtime.main (and
 * the finalizer and cleanup goroutines, which the runtime counts as its own while they wait). */
static bool system_goroutine(struct go_proc *p, uint64_t startpc)
{
	const char *f = go_func_name_at(p->st, startpc - p->bias);

	if (!f)
		return false;
	if (!strcmp(f, "runtime.main") || !strcmp(f, "runtime.corostart"))
		return false;
	return !strncmp(f, "runtime.", 8);
}

static void fill(struct go_proc *p, const struct g_read *r, struct go_goroutine *g)
{
	const struct go_layout *lay = &p->lay;
	uint32_t st = (uint32_t)field(lay, r->hdr, GF_G_ATOMICSTATUS, 4);

	memset(g, 0, sizeof(*g));
	g->goid = field(lay, r->hdr, GF_G_GOID, 8);
	g->parent_goid = field(lay, r->hdr, GF_G_PARENTGOID, 8);
	g->status = st & ~GO_SCAN_BIT;
	g->scan = st & GO_SCAN_BIT;
	g->locked = field(lay, r->hdr, GF_G_LOCKEDM, 8) != 0;
	g->wait_reason = (uint8_t)field(lay, r->hdr, GF_G_WAITREASON, 1);
	g->waitsince = (int64_t)field(lay, r->hdr, GF_G_WAITSINCE, 8);
	g->gopc = field(lay, r->hdr, GF_G_GOPC, 8);
	g->startpc = field(lay, r->hdr, GF_G_STARTPC, 8);
	g->system = system_goroutine(p, g->startpc);
	g->no_stack = !r->want_stack;
}

static int read_allgs(struct go_proc *p, uint64_t **gs, size_t *n, char *err, size_t errlen)
{
	uint64_t slice[2];
	int rc = proc_mem_read(p->pid, p->glob.allgs + p->bias, slice, sizeof(slice));

	if (!rc && slice[1] > 10000000) {
		snprintf(err, errlen,
			 "PID %d (%s): runtime.allgs holds %llu goroutines: not a "
			 "goroutine list (a layout rtmon misread?)",
			 p->pid, p->comm, (unsigned long long)slice[1]);
		return -EPROTO;
	}
	*n = rc ? 0 : slice[1];
	*gs = calloc(*n ? *n : 1, 8);
	if (!rc && !*gs)
		rc = -ENOMEM;
	if (!rc && *n)
		rc = proc_mem_read(p->pid, slice[0], *gs, *n * 8);
	if (rc) {
		free(*gs);
		go_proc_read_err(p, rc, err, errlen);
	}
	return rc;
}

int go_read_goroutines(struct go_proc *p, struct go_goroutine **out, size_t *nout, char *err,
		       size_t errlen)
{
	uint64_t *gs;
	size_t n, nidx, nres = 0;
	struct g_read *r = NULL, *tmp = NULL;
	uint8_t *hdrs = NULL, *again = NULL;
	size_t *idx = NULL;
	struct go_goroutine *res = NULL;
	int rc = read_allgs(p, &gs, &n, err, errlen);

	if (rc)
		return rc;
	r = calloc(n ? n : 1, sizeof(*r));
	hdrs = malloc((n ? n : 1) * (size_t)p->lay.g_read);
	again = malloc((n ? n : 1) * (size_t)p->lay.g_read);
	idx = calloc(n ? n : 1, sizeof(*idx));
	tmp = calloc(n ? n : 1, sizeof(*tmp));
	res = calloc(n ? n : 1, sizeof(*res));
	if (!r || !hdrs || !again || !idx || !res || !tmp) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		r[i].addr = gs[i];
		r[i].hdr = hdrs + i * (size_t)p->lay.g_read;
	}
	rc = read_headers(p, r, n);
	for (size_t i = 0; !rc && i < n; i++)
		regs_from_header(&p->lay, &r[i]);
	/* idx: the goroutines whose stacks still need a consistent copy. */
	nidx = 0;
	for (size_t i = 0; !rc && i < n; i++)
		if (r[i].want_stack)
			idx[nidx++] = i;
	for (int round = 0; !rc && nidx && round <= GO_TEAR_RETRIES; round++) {
		size_t left = 0;

		rc = read_stacks(p, r, idx, nidx);
		/* The headers again, in one batch: the copies in tmp, read into `again`. */
		for (size_t k = 0; !rc && k < nidx; k++) {
			tmp[k] = r[idx[k]];
			tmp[k].hdr = again + idx[k] * (size_t)p->lay.g_read;
		}
		if (!rc)
			rc = read_headers(p, tmp, nidx);
		for (size_t k = 0; !rc && k < nidx; k++) {
			struct g_read *g = &r[idx[k]];

			if (tmp[k].hdr_ok && g->stack_ok && same_regs(&p->lay, g->hdr, tmp[k].hdr))
				continue;
			memcpy(g->hdr, tmp[k].hdr, (size_t)p->lay.g_read); /* the newer state */
			g->hdr_ok = tmp[k].hdr_ok;
			regs_from_header(&p->lay, g);
			if (g->want_stack)
				idx[left++] = idx[k];
		}
		nidx = left;
	}
	for (size_t i = 0; !rc && i < n; i++) {
		struct go_goroutine *g = &res[nres];

		if (!r[i].hdr_ok ||
		    (field(&p->lay, r[i].hdr, GF_G_ATOMICSTATUS, 4) & ~GO_SCAN_BIT) == GO_G_DEAD)
			continue;
		fill(p, &r[i], g);
		nres++;
		for (size_t k = 0; k < nidx; k++)
			if (idx[k] == i)
				g->torn = true;
		if (r[i].want_stack && !g->torn)
			unwind(p, &r[i], g);
	}
	if (rc)
		go_proc_read_err(p, rc, err, errlen);
out:
	for (size_t i = 0; r && i < n; i++)
		free(r[i].stack);
	free(r);
	free(tmp);
	free(hdrs);
	free(again);
	free(idx);
	free(gs);
	if (rc) {
		free(res);
		return rc;
	}
	*out = res;
	*nout = nres;
	return 0;
}

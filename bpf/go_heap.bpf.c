// SPDX-License-Identifier: GPL-2.0
/* rtmon heap (and serve's /debug/pprof/heap): the Go runtime samples one allocation per
 * MemProfileRate bytes and calls runtime.mProf_Malloc for it, and runtime.mProf_Free when a sampled
 * object is swept. Entry probes there (never return probes: Go moves stacks), so the cost is one
 * trap per sampled allocation and per free of one, not per allocation. The free: the sweeper calls
 * runtime.freeSpecial(s, p, size) for each special record of a swept object; where the release's
 * layout of s is known, its kind tells a profile record's, and that one trap is all. Otherwise
 * mProf_Free (which gets the runtime's bucket, not the object) is probed too, and the object
 * freeSpecial had is kept per thread until mProf_Free comes on the same thread. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "go_heap.h"
#include "user_stack.bpf.h"
#include "percpu_counters.bpf.h"
#include "ringbuf_batch.bpf.h"
#include "target_filter.bpf.h"

/* 16 MiB: about 13,000 allocation records (1.2 KiB each) between the 10 ms drains: at
 * MemProfileRate=1 (every allocation sampled) a few hundred thousand a second. Userspace may set
 * a smaller ring (serve, at the default rate: go_heap_open's ring_bytes), and wake_bytes with it.
 */
#define RING_BYTES (16 << 20)
const volatile __u64 wake_bytes = RING_BYTES / 8;

/* Go 1.23 and later: mProf_Malloc(mp *m, p unsafe.Pointer, size uintptr), before it (p, size):
 * the register ABI's arguments are RAX, RBX, RCX. */
const volatile bool malloc_has_mp = false;
/* Link-time addresses of the mProf_Malloc probe and of runtime.MemProfileRate (0: not found): the
 * probe's run-time address gives the load bias (PIE), and the rate is read with each sample, so a
 * process that ends before userspace reads its memory is still scaled with its own rate. */
const volatile __u64 malloc_site_vaddr = 0;
const volatile __u64 rate_vaddr = 0;
/* freeSpecial(s, p, size): where s says its kind, and a profile record's kind (heap_sites.h); -1:
 * not known, and the object is kept for mProf_Free, probed too. */
const volatile int special_kind_off = -1;
const volatile int special_profile_kind = -1;

RINGBUF_MAP(recs, RING_BYTES);
PERCPU_COUNTERS(counters, GHC_NCOUNTERS);

/* The object freeSpecial was called for, per thread, until its mProf_Free. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u64);
} freeing SEC(".maps");

static __always_inline void on_malloc(struct pt_regs *ctx, __u32 tgid)
{
	/* Each register read on its own: the verifier refuses a context pointer moved by a choice.
	 */
	__u64 ax = ctx->ax, bx = ctx->bx, cx = ctx->cx;
	struct go_heap_alloc *a = rb_reserve(&recs, USER_STACK_SIZE_NO_COPY(struct go_heap_alloc),
					     &counters, GHC_LOST);

	if (!a)
		return;
	a->h.kind = GHR_ALLOC;
	a->h.tgid = tgid;
	a->h.addr = malloc_has_mp ? bx : ax;
	a->h.size = malloc_has_mp ? cx : bx;
	a->rate = -1;
	if (rate_vaddr && bpf_probe_read_user(&a->rate, sizeof(a->rate),
					      (void *)(rate_vaddr + (ctx->ip - malloc_site_vaddr))))
		a->rate = -1;
	/* The probe is before the function pushes its frame: its caller is read at sp. */
	user_stack_capture(ctx, ctx, &a->us, false, true);
	rb_submit_batched(&recs, a, wake_bytes);
}

static __always_inline void emit_free(__u32 tgid, __u64 addr, __u64 size)
{
	struct go_heap_hdr *h = rb_reserve(&recs, sizeof(*h), &counters, GHC_LOST);

	if (!h)
		return;
	h->kind = GHR_FREE;
	h->tgid = tgid;
	h->addr = addr;
	h->size = size;
	rb_submit_batched(&recs, h, wake_bytes);
}

/* mProf_Free(b *bucket, size uintptr), after its freeSpecial. */
static __always_inline void on_free(struct pt_regs *ctx, __u64 id, __u32 tgid)
{
	__u64 *p = bpf_map_lookup_elem(&freeing, &id), size = ctx->bx;

	emit_free(tgid, p ? *p : 0, size);
	if (p)
		*p = 0;
}

/* freeSpecial(s *special, p unsafe.Pointer, size uintptr): every special of a swept object comes
 * here (finalizers, weak handles, cleanups, profile records). */
static __always_inline void on_free_special(struct pt_regs *ctx, __u64 id, __u32 tgid)
{
	__u64 s = ctx->ax, p = ctx->bx, size = ctx->cx;
	__u8 kind;

	if (special_kind_off < 0) {
		bpf_map_update_elem(&freeing, &id, &p, BPF_ANY);
		return;
	}
	if (!bpf_probe_read_user(&kind, 1, (void *)(s + special_kind_off)) &&
	    kind == special_profile_kind)
		emit_free(tgid, p, size);
}

SEC("uprobe")
int on_heap_site(struct pt_regs *ctx)
{
	__u64 site = bpf_get_attach_cookie(ctx);
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;

	if (!current_is_target())
		return 0;
	counter_inc(&counters, GHC_HITS);
	switch (site) {
	case GH_MALLOC:
		on_malloc(ctx, tgid);
		break;
	case GH_FREE_SPECIAL:
		on_free_special(ctx, id, tgid);
		break;
	case GH_FREE:
		on_free(ctx, id, tgid);
		break;
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/* rtmon heap (and serve's /debug/pprof/heap): the Go runtime samples one allocation per
 * MemProfileRate bytes and calls runtime.mProf_Malloc for it, and runtime.mProf_Free when a sampled
 * object is swept. Entry probes there (never return probes: Go moves stacks), so the cost is one
 * trap per sampled allocation and per free of one, not per allocation. mProf_Free gets the
 * runtime's bucket, not the object: its caller runtime.freeSpecial(s, p, size) has the object, kept
 * per thread until mProf_Free is reached on the same thread. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "go_heap.h"
#include "user_stack.bpf.h"
#include "percpu_counters.bpf.h"
#include "ringbuf_batch.bpf.h"
#include "target_filter.bpf.h"

/* 16 MiB: about 13,000 allocation records (1.2 KiB each) between the 10 ms drains: at
 * MemProfileRate=1 (every allocation sampled) a few hundred thousand a second. */
#define RING_BYTES (16 << 20)
#define WAKE_BYTES (RING_BYTES / 8)

/* Go 1.23 and later: mProf_Malloc(mp *m, p unsafe.Pointer, size uintptr), before it (p, size):
 * the register ABI's arguments are RAX, RBX, RCX. */
const volatile bool malloc_has_mp = false;

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
	/* The probe is before the function pushes its frame: its caller is read at sp. */
	user_stack_capture(ctx, ctx, &a->us, false, true);
	rb_submit_batched(&recs, a, WAKE_BYTES);
}

static __always_inline void on_free(struct pt_regs *ctx, __u64 id, __u32 tgid)
{
	__u64 *p = bpf_map_lookup_elem(&freeing, &id);
	struct go_heap_hdr *h = rb_reserve(&recs, sizeof(*h), &counters, GHC_LOST);

	if (!h)
		return;
	h->kind = GHR_FREE;
	h->tgid = tgid;
	h->addr = p ? *p : 0;
	h->size = ctx->bx;
	if (p)
		*p = 0;
	rb_submit_batched(&recs, h, WAKE_BYTES);
}

SEC("uprobe")
int on_heap_site(struct pt_regs *ctx)
{
	__u64 site = bpf_get_attach_cookie(ctx);
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	__u64 p;

	if (!current_is_target())
		return 0;
	counter_inc(&counters, GHC_HITS);
	switch (site) {
	case GH_MALLOC:
		on_malloc(ctx, tgid);
		break;
	case GH_FREE_SPECIAL:
		p = ctx->bx; /* freeSpecial(s *special, p unsafe.Pointer, size uintptr) */
		bpf_map_update_elem(&freeing, &id, &p, BPF_ANY);
		break;
	case GH_FREE:
		on_free(ctx, id, tgid);
		break;
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

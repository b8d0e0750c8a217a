/* memstats.c - runtime.MemStats and the scheduler's settings of a running Go process, read from
 * outside, computed as the process's own readmemstats_m (updatememstats before Go 1.19) computes
 * them: the consistent heap statistics (memstats.heapStats) are the source, the rest comes from
 * memstats, gcController and mheap_. ReadMemStats stops the world and flushes every mcache first;
 * rtmon stops nothing, so it merges the three generations of heapStats as unsafeRead does and adds
 * what the mcaches hold that the flush would have added. The whole read is done twice: a heap
 * figure that moved in between is read again (3 times at most) and else marked as changing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "go_sizeclasses.h"
#include "proc/procmem.h"
#include "runtime/go/goelf_int.h"
#include "runtime/go/goinspect.h"

#define NUM_SPAN_CLASSES (GO_NUM_SIZE_CLASSES * 2)
#define MAX_PROCS        1024 /* more Ps than any machine has: a bound on a bad read */
#define READ_TRIES       3

/* The raw state one read takes. */
struct mem_raw {
	uint8_t ms[16384];   /* runtime.memstats, up to past the fields read */
	uint8_t hs[3][2048]; /* memstats.heapStats.stats[3] */
	uint8_t gc[256];     /* gcController */
	uint64_t span_inuse, cache_inuse;
	int64_t small_alloc[GO_NUM_SIZE_CLASSES]; /* what the mcaches would flush */
	uint64_t tiny_allocs;
};

static uint64_t u64_at(const uint8_t *b, int off)
{
	uint64_t v = 0;

	if (off >= 0)
		memcpy(&v, b + off, sizeof(v));
	return v;
}

static uint32_t u32_at(const uint8_t *b, int off)
{
	uint32_t v = 0;

	if (off >= 0)
		memcpy(&v, b + off, sizeof(v));
	return v;
}

/* The cached spans' counts, in one batch of reads: what each would add to its size class. */
static int read_spans(struct go_proc *p, const uint64_t *spans, bool before_cache,
		      struct mem_raw *r)
{
	const int *off = p->lay.off;
	struct iovec local[2 * NUM_SPAN_CLASSES], remote[2 * NUM_SPAN_CLASSES];
	unsigned char ok[2 * NUM_SPAN_CLASSES];
	uint16_t count[NUM_SPAN_CLASSES] = { 0 }, before[NUM_SPAN_CLASSES] = { 0 };
	uint64_t nelems[NUM_SPAN_CLASSES] = { 0 };
	size_t n = 0;
	int rc;

	for (int c = 0; c < NUM_SPAN_CLASSES; c++) {
		if (!spans[c])
			continue;
		local[n] = (struct iovec){ &count[c], 2 };
		remote[n++] = (struct iovec){
			(void *)(uintptr_t)(spans[c] + (uint64_t)off[GF_SPAN_ALLOCCOUNT]), 2
		};
		if (before_cache) {
			local[n] = (struct iovec){ &before[c], 2 };
			remote[n++] = (struct iovec){
				(void *)(uintptr_t)(spans[c] +
						    (uint64_t)off[GF_SPAN_ALLOCCOUNTBEFORECACHE]),
				2
			};
		} else {
			local[n] = (struct iovec){ &nelems[c], 8 };
			remote[n++] = (struct iovec){
				(void *)(uintptr_t)(spans[c] + (uint64_t)off[GF_SPAN_NELEMS]), 8
			};
		}
	}
	if (!n)
		return 0;
	if ((rc = proc_mem_readv(p->pid, local, remote, n, ok)))
		return rc;
	for (size_t i = 0; i < n; i++)
		if (!ok[i])
			return -EFAULT;
	for (int c = 0; c < NUM_SPAN_CLASSES; c++)
		if (spans[c])
			r->small_alloc[c >> 1] += before_cache
							  ? (int64_t)count[c] - before[c]
							  : (int64_t)count[c] - (int64_t)nelems[c];
	return 0;
}

/* The unflushed part of each P's mcache: a cached span's slots used since it was cached (Go 1.19
 * on: refill counts a span when it leaves), or minus its free slots (before: refill counted the
 * whole span when it came), and the tiny allocations not yet counted. */
static int read_mcaches(struct go_proc *p, uint64_t allp, struct mem_raw *r)
{
	const int *off = p->lay.off;
	bool before_cache = off[GF_SPAN_ALLOCCOUNTBEFORECACHE] >= 0;
	uint64_t sl[3], ps[MAX_PROCS], spans[NUM_SPAN_CLASSES];
	int rc = proc_mem_read(p->pid, allp, sl, sizeof(sl));

	if (rc)
		return rc;
	if (sl[1] > MAX_PROCS)
		return -EFAULT;
	if (sl[1] && (rc = proc_mem_read(p->pid, sl[0], ps, sl[1] * 8)))
		return rc;
	for (uint64_t i = 0; i < sl[1]; i++) {
		uint64_t mc;

		if (!ps[i])
			continue;
		if ((rc = proc_mem_read(p->pid, ps[i] + (uint64_t)off[GF_P_MCACHE], &mc, 8)))
			return rc;
		if (!mc)
			continue;
		uint64_t tiny;

		if ((rc = proc_mem_read(p->pid, mc + (uint64_t)off[GF_MC_TINYALLOCS], &tiny, 8)) ||
		    (rc = proc_mem_read(p->pid, mc + (uint64_t)off[GF_MC_ALLOC], spans,
					sizeof(spans))))
			return rc;
		r->tiny_allocs += tiny;
		if ((rc = read_spans(p, spans, before_cache, r)))
			return rc;
	}
	return 0;
}

static int read_raw(struct go_proc *p, const struct go_mem_globals *g, size_t ms_len,
		    size_t hsd_len, struct mem_raw *r)
{
	const int *off = p->lay.off;
	uint64_t hs = g->memstats + p->bias + (uint64_t)off[GF_MS_HEAPSTATS];
	int rc;

	memset(r, 0, sizeof(*r));
	rc = proc_mem_read(p->pid, g->memstats + p->bias, r->ms, ms_len);
	for (int i = 0; !rc && i < 3; i++)
		rc = proc_mem_read(p->pid, hs + (uint64_t)i * hsd_len, r->hs[i], hsd_len);
	if (!rc)
		rc = proc_mem_read(p->pid, g->gc_controller + p->bias, r->gc, sizeof(r->gc));
	if (!rc)
		rc = proc_mem_read(p->pid,
				   g->mheap + p->bias + (uint64_t)off[GF_MH_SPANALLOC_INUSE],
				   &r->span_inuse, 8);
	if (!rc)
		rc = proc_mem_read(p->pid,
				   g->mheap + p->bias + (uint64_t)off[GF_MH_CACHEALLOC_INUSE],
				   &r->cache_inuse, 8);
	return rc ? rc : read_mcaches(p, g->allp + p->bias, r);
}

/* The heap goal: heapGoalInternal from Go 1.19 on, the gcController field before. */
static void next_gc(const struct go_proc *p, const struct mem_raw *r, struct go_memstats *m)
{
	const int *off = p->lay.off;
	uint64_t goal, sweep, trig;

	m->next_gc_known = true;
	if (off[GF_GC_PERCENTHEAPGOAL] < 0) {
		m->NextGC = u64_at(r->gc, off[GF_GC_HEAPGOAL]);
		return;
	}
	/* Without a memory limit, memoryLimitHeapGoal is about 0.97 * 2^63: above any GOGC goal,
	 * so heapGoalInternal takes its other branch, computed here. With a limit, or GOGC=off
	 * (a GOGC goal of 2^64-1, above it), the goal is the limit's, which depends on accounting
	 * (mappedReady, heapFree) and constants that changed between releases: not derived. */
	if ((int64_t)u64_at(r->gc, off[GF_GC_MEMORYLIMIT]) != INT64_MAX ||
	    (int32_t)u32_at(r->gc, off[GF_GC_GCPERCENT]) < 0) {
		m->next_gc_known = false;
		return;
	}
	goal = u64_at(r->gc, off[GF_GC_PERCENTHEAPGOAL]);
	sweep = u64_at(r->gc, off[GF_GC_SWEEPDISTMINTRIGGER]);
	trig = u64_at(r->gc, off[GF_GC_TRIGGERED]);
	if (sweep > goal)
		goal = sweep;
	if (trig != UINT64_MAX && goal < trig + (64 << 10))
		goal = trig + (64 << 10);
	m->NextGC = goal;
}

static void compute(const struct go_proc *p, const struct mem_raw *r, struct go_memstats *m)
{
	const int *off = p->lay.off;
	uint64_t d[32] = { 0 }; /* the merged heapStatsDelta's scalar fields, by enum order */
	uint64_t small_alloc[GO_NUM_SIZE_CLASSES] = { 0 }, small_free[GO_NUM_SIZE_CLASSES] = { 0 };
	uint64_t total_alloc, total_free, nmalloc, nfree, heap_sys;

	memset(m, 0, sizeof(*m));
	for (int i = 0; i < 3; i++) {
		for (int f = GF_HSD_COMMITTED; f <= GF_HSD_LARGEFREECOUNT; f++)
			if (f != GF_HSD_SMALLALLOCCOUNT)
				d[f - GF_HSD_COMMITTED] += u64_at(r->hs[i], off[f]);
		for (int c = 0; c < GO_NUM_SIZE_CLASSES; c++) {
			small_alloc[c] += u64_at(r->hs[i], off[GF_HSD_SMALLALLOCCOUNT] + 8 * c);
			small_free[c] += u64_at(r->hs[i], off[GF_HSD_SMALLFREECOUNT] + 8 * c);
		}
	}
#define D(f) d[(f)-GF_HSD_COMMITTED]
	D(GF_HSD_TINYALLOCCOUNT) += r->tiny_allocs;
	total_alloc = D(GF_HSD_LARGEALLOC);
	nmalloc = D(GF_HSD_LARGEALLOCCOUNT);
	total_free = D(GF_HSD_LARGEFREE);
	nfree = D(GF_HSD_LARGEFREECOUNT);
	for (int c = 0; c < GO_NUM_SIZE_CLASSES; c++) {
		uint64_t a = small_alloc[c] + (uint64_t)r->small_alloc[c];

		total_alloc += a * go_class_size[c];
		nmalloc += a;
		total_free += small_free[c] * go_class_size[c];
		nfree += small_free[c];
		if (c < GO_MEMSTATS_BYSIZE) {
			m->BySize[c].Size = go_class_size[c];
			m->BySize[c].Mallocs = a;
			m->BySize[c].Frees = small_free[c];
		}
	}
	nfree += D(GF_HSD_TINYALLOCCOUNT);
	nmalloc += D(GF_HSD_TINYALLOCCOUNT);
	/* At a stopped world heapInUse == inHeap, heapReleased == released and heapInUse +
	 * heapFree == committed - inStacks - inWorkBufs - inPtrScalarBits: readmemstats_m checks
	 * these and throws otherwise, so the consistent figures give the same values. */
	heap_sys = D(GF_HSD_COMMITTED) - D(GF_HSD_INSTACKS) - D(GF_HSD_INWORKBUFS) -
		   D(GF_HSD_INPTRSCALARBITS) + D(GF_HSD_RELEASED);
	m->Alloc = m->HeapAlloc = total_alloc - total_free;
	m->TotalAlloc = total_alloc;
	m->Mallocs = nmalloc;
	m->Frees = nfree;
	m->HeapSys = heap_sys;
	m->HeapInuse = D(GF_HSD_INHEAP);
	m->HeapReleased = D(GF_HSD_RELEASED);
	m->HeapIdle = heap_sys - m->HeapInuse;
	m->HeapObjects = nmalloc - nfree;
	m->StackInuse = D(GF_HSD_INSTACKS);
	m->StackSys = m->StackInuse + u64_at(r->ms, off[GF_MS_STACKS_SYS]);
	m->MSpanInuse = r->span_inuse;
	m->MSpanSys = u64_at(r->ms, off[GF_MS_MSPAN_SYS]);
	m->MCacheInuse = r->cache_inuse;
	m->MCacheSys = u64_at(r->ms, off[GF_MS_MCACHE_SYS]);
	m->BuckHashSys = u64_at(r->ms, off[GF_MS_BUCKHASH_SYS]);
	m->GCSys = u64_at(r->ms, off[GF_MS_GCMISCSYS]) + D(GF_HSD_INWORKBUFS) +
		   D(GF_HSD_INPTRSCALARBITS);
	m->OtherSys = u64_at(r->ms, off[GF_MS_OTHER_SYS]);
	m->Sys = heap_sys + u64_at(r->ms, off[GF_MS_STACKS_SYS]) + m->MSpanSys + m->MCacheSys +
		 m->BuckHashSys + u64_at(r->ms, off[GF_MS_GCMISCSYS]) + m->OtherSys +
		 m->StackInuse + D(GF_HSD_INWORKBUFS) + D(GF_HSD_INPTRSCALARBITS);
#undef D
	m->LastGC = u64_at(r->ms, off[GF_MS_LAST_GC_UNIX]);
	m->PauseTotalNs = u64_at(r->ms, off[GF_MS_PAUSE_TOTAL_NS]);
	memcpy(m->PauseNs, r->ms + off[GF_MS_PAUSE_NS], sizeof(m->PauseNs));
	memcpy(m->PauseEnd, r->ms + off[GF_MS_PAUSE_END], sizeof(m->PauseEnd));
	m->NumGC = u32_at(r->ms, off[GF_MS_NUMGC]);
	m->NumForcedGC = u32_at(r->ms, off[GF_MS_NUMFORCEDGC]);
	memcpy(&m->GCCPUFraction, r->ms + off[GF_MS_GC_CPU_FRACTION], sizeof(double));
	next_gc(p, r, m);
}

static bool same_heap(const struct go_memstats *a, const struct go_memstats *b)
{
	return a->Mallocs == b->Mallocs && a->Frees == b->Frees && a->HeapAlloc == b->HeapAlloc &&
	       a->HeapSys == b->HeapSys && a->HeapInuse == b->HeapInuse && a->NumGC == b->NumGC &&
	       a->StackInuse == b->StackInuse;
}

/* Every field read must be known in this release, and fit the buffers. */
static int check_layout(const struct go_proc *p, size_t *ms_len, size_t *hsd_len, char *err,
			size_t errlen)
{
	static const enum go_field need[] = {
		GF_MS_HEAPSTATS,
		GF_MS_STACKS_SYS,
		GF_MS_MSPAN_SYS,
		GF_MS_MCACHE_SYS,
		GF_MS_BUCKHASH_SYS,
		GF_MS_GCMISCSYS,
		GF_MS_OTHER_SYS,
		GF_MS_LAST_GC_UNIX,
		GF_MS_PAUSE_TOTAL_NS,
		GF_MS_PAUSE_NS,
		GF_MS_PAUSE_END,
		GF_MS_NUMGC,
		GF_MS_NUMFORCEDGC,
		GF_MS_GC_CPU_FRACTION,
		GF_HSD_COMMITTED,
		GF_HSD_RELEASED,
		GF_HSD_INHEAP,
		GF_HSD_INSTACKS,
		GF_HSD_INWORKBUFS,
		GF_HSD_TINYALLOCCOUNT,
		GF_HSD_LARGEALLOC,
		GF_HSD_LARGEALLOCCOUNT,
		GF_HSD_SMALLALLOCCOUNT,
		GF_HSD_LARGEFREE,
		GF_HSD_LARGEFREECOUNT,
		GF_HSD_SMALLFREECOUNT,
		GF_GC_GCPERCENT,
		GF_MH_SPANALLOC_INUSE,
		GF_MH_CACHEALLOC_INUSE,
		GF_P_MCACHE,
		GF_MC_ALLOC,
		GF_MC_TINYALLOCS,
		GF_SPAN_ALLOCCOUNT,
	};
	const int *off = p->lay.off;
	int max_ms = 0;

	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (off[need[i]] < 0) {
			goelf_err(err, errlen,
				  "PID %d (%s): Go %s: rtmon does not know where %s is in this "
				  "release",
				  p->pid, p->comm, p->gi.version, go_field_name(need[i]));
			return -ENOTSUP;
		}
	for (int f = GF_MS_HEAPSTATS; f <= GF_MS_GC_CPU_FRACTION; f++)
		if (off[f] > max_ms)
			max_ms = off[f];
	*ms_len = (size_t)max_ms + 256 * 8;
	/* smallFreeCount is the last field: its classes are as many as smallAllocCount's. */
	*hsd_len = (size_t)off[GF_HSD_SMALLFREECOUNT] + 8 * GO_NUM_SIZE_CLASSES;
	if (off[GF_HSD_LARGEFREE] - off[GF_HSD_SMALLALLOCCOUNT] != 8 * GO_NUM_SIZE_CLASSES ||
	    *ms_len > sizeof(((struct mem_raw *)0)->ms) ||
	    *hsd_len > sizeof(((struct mem_raw *)0)->hs[0]) ||
	    (off[GF_SPAN_ALLOCCOUNTBEFORECACHE] < 0 && off[GF_SPAN_NELEMS] < 0)) {
		goelf_err(
			err, errlen,
			"PID %d (%s): Go %s: its heap statistics are not laid out as rtmon expects",
			p->pid, p->comm, p->gi.version);
		return -ENOTSUP;
	}
	return 0;
}

int go_read_memstats(struct go_proc *p, struct go_memstats *out, char *err, size_t errlen)
{
	struct go_mem_globals g;
	struct mem_raw *r;
	struct go_memstats prev;
	size_t ms_len, hsd_len;
	int rc = check_layout(p, &ms_len, &hsd_len, err, errlen);

	if (!rc)
		rc = go_mem_globals_find(p->st, &p->lay, &g, err, errlen);
	if (rc)
		return rc;
	if (!(r = malloc(sizeof(*r)))) {
		goelf_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (!(rc = read_raw(p, &g, ms_len, hsd_len, r)))
		compute(p, r, &prev);
	for (int i = 0; !rc && i < READ_TRIES; i++) {
		if ((rc = read_raw(p, &g, ms_len, hsd_len, r)))
			break;
		compute(p, r, out);
		if (same_heap(out, &prev))
			break;
		out->changing = i == READ_TRIES - 1;
		prev = *out;
	}
	free(r);
	if (rc)
		go_proc_read_err(p, rc, err, errlen);
	return rc;
}

int go_read_sched_stats(struct go_proc *p, struct go_sched_stats *out, char *err, size_t errlen)
{
	const int *off = p->lay.off;
	struct go_mem_globals g;
	uint64_t sl[3], v = 0;
	int32_t pct = 0;
	int rc = go_mem_globals_find(p->st, &p->lay, &g, err, errlen);

	out->gomaxprocs = out->ncpu = out->gogc = out->memory_limit = out->cgo_calls = -1;
	if (rc)
		return rc;
	if (off[GF_GC_GCPERCENT] < 0) {
		goelf_err(err, errlen, "PID %d (%s): Go %s: rtmon does not know where %s is",
			  p->pid, p->comm, p->gi.version, go_field_name(GF_GC_GCPERCENT));
		return -ENOTSUP;
	}
	rc = proc_mem_read(p->pid, g.allp + p->bias, sl, sizeof(sl));
	if (!rc)
		rc = proc_mem_read(p->pid,
				   g.gc_controller + p->bias + (uint64_t)off[GF_GC_GCPERCENT], &pct,
				   4);
	if (!rc && off[GF_GC_MEMORYLIMIT] >= 0 &&
	    !(rc = proc_mem_read(
		      p->pid, g.gc_controller + p->bias + (uint64_t)off[GF_GC_MEMORYLIMIT], &v, 8)))
		out->memory_limit = (int64_t)v;
	if (!rc && g.ncpu) {
		int32_t n = 0;

		if (!(rc = proc_mem_read(p->pid, g.ncpu + p->bias, &n, 4)))
			out->ncpu = n;
	}
	if (!rc && g.ncgocall && g.allm && off[GF_M_NCGOCALL] >= 0 && off[GF_M_ALLLINK] >= 0) {
		uint64_t n = 0, m = 0, c;
		int guard = 0;

		rc = proc_mem_read(p->pid, g.ncgocall + p->bias, &n, 8);
		if (!rc)
			rc = proc_mem_read(p->pid, g.allm + p->bias, &m, 8);
		while (!rc && m && guard++ < 100000) { /* the runtime's own list of Ms */
			rc = proc_mem_read(p->pid, m + (uint64_t)off[GF_M_NCGOCALL], &c, 8);
			if (!rc)
				n += c;
			if (!rc)
				rc = proc_mem_read(p->pid, m + (uint64_t)off[GF_M_ALLLINK], &m, 8);
		}
		out->cgo_calls = (int64_t)n;
	}
	if (rc) {
		go_proc_read_err(p, rc, err, errlen);
		return rc;
	}
	out->gomaxprocs = (int64_t)sl[1];
	out->gogc = pct;
	return 0;
}

struct go_alloc_reader {
	struct go_proc *p;
	struct go_mem_globals g;
	size_t ms_len, hsd_len;
	struct mem_raw r;
	struct go_memstats m;
};

int go_alloc_reader_open(struct go_proc *p, struct go_alloc_reader **out, char *err, size_t errlen)
{
	struct go_alloc_reader *rd = calloc(1, sizeof(*rd));
	int rc;

	*out = NULL;
	if (!rd) {
		goelf_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rd->p = p;
	rc = check_layout(p, &rd->ms_len, &rd->hsd_len, err, errlen);
	if (!rc)
		rc = go_mem_globals_find(p->st, &p->lay, &rd->g, err, errlen);
	if (rc) {
		free(rd);
		return rc;
	}
	*out = rd;
	return 0;
}

/* Two reads back to back differ by what was allocated in between (~15,000 at most in ~300 us);
 * one torn by the runtime moving counts between heapStats' generations or out of an mcache
 * differs by up to a generation's whole count. */
#define ALLOC_READ_TOL 100000

int go_alloc_read(struct go_alloc_reader *rd, uint64_t *mallocs, uint64_t *total_alloc)
{
	uint64_t prev = 0;

	for (int i = 0; i < READ_TRIES; i++) {
		int rc = read_raw(rd->p, &rd->g, rd->ms_len, rd->hsd_len, &rd->r);

		if (rc)
			return rc;
		compute(rd->p, &rd->r, &rd->m);
		if (i && rd->m.Mallocs >= prev && rd->m.Mallocs - prev <= ALLOC_READ_TOL) {
			*mallocs = rd->m.Mallocs;
			*total_alloc = rd->m.TotalAlloc;
			return 0;
		}
		prev = rd->m.Mallocs;
	}
	return -EAGAIN;
}

void go_alloc_reader_close(struct go_alloc_reader *rd)
{
	free(rd);
}

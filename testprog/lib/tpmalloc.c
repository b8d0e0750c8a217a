/* A preloadable allocator for rtmon malloc's tests (tests/integration/test_malloc_preload.py):
 * LD_PRELOAD=libtpmalloc.so makes every malloc, calloc, realloc, aligned_alloc, posix_memalign,
 * memalign, valloc, pvalloc and free of the program land here, never in libc's allocator. Blocks
 * come from its own arena (a bump pointer in one mapping; free only counts), so a probe on libc's
 * malloc sees none of them: only a tracer that probes the preloaded library counts them.
 *
 * It counts its calls from the moment the program says so: at its first read(2) of stdin, which is
 * where the test programs wait for their start signal (testprog/tp_gate.h), so that the counts are
 * what a tracer attached at the gate sees. TPMALLOC_REPORT=FILE makes it write, at exit, one line
 * "malloc=N calloc=N ... free=N" of the calls made after the gate, and "total_malloc=N ..." of all
 * of them. Nothing is printed otherwise.
 * Built with TP_JE_PREFIX (libtpmalloc-je.so), it exports je_malloc, je_free... instead, as
 * jemalloc built with a prefix does (je_prefix.h); the report keeps the unprefixed names. */
#ifdef TP_JE_PREFIX
#include "je_prefix.h"
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ARENA_BYTES (1ULL << 32) /* reserved, not committed: MAP_NORESERVE */
#define HDR         16           /* each block's size, just before it */

enum {
	F_MALLOC,
	F_CALLOC,
	F_REALLOC,
	F_ALIGNED_ALLOC,
	F_POSIX_MEMALIGN,
	F_MEMALIGN,
	F_VALLOC,
	F_PVALLOC,
	F_FREE,
	F_COUNT
};
static const char *const names[F_COUNT] = { "malloc",        "calloc",         "realloc",
					    "aligned_alloc", "posix_memalign", "memalign",
					    "valloc",        "pvalloc",        "free" };

static _Atomic uint64_t total[F_COUNT], after_gate[F_COUNT];
static atomic_bool gate_passed;
static char *arena;
static _Atomic uintptr_t next_free;

static void count(int f)
{
	atomic_fetch_add(&total[f], 1);
	if (atomic_load(&gate_passed))
		atomic_fetch_add(&after_gate[f], 1);
}

static void *arena_alloc(size_t size, size_t align)
{
	uintptr_t old, start, end;

	if (!arena) {
		void *m = mmap(NULL, ARENA_BYTES, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (m == MAP_FAILED)
			return NULL;
		/* Two threads racing here: the loser unmaps its own. */
		if (!__atomic_compare_exchange_n(&arena, &(char *){ NULL }, (char *)m, 0,
						 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			munmap(m, ARENA_BYTES);
		else
			atomic_store(&next_free, (uintptr_t)m);
	}
	if (align < HDR)
		align = HDR;
	do {
		old = atomic_load(&next_free);
		start = (old + HDR + align - 1) & ~(uintptr_t)(align - 1);
		end = start + size;
		if (end > (uintptr_t)arena + ARENA_BYTES)
			return NULL;
	} while (!atomic_compare_exchange_weak(&next_free, &old, end));
	((size_t *)start)[-1] = size;
	return (void *)start;
}

static size_t block_size(void *p)
{
	return ((size_t *)p)[-1];
}

void *malloc(size_t size)
{
	count(F_MALLOC);
	return arena_alloc(size, HDR);
}

void *calloc(size_t n, size_t size)
{
	void *p;

	count(F_CALLOC);
	if (size && n > SIZE_MAX / size)
		return NULL;
	p = arena_alloc(n * size, HDR);
	if (p)
		memset(p, 0, n * size);
	return p;
}

void *realloc(void *old, size_t size)
{
	void *p;

	count(F_REALLOC);
	p = arena_alloc(size, HDR);
	if (p && old)
		memcpy(p, old, block_size(old) < size ? block_size(old) : size);
	return p;
}

void *aligned_alloc(size_t align, size_t size)
{
	count(F_ALIGNED_ALLOC);
	return arena_alloc(size, align);
}

int posix_memalign(void **out, size_t align, size_t size)
{
	count(F_POSIX_MEMALIGN);
	*out = arena_alloc(size, align);
	return *out ? 0 : ENOMEM;
}

void *memalign(size_t align, size_t size)
{
	count(F_MEMALIGN);
	return arena_alloc(size, align);
}

void *valloc(size_t size)
{
	count(F_VALLOC);
	return arena_alloc(size, 4096);
}

void *pvalloc(size_t size)
{
	count(F_PVALLOC);
	return arena_alloc((size + 4095) & ~(size_t)4095, 4096);
}

void free(void *p)
{
	(void)p;
	count(F_FREE);
}

size_t malloc_usable_size(void *p)
{
	return p ? block_size(p) : 0;
}

/* The gate: the program's first read of stdin (tp_gate.h reads it with read(2)). */
ssize_t read(int fd, void *buf, size_t len)
{
	if (fd == STDIN_FILENO)
		atomic_store(&gate_passed, true);
	return syscall(SYS_read, fd, buf, len);
}

static void put_counts(int fd, const char *prefix, _Atomic uint64_t *c)
{
	char line[512];
	size_t used = 0;

	for (int f = 0; f < F_COUNT; f++)
		used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s%s=%llu",
					 f ? " " : "", prefix, names[f],
					 (unsigned long long)atomic_load(&c[f]));
	line[used++] = '\n';
	if (write(fd, line, used) < 0)
		_exit(9);
}

__attribute__((destructor)) static void report(void)
{
	const char *path = getenv("TPMALLOC_REPORT");
	int fd;

	if (!path || (fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		return;
	put_counts(fd, "", after_gate);
	put_counts(fd, "total_", total);
	close(fd);
}

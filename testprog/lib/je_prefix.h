/* jemalloc built with --with-jemalloc-prefix=je_ names its functions je_malloc, je_free...: a
 * program that calls those never reaches malloc. Included first (before the system headers, whose
 * declarations it renames too) by testprog/lib/tpmalloc.c and testprog/alloc.c when built with
 * TP_JE_PREFIX: an allocator that exports only prefixed names, and a program that calls them, for
 * rtmon malloc --allocator-prefix (tests/integration/test_malloc_allocators.py). */
#ifndef TP_JE_PREFIX_H
#define TP_JE_PREFIX_H

#define malloc         je_malloc
#define calloc         je_calloc
#define realloc        je_realloc
#define aligned_alloc  je_aligned_alloc
#define posix_memalign je_posix_memalign
#define memalign       je_memalign
#define valloc         je_valloc
#define pvalloc        je_pvalloc
#define free           je_free

#endif

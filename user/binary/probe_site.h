/* Where exactly to put a uprobe in a function. On x86 the kernel emulates a few instructions at a
 * probe (push of a register, direct jmp/jcc/call, nop); any other instruction is single-stepped out
 * of line, which costs about 30 us a hit on a KVM guest instead of about 0.6 us. glibc's free
 * begins with `test %rdi,%rdi`, memalign/valloc/pvalloc/posix_memalign with a `cmpb`: probing their
 * first emulated instruction instead makes tracing free 25x cheaper (docs/PERFORMANCE.md). */
#ifndef RTMON_PROBE_SITE_H
#define RTMON_PROBE_SITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The file offset of the first instruction at or after `offset` that the kernel emulates, provided
 * every instruction before it only sets flags (test, cmp): each call still reaches it, with its
 * argument registers untouched. Otherwise (or when the bytes cannot be read or decoded) `offset`
 * itself. */
uint64_t probe_site_emulated(const char *path, uint64_t offset);

/* The same for an entry probe of C code (SysV ABI) that reads only the argument registers: it may
 * also go past a mov into rax, r10 or r11, which carry no argument (CPython 3.13's
 * invoke_gc_callback begins `mov 0x1dc0(%rdi),%rax; test %rax,%rax; je`). Not for a return probe,
 * nor for Go, whose first argument is in rax. */
uint64_t probe_site_emulated_args(const char *path, uint64_t offset);

/* Whether the kernel emulates the instruction at offset (false when it single-steps it, or when the
 * bytes cannot be read or decoded): what a hit there costs. */
bool probe_site_kernel_emulates(const char *path, uint64_t offset);

/* The same on bytes already in memory; code[0] is at file offset `offset`. Exposed for tests. */
uint64_t probe_site_emulated_bytes(const uint8_t *code, size_t len, uint64_t offset);
uint64_t probe_site_emulated_args_bytes(const uint8_t *code, size_t len, uint64_t offset);

#endif

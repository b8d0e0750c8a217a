/* Kernel code addresses to function names, from /proc/kallsyms (read once, sorted). */
#ifndef RTMON_KERNEL_SYMS_H
#define RTMON_KERNEL_SYMS_H

#include <stdint.h>

struct kernel_syms;

/* NULL when /proc/kallsyms cannot be read or shows no addresses (kptr_restrict). */
struct kernel_syms *kernel_syms_load(void);
void kernel_syms_free(struct kernel_syms *k);
/* The function at or below addr; NULL when none. */
const char *kernel_syms_name(const struct kernel_syms *k, uint64_t addr);

#endif

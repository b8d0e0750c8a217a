/* The one virtual-address-to-file-offset rule for PT_LOAD segments, shared by binary/objfile.c
 * (libelf program headers) and runtime/go/goelf.c (its own copy of the segments, cut to the file's
 * size). */
#ifndef RTMON_ELF_SEGMENT_H
#define RTMON_ELF_SEGMENT_H

#include <errno.h>
#include <stdint.h>

/* The file offset of vaddr in the segment loaded at seg_vaddr from file offset seg_off, if vaddr is
 * among its first seg_size bytes: 0, or -ENOENT. Callers choose seg_size: objfile passes p_memsz
 * (as it always has, so .bss objects still get an offset), goelf its file-backed size, because it
 * reads the bytes there. Written as vaddr - seg_vaddr < seg_size so that a segment at the top of
 * the address space cannot overflow. */
static inline int elf_segment_vaddr_to_offset(uint64_t seg_vaddr, uint64_t seg_size,
					      uint64_t seg_off, uint64_t vaddr, uint64_t *off)
{
	if (vaddr < seg_vaddr || vaddr - seg_vaddr >= seg_size)
		return -ENOENT;
	*off = vaddr - seg_vaddr + seg_off;
	return 0;
}

#endif

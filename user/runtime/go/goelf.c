/* goelf.c - the ELF plumbing under the Go analysis layer: a struct objfile (the one ELF file type:
 * validation, sections) with a mapping of the whole file and its PT_LOAD segments, to read bytes at
 * link-time addresses. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "binary/elf_segment.h"
#include "binary/objfile.h"
#include "runtime/go/goelf_int.h"

void goelf_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void goelf_close(struct goelf *ge)
{
	if (ge->map)
		munmap((void *)ge->map, ge->size);
	objfile_close(&ge->of);
	free(ge->segs);
	ge->map = NULL;
	ge->segs = NULL;
	ge->nsegs = 0;
}

void goelf_release_pages(const struct goelf *ge)
{
	if (ge->map) /* read-only private mapping: no data lost */
		madvise((void *)ge->map, ge->size, MADV_DONTNEED);
}

/* The segments' file parts, for the readers that take bytes at a link-time address. */
static int load_segments(struct goelf *ge, char *err, size_t errlen)
{
	size_t phnum;

	if (elf_getphdrnum(ge->of.elf, &phnum) < 0)
		phnum = 0;
	ge->segs = calloc(phnum ? phnum : 1, sizeof(*ge->segs));
	if (!ge->segs) {
		goelf_err(err, errlen, "out of memory reading %s", ge->of.path);
		return -ENOMEM;
	}
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(ge->of.elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		/* Keep only the part of a segment that is really in the file. */
		if (ph.p_offset > ge->size)
			continue;
		if (ph.p_filesz > ge->size - ph.p_offset)
			ph.p_filesz = ge->size - ph.p_offset;
		ge->segs[ge->nsegs++] = (struct goelf_seg){
			.vaddr = ph.p_vaddr,
			.memsz = ph.p_memsz,
			.off = ph.p_offset,
			.filesz = ph.p_filesz,
			.flags = ph.p_flags,
		};
	}
	return 0;
}

int goelf_open(struct goelf *ge, const char *path, char *err, size_t errlen)
{
	int ret;

	memset(ge, 0, sizeof(*ge));
	ret = objfile_open(&ge->of, path, err, errlen);
	if (ret)
		return ret;
	ge->size = ge->of.size;
	/* The Go readers walk tables of the whole file: one read-only mapping of it, whose pages
	 * they can drop again (goelf_release_pages), apart from libelf's own. */
	ge->map = mmap(NULL, ge->size, PROT_READ, MAP_PRIVATE, ge->of.fd, 0);
	if (ge->map == MAP_FAILED) {
		ret = -errno;
		ge->map = NULL;
		goelf_err(err, errlen, "cannot map %s: %s", path, strerror(-ret));
		goelf_close(ge);
		return ret;
	}
	ret = load_segments(ge, err, errlen);
	if (ret)
		goelf_close(ge);
	return ret;
}

Elf_Scn *goelf_section(const struct goelf *ge, const char *name, GElf_Shdr *sh)
{
	return objfile_section(&ge->of, name, sh);
}

int goelf_vaddr_to_off(const struct goelf *ge, uint64_t vaddr, uint64_t *off)
{
	for (size_t i = 0; i < ge->nsegs; i++) {
		const struct goelf_seg *s = &ge->segs[i];

		if (!elf_segment_vaddr_to_offset(s->vaddr, s->filesz, s->off, vaddr, off))
			return 0;
	}
	return -ENOENT;
}

const uint8_t *goelf_at_vaddr(const struct goelf *ge, uint64_t vaddr, uint64_t len)
{
	for (size_t i = 0; i < ge->nsegs; i++) {
		const struct goelf_seg *s = &ge->segs[i];

		if (vaddr >= s->vaddr && vaddr - s->vaddr < s->filesz &&
		    len <= s->filesz - (vaddr - s->vaddr))
			return ge->map + s->off + (vaddr - s->vaddr);
	}
	return NULL;
}

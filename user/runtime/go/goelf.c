/* goelf.c - the ELF plumbing under the Go analysis layer: map a file, find
 * sections, translate link-time addresses to file offsets (PT_LOAD). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "binary/elf_segment.h"
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
	if (ge->elf)
		elf_end(ge->elf);
	if (ge->map && ge->map != MAP_FAILED)
		munmap((void *)ge->map, ge->size);
	if (ge->fd >= 0)
		close(ge->fd);
	free(ge->segs);
	memset(ge, 0, sizeof(*ge));
	ge->fd = -1;
}

void goelf_release_pages(const struct goelf *ge)
{
	if (ge->map)
		madvise((void *)ge->map, ge->size,
			MADV_DONTNEED); /* read-only private mapping: no data lost */
}

int goelf_open(struct goelf *ge, const char *path, char *err, size_t errlen)
{
	struct stat stb;
	size_t phnum;
	int ret;

	memset(ge, 0, sizeof(*ge));
	ge->fd = -1;
	ge->path = path;
	if (elf_version(EV_CURRENT) == EV_NONE) {
		goelf_err(err, errlen, "libelf initialisation failed: %s", elf_errmsg(-1));
		return -ENOTSUP;
	}
	ge->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ge->fd < 0) {
		ret = -errno;
		goelf_err(err, errlen,
			  "cannot open %s: %s (check the path; for a process in another "
			  "mount namespace use /proc/PID/root/...)",
			  path, strerror(errno));
		goelf_close(ge);
		return ret;
	}
	if (fstat(ge->fd, &stb) < 0 || !S_ISREG(stb.st_mode) ||
	    stb.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		goelf_err(err, errlen, "%s is not an ELF file (not a regular file or too small)",
			  path);
		goelf_close(ge);
		return -ENOEXEC;
	}
	ge->size = stb.st_size;
	ge->map = mmap(NULL, ge->size, PROT_READ, MAP_PRIVATE, ge->fd, 0);
	if (ge->map == MAP_FAILED) {
		ret = -errno;
		ge->map = NULL;
		goelf_err(err, errlen, "cannot map %s: %s", path, strerror(-ret));
		goelf_close(ge);
		return ret;
	}
	ge->elf = elf_begin(ge->fd, ELF_C_READ_MMAP, NULL);
	if (!ge->elf || elf_kind(ge->elf) != ELF_K_ELF || !gelf_getehdr(ge->elf, &ge->ehdr)) {
		goelf_err(err, errlen, "%s is not an ELF file", path);
		goelf_close(ge);
		return -ENOEXEC;
	}
	if (elf_getshdrstrndx(ge->elf, &ge->shstrndx) < 0)
		ge->shstrndx = 0;
	if (elf_getphdrnum(ge->elf, &phnum) < 0)
		phnum = 0;
	ge->segs = calloc(phnum ? phnum : 1, sizeof(*ge->segs));
	if (!ge->segs) {
		goelf_err(err, errlen, "out of memory reading %s", path);
		goelf_close(ge);
		return -ENOMEM;
	}
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(ge->elf, i, &ph) || ph.p_type != PT_LOAD)
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

Elf_Scn *goelf_section(const struct goelf *ge, const char *name, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;

	if (!ge->shstrndx)
		return NULL;
	while ((scn = elf_nextscn(ge->elf, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, sh))
			continue;
		n = elf_strptr(ge->elf, ge->shstrndx, sh->sh_name);
		if (n && !strcmp(n, name))
			return scn;
	}
	return NULL;
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

/* gobuildinfo.c - the Go version and main module from a binary's build info.
 *
 * The build info is a 16-byte aligned blob in section .go.buildinfo (or, with
 * no section headers, in a writable non-executable PT_LOAD):
 *   "\xff Go buildinf:" (14 bytes), pointer size (1 byte), flags (1 byte:
 *   bit 0 big-endian, bit 1 strings inline, Go 1.18+).
 * Inline form: at +32 a uvarint length and the version string, then a
 * uvarint length and the module info. Older form (Go 1.13..1.17): at +16
 * and +16+ptrsize, addresses of Go string headers {ptr, len}.
 * The module info has 16-byte sentinels at both ends when it is >= 33 bytes
 * long and byte len-17 is '\n'; its "mod\t<path>\t..." line names the main
 * module. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/go/goelf_int.h"

#define BI_MAGIC     "\xff Go buildinf:"
#define BI_MAGIC_LEN 14
#define BI_SCAN_MAX  (64u << 20) /* how much of a data segment to search */

int go_parse_version(const char *s, int *major, int *minor, int *patch)
{
	const char *p;

	/* First "go<digit>": skips a "devel " prefix. */
	for (p = s; (p = strstr(p, "go")); p += 2)
		if (isdigit((unsigned char)p[2]))
			break;
	if (!p)
		return -EINVAL;
	p += 2;
	char *e;
	long ma = strtol(p, &e, 10), mi, pa = 0;
	if (*e != '.' || !isdigit((unsigned char)e[1]))
		return -EINVAL;
	mi = strtol(e + 1, &e, 10);
	if (*e == '.' && isdigit((unsigned char)e[1]))
		pa = strtol(e + 1, &e, 10);
	*major = (int)ma;
	*minor = (int)mi;
	*patch = (int)pa;
	return 0;
}

/* Reads a uvarint at *p (bounded by end); advances *p. */
static int uvarint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;

	for (int shift = 0; *p < end && shift < 64; shift += 7) {
		uint8_t b = *(*p)++;

		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -EPROTO;
}

/* Go string header {ptr, len} at vaddr -> pointer + length in the mapping. */
static int go_string_at(const struct goelf *ge, uint64_t vaddr, int ptrsz, int be,
			const uint8_t **s, uint64_t *len)
{
	const uint8_t *h = goelf_at_vaddr(ge, vaddr, 2 * ptrsz);

	if (!h)
		return -EPROTO;
	*len = goelf_rd(h + ptrsz, ptrsz, be);
	if (*len == 0) {
		*s = (const uint8_t *)"";
		return 0;
	}
	*s = goelf_at_vaddr(ge, goelf_rd(h, ptrsz, be), *len);
	return *s ? 0 : -EPROTO;
}

/* The value of a "build\tKEY=VALUE" line into out ("" if none). */
static void copy_setting(const uint8_t *line, const uint8_t *le, const char *key, char *out,
			 size_t outlen)
{
	size_t kl = strlen(key);

	if ((size_t)(le - line) <= 6 + kl || memcmp(line, "build\t", 6) ||
	    memcmp(line + 6, key, kl) || line[6 + kl] != '=')
		return;
	line += 7 + kl;
	size_t n = (size_t)(le - line) < outlen ? (size_t)(le - line) : outlen - 1;

	memcpy(out, line, n);
	out[n] = 0;
}

static void copy_module(struct go_info *gi, const uint8_t *m, uint64_t len)
{
	const uint8_t *end;

	if (len >= 33 && m[len - 17] == '\n') {
		m += 16;
		len -= 32;
	}
	end = m + len;
	/* Lines "mod\t<path>\t<version>\t<sum>", "build\tGOEXPERIMENT=<list>". */
	for (const uint8_t *line = m; line < end;) {
		const uint8_t *nl = memchr(line, '\n', end - line);
		const uint8_t *le = nl ? nl : end;

		if (le - line > 4 && !memcmp(line, "mod\t", 4) && !gi->module[0]) {
			const uint8_t *ps = line + 4, *pe = memchr(ps, '\t', le - ps);
			size_t n = (pe ? pe : le) - ps;

			if (n >= sizeof(gi->module))
				n = sizeof(gi->module) - 1;
			memcpy(gi->module, ps, n);
			gi->module[n] = 0;
		}
		copy_setting(line, le, "GOEXPERIMENT", gi->goexperiment, sizeof(gi->goexperiment));
		line = le + 1;
	}
}

int go_experiment_on(const struct go_info *gi, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = gi->goexperiment; *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l == n && !strncmp(p, name, n))
			return 1;
		if (l == n + 2 && !strncmp(p, "no", 2) && !strncmp(p + 2, name, n))
			return 0;
		p += l + (e ? 1 : 0);
	}
	return 0;
}

/* Finds the blob: section first, else a 16-aligned scan of the writable,
 * non-executable segments (all of them: in PIE the first is the RELRO one). */
static const uint8_t *find_blob(const struct goelf *ge, size_t *avail)
{
	GElf_Shdr sh;

	if (goelf_section(ge, ".go.buildinfo", &sh) && sh.sh_type != SHT_NOBITS &&
	    sh.sh_offset < ge->size && ge->size - sh.sh_offset >= 32) {
		const uint8_t *p = ge->map + sh.sh_offset;

		if (!memcmp(p, BI_MAGIC, BI_MAGIC_LEN)) {
			*avail = ge->size - sh.sh_offset;
			return p;
		}
	}
	for (size_t i = 0; i < ge->nsegs; i++) {
		const struct goelf_seg *s = &ge->segs[i];
		uint64_t n = s->filesz < BI_SCAN_MAX ? s->filesz : BI_SCAN_MAX;

		if (!(s->flags & PF_W) || (s->flags & PF_X))
			continue;
		/* Aligned to 16 in the address space. */
		for (uint64_t o = (16 - (s->vaddr & 15)) & 15; o + 32 <= n; o += 16)
			if (!memcmp(ge->map + s->off + o, BI_MAGIC, BI_MAGIC_LEN)) {
				*avail = s->filesz - o;
				return ge->map + s->off + o;
			}
	}
	return NULL;
}

int go_read_buildinfo(const char *path, struct go_info *gi, char *err, size_t errlen)
{
	struct goelf ge;
	const uint8_t *b, *vers, *mod, *end;
	uint64_t vlen, mlen;
	size_t avail;
	int ptrsz, be, ret;

	memset(gi, 0, sizeof(*gi));
	ret = goelf_open(&ge, path, err, errlen);
	if (ret)
		return ret;
	b = find_blob(&ge, &avail);
	if (!b) {
		goelf_err(err, errlen,
			  "%s: no Go build info (not a Go binary, or built by Go older "
			  "than 1.13)",
			  path);
		ret = -ENOEXEC;
		goto out;
	}
	end = b + avail;
	ptrsz = b[14];
	be = b[15] & 1;
	if (b[15] & 2) {
		const uint8_t *p = b + 32;

		if (uvarint(&p, end, &vlen) || vlen > (uint64_t)(end - p))
			goto bad;
		vers = p;
		p += vlen;
		if (uvarint(&p, end, &mlen) || mlen > (uint64_t)(end - p))
			goto bad;
		mod = p;
	} else {
		if ((ptrsz != 4 && ptrsz != 8) || avail < 16 + 2 * (size_t)ptrsz)
			goto bad;
		if (go_string_at(&ge, goelf_rd(b + 16, ptrsz, be), ptrsz, be, &vers, &vlen) ||
		    go_string_at(&ge, goelf_rd(b + 16 + ptrsz, ptrsz, be), ptrsz, be, &mod, &mlen))
			goto bad;
	}
	/* "go1.26.8": a NUL in it would leave an empty or cut version. */
	if (vlen == 0 || memchr(vers, '\0', vlen))
		goto bad;
	memcpy(gi->version, vers, vlen < sizeof(gi->version) ? vlen : sizeof(gi->version) - 1);
	if (go_parse_version(gi->version, &gi->major, &gi->minor, &gi->patch))
		gi->major = gi->minor = gi->patch = 0;
	copy_module(gi, mod, mlen);
	ret = 0;
	goto out;
bad:
	goelf_err(err, errlen,
		  "%s: Go build info is malformed or of an unknown format (report it "
		  "with the output of `go version -m %s`)",
		  path, path);
	ret = -EPROTO;
out:
	goelf_close(&ge);
	return ret;
}

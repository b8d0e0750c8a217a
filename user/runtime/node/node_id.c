/* node_id.c - Node.js and its V8 from the ELF file that holds them (node_id.h).
 *
 * node's version: official builds (and NodeSource's, from the same tree) carry process.release's
 * URLs in .rodata, ".../release/v20.20.2/node-v20.20.2.tar.gz": the "node-vM.m.p" in them, taken
 * only when every such string names the same version. V8's: the ints v8::internal::Version::major_,
 * minor_ and build_ (data symbols, exported by node). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "runtime/node/node_id.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* "20.20.2" after a "node-v" at p (end bounds the section); 0 when there is none. */
static size_t version_at(const char *p, const char *end, char *out, size_t len)
{
	const char *q = p;
	int dots = 0;

	while (q < end && (is_digit(*q) || (*q == '.' && q > p && is_digit(q[-1]))))
		dots += *q++ == '.';
	if (dots != 2 || !is_digit(q[-1]) || (size_t)(q - p) >= len)
		return 0;
	memcpy(out, p, q - p);
	out[q - p] = '\0';
	return (size_t)(q - p);
}

static void node_version(struct objfile *ef, char *out, size_t len)
{
	static const char tag[] = "node-v";
	GElf_Shdr sh;
	Elf_Scn *scn = objfile_section(ef, ".rodata", &sh);
	Elf_Data *data;
	char found[32] = "", v[32];

	out[0] = '\0';
	if (!scn || sh.sh_type != SHT_PROGBITS || !(data = elf_rawdata(scn, NULL)) || !data->d_buf)
		return;
	const char *buf = data->d_buf, *end = buf + data->d_size, *p = buf;

	while ((p = memmem(p, end - p, tag, sizeof(tag) - 1))) {
		p += sizeof(tag) - 1;
		if (!version_at(p, end, v, sizeof(v)))
			continue;
		if (!found[0])
			snprintf(found, sizeof(found), "%s", v);
		else if (strcmp(found, v))
			return; /* two versions: say none rather than guess */
	}
	snprintf(out, len, "%s", found);
}

static bool read_int(struct objfile *ef, const char *sym, int *out)
{
	struct objfile_sym s;
	int32_t v;

	if (objfile_find_object(ef, sym, &s) || s.size != sizeof(v) ||
	    pread(ef->fd, &v, sizeof(v), (off_t)s.offset) != (ssize_t)sizeof(v))
		return false;
	*out = v;
	return true;
}

static void v8_version(struct objfile *ef, struct node_info *out)
{
	int build;

	if (read_int(ef, "_ZN2v88internal7Version6major_E", &out->v8_major) &&
	    read_int(ef, "_ZN2v88internal7Version6minor_E", &out->v8_minor) &&
	    read_int(ef, "_ZN2v88internal7Version6build_E", &build))
		snprintf(out->v8, sizeof(out->v8), "%d.%d.%d", out->v8_major, out->v8_minor, build);
}

static int is_napi(const GElf_Sym *sym, const char *name, void *ctx)
{
	(void)sym;
	(void)ctx;
	return !strcmp(name, "napi_get_node_version");
}

bool node_identify(struct objfile *ef, struct node_info *out)
{
	struct objfile_sym f;

	memset(out, 0, sizeof(*out));
	/* Node exports Node-API for its addons: .dynsym alone, not a large .symtab, tells every
	 * program rtmon ps reads whether it is node. */
	if (objfile_for_each_func(ef, SHT_DYNSYM, is_napi, NULL) != 1)
		return false;
	node_version(ef, out->version, sizeof(out->version));
	v8_version(ef, out);
	out->gc_symbols = !objfile_find_func(ef, V8_PERFORM_GC_SYM, &f);
	return true;
}

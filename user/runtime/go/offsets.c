/* gooffsets.c - offsets of runtime.g / runtime.m fields a BPF program reads.
 *
 * From DWARF when the binary has it (libdw: DW_TAG_structure_type
 * "runtime.g" / "runtime.m", DW_TAG_member "goid", "m", "atomicstatus",
 * "procid", DW_AT_data_member_location), else from the table below, keyed
 * by the Go version in the build info. Every table row was read from the
 * DWARF of a binary built by that Go release (see docs/go-support.md and
 * tests/unit/test_goelf.c, which re-checks each row it has a fixture for).
 * A version outside the table without DWARF is an error, never a guess. */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "binary/target_file.h"
#include "runtime/go/goelf_int.h"

static const struct {
	int minor_lo, minor_hi; /* Go 1.minor_lo .. 1.minor_hi */
	struct go_offsets off;
} offsets_table[] = {
	/* Read from DWARF of go1.17.13, 1.18.10, 1.20.14, 1.21.13, 1.22.12 (1.19 from
	 * its neighbours: its toolchain module would not build here). */
	{ 17, 22, { .g_goid = 152, .g_m = 48, .m_procid = 72, .g_atomicstatus = 144 } },
	/* go1.23.12, go1.24.13 */
	{ 23, 24, { .g_goid = 160, .g_m = 48, .m_procid = 72, .g_atomicstatus = 152 } },
	/* go1.25.0, go1.26.8 */
	{ 25, 26, { .g_goid = 152, .g_m = 48, .m_procid = 64, .g_atomicstatus = 144 } },
};

int go_offsets_from_table(int major, int minor, struct go_offsets *out)
{
	if (major != 1)
		return -ENOTSUP;
	for (size_t i = 0; i < sizeof(offsets_table) / sizeof(offsets_table[0]); i++)
		if (minor >= offsets_table[i].minor_lo && minor <= offsets_table[i].minor_hi) {
			*out = offsets_table[i].off;
			return 0;
		}
	return -ENOTSUP;
}

static int member_offset(Dwarf_Die *member)
{
	Dwarf_Attribute a;
	Dwarf_Word w;

	if (!dwarf_attr(member, DW_AT_data_member_location, &a) || dwarf_formudata(&a, &w))
		return -1;
	return w > 0x7fffffff ? -1 : (int)w;
}

/* Fills the fields of out that belong to struct die (runtime.g or runtime.m). */
static void read_struct(Dwarf_Die *die, int is_g, struct go_offsets *out)
{
	Dwarf_Die child;

	if (dwarf_child(die, &child))
		return;
	do {
		const char *n;

		if (dwarf_tag(&child) != DW_TAG_member || !(n = dwarf_diename(&child)))
			continue;
		if (is_g && !strcmp(n, "goid"))
			out->g_goid = member_offset(&child);
		else if (is_g && !strcmp(n, "m"))
			out->g_m = member_offset(&child);
		else if (is_g && !strcmp(n, "atomicstatus"))
			out->g_atomicstatus = member_offset(&child);
		else if (!is_g && !strcmp(n, "procid"))
			out->m_procid = member_offset(&child);
	} while (!dwarf_siblingof(&child, &child));
}

int go_offsets_from_dwarf(const char *path, struct go_offsets *out, char *err, size_t errlen)
{
	Dwarf_Off off = 0, next;
	size_t hsize;
	Dwarf *dw;
	int fd, found_g = 0, found_m = 0;

	*out = (struct go_offsets){ -1, -1, -1, -1 };
	fd = target_file_open(path);
	if (fd < 0) {
		int ret = fd;

		goelf_err(err, errlen, "cannot open %s: %s", path, strerror(-fd));
		return ret;
	}
	dw = dwarf_begin(fd, DWARF_C_READ);
	if (!dw) {
		close(fd);
		goelf_err(err, errlen, "%s has no DWARF (built with -ldflags=-w or stripped)",
			  path);
		return -ENODATA;
	}
	/* Types are top-level DIEs of some CU: look only at those. */
	while (!(found_g && found_m) && !dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL)) {
		Dwarf_Die cu, die;

		if (dwarf_offdie(dw, off + hsize, &cu) && !dwarf_child(&cu, &die)) {
			do {
				const char *n;

				if (dwarf_tag(&die) != DW_TAG_structure_type ||
				    !(n = dwarf_diename(&die)))
					continue;
				if (!found_g && !strcmp(n, "runtime.g")) {
					read_struct(&die, 1, out);
					found_g = 1;
				} else if (!found_m && !strcmp(n, "runtime.m")) {
					read_struct(&die, 0, out);
					found_m = 1;
				}
			} while (!(found_g && found_m) && !dwarf_siblingof(&die, &die));
		}
		off = next;
	}
	dwarf_end(dw);
	close(fd);
	if (out->g_goid < 0) {
		goelf_err(err, errlen,
			  "%s: DWARF has no runtime.g with a goid member (not a Go "
			  "binary?)",
			  path);
		return -ENOENT;
	}
	return 0;
}

int go_offsets_get(const char *path, const struct go_info *gi, struct go_offsets *out, char *err,
		   size_t errlen)
{
	struct go_info local;
	struct go_offsets tab;
	int ret, have_tab;

	if (!gi) {
		ret = go_read_buildinfo(path, &local, err, errlen);
		if (ret)
			return ret;
		gi = &local;
	}
	have_tab = !go_offsets_from_table(gi->major, gi->minor, &tab);
	ret = go_offsets_from_dwarf(path, out, err, errlen);
	if (!ret) {
		/* A member DWARF lacks (renamed upstream) falls back to the table. */
		if (have_tab) {
			if (out->g_m < 0)
				out->g_m = tab.g_m;
			if (out->m_procid < 0)
				out->m_procid = tab.m_procid;
			if (out->g_atomicstatus < 0)
				out->g_atomicstatus = tab.g_atomicstatus;
		}
		return 0;
	}
	if (ret != -ENODATA && ret != -ENOENT)
		return ret;
	if (!have_tab) {
		goelf_err(
			err, errlen,
			"%s: Go %s has no DWARF and its runtime.g layout is not in "
			"rtmon's table (Go 1.17 to 1.26): rebuild without -ldflags=-w, or add the "
			"version to user/runtime/go/offsets.c after checking it",
			path, gi->version[0] ? gi->version : "(unknown version)");
		return -ENOTSUP;
	}
	*out = tab;
	return 0;
}

/* layout.c - where the fields rtmon reads sit in the runtime's structures.
 *
 * From DWARF when the binary has it (libdw: the DW_TAG_structure_type named in go_fields, then
 * DW_TAG_member by member, following DW_AT_type into nested structs), else from the table below,
 * keyed by the Go release in the build info. Every row was read from the DWARF of a binary built
 * by that release (tests/unit/test_go_layout.c re-checks each row it has a fixture for). A release
 * outside the table without DWARF is refused, never guessed. */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "binary/target_file.h"
#include "runtime/go/goelf_int.h"
#include "runtime/go/goinspect.h"

/* type: a struct type's name in DWARF, or with var set a variable's name: the members of its type
 * (runtime.work's type has no name before Go 1.19). */
static const struct {
	const char *type, *path;
	bool var;
} go_fields[GF_COUNT] = {
	[GF_G_STACK_LO] = { "runtime.g", "stack.lo" },
	[GF_G_STACK_HI] = { "runtime.g", "stack.hi" },
	[GF_G_SCHED_SP] = { "runtime.g", "sched.sp" },
	[GF_G_SCHED_PC] = { "runtime.g", "sched.pc" },
	[GF_G_SCHED_BP] = { "runtime.g", "sched.bp" },
	[GF_G_SYSCALLSP] = { "runtime.g", "syscallsp" },
	[GF_G_SYSCALLPC] = { "runtime.g", "syscallpc" },
	[GF_G_M] = { "runtime.g", "m" },
	[GF_G_ATOMICSTATUS] = { "runtime.g", "atomicstatus" },
	[GF_G_GOID] = { "runtime.g", "goid" },
	[GF_G_WAITSINCE] = { "runtime.g", "waitsince" },
	[GF_G_WAITREASON] = { "runtime.g", "waitreason" },
	[GF_G_LOCKEDM] = { "runtime.g", "lockedm" },
	[GF_G_GOPC] = { "runtime.g", "gopc" },
	[GF_G_STARTPC] = { "runtime.g", "startpc" },
	[GF_G_PARENTGOID] = { "runtime.g", "parentGoid" },
	[GF_MS_HEAPSTATS] = { "runtime.mstats", "heapStats" },
	[GF_MS_STACKS_SYS] = { "runtime.mstats", "stacks_sys" },
	[GF_MS_MSPAN_SYS] = { "runtime.mstats", "mspan_sys" },
	[GF_MS_MCACHE_SYS] = { "runtime.mstats", "mcache_sys" },
	[GF_MS_BUCKHASH_SYS] = { "runtime.mstats", "buckhash_sys" },
	[GF_MS_GCMISCSYS] = { "runtime.mstats", "gcMiscSys" },
	[GF_MS_OTHER_SYS] = { "runtime.mstats", "other_sys" },
	[GF_MS_LAST_GC_UNIX] = { "runtime.mstats", "last_gc_unix" },
	[GF_MS_PAUSE_TOTAL_NS] = { "runtime.mstats", "pause_total_ns" },
	[GF_MS_PAUSE_NS] = { "runtime.mstats", "pause_ns" },
	[GF_MS_PAUSE_END] = { "runtime.mstats", "pause_end" },
	[GF_MS_NUMGC] = { "runtime.mstats", "numgc" },
	[GF_MS_NUMFORCEDGC] = { "runtime.mstats", "numforcedgc" },
	[GF_MS_GC_CPU_FRACTION] = { "runtime.mstats", "gc_cpu_fraction" },
	[GF_HSD_COMMITTED] = { "runtime.heapStatsDelta", "committed" },
	[GF_HSD_RELEASED] = { "runtime.heapStatsDelta", "released" },
	[GF_HSD_INHEAP] = { "runtime.heapStatsDelta", "inHeap" },
	[GF_HSD_INSTACKS] = { "runtime.heapStatsDelta", "inStacks" },
	[GF_HSD_INWORKBUFS] = { "runtime.heapStatsDelta", "inWorkBufs" },
	[GF_HSD_INPTRSCALARBITS] = { "runtime.heapStatsDelta", "inPtrScalarBits" },
	[GF_HSD_TINYALLOCCOUNT] = { "runtime.heapStatsDelta", "tinyAllocCount" },
	[GF_HSD_LARGEALLOC] = { "runtime.heapStatsDelta", "largeAlloc" },
	[GF_HSD_LARGEALLOCCOUNT] = { "runtime.heapStatsDelta", "largeAllocCount" },
	[GF_HSD_SMALLALLOCCOUNT] = { "runtime.heapStatsDelta", "smallAllocCount" },
	[GF_HSD_LARGEFREE] = { "runtime.heapStatsDelta", "largeFree" },
	[GF_HSD_LARGEFREECOUNT] = { "runtime.heapStatsDelta", "largeFreeCount" },
	[GF_HSD_SMALLFREECOUNT] = { "runtime.heapStatsDelta", "smallFreeCount" },
	[GF_GC_HEAPGOAL] = { "runtime.gcControllerState", "heapGoal" },
	[GF_GC_PERCENTHEAPGOAL] = { "runtime.gcControllerState", "gcPercentHeapGoal" },
	[GF_GC_SWEEPDISTMINTRIGGER] = { "runtime.gcControllerState", "sweepDistMinTrigger" },
	[GF_GC_TRIGGERED] = { "runtime.gcControllerState", "triggered" },
	[GF_GC_MEMORYLIMIT] = { "runtime.gcControllerState", "memoryLimit" },
	[GF_GC_GCPERCENT] = { "runtime.gcControllerState", "gcPercent" },
	[GF_MH_SPANALLOC_INUSE] = { "runtime.mheap", "spanalloc.inuse" },
	[GF_MH_CACHEALLOC_INUSE] = { "runtime.mheap", "cachealloc.inuse" },
	[GF_P_MCACHE] = { "runtime.p", "mcache" },
	[GF_MC_ALLOC] = { "runtime.mcache", "alloc" },
	[GF_MC_TINYALLOCS] = { "runtime.mcache", "tinyAllocs" },
	[GF_SPAN_ALLOCCOUNT] = { "runtime.mspan", "allocCount" },
	[GF_SPAN_ALLOCCOUNTBEFORECACHE] = { "runtime.mspan", "allocCountBeforeCache" },
	[GF_SPAN_NELEMS] = { "runtime.mspan", "nelems" },
	[GF_M_NCGOCALL] = { "runtime.m", "ncgocall" },
	[GF_M_ALLLINK] = { "runtime.m", "alllink" },
	[GF_WORK_CYCLES] = { "runtime.work", "cycles", true },
	[GF_WORK_HEAP0] = { "runtime.work", "heap0", true },
	[GF_WORK_HEAP1] = { "runtime.work", "heap1", true },
	[GF_WORK_HEAP2] = { "runtime.work", "heap2", true },
	[GF_WORK_HEAPGOAL] = { "runtime.work", "heapGoal", true },
	[GF_GC_LASTHEAPGOAL] = { "runtime.gcControllerState", "lastHeapGoal" },
};

/* Fields a release may lack: the rest must all be found. */
static bool optional_field(enum go_field f)
{
	return f == GF_G_PARENTGOID || f >= GF_FIRST_MEM;
}

static const struct {
	int minor_lo, minor_hi; /* Go 1.minor_lo .. 1.minor_hi */
	int off[GF_FIRST_MEM];  /* in enum go_field order */
} layout_table[] = {
	/* Read from DWARF of go1.17.13, 1.18.10, 1.19.8 (Debian's), 1.20.14 */
	{ 17, 20, { 0, 8, 56, 64, 104, 112, 120, 48, 144, 152, 168, 176, 232, 296, 312, -1 } },
	/* go1.21.13, 1.22.12: parentGoid */
	{ 21, 22, { 0, 8, 56, 64, 104, 112, 120, 48, 144, 152, 168, 176, 208, 280, 296, 272 } },
	/* go1.23.12, 1.24.13: syscallbp */
	{ 23, 24, { 0, 8, 56, 64, 104, 112, 120, 48, 152, 160, 176, 184, 216, 288, 304, 280 } },
	/* go1.25.0: gobuf.ret gone */
	{ 25, 25, { 0, 8, 56, 64, 96, 104, 112, 48, 144, 152, 168, 176, 208, 280, 296, 272 } },
	/* go1.26.8 */
	{ 26, 26, { 0, 8, 56, 64, 96, 104, 112, 48, 144, 152, 168, 176, 208, 288, 304, 280 } },
};

/* The fields memstats and stats read, GF_FIRST_MEM on, one row per release (read from its DWARF,
 * as above; -1: the release has no such field). */
static const struct {
	int minor;
	int off[GF_COUNT - GF_FIRST_MEM];
} mem_table[] = {
#include "runtime/go/layout_mem_table.h"
};

static void mem_from_table(int minor, struct go_layout *out)
{
	for (int f = GF_FIRST_MEM; f < GF_COUNT; f++)
		out->off[f] = -1;
	for (size_t i = 0; i < sizeof(mem_table) / sizeof(mem_table[0]); i++)
		if (mem_table[i].minor == minor)
			memcpy(out->off + GF_FIRST_MEM, mem_table[i].off, sizeof(mem_table[i].off));
}

const char *go_field_name(enum go_field f)
{
	static char buf[GF_COUNT][64];

	if ((unsigned)f >= GF_COUNT)
		return "?";
	if (!buf[f][0])
		snprintf(buf[f], sizeof(buf[f]), "%s.%s", go_fields[f].type, go_fields[f].path);
	return buf[f];
}

static void finish(struct go_layout *out)
{
	out->g_read = 0;
	for (int f = 0; f < GF_COUNT; f++)
		if (!strcmp(go_fields[f].type, "runtime.g") && out->off[f] + 8 > out->g_read)
			out->g_read = out->off[f] + 8;
}

int go_layout_from_table(int major, int minor, struct go_layout *out)
{
	if (major != 1)
		return -ENOTSUP;
	for (size_t i = 0; i < sizeof(layout_table) / sizeof(layout_table[0]); i++)
		if (minor >= layout_table[i].minor_lo && minor <= layout_table[i].minor_hi) {
			memcpy(out->off, layout_table[i].off, sizeof(layout_table[i].off));
			mem_from_table(minor, out);
			out->from_dwarf = false;
			finish(out);
			return 0;
		}
	return -ENOTSUP;
}

/* The struct a member's (or a variable's) type names, through typedefs; false if it is no struct.
 */
static bool member_struct(Dwarf_Die *member, Dwarf_Die *out)
{
	Dwarf_Attribute a;

	if (!dwarf_attr(member, DW_AT_type, &a) || !dwarf_formref_die(&a, out))
		return false;
	while (dwarf_tag(out) == DW_TAG_typedef)
		if (!dwarf_attr(out, DW_AT_type, &a) || !dwarf_formref_die(&a, out))
			return false;
	return dwarf_tag(out) == DW_TAG_structure_type;
}

/* Offset of the dotted member path in struct die, or -1. */
static int path_offset(Dwarf_Die *die, const char *path)
{
	char part[64];
	const char *dot = strchr(path, '.');
	size_t n = dot ? (size_t)(dot - path) : strlen(path);
	Dwarf_Die child, sub;

	if (n >= sizeof(part) || dwarf_child(die, &child))
		return -1;
	memcpy(part, path, n);
	part[n] = 0;
	do {
		Dwarf_Attribute a;
		Dwarf_Word w;
		const char *name = dwarf_diename(&child);
		int rest;

		if (dwarf_tag(&child) != DW_TAG_member || !name || strcmp(name, part))
			continue;
		if (!dwarf_attr(&child, DW_AT_data_member_location, &a) ||
		    dwarf_formudata(&a, &w) || w > 0xffffff)
			return -1;
		if (!dot)
			return (int)w;
		if (!member_struct(&child, &sub) || (rest = path_offset(&sub, dot + 1)) < 0)
			return -1;
		return (int)w + rest;
	} while (!dwarf_siblingof(&child, &child));
	return -1;
}

int go_layout_from_dwarf(const char *path, struct go_layout *out)
{
	Dwarf_Off off = 0, next;
	size_t hsize;
	Dwarf *dw;
	int fd, found = 0;

	for (int f = 0; f < GF_COUNT; f++)
		out->off[f] = -1;
	fd = target_file_open(path);
	if (fd < 0)
		return fd;
	dw = dwarf_begin(fd, DWARF_C_READ);
	if (!dw) {
		close(fd);
		return -ENODATA;
	}
	/* Types and variables are top-level DIEs of some CU: look only at those. */
	while (!dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL)) {
		Dwarf_Die cu, die, vtype;

		if (dwarf_offdie(dw, off + hsize, &cu) && !dwarf_child(&cu, &die)) {
			do {
				int tag = dwarf_tag(&die);
				bool var = tag == DW_TAG_variable;
				const char *n;

				if ((tag != DW_TAG_structure_type && !var) ||
				    !(n = dwarf_diename(&die)))
					continue;
				for (int f = 0; f < GF_COUNT; f++)
					if (out->off[f] < 0 && go_fields[f].var == var &&
					    !strcmp(n, go_fields[f].type)) {
						if (var && !member_struct(&die, &vtype))
							continue;
						out->off[f] = path_offset(var ? &vtype : &die,
									  go_fields[f].path);
						found++;
					}
			} while (!dwarf_siblingof(&die, &die));
		}
		off = next;
	}
	dwarf_end(dw);
	close(fd);
	if (!found)
		return -ENODATA;
	out->from_dwarf = true;
	finish(out);
	return 0;
}

int go_layout_get(const char *path, const struct go_info *gi, struct go_layout *out, char *err,
		  size_t errlen)
{
	int rc = go_layout_from_dwarf(path, out);

	if (!rc) {
		for (int f = 0; f < GF_COUNT; f++)
			if (out->off[f] < 0 && !optional_field(f)) {
				rc = -ENOENT;
				break;
			}
		if (!rc)
			return 0;
	}
	if (!go_layout_from_table(gi->major, gi->minor, out))
		return 0;
	goelf_err(err, errlen,
		  "%s: Go %s: rtmon does not know this release's runtime structures (it knows Go "
		  "1.17 to 1.26 and reads others from DWARF, which this binary %s)",
		  path, gi->version[0] ? gi->version : "(unknown version)",
		  rc == -ENOENT ? "has without every field rtmon reads" : "lacks");
	return -ENOTSUP;
}

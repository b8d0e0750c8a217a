/* See vmstructs.h. hotspot/share/runtime/vmStructs.hpp: struct VMStructEntry { const char
 * *typeName; const char *fieldName; const char *typeString; int32_t isStatic; uint64_t offset; void
 * *address; }, the table ended by an entry whose typeName is NULL. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include "binary/objfile.h"
#include "proc/procmem.h"
#include "runtime/java/vmstructs.h"

enum hs_layout { HL_STRIDE, HL_TYPE, HL_FIELD, HL_STATIC, HL_OFFSET, HL_ADDRESS, HL_N };

static const char *const layout_syms[HL_N] = {
	"gHotSpotVMStructEntryArrayStride",     "gHotSpotVMStructEntryTypeNameOffset",
	"gHotSpotVMStructEntryFieldNameOffset", "gHotSpotVMStructEntryIsStaticOffset",
	"gHotSpotVMStructEntryOffsetOffset",    "gHotSpotVMStructEntryAddressOffset",
};

/* Bounds for what the process says: HotSpot's entries are 48 bytes and its tables a few thousand
 * long; a value past these is not a table (another libjvm at that address, memory overwritten). */
#define MAX_STRIDE  256
#define MAX_ENTRIES 65536
#define CHUNK       64 /* entries read per system call */
#define NAME_MAX_   64 /* the longest TYPE or FIELD looked up, with its NUL */

int hs_vmstructs_file_open(struct hs_vmstructs_file *f, const char *libjvm, char *err,
			   size_t errlen)
{
	struct objfile of;
	struct objfile_sym sym;
	struct stat sb;
	int rc;

	memset(f, 0, sizeof(*f));
	rc = objfile_open(&of, libjvm, err, errlen);
	if (rc)
		return rc;
	rc = objfile_find_object(&of, "gHotSpotVMStructs", &sym);
	if (!rc) {
		f->table_off = sym.offset;
		f->table_vaddr = sym.vaddr;
	}
	for (int i = 0; !rc && i < HL_N; i++) {
		rc = objfile_find_object(&of, layout_syms[i], &sym);
		f->layout_vaddr[i] = sym.vaddr;
	}
	objfile_close(&of);
	if (rc) {
		snprintf(err, errlen,
			 "%s exports no gHotSpotVMStructs table (not a HotSpot libjvm.so, or one "
			 "built without the serviceability agent's tables)",
			 libjvm);
		return -ENOENT;
	}
	if (stat(libjvm, &sb)) {
		rc = -errno;
		snprintf(err, errlen, "cannot stat %s: %s", libjvm, strerror(-rc));
		return rc;
	}
	f->dev = sb.st_dev;
	f->ino = sb.st_ino;
	return 0;
}

static int read_err(int rc, pid_t pid, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "cannot read %s in PID %d: %s%s", what, pid, strerror(-rc),
		 rc == -EPERM || rc == -EACCES ? " (run rtmon as root)" : "");
	return rc;
}

/* The entry layout as the process has it, checked. */
static int read_layout(const struct hs_vmstructs_file *f, pid_t pid, uint64_t bias,
		       uint64_t lay[HL_N], char *err, size_t errlen)
{
	for (int i = 0; i < HL_N; i++) {
		int rc = proc_mem_read(pid, f->layout_vaddr[i] + bias, &lay[i], sizeof(lay[i]));

		if (rc)
			return read_err(rc, pid, layout_syms[i], err, errlen);
	}
	bool bad = !lay[HL_STRIDE];

	for (int i = 0; i < HL_N; i++)
		bad |= lay[i] > MAX_STRIDE; /* first: the sums below could wrap */
	if (bad || lay[HL_TYPE] + 8 > lay[HL_STRIDE] || lay[HL_FIELD] + 8 > lay[HL_STRIDE] ||
	    lay[HL_STATIC] + 4 > lay[HL_STRIDE] || lay[HL_ADDRESS] + 8 > lay[HL_STRIDE]) {
		snprintf(err, errlen,
			 "PID %d: HotSpot's gHotSpotVMStructs entry layout is not one rtmon knows "
			 "(stride %llu)",
			 pid, (unsigned long long)lay[HL_STRIDE]);
		return -EPROTO;
	}
	return 0;
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Whether the process's string at addr is want (len bytes with its NUL): 1, 0, or 0 if unreadable.
 */
static int remote_streq(pid_t pid, uint64_t addr, const char *want, size_t len)
{
	char buf[NAME_MAX_];

	return addr && !proc_mem_read(pid, addr, buf, len) && !memcmp(buf, want, len);
}

/* One chunk of entries: the static ones named type whose field is field. 1 found, 0 not, 2 not and
 * the table ended, -errno when the process cannot be read. */
static int scan_chunk(pid_t pid, const unsigned char *buf, size_t n, const uint64_t lay[HL_N],
		      const char *type, const char *field, uint64_t *addr)
{
	size_t tlen = strlen(type) + 1, flen = strlen(field) + 1;
	/* The type names of the static entries, read together: one system call per chunk. */
	char names[CHUNK][NAME_MAX_];
	struct iovec local[CHUNK], remote[CHUNK];
	unsigned char ok[CHUNK];
	size_t idx[CHUNK], m = 0;
	bool end = false;

	for (size_t i = 0; i < n; i++) {
		const unsigned char *e = buf + i * lay[HL_STRIDE];
		uint64_t tn = get_u64(e + lay[HL_TYPE]);
		int32_t is_static;

		if (!tn) {
			end = true;
			break;
		}
		memcpy(&is_static, e + lay[HL_STATIC], sizeof(is_static));
		if (!is_static)
			continue;
		local[m] = (struct iovec){ names[m], tlen };
		remote[m] = (struct iovec){ (void *)(uintptr_t)tn, tlen };
		idx[m++] = i;
	}
	int rc = m ? proc_mem_readv(pid, local, remote, m, ok) : 0;

	if (rc)
		return rc;
	for (size_t j = 0; j < m; j++) {
		const unsigned char *e = buf + idx[j] * lay[HL_STRIDE];

		if (ok[j] && !memcmp(names[j], type, tlen) &&
		    remote_streq(pid, get_u64(e + lay[HL_FIELD]), field, flen)) {
			*addr = get_u64(e + lay[HL_ADDRESS]);
			return 1;
		}
	}
	return end ? 2 : 0;
}

int hs_vmstructs_static_addr(const struct hs_vmstructs_file *f, pid_t pid, const char *type,
			     const char *field, uint64_t *addr, char *err, size_t errlen)
{
	unsigned char buf[CHUNK * MAX_STRIDE];
	uint64_t lay[HL_N], mapped, table;
	size_t n;
	int rc;

	if (strlen(type) >= NAME_MAX_ || strlen(field) >= NAME_MAX_)
		return -EINVAL;
	/* The load bias: where the process maps the table's pointer, less its link-time address. */
	rc = proc_file_offset_addr(pid, f->dev, f->ino, f->table_off, &mapped);
	if (rc) {
		snprintf(err, errlen, "PID %d does not map the libjvm.so it was found with", pid);
		return rc;
	}
	rc = read_layout(f, pid, mapped - f->table_vaddr, lay, err, errlen);
	if (rc)
		return rc;
	rc = proc_mem_read(pid, mapped, &table, sizeof(table));
	if (rc)
		return read_err(rc, pid, "gHotSpotVMStructs", err, errlen);
	for (uint64_t at = 0; table && at < MAX_ENTRIES; at += n) {
		n = CHUNK;
		/* The table's last chunk may end where its mapping does: fewer entries, down to
		 * one. */
		while (n &&
		       proc_mem_read(pid, table + at * lay[HL_STRIDE], buf, n * lay[HL_STRIDE]))
			n /= 2;
		if (!n)
			break;
		rc = scan_chunk(pid, buf, n, lay, type, field, addr);
		if (rc == 1)
			return 0;
		if (rc < 0)
			return read_err(rc, pid, "gHotSpotVMStructs's names", err, errlen);
		if (rc == 2)
			break;
	}
	snprintf(err, errlen, "PID %d: HotSpot's gHotSpotVMStructs has no static %s::%s", pid, type,
		 field);
	return -ENOENT;
}

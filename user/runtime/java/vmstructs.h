/* HotSpot's own description of its structures: the table gHotSpotVMStructs that libjvm.so exports
 * for the serviceability agent (jhsdb), one entry per field a tool may read, with the entry layout
 * in the gHotSpotVMStructEntry*Offset symbols next to it. The table and the layout are filled in
 * when libjvm.so is loaded, so they are read from the running JVM's memory (process_vm_readv),
 * never from the file. */
#ifndef RTMON_JAVA_VMSTRUCTS_H
#define RTMON_JAVA_VMSTRUCTS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What the file says: the link-time addresses of the exported symbols, and the file (dev, ino) a
 * process maps. The same for every process of that libjvm.so. */
struct hs_vmstructs_file {
	dev_t dev;
	ino_t ino;
	uint64_t table_off;   /* gHotSpotVMStructs's file offset (.data: mapped from the file) */
	uint64_t table_vaddr; /* and its link-time address */
	uint64_t layout_vaddr[7]; /* the entry layout's symbols, enum hs_layout order */
};

/* libjvm (a path rtmon opens) into f. 0, or -errno with one line in err (a JVM without the table).
 */
int hs_vmstructs_file_open(struct hs_vmstructs_file *f, const char *libjvm, char *err,
			   size_t errlen);

/* The address, in process pid (which maps the file f), of the static field TYPE::FIELD as the table
 * lists it: *addr. 0; -ENOENT when the table has no such field; -errno when the process cannot be
 * read. err names the problem. */
int hs_vmstructs_static_addr(const struct hs_vmstructs_file *f, pid_t pid, const char *type,
			     const char *field, uint64_t *addr, char *err, size_t errlen);

#endif

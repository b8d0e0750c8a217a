/* Node.js from its files: the file that holds node and V8 (the executable, or libnode.so.N for a
 * node built as a shared library), node's and V8's versions, and whether V8's collector entry
 * rtmon gc probes is exported. runtime_id.c asks it; user/runtime/node/gc_node.c uses the same
 * symbol names. */
#ifndef RTMON_NODE_ID_H
#define RTMON_NODE_ID_H

#include <stdbool.h>
#include <stddef.h>
#include "binary/objfile.h"

/* v8::internal::Heap::PerformGarbageCollection(GarbageCollector, GarbageCollectionReason, const
 * char*): one call per collection, on the thread of the isolate it collects, with that isolate's
 * JavaScript stopped (V8 11 and 12: node 20 and 22). */
#define V8_PERFORM_GC_SYM                                                                          \
	"_ZN2v88internal4Heap24PerformGarbageCollectionENS0_16GarbageCollectorENS0_"               \
	"23GarbageCollectionReasonEPKc"
#define V8_PERFORM_GC_NAME                                                                         \
	"v8::internal::Heap::PerformGarbageCollection(GarbageCollector, GarbageCollectionReason, " \
	"const char*)"

struct node_info {
	char version[32]; /* "20.20.2"; "" when the build does not say */
	char v8[32];      /* "11.3.244"; "" when unknown */
	int v8_major, v8_minor;
	bool gc_symbols; /* V8_PERFORM_GC_SYM is defined (exported or in .symtab) */
};

/* True if ef is node (or libnode): it exports Node-API's napi_get_node_version. Fills *out. */
bool node_identify(struct objfile *ef, struct node_info *out);

#endif

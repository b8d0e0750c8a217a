#include "trace/min_btf.h"
extern const char alloc_blob[], alloc_blob_end[];
extern const char cpu_samples_blob[], cpu_samples_blob_end[];
extern const char go_gc_blob[], go_gc_blob_end[];
extern const char native_gc_blob[], native_gc_blob_end[];
extern const char thread_events_blob[], thread_events_blob_end[];
extern const char thread_lifetimes_blob[], thread_lifetimes_blob_end[];
extern const char usdt_gc_blob[], usdt_gc_blob_end[];
extern const char kernel_blob[], kernel_blob_end[];
const struct min_btf_blob min_btf_blobs[] = {
	{ "alloc", alloc_blob, alloc_blob_end },
	{ "cpu_samples", cpu_samples_blob, cpu_samples_blob_end },
	{ "go_gc", go_gc_blob, go_gc_blob_end },
	{ "native_gc", native_gc_blob, native_gc_blob_end },
	{ "thread_events", thread_events_blob, thread_events_blob_end },
	{ "thread_lifetimes", thread_lifetimes_blob, thread_lifetimes_blob_end },
	{ "usdt_gc", usdt_gc_blob, usdt_gc_blob_end },
	{ 0 },
};
const char *const build_kernel_notes = kernel_blob;
const char *const build_kernel_notes_end = kernel_blob_end;

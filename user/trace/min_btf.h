/* Minimal kernel BTF for a BPF object, cut at build time (see the Makefile), used only on the
 * kernel it was cut from. */
#ifndef RTMON_MIN_BTF_H
#define RTMON_MIN_BTF_H

struct min_btf_blob {
	const char *name;       /* the BPF object: "alloc" for bpf/alloc.bpf.c */
	const char *data, *end; /* empty when bpftool could not cut it */
};

/* Generated into build/min_btf_table.c. */
extern const struct min_btf_blob min_btf_blobs[];
extern const char *const build_kernel_notes, *const build_kernel_notes_end;

/* A path to NAME's minimal BTF for libbpf's btf_custom_path when the running kernel is the one
 * rtmon was built on (same build id in /sys/kernel/notes); NULL otherwise, or with
 * RTMON_NO_MIN_BTF=1. */
const char *min_btf_path(const char *name);

#endif

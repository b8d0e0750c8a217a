/* One way to open a BPF object's skeleton, for every command: with the minimal kernel BTF cut for
 * it at build time (trace/min_btf.h: less memory and a faster load on the build kernel), and with
 * the target filter (bpf/target_filter.bpf.h) set from the target. Each command then sets its own
 * read-only configuration and loads. */
#ifndef RTMON_SKEL_OPEN_H
#define RTMON_SKEL_OPEN_H

#include <errno.h>
#include <bpf/libbpf.h>
#include "proc/target.h"
#include "trace/min_btf.h"
#include "trace/probe.h"

/* Opens NAME_bpf (the skeleton of bpf/NAME.bpf.c) for the target t. Returns the skeleton, or NULL
 * with errno set and a one-line message for command cmd in err. */
#define SKEL_OPEN(NAME, t, cmd, err, errlen)                                                       \
	({                                                                                         \
		LIBBPF_OPTS(bpf_object_open_opts, skel_opts_,                                      \
			    .btf_custom_path = min_btf_path(#NAME));                               \
		struct NAME##_bpf *skel_ = NAME##_bpf__open_opts(&skel_opts_);                     \
		if (skel_) {                                                                       \
			TARGET_FILTER_SET((t), skel_->rodata);                                     \
		} else {                                                                           \
			int skel_errno_ = errno;                                                   \
			probe_load_error((cmd), skel_errno_, (err), (errlen));                     \
			errno = skel_errno_;                                                       \
		}                                                                                  \
		skel_;                                                                             \
	})

#endif

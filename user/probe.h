/* Loading and attaching: the checks that come before (root, BTF), libbpf's log, and uprobes placed at
 * file offsets rtmon resolved itself. */
#ifndef RTMON_PROBE_H
#define RTMON_PROBE_H

#include <bpf/libbpf.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define PROBE_MAX_LINKS 256

struct probe_links {
	int n;
	struct bpf_link *links[PROBE_MAX_LINKS];
};

/* Routes libbpf's messages: warnings always, debug output only with -v. */
void probe_setup_libbpf(bool verbose);

/* Root or CAP_BPF + CAP_PERFMON, and kernel BTF: 0, or -errno with one line in err. */
int probe_check_system(char *err, size_t errlen);

/* A uprobe (or uretprobe, for native code only) on path at a file offset; pid -1 for every process.
 * The error names the function, the file and libbpf's reason. */
int probe_attach_uprobe(struct probe_links *pl, struct bpf_program *prog, pid_t pid, const char *path,
			uint64_t offset, bool retprobe, const char *what, char *err, size_t errlen);

void probe_links_destroy(struct probe_links *pl);

/* Message for a skeleton's failed open or load, with strerror and a hint. */
void probe_load_error(const char *cmd, int err, char *buf, size_t len);

#endif

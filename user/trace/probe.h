/* Loading and attaching: the checks that come before (root, BTF), libbpf's log, and uprobes placed
 * at file offsets rtmon resolved itself. */
#ifndef RTMON_PROBE_H
#define RTMON_PROBE_H

#include <bpf/libbpf.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define PROBE_MAX_LINKS 256

struct probe_links {
	int n;
	struct bpf_link *links[PROBE_MAX_LINKS]; /* classic uprobes, through libbpf */
	int nfds;
	int fds[PROBE_MAX_LINKS]; /* uprobe_multi links rtmon created itself */
};

/* One place to probe in a file, and the cookie its BPF program reads with bpf_get_attach_cookie. */
struct probe_site {
	uint64_t offset;
	uint64_t cookie;
};

/* Routes libbpf's messages: warnings always, debug output only with -v. */
void probe_setup_libbpf(bool verbose);

/* Root or CAP_BPF + CAP_PERFMON, and kernel BTF: 0, or -errno with one line in err. */
int probe_check_system(char *err, size_t errlen);

/* A uprobe (or uretprobe, for native code only) on path at a file offset; pid -1 for every process.
 * The error names the function, the file and libbpf's reason. */
int probe_attach_uprobe(struct probe_links *pl, struct bpf_program *prog, pid_t pid,
			const char *path, uint64_t offset, bool retprobe, const char *what,
			char *err, size_t errlen);

/* uprobe_multi links (kernel 6.6+) cost about 10% less per hit and attach many sites in one call;
 * libbpf 1.1 cannot create them, so rtmon does. RTMON_NO_UPROBE_MULTI=1 forces classic uprobes. */
bool probe_uprobe_multi_supported(void);

/* Before load: makes prog attachable by probe_attach_sites the cheapest way this kernel allows. */
void probe_prepare_sites_prog(struct bpf_program *prog);

/* Attaches prog (prepared above) at every site of one file: one uprobe_multi link, or one classic
 * uprobe per site carrying the same cookies. pid -1 for every process. */
int probe_attach_sites(struct probe_links *pl, struct bpf_program *prog, pid_t pid,
		       const char *path, const struct probe_site *sites, int n, const char *what,
		       char *err, size_t errlen);

/* The same with return probes (uretprobes), which fire as each call returns. Native code only: a
 * uretprobe on Go code crashes the program (Go moves stacks). The sites must be function entries.
 */
int probe_attach_return_sites(struct probe_links *pl, struct bpf_program *prog, pid_t pid,
			      const char *path, const struct probe_site *sites, int n,
			      const char *what, char *err, size_t errlen);

/* "uprobe_multi" or "uprobe": what probe_attach_sites uses. */
const char *probe_sites_kind(void);

void probe_links_destroy(struct probe_links *pl);

/* Sums a per-CPU array map of __u64 counters, keys 0..nkeys-1, into out. 0 or -errno. */
int probe_sum_percpu_counters(struct bpf_map *map, __u32 nkeys, uint64_t *out);

/* Message for a skeleton's failed open or load, with strerror and a hint. */
void probe_load_error(const char *cmd, int err, char *buf, size_t len);

#endif

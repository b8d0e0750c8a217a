#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include "trace/probe.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool libbpf_verbose;

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !libbpf_verbose)
		return 0;
	/* Without -v, libbpf's warnings are already summarized by rtmon's own error line. */
	if (level == LIBBPF_WARN && !libbpf_verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

void probe_setup_libbpf(bool verbose)
{
	libbpf_verbose = verbose;
	libbpf_set_print(print_libbpf);
}

static bool has_cap(int cap)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (syscall(SYS_capget, &hdr, data))
		return false;
	return data[cap / 32].effective & (1u << (cap % 32));
}

int probe_check_system(char *err, size_t errlen)
{
	if (geteuid() != 0 && !(has_cap(CAP_BPF) && has_cap(CAP_PERFMON)) &&
	    !has_cap(CAP_SYS_ADMIN)) {
		snprintf(err, errlen,
			 "rtmon needs root (or CAP_BPF and CAP_PERFMON): run it with sudo");
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(err, errlen,
			 "this kernel has no BTF (/sys/kernel/btf/vmlinux: %s): use a kernel built "
			 "with CONFIG_DEBUG_INFO_BTF=y",
			 strerror(errno));
		return -ENOTSUP;
	}
	return 0;
}

int probe_attach_uprobe(struct probe_links *pl, struct bpf_program *prog, pid_t pid,
			const char *path, uint64_t offset, bool retprobe, const char *what,
			char *err, size_t errlen)
{
	struct bpf_link *link;
	int rc;

	if (pl->n >= PROBE_MAX_LINKS) {
		snprintf(err, errlen, "too many probes (%d)", PROBE_MAX_LINKS);
		return -E2BIG;
	}
	link = bpf_program__attach_uprobe(prog, retprobe, pid, path, offset);
	rc = -libbpf_get_error(link);
	if (!link && !rc)
		rc = -errno;
	if (rc) {
		snprintf(err, errlen, "cannot attach a uprobe to %s in %s (offset 0x%llx): %s",
			 what, path, (unsigned long long)offset, strerror(-rc));
		return rc;
	}
	pl->links[pl->n++] = link;
	return 0;
}

void probe_links_destroy(struct probe_links *pl)
{
	for (int i = 0; i < pl->n; i++)
		bpf_link__destroy(pl->links[i]);
	for (int i = 0; i < pl->nfds; i++)
		close(pl->fds[i]);
	pl->n = pl->nfds = 0;
}

/* Kernel ABI values newer than Debian 12's uapi headers (linux/bpf.h of 6.1). */
#define RTMON_BPF_TRACE_UPROBE_MULTI 48

/* BPF_LINK_CREATE's attribute for uprobe_multi, laid out as in the kernel's union bpf_attr. */
struct uprobe_multi_link_attr {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	__u64 path;
	__u64 offsets;
	__u64 ref_ctr_offsets;
	__u64 cookies;
	__u32 cnt;
	__u32 multi_flags;
	__u32 pid;
	__u32 pad;
};

/* BPF_F_UPROBE_MULTI_RETURN: the link's sites are return probes. */
#define RTMON_UPROBE_MULTI_RETURN 1U

static int uprobe_multi_link_create(int prog_fd, const char *path, const __u64 *offsets,
				    const __u64 *cookies, __u32 cnt, pid_t pid, __u32 multi_flags)
{
	struct uprobe_multi_link_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = (__u32)prog_fd;
	attr.attach_type = RTMON_BPF_TRACE_UPROBE_MULTI;
	attr.path = (__u64)(unsigned long)path;
	attr.offsets = (__u64)(unsigned long)offsets;
	attr.cookies = (__u64)(unsigned long)cookies;
	attr.cnt = cnt;
	attr.multi_flags = multi_flags;
	attr.pid = pid > 0 ? (__u32)pid : 0;
	fd = (int)syscall(SYS_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	return fd < 0 ? -errno : fd;
}

/* A kernel with uprobe_multi refuses a link on "/" (not a regular file) with EBADF; one without it
 * refuses the attach type itself with EINVAL. */
static bool detect_uprobe_multi(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = RTMON_BPF_TRACE_UPROBE_MULTI);
	__u64 offset = 0;
	int prog, link;

	prog = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "rtmon_probe", "GPL", insns, 2, &opts);
	if (prog < 0)
		return false;
	link = uprobe_multi_link_create(prog, "/", &offset, NULL, 1, -1, 0);
	close(prog);
	if (link >= 0) {
		close(link);
		return true;
	}
	return link == -EBADF;
}

bool probe_uprobe_multi_supported(void)
{
	static int supported = -1;
	const char *off = getenv("RTMON_NO_UPROBE_MULTI");

	if (supported < 0)
		supported = (off && *off && strcmp(off, "0")) ? 0 : detect_uprobe_multi();
	return supported;
}

const char *probe_sites_kind(void)
{
	return probe_uprobe_multi_supported() ? "uprobe_multi" : "uprobe";
}

void probe_prepare_sites_prog(struct bpf_program *prog)
{
	if (probe_uprobe_multi_supported())
		bpf_program__set_expected_attach_type(
			prog, (enum bpf_attach_type)RTMON_BPF_TRACE_UPROBE_MULTI);
}

static int attach_sites(struct probe_links *pl, struct bpf_program *prog, pid_t pid,
			const char *path, const struct probe_site *sites, int n, bool retprobe,
			const char *what, char *err, size_t errlen)
{
	__u64 offsets[PROBE_MAX_LINKS], cookies[PROBE_MAX_LINKS];
	int fd;

	if (n <= 0 || n > PROBE_MAX_LINKS) {
		snprintf(err, errlen, "cannot attach %d probe sites to %s", n, path);
		return -EINVAL;
	}
	if (!probe_uprobe_multi_supported()) {
		for (int i = 0; i < n; i++) {
			LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = sites[i].cookie,
				    .retprobe = retprobe);
			struct bpf_link *link;
			int rc;

			if (pl->n >= PROBE_MAX_LINKS)
				return -E2BIG;
			link = bpf_program__attach_uprobe_opts(prog, pid, path, sites[i].offset,
							       &opts);
			rc = link ? 0 : -errno;
			if (rc) {
				snprintf(err, errlen,
					 "cannot attach a %s to %s in %s (offset 0x%llx): %s",
					 retprobe ? "uretprobe" : "uprobe", what, path,
					 (unsigned long long)sites[i].offset, strerror(-rc));
				return rc;
			}
			pl->links[pl->n++] = link;
		}
		return 0;
	}
	if (pl->nfds >= PROBE_MAX_LINKS)
		return -E2BIG;
	for (int i = 0; i < n; i++) {
		offsets[i] = sites[i].offset;
		cookies[i] = sites[i].cookie;
	}
	fd = uprobe_multi_link_create(bpf_program__fd(prog), path, offsets, cookies, (__u32)n, pid,
				      retprobe ? RTMON_UPROBE_MULTI_RETURN : 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot attach %s to %s in %s: %s",
			 retprobe ? "uretprobes" : "uprobes", what, path, strerror(-fd));
		return fd;
	}
	pl->fds[pl->nfds++] = fd;
	return 0;
}

int probe_attach_sites(struct probe_links *pl, struct bpf_program *prog, pid_t pid,
		       const char *path, const struct probe_site *sites, int n, const char *what,
		       char *err, size_t errlen)
{
	return attach_sites(pl, prog, pid, path, sites, n, false, what, err, errlen);
}

int probe_attach_return_sites(struct probe_links *pl, struct bpf_program *prog, pid_t pid,
			      const char *path, const struct probe_site *sites, int n,
			      const char *what, char *err, size_t errlen)
{
	return attach_sites(pl, prog, pid, path, sites, n, true, what, err, errlen);
}

void probe_load_error(const char *cmd, int err, char *buf, size_t len)
{
	snprintf(buf, len,
		 "cannot load the %s BPF program: %s (run with -v for the verifier's log)", cmd,
		 strerror(err > 0 ? err : -err));
}

int probe_sum_percpu_counters(struct bpf_map *map, __u32 nkeys, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *percpu;

	memset(out, 0, sizeof(uint64_t) * nkeys);
	if (ncpu < 0)
		return ncpu;
	percpu = calloc((size_t)ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	for (__u32 k = 0; k < nkeys; k++) {
		if (bpf_map_lookup_elem(bpf_map__fd(map), &k, percpu)) {
			int rc = -errno;

			free(percpu);
			return rc;
		}
		for (int c = 0; c < ncpu; c++)
			out[k] += percpu[c];
	}
	free(percpu);
	return 0;
}

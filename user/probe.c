#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include "probe.h"

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
	if (geteuid() != 0 && !(has_cap(CAP_BPF) && has_cap(CAP_PERFMON)) && !has_cap(CAP_SYS_ADMIN)) {
		snprintf(err, errlen, "rtmon needs root (or CAP_BPF and CAP_PERFMON): run it with sudo");
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(err, errlen, "this kernel has no BTF (/sys/kernel/btf/vmlinux: %s): use a kernel built "
			 "with CONFIG_DEBUG_INFO_BTF=y", strerror(errno));
		return -ENOTSUP;
	}
	return 0;
}

int probe_attach_uprobe(struct probe_links *pl, struct bpf_program *prog, pid_t pid, const char *path,
			uint64_t offset, bool retprobe, const char *what, char *err, size_t errlen)
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
		snprintf(err, errlen, "cannot attach a uprobe to %s in %s (offset 0x%llx): %s", what, path,
			 (unsigned long long)offset, strerror(-rc));
		return rc;
	}
	pl->links[pl->n++] = link;
	return 0;
}

void probe_links_destroy(struct probe_links *pl)
{
	for (int i = 0; i < pl->n; i++)
		bpf_link__destroy(pl->links[i]);
	pl->n = 0;
}

void probe_load_error(const char *cmd, int err, char *buf, size_t len)
{
	snprintf(buf, len, "cannot load the %s BPF program: %s (run with -v for the verifier's log)", cmd,
		 strerror(err > 0 ? err : -err));
}

/* The benchmark's floor: a minimal uprobe loader. Attaches one uprobe on libc's malloc (and, with
 * --free, one on free) of one process; the BPF programs only count hits. Prints "Tracing ..." on
 * stderr once attached; on SIGINT (or SIGTERM) prints the hit counts on stdout and exits 0.
 *
 *   floor -p PID [--free | --free-offset=N]
 *
 * --free-offset=N puts the free probe N bytes into free instead of on its first instruction (the
 * benchmark uses it to probe an instruction the kernel emulates rather than single-steps).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"

/* The libc mapped by PID, as a path openable from here (through /proc/PID/root). */
static int find_libc(pid_t pid, char *out, size_t outlen)
{
	char maps[64], line[4096];
	FILE *f;
	int rc = -ENOENT;

	snprintf(maps, sizeof(maps), "/proc/%d/maps", pid);
	f = fopen(maps, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *path = strchr(line, '/');
		char *base;

		if (!path)
			continue;
		path[strcspn(path, "\n")] = '\0';
		base = strrchr(path, '/') + 1;
		if (strncmp(base, "libc.so", 7) && strncmp(base, "libc-", 5))
			continue;
		snprintf(out, outlen, "/proc/%d/root%s", pid, path);
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}

static struct bpf_link *attach(struct bpf_program *prog, pid_t pid, const char *libc,
			       const char *fn, unsigned long off)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = fn);
	/* With func_name, libbpf adds the symbol's offset to this one. */
	struct bpf_link *link = bpf_program__attach_uprobe_opts(prog, pid, libc, off, &opts);

	if (!link)
		fprintf(stderr, "floor: cannot attach a uprobe to %s in %s: %s\n", fn, libc,
			strerror(errno));
	return link;
}

static __u64 sum(int fd, __u32 key, int ncpu)
{
	__u64 vals[ncpu], total = 0;

	if (bpf_map_lookup_elem(fd, &key, vals))
		return 0;
	for (int i = 0; i < ncpu; i++)
		total += vals[i];
	return total;
}

int main(int argc, char **argv)
{
	struct bpf_link *lm = NULL, *lf = NULL;
	struct floor_bpf *skel;
	bool with_free = false;
	unsigned long free_off = 0;
	pid_t pid = 0;
	char libc[4200];
	int ncpu, sig, rc = 1;
	sigset_t sigs;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-p") && i + 1 < argc)
			pid = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--free"))
			with_free = true;
		else if (!strncmp(argv[i], "--free-offset=", 14))
			with_free = true, free_off = strtoul(argv[i] + 14, NULL, 0);
		else {
			fprintf(stderr, "usage: floor -p PID [--free | --free-offset=N]\n");
			return 2;
		}
	}
	if (pid <= 0) {
		fprintf(stderr, "usage: floor -p PID [--free | --free-offset=N]\n");
		return 2;
	}
	if (find_libc(pid, libc, sizeof(libc))) {
		fprintf(stderr, "floor: no libc mapped in process %d\n", pid);
		return 1;
	}
	/* Blocked from here on and taken with sigwait: a signal that comes early is not lost. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	skel = floor_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "floor: cannot load the BPF program: %s\n", strerror(errno));
		return 1;
	}
	lm = attach(skel->progs.floor_malloc, pid, libc, "malloc", 0);
	if (!lm)
		goto out;
	if (with_free) {
		lf = attach(skel->progs.floor_free, pid, libc, "free", free_off);
		if (!lf)
			goto out;
	}
	fprintf(stderr, "Tracing malloc%s in process %d... Hit Ctrl-C to end.\n",
		with_free ? " and free" : "", pid);
	fflush(stderr);
	sigwait(&sigs, &sig);
	ncpu = libbpf_num_possible_cpus();
	if (ncpu > 0) {
		int fd = bpf_map__fd(skel->maps.hits);

		printf("{\"malloc_hits\":%llu,\"free_hits\":%llu}\n",
		       (unsigned long long)sum(fd, 0, ncpu), (unsigned long long)sum(fd, 1, ncpu));
	}
	rc = 0;
out:
	bpf_link__destroy(lf);
	bpf_link__destroy(lm);
	floor_bpf__destroy(skel);
	return rc;
}

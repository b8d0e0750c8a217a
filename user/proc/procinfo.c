/* procinfo.c - /proc readers for rtmon ps, tree, info and -n NAME (procinfo.h). They are called for
 * every process on the machine, so each reads with one open/read/close and no stdio where it can.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "proc/procinfo.h"

#define PF_KTHREAD 0x00200000u

/* Reads up to len-1 bytes of a /proc file and NUL-terminates; the byte count, or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return n;
}

int proc_read_stat(pid_t pid, struct proc_stat *st)
{
	char path[64], buf[1024], *open_paren, *close_paren;
	unsigned long long utime, stime, start, vsize;
	unsigned int flags;
	long threads, rss;
	int ppid;
	ssize_t n;

	memset(st, 0, sizeof(*st));
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	/* "PID (COMM) S PPID ...": COMM may hold spaces and parentheses; it ends at the last ')'.
	 */
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren)
		return -EPROTO;
	snprintf(st->comm, sizeof(st->comm), "%.*s", (int)(close_paren - open_paren - 1),
		 open_paren + 1);
	if (sscanf(close_paren + 2,
		   "%c %d %*d %*d %*d %*d %u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %ld %*d "
		   "%llu %llu %ld",
		   &st->state, &ppid, &flags, &utime, &stime, &threads, &start, &vsize, &rss) != 9)
		return -EPROTO;
	st->pid = pid;
	st->ppid = ppid;
	st->kthread = flags & PF_KTHREAD;
	st->utime = utime;
	st->stime = stime;
	st->threads = threads;
	st->start = start;
	st->vsize = vsize;
	st->rss = rss > 0 ? (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

int proc_list_pids(pid_t **pids, size_t *n)
{
	size_t cap = 1024, cnt = 0;
	pid_t *v = malloc(cap * sizeof(*v));
	struct dirent *de;
	DIR *d;

	if (!v)
		return -ENOMEM;
	d = opendir("/proc");
	if (!d) {
		int rc = -errno;

		free(v);
		return rc;
	}
	while ((de = readdir(d))) {
		char *end;
		long p = strtol(de->d_name, &end, 10);

		if (*end || p <= 0)
			continue;
		if (cnt == cap) {
			pid_t *nv = realloc(v, 2 * cap * sizeof(*v));

			if (!nv) {
				closedir(d);
				free(v);
				return -ENOMEM;
			}
			v = nv;
			cap *= 2;
		}
		v[cnt++] = (pid_t)p;
	}
	closedir(d);
	qsort(v, cnt, sizeof(*v), cmp_pid);
	*pids = v;
	*n = cnt;
	return 0;
}

int proc_exe(pid_t pid, char *path, size_t len, struct stat *st)
{
	char link[64];

	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	if (path) {
		ssize_t n = readlink(link, path, len - 1);

		if (n < 0)
			return -errno;
		path[n] = '\0';
	}
	if (st && stat(link, st))
		return -errno;
	return 0;
}

/* rtmon's own mount namespace, read once (rtmon never changes it), not once per maps line;
 * pthread_once because serve's workers symbolize too. */
static struct stat self_ns;
static bool self_ns_read;
static pthread_once_t self_ns_once = PTHREAD_ONCE_INIT;

static void read_self_ns(void)
{
	self_ns_read = !stat("/proc/self/ns/mnt", &self_ns);
}

/* Whether pid is in rtmon's mount namespace; when that cannot be told (the process gone), not. */
static bool shares_mount_ns(pid_t pid)
{
	struct stat other;
	char path[64];

	pthread_once(&self_ns_once, read_self_ns);
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
	return self_ns_read && !stat(path, &other) && self_ns.st_dev == other.st_dev &&
	       self_ns.st_ino == other.st_ino;
}

int proc_kernel_path(pid_t pid, const char *path, char *out, size_t len)
{
	int n = shares_mount_ns(pid) ? snprintf(out, len, "%s", path)
				     : snprintf(out, len, "/proc/%d/root%s", pid, path);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int proc_uid(pid_t pid, uid_t *uid)
{
	char path[64], buf[4096], *p;
	unsigned int u;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	p = strstr(buf, "\nUid:");
	if (!p || sscanf(p + 5, "%u", &u) != 1)
		return -EPROTO;
	*uid = u;
	return 0;
}

int proc_cmdline(pid_t pid, char *out, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	n = read_small(path, out, len);
	if (n < 0)
		return (int)n;
	while (n > 0 && out[n - 1] == '\0')
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (out[i] == '\0')
			out[i] = ' ';
	out[n] = '\0';
	return 0;
}

const char *proc_denied_hint(void)
{
	return geteuid() ? " (run as root)" : " (denied even to root)";
}

double proc_uptime(void)
{
	char buf[128];

	return read_small("/proc/uptime", buf, sizeof(buf)) > 0 ? strtod(buf, NULL) : 0;
}

void proc_format_elapsed(double seconds, char *out, size_t len)
{
	unsigned long s = seconds > 0 ? (unsigned long)seconds : 0;
	unsigned long d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;

	if (d)
		snprintf(out, len, "%lu-%02lu:%02lu:%02lu", d, h, m, s % 60);
	else if (h)
		snprintf(out, len, "%02lu:%02lu:%02lu", h, m, s % 60);
	else
		snprintf(out, len, "%02lu:%02lu", m, s % 60);
}

/* ---- sockets ---- */

struct inode_set {
	unsigned long *v;
	size_t n, cap;
};

static bool inode_set_has(const struct inode_set *s, unsigned long ino)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == ino)
			return true;
	return false;
}

/* The socket inodes among the process's descriptors ("socket:[12345]" links in /proc/PID/fd). */
static int socket_inodes(pid_t pid, struct inode_set *s)
{
	char dir[64], target[64];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	if (!(d = opendir(dir)))
		return -errno;
	while ((de = readdir(d))) {
		unsigned long ino;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
		if (n < 0 && (errno == EACCES || errno == EPERM)) {
			int rc = -errno;

			closedir(d);
			return rc; /* not "no sockets": say it could not be read */
		}
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (sscanf(target, "socket:[%lu]", &ino) != 1 || inode_set_has(s, ino))
			continue;
		if (s->n == s->cap) {
			size_t cap = s->cap ? 2 * s->cap : 64;
			unsigned long *nv = realloc(s->v, cap * sizeof(*nv));

			if (!nv) {
				closedir(d);
				return -ENOMEM;
			}
			s->v = nv;
			s->cap = cap;
		}
		s->v[s->n++] = ino;
	}
	closedir(d);
	return 0;
}

/* "0100007F" (IPv4) or 32 hex digits (IPv6), as /proc/net/tcp prints the address words in host
 * order, into "127.0.0.1" / "[::1]". */
static bool format_inet(const char *hex, unsigned port, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	size_t hl = strlen(hex);

	if (hl == 8) {
		struct in_addr a;

		a.s_addr = (uint32_t)strtoul(hex, NULL, 16);
		if (!inet_ntop(AF_INET, &a, ip, sizeof(ip)))
			return false;
		snprintf(out, len, "%s:%u", ip, port);
		return true;
	}
	if (hl == 32) {
		struct in6_addr a;
		uint32_t w[4];

		for (int i = 0; i < 4; i++) {
			char word[9];

			memcpy(word, hex + 8 * i, 8);
			word[8] = '\0';
			w[i] = (uint32_t)strtoul(word, NULL, 16);
		}
		memcpy(&a, w, sizeof(a));
		if (!inet_ntop(AF_INET6, &a, ip, sizeof(ip)))
			return false;
		snprintf(out, len, "[%s]:%u", ip, port);
		return true;
	}
	return false;
}

#define TCP_LISTEN   0x0A
#define TCP_CLOSE    0x07    /* a UDP socket that is bound and not connected */
#define SO_ACCEPTCON 0x10000 /* a unix socket in listen() */

static int inet_listeners(pid_t pid, const char *proto, unsigned want_state,
			  const struct inode_set *s, void (*fn)(const char *, const char *, void *),
			  void *ctx)
{
	char path[64], line[512], local[40], addr[80];
	unsigned port, state;
	unsigned long ino;
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/net/%s", pid, proto);
	if (!(f = fopen(path, "re")))
		return 0; /* no IPv6, say */
	while (fgets(line, sizeof(line), f)) {
		/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, " %*d: %39[0-9A-Fa-f]:%X %*s %X %*s %*s %*s %*u %*u %lu", local,
			   &port, &state, &ino) != 4)
			continue;
		if (state != want_state || !inode_set_has(s, ino) ||
		    !format_inet(local, port, addr, sizeof(addr)))
			continue;
		fn(proto, addr, ctx);
		found++;
	}
	fclose(f);
	return found;
}

static int unix_listeners(pid_t pid, const struct inode_set *s,
			  void (*fn)(const char *, const char *, void *), void *ctx)
{
	char path[64], line[PATH_MAX + 128], name[PATH_MAX];
	unsigned flags;
	unsigned long ino;
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/net/unix", pid);
	if (!(f = fopen(path, "re")))
		return 0;
	while (fgets(line, sizeof(line), f)) {
		/* Num RefCount Protocol Flags Type St Inode [Path] */
		name[0] = '\0';
		if (sscanf(line, "%*x: %*x %*x %x %*x %*x %lu %4095s", &flags, &ino, name) < 2)
			continue;
		if (!(flags & SO_ACCEPTCON) || !inode_set_has(s, ino))
			continue;
		fn("unix", name[0] ? name : "(unnamed)", ctx);
		found++;
	}
	fclose(f);
	return found;
}

int proc_listening_sockets(pid_t pid, void (*fn)(const char *proto, const char *addr, void *ctx),
			   void *ctx)
{
	struct inode_set s = { 0 };
	int rc = socket_inodes(pid, &s), found = 0;

	if (rc) {
		free(s.v);
		return rc;
	}
	if (s.n) {
		found += inet_listeners(pid, "tcp", TCP_LISTEN, &s, fn, ctx);
		found += inet_listeners(pid, "tcp6", TCP_LISTEN, &s, fn, ctx);
		found += inet_listeners(pid, "udp", TCP_CLOSE, &s, fn, ctx);
		found += inet_listeners(pid, "udp6", TCP_CLOSE, &s, fn, ctx);
		found += unix_listeners(pid, &s, fn, ctx);
	}
	free(s.v);
	return found;
}

/* ---- /proc/PID/maps ---- */

bool proc_parse_maps_line(const char *line, struct proc_maps_line *m)
{
	unsigned maj, min;
	char perms[5] = "";
	size_t len;
	int n = 0;

	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64 "%n", &m->start,
		   &m->end, perms, &m->pgoff, &maj, &min, &m->ino, &n) < 7 ||
	    !n)
		return false;
	m->exec = perms[2] == 'x';
	/* The path column is padded with spaces; a path may itself hold spaces, never a newline
	 * (the kernel writes one as \012). */
	for (line += n; *line == ' ' || *line == '\t'; line++)
		;
	len = strcspn(line, "\n");
	if (!m->ino || line[0] != '/' || len >= sizeof(m->path))
		return false;
	memcpy(m->path, line, len);
	m->path[len] = '\0';
	m->kdev = (uint32_t)(maj << 20 | min);
	m->deleted = len >= strlen(PROC_DELETED) &&
		     !strcmp(m->path + len - strlen(PROC_DELETED), PROC_DELETED);
	return true;
}

int proc_maps_each(FILE *maps, int (*fn)(const struct proc_maps_line *m, void *ctx), void *ctx)
{
	struct proc_maps_line m;
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	while (!rc && getline(&line, &cap, maps) > 0)
		if (proc_parse_maps_line(line, &m))
			rc = fn(&m, ctx);
	if (!rc && !feof(maps))
		rc = errno ? -errno : -EIO;
	free(line);
	return rc;
}

/* ---- -n NAME ---- */

static const char *exe_base(pid_t pid, char *buf, size_t len)
{
	char *del, *slash;

	if (proc_exe(pid, buf, len, NULL))
		return NULL;
	if ((del = strstr(buf, " (deleted)")) && !del[10])
		*del = '\0';
	slash = strrchr(buf, '/');
	return slash ? slash + 1 : buf;
}

/* rtmon and the processes that started it (sudo, a shell, a test runner) would often match a name
 * given on their own command line: they are never candidates. PID 1 stays one. */
static size_t own_ancestry(pid_t *v, size_t max)
{
	size_t n = 0;
	pid_t p = getpid();

	while (p > 1 && n < max) {
		struct proc_stat st;

		v[n++] = p;
		if (proc_read_stat(p, &st))
			break;
		p = st.ppid;
	}
	return n;
}

int proc_find_by_name(const char *name, pid_t *out, size_t max)
{
	pid_t *pids, mine[64];
	size_t n, nmine = own_ancestry(mine, 64);
	int rc = proc_list_pids(&pids, &n), found = 0;

	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct proc_stat st;
		char buf[PATH_MAX];
		const char *base;
		bool skip = false;

		for (size_t k = 0; k < nmine; k++)
			skip |= mine[k] == pids[i];
		if (skip || proc_read_stat(pids[i], &st) || st.kthread || st.state == 'Z' ||
		    st.state == 'X')
			continue;
		if (strcmp(st.comm, name) &&
		    (!(base = exe_base(pids[i], buf, sizeof(buf))) || strcmp(base, name)))
			continue;
		if ((size_t)found < max)
			out[found] = pids[i];
		found++;
	}
	free(pids);
	return found;
}

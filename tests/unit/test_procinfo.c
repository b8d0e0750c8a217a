/* test_procinfo.c - unit tests for user/proc/procinfo.h: /proc readers, formatting, sockets, -n
 * matching, checked against this test process itself. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "proc/procinfo.h"

static void test_elapsed(void **state)
{
	char b[32];

	(void)state;
	proc_format_elapsed(0, b, sizeof(b));
	assert_string_equal(b, "00:00");
	proc_format_elapsed(61.9, b, sizeof(b));
	assert_string_equal(b, "01:01");
	proc_format_elapsed(3600 + 2 * 60 + 3, b, sizeof(b));
	assert_string_equal(b, "01:02:03");
	proc_format_elapsed(2 * 86400 + 3 * 3600 + 14 * 60 + 7, b, sizeof(b));
	assert_string_equal(b, "2-03:14:07");
	proc_format_elapsed(-5, b, sizeof(b));
	assert_string_equal(b, "00:00");
}

static void test_self(void **state)
{
	struct proc_stat st;
	char cmd[4096], exe[4096];
	pid_t *pids;
	size_t n;
	bool found = false;
	uid_t uid;

	(void)state;
	assert_int_equal(proc_read_stat(getpid(), &st), 0);
	assert_int_equal(st.pid, getpid());
	assert_int_equal(st.ppid, getppid());
	assert_string_equal(st.comm, "test_procinfo");
	assert_true(st.state == 'R');
	assert_false(st.kthread);
	assert_true(st.threads == 1 && st.rss > 0 && st.vsize >= st.rss);
	assert_int_equal(proc_uid(getpid(), &uid), 0);
	assert_int_equal(uid, getuid());
	assert_int_equal(proc_cmdline(getpid(), cmd, sizeof(cmd)), 0);
	assert_non_null(strstr(cmd, "test_procinfo"));
	assert_int_equal(proc_exe(getpid(), exe, sizeof(exe), NULL), 0);
	assert_non_null(strstr(exe, "/test_procinfo"));
	assert_int_equal(proc_list_pids(&pids, &n), 0);
	for (size_t i = 0; i < n; i++) {
		found |= pids[i] == getpid();
		if (i)
			assert_true(pids[i - 1] < pids[i]);
	}
	free(pids);
	assert_true(found);
	assert_int_equal(proc_read_stat(0x7ffffff0, &st), -ENOENT);
	assert_true(proc_uptime() > 0);
}

/* This process is rtmon's stand-in: never its own candidate, nor is its parent. */
static void test_find_by_name_skips_self(void **state)
{
	struct proc_stat parent;
	pid_t found[64];

	(void)state;
	/* Another run of this test may be going on: only this process must be missing. */
	for (int i = 0, n = proc_find_by_name("test_procinfo", found, 64); i < n && i < 64; i++)
		assert_int_not_equal(found[i], getpid());
	assert_int_equal(proc_read_stat(getppid(), &parent), 0);
	for (int i = 0, n = proc_find_by_name(parent.comm, found, 64); i < n && i < 64; i++)
		assert_int_not_equal(found[i], getppid());
	assert_int_equal(proc_find_by_name("no-such-process-rtmon-test", found, 64), 0);
}

struct seen {
	char lines[16][128];
	int n;
};

static void collect(const char *proto, const char *addr, void *ctx)
{
	struct seen *s = ctx;

	if (s->n < 16)
		snprintf(s->lines[s->n++], sizeof(s->lines[0]), "%s %s", proto, addr);
}

static bool seen_has(const struct seen *s, const char *line)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->lines[i], line))
			return true;
	return false;
}

static int listen_inet(int family, const char *ip, int type, int *port)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd = socket(family, type, 0);

	assert_true(fd >= 0);
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		inet_pton(AF_INET, ip, &a->sin_addr);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		inet_pton(AF_INET6, ip, &a->sin6_addr);
		len = sizeof(*a);
	}
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 1), 0);
	len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	*port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					: ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

static void test_listening_sockets(void **state)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct seen s = { 0 };
	char want[128];
	int p4, p6, pu, fds[5];

	(void)state;
	assert_int_equal(proc_listening_sockets(getpid(), collect, &s), 0);
	fds[0] = listen_inet(AF_INET, "127.0.0.1", SOCK_STREAM, &p4);
	fds[1] = listen_inet(AF_INET, "127.0.0.1", SOCK_DGRAM, &pu);
	fds[2] = socket(AF_UNIX, SOCK_STREAM, 0);
	/* Abstract: "@" and the name after the leading NUL. */
	memcpy(un.sun_path, "\0rtmon-procinfo-test", 20);
	assert_int_equal(
		bind(fds[2], (struct sockaddr *)&un, offsetof(struct sockaddr_un, sun_path) + 20),
		0);
	assert_int_equal(listen(fds[2], 1), 0);
	fds[3] = socket(AF_INET6, SOCK_STREAM, 0);
	fds[4] = -1;
	if (fds[3] >= 0) {
		close(fds[3]);
		fds[3] = listen_inet(AF_INET6, "::1", SOCK_STREAM, &p6);
	}
	assert_int_equal(proc_listening_sockets(getpid(), collect, &s), fds[3] >= 0 ? 4 : 3);
	snprintf(want, sizeof(want), "tcp 127.0.0.1:%d", p4);
	assert_true(seen_has(&s, want));
	snprintf(want, sizeof(want), "udp 127.0.0.1:%d", pu);
	assert_true(seen_has(&s, want));
	assert_true(seen_has(&s, "unix @rtmon-procinfo-test"));
	if (fds[3] >= 0) {
		snprintf(want, sizeof(want), "tcp6 [::1]:%d", p6);
		assert_true(seen_has(&s, want));
	}
	for (int i = 0; i < 5; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static int count_libc(const struct proc_maps_line *m, void *ctx)
{
	const char *base = strrchr(m->path, '/');

	if (base && !strcmp(base, "/libc.so.6"))
		++*(int *)ctx;
	return 0;
}

/* The path is the column after the inode, whatever it holds; PROC_DELETED only at its end. */
static void test_maps_line(void **state)
{
	struct proc_maps_line m;
	static char longline[PATH_MAX + 128];

	(void)state;
	assert_true(proc_parse_maps_line("7f1c2d600000-7f1c2d628000 r-xp 00028000 fd:01 2040      "
					 "     /lib/x86_64-linux-gnu/libc.so.6\n",
					 &m));
	assert_true(m.start == 0x7f1c2d600000 && m.end == 0x7f1c2d628000 && m.pgoff == 0x28000);
	assert_true(m.ino == 2040 && m.kdev == (0xfdu << 20 | 1) && !m.deleted);
	assert_string_equal(m.path, "/lib/x86_64-linux-gnu/libc.so.6");
	/* A directory named "x (deleted)" is not a deleted file; spaces stay in the path. */
	assert_true(proc_parse_maps_line("1000-2000 r--p 0 00:05 9 /tmp/x (deleted)/a b.so", &m));
	assert_string_equal(m.path, "/tmp/x (deleted)/a b.so");
	assert_false(m.deleted);
	assert_true(proc_parse_maps_line("1000-2000 r--p 0 00:05 9 /tmp/lib.so (deleted)\n", &m));
	assert_string_equal(m.path, "/tmp/lib.so (deleted)");
	assert_true(m.deleted);
	/* Anonymous and special mappings, even one whose name holds a path. */
	assert_false(proc_parse_maps_line("1000-2000 rw-p 0 00:00 0 [anon:/usr/lib/libz.so]", &m));
	assert_false(proc_parse_maps_line("1000-2000 rw-p 0 00:00 0                  [heap]", &m));
	assert_false(proc_parse_maps_line("1000-2000 rw-p 0 00:00 0 \n", &m));
	assert_false(proc_parse_maps_line("/usr/lib/libz.so", &m));
	assert_false(proc_parse_maps_line("", &m));
	/* A path that does not fit is refused, not cut into another file's name. */
	snprintf(longline, sizeof(longline), "1000-2000 r--p 0 08:01 5 /%0*d", PATH_MAX, 0);
	assert_false(proc_parse_maps_line(longline, &m));
}

/* This process's own maps: libc is among the files, and no path is read from a cut line. */
static void test_maps_self(void **state)
{
	static char big[3 * PATH_MAX];
	FILE *f = fopen("/proc/self/maps", "re");
	int found = 0, n;

	(void)state;
	assert_non_null(f);
	assert_int_equal(proc_maps_each(f, count_libc, &found), 0);
	fclose(f);
	assert_true(found > 0);
	/* A line longer than a line buffer is one line: its tail is not a mapping of its own (the
	 * symbolizer read lines with fgets into PATH_MAX + 128 bytes: the fake line starts there).
	 */
	n = snprintf(big, sizeof(big), "1000-2000 r--p 0 08:01 5 /");
	memset(big + n, 'a', PATH_MAX + 127 - n);
	snprintf(big + PATH_MAX + 127, sizeof(big) - PATH_MAX - 127,
		 "1000-2000 r--p 0 08:01 6 /lib/x86_64-linux-gnu/libc.so.6\n");
	f = fmemopen(big, strlen(big), "r");
	found = 0;
	assert_int_equal(proc_maps_each(f, count_libc, &found), 0);
	fclose(f);
	assert_int_equal(found, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elapsed),
		cmocka_unit_test(test_self),
		cmocka_unit_test(test_find_by_name_skips_self),
		cmocka_unit_test(test_listening_sockets),
		cmocka_unit_test(test_maps_line),
		cmocka_unit_test(test_maps_self),
	};

	return cmocka_run_group_tests_name("procinfo", tests, NULL, NULL);
}

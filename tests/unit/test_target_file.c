/* test_target_file.c - unit tests for user/binary/target_file.h: files of a target's opened inside
 * its root. A directory tree stands for a chroot; its links point outside it the ways an attacker
 * would (an absolute link to a host file, ".." past the top, a loop). The hand-made walk, the
 * kernel's openat2 and target_file_open through a chrooted child's /proc/PID/root must all stay
 * inside. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "binary/target_file.h"

static char top[64], root[128], outside[192];

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void link_at(const char *target, const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(symlink(target, path), 0);
}

/* top/outside ("host") and top/root/lib/real.so ("inside"), with links in top/root/lib. */
static int setup(void **state)
{
	char path[256];

	(void)state;
	snprintf(top, sizeof(top), "/tmp/rtmon-tf-XXXXXX");
	assert_non_null(mkdtemp(top));
	snprintf(root, sizeof(root), "%s/root", top);
	snprintf(outside, sizeof(outside), "%s/outside", top);
	assert_int_equal(mkdir(root, 0755), 0);
	snprintf(path, sizeof(path), "%s/lib", root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/lib/real.so", root);
	put(path, "inside");
	put(outside, "host");
	link_at(outside, "lib/to-host");         /* absolute: the host's file, unconfined */
	link_at("/lib/real.so", "lib/absolute"); /* absolute, meant for the root */
	link_at("../../../../../../lib/real.so", "lib/up"); /* climbs past the top */
	link_at("real.so", "lib/relative");
	link_at("/loop", "loop");
	snprintf(path, sizeof(path), "%s/fifo", root);
	assert_int_equal(mkfifo(path, 0600), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	return system(cmd) ? -1 : 0;
}

static int read_text(int fd, char *buf, size_t len)
{
	ssize_t n;

	if (fd < 0)
		return fd;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return 0;
}

typedef int (*opener)(int rootfd, const char *path);

static int by_walk(int rootfd, const char *path)
{
	return target_file_walk_in_root(rootfd, path, O_RDONLY | O_CLOEXEC);
}

static int by_kernel(int rootfd, const char *path)
{
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));

	return fd < 0 ? -errno : fd;
}

static void check_confined(opener open_fn)
{
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	char buf[32], rel[256];

	assert_true(rootfd >= 0);
	assert_int_equal(read_text(open_fn(rootfd, "lib/absolute"), buf, sizeof(buf)), 0);
	assert_string_equal(buf, "inside");
	assert_int_equal(read_text(open_fn(rootfd, "/lib/up"), buf, sizeof(buf)), 0);
	assert_string_equal(buf, "inside");
	assert_int_equal(read_text(open_fn(rootfd, "lib/relative"), buf, sizeof(buf)), 0);
	assert_string_equal(buf, "inside");
	assert_int_equal(read_text(open_fn(rootfd, "../../lib/./real.so"), buf, sizeof(buf)), 0);
	assert_string_equal(buf, "inside");
	/* The host's file is not reached: under the root, its path does not exist. */
	assert_int_equal(open_fn(rootfd, "lib/to-host"), -ENOENT);
	snprintf(rel, sizeof(rel), "%s", outside);
	assert_int_equal(open_fn(rootfd, rel), -ENOENT);
	assert_int_equal(open_fn(rootfd, "loop"), -ELOOP);
	close(rootfd);
}

static void test_walk_stays_inside(void **state)
{
	(void)state;
	check_confined(by_walk);
}

/* The walk does what the kernel does, where the kernel has openat2 (this test's reference). */
static void test_kernel_agrees(void **state)
{
	int probe = by_kernel(AT_FDCWD, "/");

	(void)state;
	if (probe == -ENOSYS)
		skip();
	if (probe >= 0)
		close(probe);
	check_confined(by_kernel);
}

static void test_walk_opath_fifo(void **state)
{
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd = target_file_walk_in_root(rootfd, "fifo", O_PATH | O_CLOEXEC);
	struct stat st;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	close(fd);
	close(rootfd);
}

/* A chrooted child: /proc/CHILD/root/... goes through target_file_open and target_file_stat,
 * resolved in the child's root; a FIFO there is refused, never waited on. */
static void test_proc_root_paths(void **state)
{
	char path[256], buf[32];
	struct stat st;
	pid_t child;
	int pipefd[2];

	(void)state;
	if (geteuid())
		skip();
	assert_int_equal(pipe(pipefd), 0);
	child = fork();
	assert_true(child >= 0);
	if (!child) {
		char c;

		close(pipefd[1]);
		if (chroot(root) || chdir("/"))
			_exit(1);
		(void)!read(pipefd[0], &c, 1); /* until the test ends */
		_exit(0);
	}
	close(pipefd[0]);
	for (int i = 0; i < 200; i++) { /* until the child's chroot is done */
		struct stat r, s;

		snprintf(path, sizeof(path), "/proc/%d/root", child);
		if (!stat(path, &r) && !stat(root, &s) && r.st_ino == s.st_ino)
			break;
		usleep(10000);
	}
	snprintf(path, sizeof(path), "/proc/%d/root/lib/absolute", child);
	assert_int_equal(read_text(target_file_open(path), buf, sizeof(buf)), 0);
	assert_string_equal(buf, "inside");
	snprintf(path, sizeof(path), "/proc/%d/root/lib/to-host", child);
	assert_int_equal(target_file_open(path), -ENOENT);
	assert_int_equal(target_file_stat(path, &st), -ENOENT);
	snprintf(path, sizeof(path), "/proc/%d/root/lib/up", child);
	assert_int_equal(target_file_stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	snprintf(path, sizeof(path), "/proc/%d/root/fifo", child);
	assert_int_equal(target_file_open(path), -ENXIO);
	/* rtmon's own paths are opened as they are. */
	assert_int_equal(read_text(target_file_open(outside), buf, sizeof(buf)), 0);
	assert_string_equal(buf, "host");
	close(pipefd[1]);
	waitpid(child, NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk_stays_inside),
		cmocka_unit_test(test_kernel_agrees),
		cmocka_unit_test(test_walk_opath_fifo),
		cmocka_unit_test(test_proc_root_paths),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

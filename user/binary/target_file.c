#include "binary/target_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *target_file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	return "not a regular file";
}

/* How many symbolic links one resolution follows, as the kernel's own limit (MAXSYMLINKS). */
#define WALK_MAX_LINKS 40

static int dup_fd(int fd)
{
	int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	return d < 0 ? -errno : d;
}

static bool same_file(int a, int b)
{
	struct stat sa, sb;

	return !fstat(a, &sa) && !fstat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int walk_component(int dirfd, const char *name, int *links, int rootfd, int depth);

/* Follows the components of path from dirfd, each opened O_PATH|O_NOFOLLOW, as openat2's
 * RESOLVE_IN_ROOT does: an absolute symlink starts again at rootfd and ".." never climbs above
 * it. Returns an O_PATH descriptor of what path names (not opened for reading: a FIFO stays
 * harmless) or -errno. */
static int walk_path(int dirfd, const char *path, int *links, int rootfd, int depth)
{
	char copy[PATH_MAX], *save = NULL;
	int cur;

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy))
		return -ENAMETOOLONG;
	cur = dup_fd(path[0] == '/' ? rootfd : dirfd);
	if (cur < 0)
		return cur;
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int next = walk_component(cur, c, links, rootfd, depth);

		close(cur);
		if (next < 0)
			return next;
		cur = next;
	}
	return cur;
}

static int walk_component(int dirfd, const char *name, int *links, int rootfd, int depth)
{
	char target[PATH_MAX];
	struct stat st;
	ssize_t n;
	int fd;

	if (!strcmp(name, "."))
		return dup_fd(dirfd);
	if (!strcmp(name, "..") && same_file(dirfd, rootfd))
		return dup_fd(rootfd);
	fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISLNK(st.st_mode))
		return fd;
	n = readlinkat(fd, "", target, sizeof(target) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	if (++*links > WALK_MAX_LINKS || depth > WALK_MAX_LINKS)
		return -ELOOP;
	target[n] = '\0';
	return walk_path(dirfd, target, links, rootfd, depth + 1);
}

/* An O_PATH descriptor of the walk's end is opened for reading through /proc/self/fd/N, which
 * opens exactly that file, never a path again. */
int target_file_walk_in_root(int rootfd, const char *path, int flags)
{
	int links = 0, fd = walk_path(rootfd, path, &links, rootfd, 0), opened;
	char self[64];

	if (fd < 0 || (flags & O_PATH))
		return fd;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	opened = open(self, flags);
	opened = opened < 0 ? -errno : opened;
	close(fd);
	return opened;
}

/* openat2(rootfd, path, RESOLVE_IN_ROOT) where the kernel has it (5.6 and later), else the same
 * walk done here. flags are open's; O_PATH asks only for the file's identity. */
static int open_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)flags,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));

	if (fd >= 0)
		return fd;
	/* No openat2 (before 5.6, or a seccomp filter that refuses it): the walk. */
	if (errno == ENOSYS || errno == EPERM)
		return target_file_walk_in_root(rootfd, path, flags);
	return -errno;
}

/* "/proc/PID/root/REST": the file REST names inside that process's root. Every other path is
 * rtmon's own and opened as it is. */
static int open_target_path(const char *path, int flags)
{
	int pid_end = 0, rootfd, fd;
	char root[64];
	unsigned int pid;

	if (sscanf(path, "/proc/%u/root%n", &pid, &pid_end) != 1 || !pid_end ||
	    (path[pid_end] && path[pid_end] != '/')) {
		fd = open(path, flags);
		return fd < 0 ? -errno : fd;
	}
	snprintf(root, sizeof(root), "/proc/%u/root", pid);
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -errno;
	fd = open_in_root(rootfd, path[pid_end] ? path + pid_end + 1 : ".", flags);
	close(rootfd);
	return fd;
}

int target_file_stat(const char *path, struct stat *st)
{
	int fd = open_target_path(path, O_PATH | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return fd;
	if (fstat(fd, st))
		rc = -errno;
	close(fd);
	return rc;
}

/* O_NONBLOCK makes the open of a FIFO return at once instead of waiting for a writer, O_NOCTTY
 * keeps a terminal from becoming rtmon's; fstat on the descriptor (not stat on the path, which
 * could be swapped after the check) decides. On a regular file O_NONBLOCK changes nothing, but it
 * is cleared anyway so that later reads behave as documented for regular files. */
static int open_checked(const char *path, struct stat *st)
{
	int fd = open_target_path(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	int flags;

	if (fd < 0)
		return fd;
	if (fstat(fd, st)) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return S_ISDIR(st->st_mode) ? -EISDIR : -ENXIO;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		(void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	return fd;
}

int target_file_open(const char *path)
{
	struct stat st;

	return open_checked(path, &st);
}

int target_file_open_err(const char *path, struct stat *st, char *err, size_t errlen)
{
	int fd;

	memset(st, 0, sizeof(*st));
	fd = open_checked(path, st);
	/* The path goes into err raw: messages are made safe where they are printed. */
	if (fd >= 0)
		return fd;
	if (fd == -EISDIR)
		snprintf(err, errlen, "%s is a directory: give the path of an executable", path);
	else if (fd == -ENXIO && st->st_mode)
		snprintf(err, errlen,
			 "%s is %s, not a regular file: rtmon reads only regular files", path,
			 target_file_kind(st->st_mode));
	else
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(-fd));
	return fd;
}

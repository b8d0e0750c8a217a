#include "binary/target_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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

/* O_NONBLOCK makes the open of a FIFO return at once instead of waiting for a writer, O_NOCTTY
 * keeps a terminal from becoming rtmon's; fstat on the descriptor (not stat on the path, which
 * could be swapped after the check) decides. On a regular file O_NONBLOCK changes nothing, but it
 * is cleared anyway so that later reads behave as documented for regular files. */
static int open_checked(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	int flags;

	if (fd < 0)
		return -errno;
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

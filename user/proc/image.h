/* The ELF files a program is made of, in the dynamic loader's symbol lookup order: the executable,
 * the preloaded libraries (LD_PRELOAD, then /etc/ld.so.preload), then the DT_NEEDED closure
 * breadth-first, as ld.so builds its global scope. A binary on disk has its libraries searched as
 * ld.so does (DT_RPATH, LD_LIBRARY_PATH, DT_RUNPATH, ld.so.conf and the default directories). A
 * running process has the same order computed from its own environment (/proc/PID/environ), each
 * library checked against /proc/PID/maps, so that only files it really mapped are listed; the ones
 * the closure does not reach (dlopen) follow in maps order. A process's files are read through
 * /proc/PID/root, so that one in a container is read from its own filesystem. */
#ifndef RTMON_IMAGE_H
#define RTMON_IMAGE_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#define IMAGE_MAX_FILES 128

struct image {
	int n;
	char paths[IMAGE_MAX_FILES]
		  [PATH_MAX]; /* paths[0] is the executable; paths rtmon can open */
};

/* What the loader takes from a process's environment: "" when unset. */
struct loader_env {
	char preload[4096];      /* LD_PRELOAD: names or paths, separated by spaces or colons */
	char library_path[4096]; /* LD_LIBRARY_PATH */
};

/* The two variables from an environment block (environ, or execve's envp). */
void loader_env_from_environ(struct loader_env *env, char *const *envp);
/* The two variables a running process started with (/proc/PID/environ). 0 or -errno. */
int loader_env_from_pid(struct loader_env *env, pid_t pid);

/* exe's files as a process started from it with environment env (NULL: none) would load them.
 * paths[0] is exe. 0, or -errno with one line in err when exe cannot be read. */
int image_from_binary(struct image *img, const char *exe, const struct loader_env *env, char *err,
		      size_t errlen);
/* The running process pid's files: paths[0] is /proc/PID/exe. 0, or -errno with one line in err.
 */
int image_from_pid(struct image *img, pid_t pid, char *err, size_t errlen);

/* Exposed for tests: the directories the loader searches after DT_RUNPATH (ld.so.conf and
 * defaults), separated by ':'. */
int loader_search_path(char *out, size_t len);

#endif

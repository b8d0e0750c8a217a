#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include "binary/objfile.h"
#include "binary/target_file.h"
#include "proc/procinfo.h"
#include "proc/target.h"

static int pidfd_open_compat(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Checks that path is a usable ELF executable; the error names what is wrong. */
static int check_executable(const char *path, char *err, size_t errlen)
{
	struct objfile ef;
	int rc = objfile_open(&ef, path, err, errlen);

	if (rc)
		return rc;
	objfile_close(&ef);
	return 0;
}

static int set_exe_identity(struct target *t, char *err, size_t errlen)
{
	struct stat st;

	if (stat(t->exe, &st)) {
		int rc = -errno;

		snprintf(err, errlen, "cannot stat %s: %s", t->exe, strerror(errno));
		return rc;
	}
	t->exe_ino = st.st_ino;
	t->exe_kdev = (uint32_t)(major(st.st_dev) << 20 | minor(st.st_dev));
	return 0;
}

/* execvp's search along path (NULL: rtmon's PATH), done before fork so that a missing command is
 * reported like a missing binpath. */
static int resolve_command(const char *cmd, const char *path, char *out, size_t len)
{
	char copy[8192], *save = NULL;

	if (!path)
		path = getenv("PATH");
	if (strchr(cmd, '/')) {
		snprintf(out, len, "%s", cmd);
		return access(out, F_OK) ? -ENOENT : 0;
	}
	snprintf(copy, sizeof(copy), "%s", path ? path : "/usr/local/bin:/usr/bin:/bin");
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		struct stat st;

		snprintf(out, len, "%s/%s", d, cmd);
		if (!stat(out, &st) && S_ISREG(st.st_mode) && !access(out, X_OK))
			return 0;
	}
	return -ENOENT;
}

/* The kernel runs a "#!" script with its interpreter, which is then the process's executable and
 * what rtmon must read: "#!/usr/bin/python3.11", or "#!/usr/bin/env python3" looked up in PATH as
 * env does. The interpreter can be a script itself (the kernel follows a few levels). 1 and the
 * interpreter in interp when path is a script, 0 when it is not, -errno when its interpreter cannot
 * be found. */
#define SCRIPT_MAX_DEPTH 4

static int script_interpreter(const char *path, char *interp, size_t len)
{
	char line[512], *p, *arg, *save = NULL;
	int fd = target_file_open(path);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "re");
	size_t n;

	if (!f) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	n = fread(line, 1, sizeof(line) - 1, f);
	fclose(f);
	if (n < 3 || line[0] != '#' || line[1] != '!')
		return 0;
	line[n] = '\0';
	line[strcspn(line, "\n")] = '\0';
	p = strtok_r(line + 2, " \t", &save);
	if (!p)
		return -ENOEXEC;
	arg = strtok_r(NULL, " \t", &save);
	/* env's first argument that is not an option names the program. */
	if (!strcmp(strrchr(p, '/') ? strrchr(p, '/') + 1 : p, "env")) {
		while (arg && arg[0] == '-')
			arg = strtok_r(NULL, " \t", &save);
		if (!arg)
			return -ENOEXEC;
		return resolve_command(arg, NULL, interp, len) ? -ENOENT : 1;
	}
	snprintf(interp, len, "%s", p);
	return access(interp, X_OK) ? -ENOENT : 1;
}

/* path, or the interpreter that ends up running it, in exe. 0, or -errno with one line in err. */
static int script_to_executable(const char *path, char *exe, size_t len, char *err, size_t errlen)
{
	char cur[PATH_MAX];

	snprintf(cur, sizeof(cur), "%s", path);
	for (int depth = 0; depth < SCRIPT_MAX_DEPTH; depth++) {
		int rc = script_interpreter(cur, exe, len);

		if (rc < 0) {
			snprintf(
				err, errlen,
				"%s is a script whose interpreter (#! line) %s: fix its first line",
				cur, rc == -ENOENT ? "does not exist" : "is missing");
			return rc;
		}
		if (!rc) {
			snprintf(exe, len, "%s", cur);
			return 0;
		}
		snprintf(cur, sizeof(cur), "%s", exe);
	}
	snprintf(err, errlen, "%s: scripts nest more than %d deep: give the interpreter's path",
		 path, SCRIPT_MAX_DEPTH);
	return -ELOOP;
}

/* -p: why the process's executable (or maps) cannot be read, in err, which holds the error. */
static void explain_unreadable(const struct target *t, int rc, char *err, size_t errlen)
{
	struct proc_stat st;

	if (rc == -EACCES || rc == -EPERM) {
		size_t used = strlen(err);

		/* Root too: another user's /proc/PID/exe and maps take ptrace read access. */
		snprintf(err + used, errlen - used,
			 ": reading another user's process needs CAP_SYS_PTRACE: run rtmon as root "
			 "with CAP_SYS_PTRACE (in a container, add the capability)");
		return;
	}
	if (rc != -ENOENT)
		return;
	if (proc_read_stat(t->pid, &st))
		snprintf(err, errlen, "%s exited before rtmon could read it: nothing to trace",
			 t->label);
	else if (st.kthread)
		snprintf(err, errlen, "%s is a kernel thread: it runs no program to trace",
			 t->label);
	else if (st.state == 'Z')
		snprintf(err, errlen,
			 "%s is a zombie: it has exited and waits for its parent (PID %d) to reap "
			 "it; nothing is left to trace",
			 t->label, st.ppid);
	else
		snprintf(err, errlen, "%s has no executable (it is exiting)", t->label);
}

static int open_pid(struct target *t, pid_t pid, char *err, size_t errlen)
{
	char comm[64] = "?", path[64];
	FILE *f;
	int rc;

	if (kill(pid, 0) && errno == ESRCH) {
		snprintf(err, errlen, "no process with PID %d: check the PID with ps", pid);
		return -ESRCH;
	}
	t->pidfd = pidfd_open_compat(pid);
	if (t->pidfd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot watch PID %d: %s", pid, strerror(errno));
		return rc;
	}
	t->pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if ((f = fopen(path, "re"))) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	snprintf(t->label, sizeof(t->label), "PID %d (%s)", pid, comm);
	snprintf(t->exe, sizeof(t->exe), "/proc/%d/exe", pid);
	rc = check_executable(t->exe, err, errlen);
	if (rc) {
		explain_unreadable(t, rc, err, errlen);
		return rc;
	}
	rc = set_exe_identity(t, err, errlen);
	if (!rc)
		rc = image_from_pid(&t->image, pid, err, errlen);
	if (rc == -EACCES || rc == -EPERM)
		explain_unreadable(t, rc, err, errlen);
	else if (rc)
		target_explain_attach_error(t, err, errlen); /* it exited since the checks above */
	return rc;
}

/* rtmon's stdout is still file descriptor 1: no -o FILE moved it (output_opt.c moves only the
 * stream), so a command started now would write into it. */
static bool json_on_stdout(void)
{
	return fileno(stdout) == STDOUT_FILENO;
}

/* The child waits on the gate pipe before exec: rtmon attaches its probes to the child's PID first,
 * so the command is traced from its first instruction. With stdout_to_stderr (--json without -o)
 * the command's stdout goes to rtmon's stderr: rtmon's stdout is the JSON stream, and nothing else
 * may be written there (docs/json.md). */
static int start_held_child(struct target *t, const char *path, char **argv, bool keep_running,
			    bool stdout_to_stderr, char *err, size_t errlen)
{
	int gate[2], errp[2];
	pid_t parent = getpid(), pid;
	sigset_t none;

	if (pipe2(gate, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
		int rc = -errno;

		snprintf(err, errlen, "cannot create a pipe: %s", strerror(errno));
		return rc;
	}
	pid = fork();
	if (pid < 0) {
		int rc = -errno;

		snprintf(err, errlen, "cannot fork: %s", strerror(errno));
		return rc;
	}
	if (pid == 0) {
		char go;
		int e;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* rtmon ends the command when tracing ends first; also when rtmon itself is killed.
		 */
		if (!keep_running && (prctl(PR_SET_PDEATHSIG, SIGTERM) || getppid() != parent))
			_exit(127);
		close(gate[1]);
		close(errp[0]);
		if (read(gate[0], &go, 1) != 1)
			_exit(127); /* rtmon gave up: never run the command untraced */
		if (stdout_to_stderr && dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
			_exit(127);
		execv(path, argv);
		e = errno;
		if (write(errp[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(gate[0]);
	close(errp[1]);
	t->pid = pid;
	t->gate_fd = gate[1];
	t->exec_err_fd = errp[0];
	t->pidfd = pidfd_open_compat(pid);
	if (t->pidfd < 0) {
		int rc = -errno;

		snprintf(err, errlen, "cannot watch the started command: %s", strerror(errno));
		return rc;
	}
	return 0;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static void command_not_found(const char *cmd, char *err, size_t errlen)
{
	if (strchr(cmd, '/'))
		snprintf(err, errlen, "%s does not exist: give the path of the program to run",
			 cmd);
	else
		snprintf(err, errlen, "command not found: %s: give a path or a program on PATH",
			 cmd);
}

/* env's changes to one variable the loader or the PATH search reads. */
static void env_change(struct loader_env *lenv, char *path, size_t pathlen, const char *name,
		       const char *value)
{
	/* execvp without PATH searches glibc's default path. */
	static const char default_path[] = "/bin:/usr/bin";

	if (!strcmp(name, "LD_PRELOAD"))
		snprintf(lenv->preload, sizeof(lenv->preload), "%s", value ? value : "");
	else if (!strcmp(name, "LD_LIBRARY_PATH"))
		snprintf(lenv->library_path, sizeof(lenv->library_path), "%s", value ? value : "");
	else if (!strcmp(name, "PATH"))
		snprintf(path, pathlen, "%s", value ? value : default_path);
}

/* `-- env [-i] [-u NAME]... [NAME=VALUE]... PROGRAM ARGS`: env changes the environment and runs
 * PROGRAM in its own process, so PROGRAM is what rtmon must read, with env's LD_PRELOAD and
 * LD_LIBRARY_PATH applied to lenv and its PATH in path. Returns PROGRAM's index in argv, or 0 when
 * env is not used that way (no program, or an option rtmon does not follow, such as -C or -S):
 * env itself is then read. */
static int env_wrapped(char **argv, struct loader_env *lenv, char *path, size_t pathlen)
{
	const char *p = getenv("PATH");
	struct loader_env changed = *lenv;
	char name[256];
	int i;

	snprintf(path, pathlen, "%s", p ? p : "/bin:/usr/bin");
	for (i = 1; argv[i]; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!strcmp(a, "-i") || !strcmp(a, "--ignore-environment") || !strcmp(a, "-")) {
			changed.preload[0] = changed.library_path[0] = '\0';
			env_change(&changed, path, pathlen, "PATH", NULL);
		} else if (!strcmp(a, "-u") || !strcmp(a, "--unset")) {
			if (!argv[++i])
				return 0;
			env_change(&changed, path, pathlen, argv[i], NULL);
		} else if (!strncmp(a, "--unset=", 8)) {
			env_change(&changed, path, pathlen, a + 8, NULL);
		} else if (!strncmp(a, "-u", 2)) {
			env_change(&changed, path, pathlen, a + 2, NULL);
		} else if (strcmp(a, "-v") && strcmp(a, "--debug")) {
			if (a[0] == '-')
				return 0;
			break;
		}
	}
	for (; argv[i] && strchr(argv[i], '='); i++) {
		size_t n = strcspn(argv[i], "=");

		if (!n || n >= sizeof(name))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)n, argv[i]);
		env_change(&changed, path, pathlen, name, argv[i] + n + 1);
	}
	if (!argv[i])
		return 0;
	*lenv = changed;
	return i;
}

/* -n NAME: exactly one process may match; several are listed, "PID (name)" each, so the user can
 * pick one with -p. */
static int resolve_name(const char *name, pid_t *pid, char *err, size_t errlen)
{
	pid_t found[16];
	int n = proc_find_by_name(name, found, 16);
	size_t used;

	if (n < 0) {
		snprintf(err, errlen, "cannot list processes to find '%s': %s", name, strerror(-n));
		return n;
	}
	if (n == 0) {
		snprintf(err, errlen,
			 "no process named '%s' (process name or executable file name, exact): "
			 "check with rtmon ps",
			 name);
		return -ESRCH;
	}
	if (n == 1) {
		*pid = found[0];
		return 0;
	}
	used = (size_t)snprintf(err, errlen, "%d processes named '%s':", n, name);
	for (int i = 0; i < n && i < 16 && used < errlen; i++) {
		struct proc_stat st;

		if (proc_read_stat(found[i], &st))
			snprintf(st.comm, sizeof(st.comm), "exited");
		used += (size_t)snprintf(err + used, errlen - used, "%s %d (%s)", i ? "," : "",
					 found[i], st.comm);
	}
	if (used < errlen)
		snprintf(err + used, errlen - used, "%s; choose one with -p PID",
			 n > 16 ? ", ..." : "");
	return -EEXIST;
}

int target_open(struct target *t, const struct common_opts *co, char *err, size_t errlen)
{
	/* -- CMD: cmd_path is what rtmon executes; t->exe what ends up running: the program that an
	 * `env` in front runs, or a script's interpreter. */
	char cmd_path[PATH_MAX], run_path[PATH_MAX], env_path[4096];
	struct loader_env lenv;
	const char *prog;
	pid_t pid = co->pid;
	int rc, k;

	memset(t, 0, sizeof(*t));
	t->pidfd = t->gate_fd = t->exec_err_fd = -1;
	if (co->all) {
		t->kind = TARGET_ALL;
		snprintf(t->label, sizeof(t->label), "every process rtmon traces fully");
		return 0;
	}
	if (co->name && (rc = resolve_name(co->name, &pid, err, errlen)))
		return rc;
	if (pid) {
		t->kind = TARGET_PID;
		return open_pid(t, pid, err, errlen);
	}
	if (co->binpath) {
		t->kind = TARGET_BINPATH;
		snprintf(t->exe, sizeof(t->exe), "%s", co->binpath);
		snprintf(t->label, sizeof(t->label), "%s", co->binpath);
		rc = check_executable(t->exe, err, errlen);
		if (rc == -ENOENT)
			snprintf(err, errlen,
				 "%s does not exist: give the path of the executable to trace",
				 co->binpath);
		/* A script never is a process's executable: its interpreter is. */
		if (rc && !script_to_executable(co->binpath, t->exe, sizeof(t->exe), err, errlen) &&
		    strcmp(t->exe, co->binpath))
			snprintf(err, errlen,
				 "%s is a script run by %s: trace --binpath %s, "
				 "or run it with -- %s",
				 co->binpath, t->exe, t->exe, co->binpath);
		if (!rc)
			rc = set_exe_identity(t, err, errlen);
		return rc ? rc : image_from_binary(&t->image, t->exe, NULL, err, errlen);
	}
	t->kind = TARGET_CMD;
	if (resolve_command(co->cmd_argv[0], NULL, cmd_path, sizeof(cmd_path))) {
		command_not_found(co->cmd_argv[0], err, errlen);
		return -ENOENT;
	}
	/* The child inherits rtmon's environment, so its loader reads rtmon's LD_PRELOAD; `env` in
	 * front changes it before running the program, which is then what rtmon reads. */
	loader_env_from_environ(&lenv, environ);
	prog = co->cmd_argv[0];
	snprintf(t->exe, sizeof(t->exe), "%s", cmd_path);
	if (!strcmp(base_name(cmd_path), "env") &&
	    (k = env_wrapped(co->cmd_argv, &lenv, env_path, sizeof(env_path)))) {
		prog = co->cmd_argv[k];
		if (resolve_command(prog, env_path, t->exe, sizeof(t->exe))) {
			command_not_found(prog, err, errlen);
			return -ENOENT;
		}
	}
	snprintf(t->label, sizeof(t->label), "%s", prog);
	snprintf(run_path, sizeof(run_path), "%s", t->exe);
	rc = script_to_executable(run_path, t->exe, sizeof(t->exe), err, errlen);
	if (!rc)
		rc = check_executable(t->exe, err, errlen);
	if (!rc)
		rc = set_exe_identity(t, err, errlen);
	if (!rc)
		rc = image_from_binary(&t->image, t->exe, &lenv, err, errlen);
	if (!rc)
		rc = start_held_child(t, cmd_path, co->cmd_argv, co->keep_running,
				      co->json && json_on_stdout(), err, errlen);
	if (!rc)
		snprintf(t->label, sizeof(t->label), "%s (PID %d)", prog, t->pid);
	return rc;
}

int target_release(struct target *t, char *err, size_t errlen)
{
	int e;

	if (t->gate_fd < 0)
		return 0;
	if (write(t->gate_fd, "g", 1) != 1) {
		int rc = -errno;

		snprintf(err, errlen, "cannot start the command: %s", strerror(errno));
		return rc;
	}
	close(t->gate_fd);
	t->gate_fd = -1;
	/* Blocks until exec succeeds (the pipe closes on exec) or the child reports why it failed.
	 */
	if (read(t->exec_err_fd, &e, sizeof(e)) == (ssize_t)sizeof(e)) {
		snprintf(err, errlen, "cannot run %s: %s", t->exe, strerror(e));
		target_reap(t);
		return -e;
	}
	close(t->exec_err_fd);
	t->exec_err_fd = -1;
	return 0;
}

void target_reap(struct target *t)
{
	int status;

	if (t->kind != TARGET_CMD || t->exited)
		return;
	if (waitpid(t->pid, &status, 0) == t->pid) {
		t->exited = true;
		t->exit_status = status;
	}
}

void target_close(struct target *t, bool kill_child)
{
	if (kill_child && t->kind == TARGET_CMD && t->pid > 0 && !t->exited) {
		if (t->gate_fd >= 0) {
			close(t->gate_fd); /* a held child exits on EOF */
			t->gate_fd = -1;
		} else {
			kill(t->pid, SIGKILL);
		}
		target_reap(t);
	}
	if (t->pidfd >= 0)
		close(t->pidfd);
	if (t->gate_fd >= 0)
		close(t->gate_fd);
	if (t->exec_err_fd >= 0)
		close(t->exec_err_fd);
	t->pidfd = t->gate_fd = t->exec_err_fd = -1;
}

/* -p and -- CMD: whether the pidfd says the process exited, waiting up to timeout_ms for it. */
static bool exited_within(const struct target *t, int timeout_ms)
{
	struct pollfd p = { .fd = t->pidfd, .events = POLLIN };

	if (t->kind == TARGET_BINPATH || t->pidfd < 0)
		return false;
	return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

enum target_finish target_finish(struct target *t, bool keep_running, int grace_ms)
{
	if (t->kind != TARGET_CMD || t->pid <= 0 || t->exited || t->gate_fd >= 0)
		return TARGET_FINISHED;
	if (exited_within(t, 0)) { /* it ended by itself meanwhile */
		target_reap(t);
		return TARGET_FINISHED;
	}
	if (keep_running)
		return TARGET_LEFT_RUNNING;
	kill(t->pid, SIGTERM);
	if (exited_within(t, grace_ms)) {
		target_reap(t);
		return TARGET_TERMINATED;
	}
	kill(t->pid, SIGKILL);
	target_reap(t);
	return TARGET_KILLED;
}

int target_exit_code(const struct target *t)
{
	if (t->kind != TARGET_CMD || !t->exited)
		return 0;
	if (WIFEXITED(t->exit_status))
		return WEXITSTATUS(t->exit_status);
	if (WIFSIGNALED(t->exit_status))
		return 128 + WTERMSIG(t->exit_status); /* as shells report it */
	return 0;
}

bool target_exited(const struct target *t)
{
	return exited_within(t, 0);
}

void target_explain_attach_error(const struct target *t, char *err, size_t errlen)
{
	/* An attach fails (ENOENT, ESRCH) as soon as the exiting process has dropped its memory
	 * map, a moment before its pidfd says it exited: wait that moment (an error path only). A
	 * -- CMD child is held at its gate until tracing starts, so it is not waited for. */
	if (!exited_within(t, t->kind == TARGET_PID ? 250 : 0))
		return;
	snprintf(err, errlen,
		 "%s exited while rtmon was attaching to it: nothing was traced; to trace a "
		 "short-lived program from its start, give it as -- PROGRAM ARGS",
		 t->label);
}

void target_filter_set(const struct target *t, __u32 *tgid, __u64 *ino, __u32 *dev)
{
	if (t->kind == TARGET_BINPATH) {
		*ino = t->exe_ino;
		*dev = t->exe_kdev;
	} else {
		*tgid = (__u32)t->pid;
	}
}

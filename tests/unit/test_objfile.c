/* ELF symbol resolution and library discovery against binaries the build makes (testprog/alloc.c in
 * PIE, non-PIE, static and stripped form) and the system's libc. An offset is checked by an
 * independent path: the bytes at the file offset (from the PT_LOAD segments) must equal the bytes
 * of the section holding the symbol's address (from the section headers). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "binary/objfile.h"
#include "proc/image.h"

static char path_buf[4096];

static const char *tp(const char *name)
{
	const char *build = getenv("RTMON_BUILD");

	snprintf(path_buf, sizeof(path_buf), "%s/testprog/%s", build ? build : "build", name);
	return path_buf;
}

/* Bytes at vaddr read through the section headers. */
static void section_bytes(struct objfile *ef, uint64_t vaddr, unsigned char *out, size_t n)
{
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(ef->elf, scn));) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS)
			continue;
		if (vaddr >= sh.sh_addr && vaddr + n <= sh.sh_addr + sh.sh_size) {
			assert_int_equal(
				pread(ef->fd, out, n, (off_t)(sh.sh_offset + vaddr - sh.sh_addr)),
				n);
			return;
		}
	}
	fail_msg("no section holds 0x%llx", (unsigned long long)vaddr);
}

static void check_func(const char *path, const char *name)
{
	struct objfile ef;
	struct objfile_sym fn;
	unsigned char a[16], b[16];
	char err[256];

	assert_int_equal(objfile_open(&ef, path, err, sizeof(err)), 0);
	assert_int_equal(objfile_find_func(&ef, name, &fn), 0);
	assert_true(fn.size > 0);
	assert_int_equal(pread(ef.fd, a, sizeof(a), (off_t)fn.offset), sizeof(a));
	section_bytes(&ef, fn.vaddr, b, sizeof(b));
	assert_memory_equal(a, b, sizeof(a));
	objfile_close(&ef);
}

static void test_pie_nopie_static(void **state)
{
	struct objfile ef;
	struct objfile_sym fn;
	char err[256];

	(void)state;
	check_func(tp("alloc"), "main");
	check_func(tp("alloc-nopie"), "main");
	check_func(tp("alloc-static"), "main");
	check_func(tp("alloc-static"), "malloc");
	/* Non-PIE: the offset differs from the address; PIE: text usually maps 1:1. */
	assert_int_equal(objfile_open(&ef, tp("alloc-nopie"), err, sizeof(err)), 0);
	assert_int_equal(objfile_find_func(&ef, "main", &fn), 0);
	assert_true(fn.vaddr >= 0x400000 && fn.offset < fn.vaddr);
	assert_false(ef.is_static);
	objfile_close(&ef);
	assert_int_equal(objfile_open(&ef, tp("alloc-static"), err, sizeof(err)), 0);
	assert_true(ef.is_static && ef.has_symtab);
	objfile_close(&ef);
}

static void test_stripped_has_only_dynsym(void **state)
{
	struct objfile ef;
	struct objfile_sym fn;
	char err[256];

	(void)state;
	assert_int_equal(objfile_open(&ef, tp("alloc-stripped"), err, sizeof(err)), 0);
	assert_false(ef.has_symtab);
	assert_int_equal(objfile_find_func(&ef, "main", &fn), -ENOENT);
	objfile_close(&ef);
}

static void test_libc_versioned_symbols(void **state)
{
	struct image img;
	const char *libc = NULL;
	struct objfile ef;
	struct objfile_sym a, b;
	char err[256];

	(void)state;
	assert_int_equal(image_from_binary(&img, tp("alloc"), NULL, err, sizeof(err)), 0);
	assert_true(img.n >= 2);
	assert_string_equal(img.paths[0], tp("alloc"));
	for (int i = 0; i < img.n; i++)
		if (strstr(img.paths[i], "/libc.so.6"))
			libc = img.paths[i];
	assert_non_null(libc);
	/* pthread_create has two versions at one address: libbpf 1.1 calls that ambiguous. */
	check_func(libc, "pthread_create");
	check_func(libc, "malloc");
	assert_int_equal(objfile_open(&ef, libc, err, sizeof(err)), 0);
	assert_int_equal(objfile_find_func(&ef, "aligned_alloc", &a), 0);
	assert_int_equal(objfile_find_func(&ef, "memalign", &b), 0);
	assert_true(a.offset == b.offset); /* why rtmon probes shared addresses once */
	assert_int_equal(objfile_find_func(&ef, "no_such_function_here", &a), -ENOENT);
	assert_int_equal(objfile_find_func(&ef, "mallo", &a), -ENOENT); /* no prefix matches */
	objfile_close(&ef);
}

static void test_image_from_pid(void **state)
{
	struct image img;
	char err[256], self[64];
	int libc = 0;

	(void)state;
	assert_int_equal(image_from_pid(&img, getpid(), err, sizeof(err)), 0);
	snprintf(self, sizeof(self), "/proc/%d/exe", getpid());
	assert_string_equal(img.paths[0], self);
	for (int i = 1; i < img.n; i++) {
		/* This process shares rtmon's mount namespace: its maps paths are used as they are
		 * (proc_kernel_path), not through /proc/PID/root. */
		assert_true(img.paths[i][0] == '/' && strncmp(img.paths[i], "/proc/", 6) != 0);
		libc += strstr(img.paths[i], "/libc.so.6") != NULL;
	}
	assert_int_equal(libc, 1);
	assert_int_equal(image_from_pid(&img, 0x3fffffff, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cannot read"));
}

static int index_of(const struct image *img, const char *suffix)
{
	size_t n = strlen(suffix);

	for (int i = 0; i < img->n; i++) {
		size_t len = strlen(img->paths[i]);

		if (len >= n && !strcmp(img->paths[i] + len - n, suffix))
			return i;
	}
	return -1;
}

/* LD_PRELOAD's libraries come right after the executable, before its DT_NEEDED ones; an entry the
 * loader cannot load is skipped, as the loader skips it. */
static void test_image_preload_binary(void **state)
{
	struct image img;
	struct loader_env env;
	char exe[4096], lib[4096], err[256];
	char *envp[] = { NULL, "LD_LIBRARY_PATH=/nonexistent", NULL };
	char entry[8300];

	(void)state;
	snprintf(exe, sizeof(exe), "%s", tp("alloc"));
	snprintf(lib, sizeof(lib), "%s", tp("libtpmalloc.so"));
	snprintf(entry, sizeof(entry), "LD_PRELOAD=/nonexistent/libx.so:%s", lib);
	envp[0] = entry;
	loader_env_from_environ(&env, envp);
	assert_string_equal(env.library_path, "/nonexistent");
	assert_int_equal(image_from_binary(&img, exe, &env, err, sizeof(err)), 0);
	assert_string_equal(img.paths[0], exe);
	assert_string_equal(img.paths[1], lib);
	assert_true(index_of(&img, "/libc.so.6") > 1);
	assert_int_equal(index_of(&img, "/libx.so"), -1);
	/* Without the environment: the executable's own closure only. */
	assert_int_equal(image_from_binary(&img, exe, NULL, err, sizeof(err)), 0);
	assert_int_equal(index_of(&img, "/libtpmalloc.so"), -1);
	assert_int_equal(index_of(&img, "/libc.so.6"), 1);
}

/* A running process: the same order from its /proc/PID/environ, checked against its maps (libc is
 * mapped below the preloaded library, so the maps' address order would put it first). */
static void test_image_preload_pid(void **state)
{
	struct image img;
	char exe[4096], entry[4200], err[256];
	int gate[2], lib, libc;
	pid_t pid;

	(void)state;
	snprintf(exe, sizeof(exe), "%s", tp("alloc"));
	snprintf(entry, sizeof(entry), "LD_PRELOAD=%s", tp("libtpmalloc.so"));
	assert_int_equal(pipe(gate), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[] = { exe, NULL }, *envp[] = { entry, NULL };

		dup2(gate[0], STDIN_FILENO);
		close(gate[1]);
		execve(exe, argv, envp);
		_exit(127);
	}
	close(gate[0]);
	/* At its gate: the loader is done once the process reads stdin. */
	for (int i = 0; i < 200; i++) {
		char path[64], buf[64] = "";
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
		if ((f = fopen(path, "r"))) {
			if (!fgets(buf, sizeof(buf), f))
				buf[0] = '\0';
			fclose(f);
		}
		if (strstr(buf, "pipe_read"))
			break;
		usleep(10000);
	}
	assert_int_equal(image_from_pid(&img, pid, err, sizeof(err)), 0);
	lib = index_of(&img, "/libtpmalloc.so");
	libc = index_of(&img, "/libc.so.6");
	close(gate[1]);
	waitpid(pid, NULL, 0);
	assert_int_equal(lib, 1);
	assert_true(libc > lib);
	assert_true(strncmp(img.paths[lib], "/proc/", 6) != 0); /* the same mount namespace */
}

static void test_bad_files(void **state)
{
	struct objfile ef;
	char err[256], tmp[] = "/tmp/rtmon-unit-XXXXXX";
	int fd;

	(void)state;
	assert_int_equal(objfile_open(&ef, "/nonexistent/x", err, sizeof(err)), -ENOENT);
	assert_int_equal(objfile_open(&ef, "/", err, sizeof(err)), -EISDIR);
	assert_int_equal(objfile_open(&ef, "/etc/hostname", err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, "not an ELF file"));
	fd = mkstemp(tmp);
	assert_true(fd >= 0);
	{
		int src = open(tp("alloc"), O_RDONLY);
		char buf[2000];

		assert_int_equal(read(src, buf, sizeof(buf)), sizeof(buf));
		assert_int_equal(write(fd, buf, sizeof(buf)), sizeof(buf));
		close(src);
	}
	close(fd);
	assert_int_equal(objfile_open(&ef, tmp, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, "truncated"));
	unlink(tmp);
}

static void test_search_path(void **state)
{
	char path[8192];

	(void)state;
	loader_search_path(path, sizeof(path));
	assert_non_null(strstr(path, "/lib/x86_64-linux-gnu"));
	assert_non_null(strstr(path, "/usr/lib"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pie_nopie_static),
		cmocka_unit_test(test_stripped_has_only_dynsym),
		cmocka_unit_test(test_libc_versioned_symbols),
		cmocka_unit_test(test_image_from_pid),
		cmocka_unit_test(test_image_preload_binary),
		cmocka_unit_test(test_image_preload_pid),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_search_path),
	};

	return cmocka_run_group_tests_name("objfile", tests, NULL, NULL);
}

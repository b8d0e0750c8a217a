/* fuzz_runtime_id.c - which runtime a file runs (runtime/runtime_id.c): Go build info, CPython's
 * Py_GetVersion, Py_Version and PY_VERSION in .rodata, libraries from DT_NEEDED (looked for on
 * this machine, as for a binary on disk), USDT notes (.note.stapsdt).
 *
 * The input is reached through a symlink named python3.11 in a private directory, because the
 * CPython version falls back to the executable's name: the .rodata scan runs only for such a name.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_file.h"
#include "runtime/runtime_id.h"

/* The largest seed is /usr/bin/python3.11 (6.8 MB). */
#define FILE_MAX (8u << 20)

static char dir[64] = "/tmp/rtmon-fuzz-XXXXXX", link_path[128];

static void cleanup(void)
{
	unlink(link_path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!mkdtemp(dir)) {
		perror("fuzz_runtime_id: mkdtemp");
		abort();
	}
	snprintf(link_path, sizeof(link_path), "%s/python3.11", dir);
	atexit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[512];
	struct runtime_id id;
	int fd = fuzz_file_make(data, size, FILE_MAX, path, sizeof(path));

	unlink(link_path);
	if (symlink(path, link_path)) {
		perror("fuzz_runtime_id: symlink");
		abort();
	}
	if (runtime_identify(link_path, 0, &id, err, sizeof(err))) {
		assert(err[0] && !strchr(err, '\n'));
	} else {
		assert(memchr(id.version, '\0', sizeof(id.version)));
		assert(memchr(id.module, '\0', sizeof(id.module)));
		assert(memchr(id.lib, '\0', sizeof(id.lib)));
		assert(runtime_kind_name(id.kind));
	}
	usdt_probe_exists(link_path, "python", "gc__start");
	usdt_probe_exists(link_path, "hotspot", NULL);
	fuzz_file_close(fd);
	return 0;
}

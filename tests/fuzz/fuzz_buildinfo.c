/* fuzz_buildinfo.c - the Go build-info reader (runtime/go/buildinfo.c): the .go.buildinfo section
 * or a scan of the writable segments, both the inline (Go 1.18+) and the pointer (1.13 to 1.17)
 * forms, the module line, the version parse. */
#include <assert.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_file.h"
#include "runtime/go/goelf.h"

/* The Go test programs are up to 2.7 MB; the reader scans writable segments for the blob. */
#define FILE_MAX (4u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[512];
	struct go_info gi;
	int fd = fuzz_file_make(data, size, FILE_MAX, path, sizeof(path));

	if (go_read_buildinfo(path, &gi, err, sizeof(err))) {
		assert(err[0] && !strchr(err, '\n'));
	} else {
		assert(memchr(gi.version, '\0', sizeof(gi.version)) && gi.version[0]);
		assert(memchr(gi.module, '\0', sizeof(gi.module)));
	}
	fuzz_file_close(fd);
	return 0;
}

/* fuzz_perfdata.c - the walk through a JVM's perf data (runtime/java/perfdata.c:
 * hs_perfdata_string), which rtmon gc reads from the target's memory to find where it names its GC
 * cause. The input is put at the start of a zeroed region of this process as large as the most the
 * reader reads (16 MiB) and read back through process_vm_readv, as a JVM's would be. A string found
 * must lie inside the bytes the prologue says are used, after the prologue, and have a size. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime/java/perfdata.h"

#define REGION (16u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char *mem;
	char err[512] = "";
	uint64_t addr = 0, base;
	uint32_t len = 0;
	int32_t used;
	int rc;

	if (!mem) {
		mem = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			   0);
		assert(mem != MAP_FAILED);
	}
	if (size > REGION)
		return 0;
	memcpy(mem, data, size);
	base = (uint64_t)(uintptr_t)mem;
	rc = hs_perfdata_string(getpid(), base, "sun.gc.cause", &addr, &len, err, sizeof(err));
	if (rc) {
		assert(err[0] && !strchr(err, '\n'));
	} else {
		memcpy(&used, mem + 8, sizeof(used));
		assert(used > 0 && len > 0 && addr >= base + 32 &&
		       addr + len <= base + (uint64_t)used);
	}
	memset(mem, 0, size);
	return 0;
}

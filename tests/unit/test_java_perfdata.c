/* HotSpot's perf data walk (user/runtime/java/perfdata.c) on perf data built here, in this process,
 * read through process_vm_readv as a JVM's would be: the string found, and what is not perf data or
 * not an entry refused. The real JVMs' are read by tests/integration/test_gc_java.py. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "runtime/java/gc_cause.h"
#include "runtime/java/perfdata.h"

/* perfMemory.hpp's PerfDataPrologue and PerfDataEntry, written field by field. */
static unsigned char mem[4096];
static size_t used;
static int32_t nentries;

/* Where an entry's fields are, from its start. */
#define E_LENGTH 0
#define E_VECTOR 8

static void put32(size_t at, int32_t v)
{
	memcpy(mem + at, &v, 4);
}

static void prologue(void)
{
	memset(mem, 0, sizeof(mem));
	memcpy(mem, "\xca\xfe\xc0\xc0", 4);
	mem[4] = 1;    /* little endian */
	mem[5] = 2;    /* version 2.0 */
	mem[7] = 1;    /* accessible */
	put32(24, 32); /* entry_offset */
	used = 32;
	nentries = 0;
}

/* An entry: name, then data of len bytes (a string when type 'B'). Returns where it starts; its
 * data is at *data. */
static size_t entry(const char *name, char type, const char *value, int32_t len, size_t *data_at)
{
	size_t at = used, nlen = strlen(name) + 1, data = 20 + nlen;
	int32_t total = (int32_t)((data + (size_t)len + 7) & ~(size_t)7);

	put32(at, total);
	put32(at + 4, 20);
	put32(at + 8, type == 'B' ? len : 0);
	mem[at + 12] = (unsigned char)type;
	put32(at + 16, (int32_t)data);
	memcpy(mem + at + 20, name, nlen);
	if (value)
		memcpy(mem + at + data, value, strlen(value) + 1);
	used += (size_t)total;
	put32(8, (int32_t)used); /* used */
	put32(28, ++nentries);   /* num_entries */
	if (data_at)
		*data_at = at + data;
	return at;
}

static int find(const char *name, uint64_t *addr, uint32_t *len)
{
	char err[256];

	return hs_perfdata_string(getpid(), (uint64_t)(uintptr_t)mem, name, addr, len, err,
				  sizeof(err));
}

static void test_finds_the_string(void **state)
{
	uint64_t addr;
	uint32_t len;
	size_t at;

	(void)state;
	prologue();
	entry("sun.gc.collector.0.invocations", 'J', NULL, 8, NULL);
	entry("sun.gc.causeX", 'B', "not this one", 81, NULL);
	entry("sun.gc.cause", 'B', "System.gc()", 81, &at);
	entry("sun.gc.lastCause", 'B', "No GC", 81, NULL);
	assert_int_equal(find("sun.gc.cause", &addr, &len), 0);
	assert_int_equal(addr, (uint64_t)(uintptr_t)(mem + at));
	assert_int_equal(len, 81);
	assert_string_equal((const char *)(uintptr_t)addr, "System.gc()");
	assert_int_equal(find("sun.gc.lastCause", &addr, &len), 0);
	assert_string_equal((const char *)(uintptr_t)addr, "No GC");
	assert_int_equal(find("sun.gc.nothing", &addr, &len), -ENOENT);
	/* a counter is not a string */
	assert_int_equal(find("sun.gc.collector.0.invocations", &addr, &len), -ENOENT);
}

static void test_refuses_what_is_not_perf_data(void **state)
{
	uint64_t addr;
	uint32_t len;

	(void)state;
	prologue();
	entry("sun.gc.cause", 'B', "System.gc()", 81, NULL);
	mem[0] = 0;
	assert_int_equal(find("sun.gc.cause", &addr, &len), -EPROTO);
	prologue();
	entry("sun.gc.cause", 'B', "System.gc()", 81, NULL);
	mem[4] = 0; /* big endian */
	assert_int_equal(find("sun.gc.cause", &addr, &len), -EPROTO);
	prologue();
	entry("sun.gc.cause", 'B', "System.gc()", 81, NULL);
	put32(8, 1 << 30); /* more used than rtmon reads */
	assert_int_equal(find("sun.gc.cause", &addr, &len), -EPROTO);
}

static void test_refuses_broken_entries(void **state)
{
	uint64_t addr;
	uint32_t len;
	size_t at;

	(void)state;
	/* An entry whose length runs past what is used ends the walk. */
	prologue();
	entry("sun.gc.policy.name", 'B', "Copy:MSC", 9, NULL);
	entry("sun.gc.cause", 'B', "System.gc()", 81, NULL);
	put32(32 + E_LENGTH, 4000);
	assert_int_equal(find("sun.gc.cause", &addr, &len), -ENOENT);
	/* A zero length would loop forever. */
	prologue();
	entry("sun.gc.policy.name", 'B', "Copy:MSC", 9, NULL);
	entry("sun.gc.cause", 'B', "System.gc()", 81, NULL);
	put32(32 + E_LENGTH, 0);
	assert_int_equal(find("sun.gc.cause", &addr, &len), -ENOENT);
	/* A string whose data would end past its entry. */
	prologue();
	at = entry("sun.gc.cause", 'B', "System.gc()", 81, NULL);
	put32(at + E_VECTOR, 4000);
	assert_int_equal(find("sun.gc.cause", &addr, &len), -ENOENT);
}

static void test_cause_names(void **state)
{
	(void)state;
	assert_string_equal(jvm_gc_cause_name("G1 Evacuation Pause"), "G1 Evacuation Pause");
	assert_null(jvm_gc_cause_name("No GC"));
	assert_null(jvm_gc_cause_name(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_finds_the_string),
		cmocka_unit_test(test_refuses_what_is_not_perf_data),
		cmocka_unit_test(test_refuses_broken_entries),
		cmocka_unit_test(test_cause_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

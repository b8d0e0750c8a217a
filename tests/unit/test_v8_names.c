/* V8's reason names (user/runtime/node/v8_names.c) against node's own: node 20 exports
 * v8::internal::Heap::GarbageCollectionReasonToString, which is `mov %edi,%edi; mov
 * TABLE(,%rdi,8),%rax; ret`: the table of the names --trace-gc prints, one per
 * GarbageCollectionReason, read here from the file (node is not PIE: its entries are addresses).
 * Node 22 inlines that function; its names are checked against --trace-gc by
 * tests/integration/test_gc_node.py. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "binary/objfile.h"
#include "runtime/node/v8_names.h"

#define NODE20 "/usr/bin/node"
/* GarbageCollectionReason in V8 11.3: kUnknown = 0 ... kCppHeapAllocationFailure = 27. */
#define V8_11_REASONS 28

static void read_at(struct objfile *ef, uint64_t vaddr, void *out, size_t n)
{
	uint64_t off;

	assert_int_equal(objfile_vaddr_to_offset(ef, vaddr, &off), 0);
	assert_int_equal(pread(ef->fd, out, n, (off_t)off), (ssize_t)n);
}

static void test_node20_reason_table(void **state)
{
	struct objfile ef;
	struct objfile_sym fn;
	unsigned char code[11];
	char err[256];
	int32_t disp;

	(void)state;
	if (access(NODE20, R_OK) || objfile_open(&ef, NODE20, err, sizeof(err))) {
		skip();
		return;
	}
	if (objfile_find_func(&ef,
			      "_ZN2v88internal4Heap31GarbageCollectionReasonToStringENS0_"
			      "23GarbageCollectionReasonE",
			      &fn)) {
		objfile_close(&ef);
		skip();
		return;
	}
	read_at(&ef, fn.vaddr, code, sizeof(code));
	/* 89 ff: mov %edi,%edi; 48 8b 04 fd disp32: mov disp32(,%rdi,8),%rax; c3: ret */
	assert_memory_equal(code, "\x89\xff\x48\x8b\x04\xfd", 6);
	assert_int_equal(code[10], 0xc3);
	memcpy(&disp, code + 6, sizeof(disp));
	for (unsigned i = 0; i < V8_11_REASONS; i++) {
		uint64_t p;
		char name[64] = "";

		read_at(&ef, (uint64_t)(int64_t)disp + 8 * i, &p, sizeof(p));
		read_at(&ef, p, name, sizeof(name) - 1);
		assert_non_null(v8_reason_name(11, i));
		assert_string_equal(v8_reason_name(11, i), name);
	}
	assert_null(v8_reason_name(11, V8_11_REASONS));
	objfile_close(&ef);
}

static void test_collectors(void **state)
{
	(void)state;
	assert_string_equal(v8_collector(11, 0)->kind, "scavenge");
	assert_string_equal(v8_collector(12, 1)->name, "Mark-Compact");
	assert_string_equal(v8_collector(11, 2)->name, "Minor Mark-Compact");
	assert_string_equal(v8_collector(12, 2)->kind, "minor-ms");
	assert_null(v8_collector(12, 3));
	assert_string_equal(v8_reason_name(12, 26), "finalize concurrent MinorMS");
	assert_true(v8_reason_forced(21));
	assert_false(v8_reason_forced(1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_node20_reason_table),
		cmocka_unit_test(test_collectors),
	};

	return cmocka_run_group_tests_name("v8_names", tests, NULL, NULL);
}

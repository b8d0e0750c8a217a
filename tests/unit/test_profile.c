/* The profile builder (user/output/profile.h) and its text, folded and JSON writers, on the
 * synthetic profile of profile_fixture.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "output/json.h"
#include "profile_fixture.h"

static char *out_buf;
static size_t out_len;

static FILE *open_out(void)
{
	FILE *f = open_memstream(&out_buf, &out_len);

	assert_non_null(f);
	return f;
}

static void test_interning(void **state)
{
	struct profile *p = profile_new(fixture_types, 2, NULL, 0);
	const struct code_line a = { "f", "a.c", 1 }, b = { "g", "b.c", 2 };
	uint32_t m1, m2, l1, l2;

	(void)state;
	assert_non_null(p);
	m1 = profile_mapping(p, 0x1000, 0x2000, 0, "/bin/x", "ab");
	m2 = profile_mapping(p, 0x1000, 0x2000, 0, "/bin/x", NULL);
	assert_int_equal(m1, 1);
	assert_int_equal(m2, 2); /* another build id: another mapping */
	assert_int_equal(profile_mapping(p, 0x1000, 0x2000, 0, "/bin/x", "ab"), m1);
	l1 = profile_location(p, m1, 0x1010, &a, 1);
	assert_int_equal(l1, 1);
	/* Interned by (mapping, address): the lines of the first call stay. */
	assert_int_equal(profile_location(p, m1, 0x1010, &b, 1), l1);
	l2 = profile_location(p, m2, 0x1010, &b, 1);
	assert_int_equal(l2, 2);
	assert_int_equal(profile_location(p, 3, 0x1010, &b, 1), 0); /* no mapping 3 */
	assert_int_equal(profile_location(p, 0, 0x99, NULL, 0), 3); /* no mapping at all */
	profile_free(p);
}

/* A location copied into another profile keeps its mapping, address and every inlining level
 * (serve's heap snapshots); the innermost function is what profile_location_func says. */
static void test_location_copy(void **state)
{
	struct profile *src = profile_new(fixture_types, 2, NULL, 0);
	struct profile *dst = profile_new(fixture_types, 2, NULL, 0);
	const struct code_line lines[2] = { { "inl", "a.c", 3 }, { "outer", "b.c", 9 } };
	uint32_t m, l, c, c2;
	int64_t v[2] = { 1, 2 };
	char buf[256];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	(void)state;
	assert_non_null(src);
	assert_non_null(dst);
	m = profile_mapping(src, 0x1000, 0x2000, 0x10, "/bin/x", "ab");
	l = profile_location(src, m, 0x1010, lines, 2);
	assert_string_equal(profile_location_func(src, l), "inl");
	assert_null(profile_location_func(src, 99));
	assert_int_equal(profile_location_count(src), 1);
	profile_location(dst, 0, 0x5, NULL, 0); /* ids differ between the two */
	c = profile_location_copy(dst, src, l);
	assert_int_equal(c, 2);
	assert_int_equal(profile_location_copy(dst, src, 99), 0);
	c2 = profile_location_copy(dst, src, l);
	assert_int_equal(c2, c); /* interned */
	assert_string_equal(profile_location_func(dst, c), "inl");
	assert_int_equal(profile_add(dst, &c, 1, v, NULL, 0), 0);
	profile_write_folded(dst, f, 0);
	fclose(f);
	assert_string_equal(buf, "outer;inl 1\n");
	profile_free(src);
	profile_free(dst);
}

static void test_merging(void **state)
{
	struct profile *p = profile_new(fixture_types, 2, NULL, 0);
	const struct profile_label ab[] = { { "a", "1", 0, NULL }, { "b", NULL, 64, "bytes" } };
	const struct profile_label ba[] = { { "b", NULL, 64, "bytes" }, { "a", "1", 0, NULL } };
	const struct profile_label twice[] = { { "a", "1", 0, NULL }, { "a", "2", 0, NULL } };
	const struct profile_label nokey = { NULL, "1", 0, NULL };
	uint32_t m, locs[2], bad[2];

	(void)state;
	m = profile_mapping(p, 0x1000, 0x2000, 0, "/bin/x", NULL);
	locs[0] = profile_location(p, m, 0x1001, NULL, 0);
	locs[1] = profile_location(p, m, 0x1002, NULL, 0);
	assert_int_equal(profile_add(p, locs, 2, (int64_t[]){ 1, 10 }, ab, 2), 0);
	/* The same labels in another order are the same sample. */
	assert_int_equal(profile_add(p, locs, 2, (int64_t[]){ 2, 20 }, ba, 2), 0);
	assert_int_equal(profile_nsamples(p), 1);
	/* Another stack (the order of its frames matters), or no labels: other samples. */
	bad[0] = locs[1];
	bad[1] = locs[0];
	assert_int_equal(profile_add(p, bad, 2, (int64_t[]){ 1, 1 }, ab, 2), 0);
	assert_int_equal(profile_add(p, locs, 2, (int64_t[]){ 1, 1 }, NULL, 0), 0);
	assert_int_equal(profile_nsamples(p), 3);
	assert_int_equal(profile_total(p, 0), 5);
	assert_int_equal(profile_total(p, 1), 32);
	/* 64-bit values, saturating. */
	assert_int_equal(profile_add(p, locs, 2, (int64_t[]){ INT64_MAX, 1LL << 40 }, NULL, 0), 0);
	assert_true(profile_total(p, 0) == INT64_MAX);
	assert_true(profile_total(p, 1) == 32 + (1LL << 40));
	/* Bad input. */
	bad[1] = 3;
	assert_int_equal(profile_add(p, bad, 2, (int64_t[]){ 1, 1 }, NULL, 0), -EINVAL);
	assert_int_equal(profile_add(p, locs, 0, (int64_t[]){ 1, 1 }, NULL, 0), -EINVAL);
	assert_int_equal(profile_add(p, locs, 2, (int64_t[]){ 1, 1 }, twice, 2), -EINVAL);
	assert_int_equal(profile_add(p, locs, 2, (int64_t[]){ 1, 1 }, &nokey, 1), -EINVAL);
	assert_int_equal(profile_nsamples(p), 3);
	profile_free(p);
}

static void test_value_names(void **state)
{
	const struct profile_value_type heap[] = { { "alloc_objects", "count" },
						   { "alloc_space", "bytes" },
						   { "inuse_objects", "count" },
						   { "inuse_space", "bytes" } };
	struct profile *p = profile_new(heap, 4, NULL, 0);
	char names[128];

	(void)state;
	assert_int_equal(profile_value_index(p, "alloc_space"), 1);
	assert_int_equal(profile_value_index(p, "bytes"), 3); /* the last with that unit */
	assert_int_equal(profile_value_index(p, "count"), 2);
	assert_int_equal(profile_value_index(p, "samples"), -1);
	profile_value_names(p, names, sizeof(names));
	assert_string_equal(names, "alloc_objects, alloc_space, inuse_objects, inuse_space, "
				   "count, bytes");
	assert_string_equal(profile_value_type_at(p, 3).type, "inuse_space");
	assert_string_equal(profile_value_type_at(p, 3).unit, "bytes");
	assert_null(profile_new(heap, 0, NULL, 0));
	profile_free(p);
}

/* Innermost last; the inlined frame its own frame; the unsymbolized one module+0xOFFSET with the
 * file offset (0x7f0000001234 - 0x7f0000000000 + 0x1000); string labels as root frames; the
 * values add up to the total. */
static void test_folded(void **state)
{
	struct profile *p = fixture_profile();
	FILE *f = open_out();

	(void)state;
	assert_non_null(p);
	profile_write_folded(p, f, 0);
	fclose(f);
	assert_string_equal(out_buf, "thread=worker;main;level1;level2;inner_helper 4\n"
				     "main;level1;libfoo.so.1+0x2234 2\n"
				     "main;foo_alloc 1\n"
				     "thread=main;main;level1;level2;inner_helper 5\n");
	assert_int_equal(4 + 2 + 1 + 5, profile_total(p, 0));
	free(out_buf);
	f = open_out();
	profile_write_folded(p, f, 1);
	fclose(f);
	assert_string_equal(out_buf, "thread=worker;main;level1;level2;inner_helper 400\n"
				     "main;level1;libfoo.so.1+0x2234 64\n"
				     "main;foo_alloc 4096\n"
				     "thread=main;main;level1;level2;inner_helper 50\n");
	assert_int_equal(400 + 64 + 4096 + 50, profile_total(p, 1));
	free(out_buf);
	profile_free(p);
}

/* A name cannot break a line of folded stacks: ';', '%', newline, other C0 and C1 controls, DEL and
 * bytes that are not UTF-8 are written %XX; a space and UTF-8 stay. */
static void test_folded_escaping(void **state)
{
	struct profile *p = profile_new(fixture_types, 2, NULL, 0);
	const struct code_line odd = { "a;b\nc%d\x1b[0m \xc2\x85\x7f\xff caf\xc3\xa9 op()", NULL,
				       0 };
	const struct profile_label l = { "thread", "w;1", 0, NULL };
	uint32_t loc;
	FILE *f = open_out();

	(void)state;
	loc = profile_location(p, 0, 0x10, &odd, 1);
	assert_int_equal(profile_add(p, &loc, 1, (int64_t[]){ 3, 0 }, &l, 1), 0);
	profile_write_folded(p, f, 0);
	profile_write_folded(p, f, 1); /* a zero value writes no line */
	fclose(f);
	assert_string_equal(out_buf,
			    "thread=w%3B1;a%3Bb%0Ac%25d%1B[0m %C2%85%7F%FF caf\xc3\xa9 op() 3\n");
	free(out_buf);
	profile_free(p);
}

static void test_text(void **state)
{
	struct profile *p = fixture_profile();
	FILE *f = open_out();

	(void)state;
	profile_write_text(p, f, 0, 2);
	fclose(f);
	assert_string_equal(
		out_buf, "Top 2 of 4 stacks by allocations (allocations 12 in all, bytes 4.5 KiB), "
			 "root first:\n"
			 "#1 allocations 5 (41.7%), bytes 50 B (1.1%)  thread=main\n"
			 "    main  /src/app.c:50\n"
			 "    level1  /src/app.c:40\n"
			 "    level2  /src/app.c:30\n"
			 "    inner_helper  /src/app.c:12 (inlined)\n"
			 "#2 allocations 4 (33.3%), bytes 400 B (8.7%)  thread=worker\n"
			 "    main  /src/app.c:50\n"
			 "    level1  /src/app.c:40\n"
			 "    level2  /src/app.c:30\n"
			 "    inner_helper  /src/app.c:12 (inlined)\n"
			 "stacks lost 7 (a full stack map or a failed copy), truncated 2 (cut at "
			 "the frame limit)\n");
	free(out_buf);
	f = open_out();
	profile_write_text(p, f, 1, 10);
	fclose(f);
	/* By bytes: the library's frames, one without a file, one not symbolized at all. */
	assert_non_null(strstr(out_buf, "#1 bytes 4.0 KiB (88.9%), allocations 1 (8.3%)\n"
					"    main  /src/app.c:50\n"
					"    foo_alloc  [libfoo.so.1]\n"
					"#2 bytes 400 B"));
	assert_non_null(strstr(out_buf, "#3 bytes 64 B (1.4%), allocations 2 (16.7%)\n"
					"    main  /src/app.c:50\n"
					"    level1  /src/app.c:40\n"
					"    libfoo.so.1+0x2234\n"
					"#4 bytes 50 B"));
	free(out_buf);
	profile_free(p);
}

/* Strings from the target reach the terminal through text_safe. */
static void test_text_safe(void **state)
{
	struct profile *p = profile_new(fixture_types, 2, NULL, 0);
	const struct code_line evil = { "f\x1b[7m", "/src/\n.c", 3 };
	uint32_t loc;
	FILE *f = open_out();

	(void)state;
	loc = profile_location(p, 0, 0x10, &evil, 1);
	assert_int_equal(profile_add(p, &loc, 1, (int64_t[]){ 1, 2 }, NULL, 0), 0);
	profile_write_text(p, f, 0, 10);
	fclose(f);
	assert_non_null(strstr(out_buf, "\n    f?[7m  /src/?.c:3\n"));
	free(out_buf);
	profile_free(p);
}

static void test_json(void **state)
{
	struct profile *p = fixture_profile();
	FILE *f = open_out();
	const char *first =
		"{\"type\":\"stack\",\"time\":\"1970-01-01T00:00:00.000000Z\","
		"\"values\":{\"allocations\":4,\"bytes\":400},"
		"\"labels\":{\"thread\":\"worker\"},\"frames\":["
		"{\"func\":\"inner_helper\",\"file\":\"/src/app.c\",\"line\":12,"
		"\"module\":\"/opt/rtmon-test/app\",\"offset\":4352,\"address\":4198656,"
		"\"inlined\":true},"
		"{\"func\":\"level2\",\"file\":\"/src/app.c\",\"line\":30,"
		"\"module\":\"/opt/rtmon-test/app\",\"offset\":4352,\"address\":4198656,"
		"\"inlined\":false},"
		"{\"func\":\"level1\",\"file\":\"/src/app.c\",\"line\":40,"
		"\"module\":\"/opt/rtmon-test/app\",\"offset\":4608,\"address\":4198912,"
		"\"inlined\":false},"
		"{\"func\":\"main\",\"file\":\"/src/app.c\",\"line\":50,"
		"\"module\":\"/opt/rtmon-test/app\",\"offset\":4864,\"address\":4199168,"
		"\"inlined\":false}]}\n";
	const char *second = "{\"type\":\"stack\",\"time\":\"1970-01-01T00:00:00.000000Z\","
			     "\"values\":{\"allocations\":2,\"bytes\":64},"
			     "\"labels\":{},\"frames\":[{\"func\":null,\"file\":null,\"line\":null,"
			     "\"module\":\"/opt/rtmon-test/libfoo.so.1\",\"offset\":8756,"
			     "\"address\":139637976732212,\"inlined\":false},";

	(void)state;
	json_set_fixed_time(0);
	profile_write_json(p, f);
	fclose(f);
	assert_true(!strncmp(out_buf, first, strlen(first)));
	assert_true(!strncmp(out_buf + strlen(first), second, strlen(second)));
	assert_non_null(strstr(out_buf,
			       "\n{\"type\":\"profile\",\"time\":\"1970-01-01T00:00:00.000000Z\","
			       "\"sample_types\":[{\"type\":\"allocations\","
			       "\"unit\":\"count\"},{\"type\":\"bytes\",\"unit\":\"bytes\"}],"
			       "\"totals\":{\"allocations\":12,\"bytes\":4610},\"stacks\":4,"
			       "\"lost_stacks\":7,\"truncated_stacks\":2}\n"));
	free(out_buf);
	profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interning),       cmocka_unit_test(test_merging),
		cmocka_unit_test(test_value_names),     cmocka_unit_test(test_folded),
		cmocka_unit_test(test_folded_escaping), cmocka_unit_test(test_text),
		cmocka_unit_test(test_text_safe),       cmocka_unit_test(test_json),
		cmocka_unit_test(test_location_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

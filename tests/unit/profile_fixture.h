/* The synthetic profile the profile tests share: two mappings (an executable with a build id, a
 * library without), a stack with an inlined frame, an unsymbolized frame, a function without a
 * file, labels, and a stack added twice (merged). */
#ifndef RTMON_TEST_PROFILE_FIXTURE_H
#define RTMON_TEST_PROFILE_FIXTURE_H

#include "output/profile.h"

static const struct profile_value_type fixture_types[] = { { "allocations", "count" },
							   { "bytes", "bytes" } };

static struct profile *fixture_profile(void)
{
	struct profile *p = profile_new(fixture_types, 2, NULL, 0);
	const struct code_line inl[] = { { "inner_helper", "/src/app.c", 12 },
					 { "level2", "/src/app.c", 30 } };
	const struct code_line l1 = { "level1", "/src/app.c", 40 };
	const struct code_line mn = { "main", "/src/app.c", 50 };
	const struct code_line fa = { "foo_alloc", NULL, 0 };
	const struct profile_label worker = { "thread", "worker", 0, NULL };
	const struct profile_label mainthr = { "thread", "main", 0, NULL };
	uint32_t app, lib, s1[3], s2[3], s3[2];

	if (!p)
		return NULL;
	app = profile_mapping(p, 0x400000, 0x500000, 0, "/opt/rtmon-test/app", "abcdef01");
	lib = profile_mapping(p, 0x7f0000000000, 0x7f0000100000, 0x1000,
			      "/opt/rtmon-test/libfoo.so.1", NULL);
	s1[0] = profile_location(p, app, 0x401100, inl, 2);
	s1[1] = profile_location(p, app, 0x401200, &l1, 1);
	s1[2] = profile_location(p, app, 0x401300, &mn, 1);
	s2[0] = profile_location(p, lib, 0x7f0000001234, NULL, 0);
	s2[1] = s1[1];
	s2[2] = s1[2];
	s3[0] = profile_location(p, lib, 0x7f0000002000, &fa, 1);
	s3[1] = s1[2];
	if (profile_add(p, s1, 3, (int64_t[]){ 3, 300 }, &worker, 1) ||
	    profile_add(p, s2, 3, (int64_t[]){ 2, 64 }, NULL, 0) ||
	    profile_add(p, s3, 2, (int64_t[]){ 1, 4096 }, NULL, 0) ||
	    profile_add(p, s1, 3, (int64_t[]){ 1, 100 }, &worker, 1) ||
	    profile_add(p, s1, 3, (int64_t[]){ 5, 50 }, &mainthr, 1)) {
		profile_free(p);
		return NULL;
	}
	profile_count_lost(p, 7, 2);
	return p;
}

#endif

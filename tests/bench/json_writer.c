/* How fast rtmon's JSON writer (user/output/escape.c: fprintf for numbers, json_write_str for
 * strings) writes a stream of thread events, against libjansson and json-c building and dumping the
 * same objects. The two libraries share symbol names (json_object_get, ...), so this file is built
 * once per writer: -DWRITER=1 (rtmon's printf and json_write_str), 4 (rtmon's json_field_*), 2
 * (jansson), 3 (json-c); tests/bench/json-writer.sh builds and runs the three. Output goes to
 * /dev/null through stdio, as rtmon's goes to a pipe. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "output/escape.h"

#define EVENTS 1000000

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#if WRITER == 1
static void rtmon_writer(FILE *out, unsigned i, const char *name, const char *start)
{
	fprintf(out,
		"{\"type\":\"thread\",\"event\":\"exit\",\"pid\":%u,\"tid\":%u,\"ptid\":%u,"
		"\"ts_ns\":%llu,\"name\":",
		4242, 4242 + i, 4242, 1000000000ULL + i);
	json_write_str(out, name);
	fputs(",\"start\":", out);
	json_write_str(out, start);
	fprintf(out, ",\"lifetime_ns\":%llu,\"main\":false}\n", 36000000ULL + i);
}
#endif

#if WRITER == 4
#include "output/json.h"
static void fields_writer(FILE *out, unsigned i, const char *name, const char *start)
{
	json_begin(out, "thread");
	json_field_str(out, "event", "exit");
	json_field_u64(out, "pid", 4242);
	json_field_u64(out, "tid", 4242 + i);
	json_field_u64(out, "ptid", 4242);
	json_field_u64(out, "ts_ns", 1000000000ULL + i);
	json_field_str(out, "name", name);
	json_field_str(out, "start", start);
	json_field_u64(out, "lifetime_ns", 36000000ULL + i);
	json_field_bool(out, "main", false);
	json_end(out);
}
#endif
#if WRITER == 2
#include <jansson.h>
static void jansson_writer(FILE *out, unsigned i, const char *name, const char *start)
{
	json_t *o = json_object();

	json_object_set_new(o, "type", json_string("thread"));
	json_object_set_new(o, "event", json_string("exit"));
	json_object_set_new(o, "pid", json_integer(4242));
	json_object_set_new(o, "tid", json_integer(4242 + i));
	json_object_set_new(o, "ptid", json_integer(4242));
	json_object_set_new(o, "ts_ns", json_integer(1000000000LL + i));
	/* jansson refuses strings that are not UTF-8 (json_string returns NULL): rtmon would have
	 * to clean them first anyway; these names are valid. */
	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "start", json_string(start));
	json_object_set_new(o, "lifetime_ns", json_integer(36000000LL + i));
	json_object_set_new(o, "main", json_false());
	json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(o);
}

#endif
#if WRITER == 3
#include <json-c/json.h>
static void jsonc_writer(FILE *out, unsigned i, const char *name, const char *start)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "type", json_object_new_string("thread"));
	json_object_object_add(o, "event", json_object_new_string("exit"));
	json_object_object_add(o, "pid", json_object_new_int64(4242));
	json_object_object_add(o, "tid", json_object_new_int64(4242 + i));
	json_object_object_add(o, "ptid", json_object_new_int64(4242));
	json_object_object_add(o, "ts_ns", json_object_new_int64(1000000000LL + i));
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "start", json_object_new_string(start));
	json_object_object_add(o, "lifetime_ns", json_object_new_int64(36000000LL + i));
	json_object_object_add(o, "main", json_object_new_boolean(0));
	fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), out);
	fputc('\n', out);
	json_object_put(o);
}
#endif

int main(void)
{
	static const struct {
		const char *name;
		void (*write)(FILE *, unsigned, const char *, const char *);
	} writers[] = {
#if WRITER == 1
		{ "rtmon (fprintf + json_write_str)", rtmon_writer },
#elif WRITER == 4
		{ "rtmon (json_begin, json_field_*)", fields_writer },
#elif WRITER == 2
		{ "libjansson (json_dumpf)", jansson_writer },
#else
		{ "json-c (to_json_string_ext)", jsonc_writer },
#endif
	};
	FILE *out = fopen("/dev/null", "w");

	if (!out)
		return 1;
	for (int round = 0; round < 3; round++) {
		for (size_t w = 0; w < sizeof(writers) / sizeof(writers[0]); w++) {
			double t0 = now();

			for (unsigned i = 0; i < EVENTS; i++)
				writers[w].write(out, i, "tp-joined", "joined_worker");
			fflush(out);
			printf("round %d  %-34s %4.0f ns/event\n", round + 1, writers[w].name,
			       (now() - t0) * 1e9 / EVENTS);
		}
	}
	fclose(out);
	return 0;
}

/* Escaping of the target's strings (user/output/escape.h): JSON stays valid UTF-8, the terminal
 * never gets a control character. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "output/escape.h"

static char *json_of(const char *s)
{
	static char out[256];
	FILE *f = fmemopen(out, sizeof(out), "w");

	assert_non_null(f);
	json_write_str(f, s);
	fclose(f);
	return out;
}

static void test_utf8_seq_len(void **state)
{
	(void)state;
	assert_int_equal(utf8_seq_len((const unsigned char *)"a"), 1);
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xc3\xa9"), 2);         /* é */
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xe2\x82\xac"), 3);     /* € */
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xf0\x9f\x98\x80"), 4); /* 😀 */
	assert_int_equal(utf8_seq_len((const unsigned char *)"\x80"), 0);         /* continuation */
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xc0\xaf"), 0);     /* overlong / */
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xe0\x80\xaf"), 0); /* overlong / */
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xed\xa0\x80"), 0); /* surrogate */
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xf4\x90\x80\x80"),
			 0);                                                  /* > U+10FFFF */
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xe2\x82"), 0); /* cut short */
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xff"), 0);
}

static void test_json(void **state)
{
	(void)state;
	assert_string_equal(json_of("plain"), "\"plain\"");
	assert_string_equal(json_of("q\"b\\n\n\t\x01"), "\"q\\\"b\\\\n\\n\\t\\u0001\"");
	assert_string_equal(json_of("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
	/* every byte outside well-formed UTF-8 is U+FFFD, the rest is kept */
	assert_string_equal(json_of("a\xff"
				    "b\xc3"),
			    "\"a\\ufffdb\\ufffd\"");
	assert_string_equal(json_of("\xed\xa0\x80x"), "\"\\ufffd\\ufffd\\ufffdx\"");
	assert_string_equal(json_of("\x1b[7m"), "\"\\u001b[7m\"");
}

static void test_text(void **state)
{
	char b[64];

	(void)state;
	assert_string_equal(text_safe("worker-1", b, sizeof(b)), "worker-1");
	assert_string_equal(text_safe("\x1b[7mX", b, sizeof(b)), "?[7mX");
	assert_string_equal(text_safe("a\nb\tc\x7f", b, sizeof(b)), "a?b?c?");
	assert_string_equal(text_safe("caf\xc3\xa9 \xe2\x82\xac", b, sizeof(b)),
			    "caf\xc3\xa9 \xe2\x82\xac");
	assert_string_equal(text_safe("\xc2\x9b"
				      "2J",
				      b, sizeof(b)),
			    "?2J"); /* C1 CSI: one '?' */
	assert_string_equal(text_safe("n\xff\xfe", b, sizeof(b)), "n??");
	assert_string_equal(text_safe("\xed\xa0\x80", b, sizeof(b)), "???"); /* a surrogate */
	/* cut to fit, never in the middle of a UTF-8 sequence */
	assert_string_equal(text_safe("0123456789", b, 5), "0123");
	assert_string_equal(text_safe("a\xe2\x82\xac", b, 4), "a");
	assert_string_equal(text_safe("a\xe2\x82\xac", b, 5), "a\xe2\x82\xac");
	/* in place: the output is never longer than the input */
	strcpy(b, "x\ny\xff");
	assert_string_equal(text_safe(b, b, sizeof(b)), "x?y?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_seq_len),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

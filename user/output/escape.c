#include <stdint.h>
#include "output/escape.h"

size_t utf8_seq_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0; /* a continuation byte, 0xc0/0xc1 (always overlong), or 0xf5 and up */
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* includes the terminating NUL: cut short */
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* The _unlocked stdio calls: rtmon writes its output from one thread, and a lock per character
 * doubled the cost of an event line (tests/bench/json-writer.sh). */
void json_write_str(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	putc_unlocked('"', out);
	while (*p) {
		size_t n = utf8_seq_len(p);

		if (n == 0) {
			fputs_unlocked("\\ufffd", out);
			p++;
			continue;
		}
		switch (*p) {
		case '"':
			fputs_unlocked("\\\"", out);
			break;
		case '\\':
			fputs_unlocked("\\\\", out);
			break;
		case '\n':
			fputs_unlocked("\\n", out);
			break;
		case '\t':
			fputs_unlocked("\\t", out);
			break;
		case '\r':
			fputs_unlocked("\\r", out);
			break;
		default:
			if (*p < 0x20)
				fprintf(out, "\\u%04x", *p);
			else if (n == 1)
				putc_unlocked(*p, out);
			else
				fwrite_unlocked(p, 1, n, out);
		}
		p += n;
	}
	putc_unlocked('"', out);
}

const char *text_safe(const char *s, char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	if (!len)
		return buf;
	while (*p) {
		size_t n = utf8_seq_len(p);
		/* C1 controls U+0080..U+009F (C2 80..C2 9F in UTF-8): terminals obey them too. */
		int control = n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f)) ||
			      (n == 2 && p[0] == 0xc2 && p[1] < 0xa0);

		if (control)
			n = n ? n : 1; /* one '?' per character, or per byte that is not UTF-8 */
		if (o + (control ? 1 : n) >= len)
			break;
		if (control) {
			buf[o++] = '?';
		} else {
			for (size_t i = 0; i < n; i++)
				buf[o++] = (char)p[i];
		}
		p += n;
	}
	buf[o] = 0;
	return buf;
}

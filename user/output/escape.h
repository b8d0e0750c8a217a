/* Strings from the target (thread names, paths, build info) are bytes the target's owner chose.
 * These make them safe for the two places rtmon writes them: JSON (valid UTF-8, always) and a
 * terminal (no control characters, so no escape sequence from the target reaches it). docs/json.md
 * says how. */
#ifndef RTMON_ESCAPE_H
#define RTMON_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/* Length (1 to 4) of the well-formed UTF-8 sequence at s, or 0 when the byte at s does not start
 * one (a stray continuation byte, an overlong form, a surrogate, past U+10FFFF, cut short). *s !=
 * 0. */
size_t utf8_seq_len(const unsigned char *s);

/* Writes s as a JSON string literal: quoted, with ", \ and control characters escaped, and every
 * byte that is not part of well-formed UTF-8 written as U+FFFD (as Go's encoding/json does). */
void json_write_str(FILE *out, const char *s);

/* s made safe for a terminal, in buf (always NUL-terminated, cut to fit, never inside a character):
 * each C0 or C1 control character, DEL, and each byte that is not part of well-formed UTF-8 becomes
 * '?', as procps' ps shows them; the rest is copied. Returns buf. */
const char *text_safe(const char *s, char *buf, size_t len);

/* A buffer big enough for text_safe of any path (the output is never longer than the input). */
#define TEXT_SAFE_MAX 4097

#endif

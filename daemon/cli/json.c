/* json.c — JSON string escaping with UTF-8 checking. */
#include "json.h"

#include <stdio.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0: no overlongs, no
 * surrogates, nothing above U+10FFFF (RFC 3629 §4). */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xBF;
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4;
	else
		return 0;
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	for (i = 1; i < n; i++) {
		if (s[i] < lo || s[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xBF;
	}
	return n;
}

int json_escape(const char *in, char *out, size_t outlen)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0;

#define PUT(str, len)                                                          \
	do {                                                                   \
		if (o + (len) + 1 > outlen)                                    \
			return -1;                                             \
		memcpy(out + o, (str), (len));                                 \
		o += (len);                                                    \
	} while (0)

	PUT("\"", 1);
	while (*s) {
		size_t n = utf8_len(s);
		char esc[8];

		if (*s == '"' || *s == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*s;
			PUT(esc, 2);
		} else if (*s == '\n') {
			PUT("\\n", 2);
		} else if (*s == '\t') {
			PUT("\\t", 2);
		} else if (*s == '\r') {
			PUT("\\r", 2);
		} else if (*s < 0x20 || *s == 0x7F) {
			snprintf(esc, sizeof(esc), "\\u%04x", *s);
			PUT(esc, 6);
		} else if (n == 0) {
			PUT("\\ufffd", 6);
			n = 1;
		} else {
			PUT(s, n);
			s += n;
			continue;
		}
		s++;
	}
	PUT("\"", 1);
#undef PUT
	out[o] = '\0';
	return (int)o;
}

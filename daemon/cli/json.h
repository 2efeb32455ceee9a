/* json.h — JSON string literals (RFC 8259 §7) for `ftp-tunnel status
 * --json`. No allocation, no globals. */
#ifndef JSON_H
#define JSON_H

#include <stddef.h>

/* Writes in as a quoted JSON string into out (NUL-terminated): '"', '\'
 * and control characters escaped, bytes that are not UTF-8 replaced by
 * U+FFFD so any JSON parser takes the result. Returns its length, or -1
 * when it does not fit in outlen (6 * strlen(in) + 3 always does). */
int json_escape(const char *in, char *out, size_t outlen);

#endif

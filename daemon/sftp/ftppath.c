/* ftppath.c — FTP path names joined to the session's working directory,
 * as plain strings. */
#include "ftppath.h"

#include <string.h>

/* Where a path is built: len bytes in out, without a NUL until the end.
 * A segment that does not fit is counted in `lost` instead of failing at
 * once, since a later ".." may take it away again ("long/.." fits). */
struct build {
	char *out;
	size_t cap, len, lost;
};

static void add_segments(struct build *b, const char *p)
{
	while (*p != '\0') {
		const char *s = p;
		size_t n;

		while (*p != '\0' && *p != '/')
			p++;
		n = (size_t)(p - s);
		if (*p == '/')
			p++;
		if (n == 0 || (n == 1 && s[0] == '.'))
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			/* Never above "/": ".." at the root stays there. */
			if (b->lost > 0)
				b->lost--;
			else
				while (b->len > 0 && b->out[--b->len] != '/')
					;
			continue;
		}
		/* The segment, its '/' and the final NUL must fit. */
		if (b->lost > 0 || b->len + 1 + n + 1 > b->cap) {
			b->lost++;
			continue;
		}
		b->out[b->len++] = '/';
		memcpy(b->out + b->len, s, n);
		b->len += n;
	}
}

int ftppath_join(const char *cwd, const char *arg, char *out, size_t outlen)
{
	struct build b = {out, outlen, 0, 0};

	if (outlen < 2)
		return -1;
	/* cwd goes through the same rules, so one with a trailing '/' or a
	 * "." still gives a clean path. */
	if (arg[0] != '/')
		add_segments(&b, cwd);
	add_segments(&b, arg);
	if (b.lost > 0)
		return -1;
	if (b.len == 0)
		out[b.len++] = '/';
	out[b.len] = '\0';
	return 0;
}

const char *ftppath_base(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return path;
	if (slash[1] == '\0' && strspn(path, "/") == strlen(path))
		return slash;
	return slash + 1;
}

int ftppath_quote(const char *path, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return -1;
	out[o++] = '"';
	for (; *path != '\0'; path++) {
		/* A CR or LF would end the reply line early: no reply can
		 * name such a path (RFC 959 offers no escape for it). */
		if (*path == '\r' || *path == '\n')
			goto fail;
		if (o + (*path == '"' ? 2 : 1) + 2 > outlen)
			goto fail;
		/* RFC 959 Appendix II: an embedded '"' is doubled. */
		if (*path == '"')
			out[o++] = '"';
		out[o++] = *path;
	}
	if (o + 2 > outlen)
		goto fail;
	out[o++] = '"';
	out[o] = '\0';
	return 0;
fail:
	out[0] = '\0';
	return -1;
}

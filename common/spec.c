/* spec.c — forward specs in OpenSSH/sshg3 syntax:
 *   -L [ftp/|tcp/][bind_address:]port:host:hostport
 *   -L sftp/[bind_address:]port[:directory]
 * where any address may be an IPv6 literal in brackets. */
#include "spec.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Splits s at ':' outside brackets into at most max fields (brackets
 * removed). Returns the number of fields, or -1. */
static int split_fields(const char *s, char fields[][256], int max)
{
	int n = 0;

	while (n < max) {
		size_t len;

		if (*s == '[') {
			const char *close = strchr(s, ']');

			if (!close || (close[1] != ':' && close[1] != '\0'))
				return -1;
			len = (size_t)(close - s - 1);
			if (len >= 256)
				return -1;
			memcpy(fields[n], s + 1, len);
			fields[n][len] = '\0';
			s = close + 1;
		} else {
			len = strcspn(s, ":");
			if (len >= 256)
				return -1;
			memcpy(fields[n], s, len);
			fields[n][len] = '\0';
			s += len;
		}
		n++;
		if (*s == '\0')
			return n;
		s++; /* the ':' */
	}
	return -1;
}

static int parse_port(const char *s, int allow_zero, uint16_t *out)
{
	char *end;
	long n;

	if (!isdigit((unsigned char)*s))
		return -1;
	n = strtol(s, &end, 10);
	if (*end || n > 65535 || (n == 0 && !allow_zero))
		return -1;
	*out = (uint16_t)n;
	return 0;
}

/* "sftp/[bind:]port[:directory]": two fields are bind:port when the
 * first is not a port number, else port:directory. */
static int parse_sftp(const char *arg, int remote, struct fwd_spec *out,
		      char *err, size_t errlen)
{
	char f[3][256];
	uint16_t port;
	int n = split_fields(arg + 5, f, 3), i = 0;
	int bracketed = arg[5] == '['; /* never a port */

	out->sftp = 1;
	if (remote) {
		snprintf(err, errlen,
			 "sftp/ is for -L only: the FTP server it makes "
			 "runs on this host");
		return -1;
	}
	if (n == 3 ||
	    (n == 2 && (bracketed || parse_port(f[0], 0, &port) < 0))) {
		snprintf(out->bind, sizeof(out->bind), "%s", f[0]);
		i = 1;
	} else if (n < 1) {
		goto bad;
	}
	if (parse_port(f[i], 0, &out->port) < 0)
		goto bad;
	if (i + 1 < n)
		snprintf(out->host, sizeof(out->host), "%s", f[i + 1]);
	return 0;
bad:
	snprintf(err, errlen,
		 "bad forward specification '%s' (expected "
		 "sftp/[bind_address:]port[:directory])",
		 arg);
	return -1;
}

int spec_parse_forward(const char *arg, int remote, struct fwd_spec *out,
		       char *err, size_t errlen)
{
	char f[4][256];
	const char *s = arg;
	int n, i = 0;

	memset(out, 0, sizeof(*out));
	out->remote = remote;
	if (!strncasecmp(s, "sftp/", 5))
		return parse_sftp(arg, remote, out, err, errlen);
	if (!strncasecmp(s, "ftp/", 4)) {
		out->ftp = 1;
		s += 4;
	} else if (!strncasecmp(s, "tcp/", 4)) {
		s += 4;
	}
	n = split_fields(s, f, 4);
	if (n == 4) {
		snprintf(out->bind, sizeof(out->bind), "%s", f[0]);
		i = 1;
	} else if (n != 3) {
		goto bad;
	}
	if (parse_port(f[i], remote, &out->port) < 0 || !f[i + 1][0] ||
	    parse_port(f[i + 2], 0, &out->hostport) < 0)
		goto bad;
	snprintf(out->host, sizeof(out->host), "%s", f[i + 1]);
	return 0;
bad:
	snprintf(err, errlen,
		 "bad forward specification '%s' (expected "
		 "[ftp/][bind_address:]port:host:hostport)",
		 arg);
	return -1;
}

/* split_fields reads a field in brackets when it starts with '[' too. */
static int needs_brackets(const char *f)
{
	return strchr(f, ':') || f[0] == '[';
}

static int has_prefix(const char *f)
{
	return !strncasecmp(f, "ftp/", 4) || !strncasecmp(f, "tcp/", 4) ||
	       !strncasecmp(f, "sftp/", 5);
}

int spec_format(const struct fwd_spec *fs, char *out, size_t outlen)
{
	int bb = needs_brackets(fs->bind), hb = needs_brackets(fs->host);
	int n;

	if (fs->sftp) {
		/* A bind address that reads as a port gets brackets. */
		bb |= fs->bind[0] &&
		      strspn(fs->bind, "0123456789") == strlen(fs->bind);
		n = snprintf(out, outlen, "sftp/%s%s%s%s%u%s%s%s%s",
			     bb ? "[" : "", fs->bind, bb ? "]" : "",
			     fs->bind[0] ? ":" : "", fs->port,
			     fs->host[0] ? ":" : "", hb ? "[" : "", fs->host,
			     hb ? "]" : "");
		return n >= 0 && (size_t)n < outlen ? 0 : -1;
	}

	/* tcp/ keeps a bind address "ftp/x" from reading as a prefix. */
	n = snprintf(out, outlen, "%s%s%s%s%s%u:%s%s%s:%u",
		     fs->ftp		    ? "ftp/"
		     : has_prefix(fs->bind) ? "tcp/"
					    : "",
		     bb ? "[" : "", fs->bind, bb ? "]" : "",
		     fs->bind[0] ? ":" : "", fs->port, hb ? "[" : "", fs->host,
		     hb ? "]" : "", fs->hostport);
	return n >= 0 && (size_t)n < outlen ? 0 : -1;
}

int spec_parse_dest(const char *arg, char *user, size_t userlen, char *host,
		    size_t hostlen, uint16_t *port)
{
	const char *at = strrchr(arg, '@');
	const char *h = at ? at + 1 : arg;
	const char *colon;

	if (at) {
		if (at == arg || (size_t)(at - arg) >= userlen)
			return -1;
		memcpy(user, arg, (size_t)(at - arg));
		user[at - arg] = '\0';
	}
	if (*h == '[') {
		const char *close = strchr(h, ']');

		if (!close || (size_t)(close - h - 1) >= hostlen ||
		    close == h + 1)
			return -1;
		memcpy(host, h + 1, (size_t)(close - h - 1));
		host[close - h - 1] = '\0';
		if (close[1] == ':')
			return parse_port(close + 2, 0, port);
		return close[1] ? -1 : 0;
	}
	colon = strchr(h, ':');
	if (colon && strchr(colon + 1, ':'))
		colon = NULL; /* a bare IPv6 address */
	if (!*h || (colon && colon == h))
		return -1;
	if (colon) {
		if ((size_t)(colon - h) >= hostlen)
			return -1;
		memcpy(host, h, (size_t)(colon - h));
		host[colon - h] = '\0';
		return parse_port(colon + 1, 0, port);
	}
	if (strlen(h) >= hostlen)
		return -1;
	snprintf(host, hostlen, "%s", h);
	return 0;
}

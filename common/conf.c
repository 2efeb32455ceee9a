/* conf.c — the parser of the configuration file (the syntax is in conf.h):
 * profiles and routes, and the matching of a destination against the
 * routes. Pure: no I/O, no globals, no output. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "conf.h"
#include "spec.h"
#include "sshkeys.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int conf_parse_via(const char *via, char *host, size_t hostlen, uint16_t *port)
{
	const char *at = strrchr(via, '@');
	const char *h = at ? at + 1 : via, *hend, *p = NULL;
	char *end;
	unsigned long n;

	if (*h == '[') {
		hend = strchr(++h, ']');
		if (!hend || (hend[1] && hend[1] != ':'))
			return -EINVAL;
		if (hend[1] == ':')
			p = hend + 2;
	} else {
		const char *c = strchr(h, ':');

		/* One colon: host:port. More: a bare IPv6 literal, as ssh
		 * takes it (no port). */
		if (c && !strchr(c + 1, ':')) {
			hend = c;
			p = c + 1;
		} else {
			hend = h + strlen(h);
		}
	}
	if (hend == h || (size_t)(hend - h) >= hostlen)
		return -EINVAL;
	memcpy(host, h, (size_t)(hend - h));
	host[hend - h] = '\0';
	*port = 22;
	if (p) {
		errno = 0;
		n = strtoul(p, &end, 10);
		if (errno || end == p || *end || n == 0 || n > 65535 ||
		    !isdigit((unsigned char)*p))
			return -EINVAL;
		*port = (uint16_t)n;
	}
	return 0;
}

void conf_init(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	c->ports[c->nports++] = 21;
}

void conf_free(struct conf *c)
{
	free(c->profiles);
	free(c->routes);
	free(c->pats);
	free(c->names);
	conf_init(c);
}

static void vfail(struct conf *c, const char *file, int line, const char *fmt,
		  va_list ap) __attribute__((format(printf, 4, 0)));

static void vfail(struct conf *c, const char *file, int line, const char *fmt,
		  va_list ap)
{
	int n;

	if (c->bad)
		return;
	c->bad = 1;
	if (line > 0)
		n = snprintf(c->err, sizeof(c->err), "%s:%d: ", file, line);
	else
		n = snprintf(c->err, sizeof(c->err), "%s: ", file);
	if (n < 0 || (size_t)n >= sizeof(c->err))
		n = 0;
	vsnprintf(c->err + n, sizeof(c->err) - (size_t)n, fmt, ap);
}

void conf_fail(struct conf *c, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(c, file, line, fmt, ap);
	va_end(ap);
}

/* ---- the parser's state for one file */

struct parser {
	struct conf *c;
	const char *file;
	int fileno;
	const char *home;
	int line;
	int failed;	    /* this file had an error */
	int route;	    /* the open Route block's index, or -1 */
	int profile;	    /* the open Profile block's index, or -1 */
	int ignoring;	    /* in a block that failed to start */
	unsigned long seen; /* keys given in the open block */
	int allow_relay;    /* the open Profile's AllowRelay */
	/* Where the open block's SSH options go ("Key=Value\n" lines). */
	char *opts;
	size_t opts_size;
	uint16_t *port_out; /* and its Port */
	/* Scratch space, here rather than on the stack: the parser runs
	 * inside the program's connect(), maybe on a small thread stack. */
	char words_buf[CONF_LINE_MAX + 1];
	char value[CONF_LINE_MAX];
	char path[CONF_LINE_MAX];
};

static void err(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void err(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	p->failed = 1;
	va_start(ap, fmt);
	vfail(p->c, p->file, p->line, fmt, ap);
	va_end(ap);
}

#define MAX_WORDS 128

static void add_port(struct conf *c, uint16_t port)
{
	int i;

	for (i = 0; i < c->nports; i++)
		if (c->ports[i] == port)
			return;
	if (c->nports < (int)(sizeof(c->ports) / sizeof(c->ports[0])))
		c->ports[c->nports++] = port;
}

/* Lower case, one trailing dot removed, into out (CONF_NAME_MAX).
 * 0, or -1 when it does not fit. */
static int norm_name(const char *name, char *out)
{
	size_t n = strlen(name), i;

	if (n && name[n - 1] == '.')
		n--;
	if (n == 0 || n >= CONF_NAME_MAX)
		return -1;
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)name[i]);
	out[n] = '\0';
	return 0;
}

static int valid_name(const char *s)
{
	const char *q;
	int alpha = 0;

	if (!*s || strlen(s) > 253 || *s == '.' || *s == '-' || strstr(s, ".."))
		return 0;
	for (q = s; *q; q++) {
		if (isalpha((unsigned char)*q) || *q == '-' || *q == '_')
			alpha = 1;
		else if (!isdigit((unsigned char)*q) && *q != '.')
			return 0;
	}
	/* Only digits and dots: an address (10.1 is 10.0.0.1 to
	 * getaddrinfo), and not one inet_pton takes. */
	return alpha;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long n;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || *end || n > max)
		return -1;
	*out = n;
	return 0;
}

/* base (an array of n elements of size sz) with room for one more: the
 * same or a new base, or NULL at max elements or without memory. */
static void *room(void *base, int n, int max, size_t sz)
{
	if (n >= max)
		return NULL;
	/* Sizes 8, 16, 32, ... */
	if (n == 0 || (n >= 8 && (n & (n - 1)) == 0))
		return realloc(base, (size_t)(n ? 2 * n : 8) * sz);
	return base;
}

static int name_index(struct parser *p, const char *name)
{
	struct conf *c = p->c;
	char(*m)[CONF_NAME_MAX];
	int i;

	for (i = 0; i < c->nnames; i++)
		if (!strcmp(c->names[i], name))
			return i;
	m = room(c->names, c->nnames, CONF_MAX_NAMES, sizeof(*c->names));
	if (!m) {
		err(p, "too many host names in routes (at most %d)",
		    CONF_MAX_NAMES);
		return -1;
	}
	c->names = m;
	strcpy(c->names[c->nnames], name);
	return c->nnames++;
}

/* One Route pattern into c->pats. */
static void parse_pattern(struct parser *p, const char *tok)
{
	struct conf *c = p->c;
	struct conf_pattern pat, *m;
	char host[300], *slash;
	const char *portstr = NULL;
	unsigned long n;
	int bracket = 0, maxlen;
	struct in_addr a4;

	memset(&pat, 0, sizeof(pat));
	pat.route = p->route;
	pat.port = 21;
	pat.name = -1;
	if (strlen(tok) >= sizeof(host)) {
		err(p, "Route: \"%.40s...\" is too long", tok);
		return;
	}
	if (*tok == '[') {
		const char *close = strchr(tok, ']');

		if (!close || (close[1] && close[1] != ':')) {
			err(p,
			    "Route: bad pattern \"%s\" (want [address]:port)",
			    tok);
			return;
		}
		memcpy(host, tok + 1, (size_t)(close - tok - 1));
		host[close - tok - 1] = '\0';
		if (close[1] == ':')
			portstr = close + 2;
		bracket = 1;
	} else {
		const char *colon = strchr(tok, ':');

		strcpy(host, tok);
		if (colon && !strchr(colon + 1, ':')) {
			host[colon - tok] = '\0';
			portstr = colon + 1;
		}
	}
	if (portstr) {
		if (parse_uint(portstr, 65535, &n) || n == 0) {
			err(p, "Route: bad port in \"%s\"", tok);
			return;
		}
		pat.port = (uint16_t)n;
	}
	add_port(c, pat.port);
	slash = strchr(host, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, host, &a4) == 1) {
		pat.net[10] = pat.net[11] = 0xff;
		memcpy(pat.net + 12, &a4, 4);
		maxlen = 32;
	} else if (inet_pton(AF_INET6, host, pat.net) == 1) {
		maxlen = 128;
	} else if (!slash && !bracket && valid_name(host)) {
		char name[CONF_NAME_MAX];

		if (norm_name(host, name) < 0) {
			err(p, "Route: host name \"%s\" too long", host);
			return;
		}
		pat.kind = CONF_PAT_NAME;
		pat.name = name_index(p, name);
		if (pat.name < 0)
			return;
		goto add;
	} else if (strchr(host, '*') || strchr(host, '?')) {
		err(p,
		    "Route: \"%s\": wildcards are not supported (name a "
		    "host, an address or a network)",
		    tok);
		return;
	} else {
		err(p,
		    "Route: \"%s\" is not a host name, an address or a "
		    "network",
		    tok);
		return;
	}
	pat.kind = CONF_PAT_NET;
	pat.plen = maxlen;
	if (slash) {
		if (parse_uint(slash + 1, (unsigned long)maxlen, &n)) {
			err(p, "Route: bad prefix length in \"%s\" (0 to %d)",
			    tok, maxlen);
			return;
		}
		pat.plen = (int)n;
	}
	if (maxlen == 32)
		pat.plen += 96;
	/* Host bits are ignored: 10.1.2.3/8 is 10.0.0.0/8. */
	{
		int i;

		for (i = pat.plen; i < 128; i++)
			pat.net[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
	}
add:
	m = room(c->pats, c->npats, CONF_MAX_PATTERNS, sizeof(*m));
	if (!m) {
		err(p, "too many Route patterns (at most %d)",
		    CONF_MAX_PATTERNS);
		return;
	}
	c->pats = m;
	c->pats[c->npats++] = pat;
}

/* The SSH options of a Route or a Profile are ftp-tunnel -o's (one table,
 * one value check: common/sshkeys.c); parser.seen has a bit per key, and
 * these past them. */
#define NKEYS SSHKEY_COUNT
#define SEEN_VIA (1UL << NKEYS)
#define SEEN_FTPHOST (1UL << (NKEYS + 1))

static unsigned long port_bit(void)
{
	return 1UL << SSHKEY_PORT;
}

/* The seen bits of ProxyJump and ProxyCommand: a block has one or the
 * other. */
static unsigned long proxy_bits(void)
{
	return (1UL << SSHKEY_PROXY_JUMP) | (1UL << SSHKEY_PROXY_COMMAND);
}

/* A file name: absolute, or "~/..." made absolute with home. 0 or -1. */
static int expand_path(struct parser *p, const char *key, const char *v,
		       char *out, size_t outlen)
{
	int n;

	if (v[0] == '~' && (v[1] == '/' || !v[1])) {
		size_t h;

		if (!p->home || p->home[0] != '/') {
			err(p, "%s %s: no home directory to expand ~ with", key,
			    v);
			return -1;
		}
		/* Without the home's trailing slashes ("/" becomes ""). */
		h = strlen(p->home);
		while (h > 0 && p->home[h - 1] == '/')
			h--;
		n = snprintf(out, outlen, "%.*s%s", (int)h, p->home,
			     v[1] ? v + 1 : (h ? "" : "/"));
	} else if (v[0] == '/') {
		n = snprintf(out, outlen, "%s", v);
	} else {
		err(p,
		    "%s %s: a file must be an absolute path or start with "
		    "~/ (ftp-tunneld runs in /)",
		    key, v);
		return -1;
	}
	if (n < 0 || (size_t)n >= outlen) {
		err(p, "%s: file name too long", key);
		return -1;
	}
	return 0;
}

/* Appends "Key=value\n" to the open block's options. */
static void add_option(struct parser *p, const char *key, const char *value)
{
	size_t have = strlen(p->opts);
	int n = snprintf(p->opts + have, p->opts_size - have, "%s=%s\n", key,
			 value);

	if (n < 0 || (size_t)n >= p->opts_size - have) {
		p->opts[have] = '\0';
		err(p, "too many SSH options in this block");
	}
}

/* An SSH option line in a Route or Profile block: words[0] is the key.
 * The value is checked as -o checks it (sshkeys_value); files must be
 * absolute here (ftp-tunneld runs in /), and a block gives a key once
 * (IdentityFile excepted). Numbers and times are passed on in seconds. */
static void parse_option(struct parser *p, char **words, int n)
{
	char *value = p->value, *path = p->path, why[200];
	size_t vsize = sizeof(p->value), psize = sizeof(p->path);
	const char *key = words[0];
	long num;
	size_t used = 0;
	int i, k = sshkeys_find(key);

	/* HostName is a Profile's own line; a Route has Via instead. */
	if (k < 0 || k == SSHKEY_HOSTNAME) {
		if (p->route >= 0)
			err(p,
			    "unknown keyword \"%s\" in a Route block (Via, "
			    "FtpHost, FtpPassiveAddress, FtpPassiveAhead, Sftp "
			    "or an SSH "
			    "option: IdentityFile, "
			    "UserKnownHostsFile, StrictHostKeyChecking, Port, "
			    "User, ...)",
			    key);
		else
			err(p,
			    "unknown keyword \"%s\" in a Profile block "
			    "(HostName, User, Port, LocalForward, "
			    "RemoteForward, AllowRelay, FtpActiveMode, "
			    "FtpPassiveAddress, FtpPassiveAhead, SftpLogin or "
			    "an "
			    "SSH option: IdentityFile, UserKnownHostsFile, "
			    "StrictHostKeyChecking, ...; see "
			    "ftp-tunnel.conf(5))",
			    key);
		return;
	}
	key = sshkeys[k].name;
	if (n < 2) {
		err(p, "%s needs a value", key);
		return;
	}
	if ((p->seen & (1UL << k)) && sshkeys[k].type != SSHKEY_T_FILE) {
		err(p, "%s given twice in one %s", key,
		    p->route >= 0 ? "Route" : "Profile");
		return;
	}
	p->seen |= 1UL << k;
	if ((k == SSHKEY_PROXY_JUMP || k == SSHKEY_PROXY_COMMAND) &&
	    (p->seen & proxy_bits()) == proxy_bits()) {
		err(p, "ProxyJump and ProxyCommand in one %s: give one of them",
		    p->route >= 0 ? "Route" : "Profile");
		return;
	}
	if (n > 2 && sshkeys[k].type != SSHKEY_T_FILES &&
	    sshkeys[k].type != SSHKEY_T_COMMAND) {
		err(p, "%s takes one value (quote a value with spaces)", key);
		return;
	}
	if (n - 1 > sshkeys[k].max && sshkeys[k].type == SSHKEY_T_FILES) {
		err(p, "%s: more than %ld files", key, sshkeys[k].max);
		return;
	}
	value[0] = '\0';
	if (sshkeys[k].type == SSHKEY_T_COMMAND) {
		/* A shell command: its words joined by one space. */
		for (i = 1; i < n; i++) {
			int w = snprintf(value + used, vsize - used, "%s%s",
					 i > 1 ? " " : "", words[i]);

			if (w < 0 || (size_t)w >= vsize - used) {
				err(p, "%s: too long", key);
				return;
			}
			used += (size_t)w;
		}
		if (sshkeys_value(k, value, &num, why, sizeof(why)) < 0) {
			err(p, "%s: %s", key, why);
			return;
		}
	}
	for (i = 1; i < n && sshkeys[k].type != SSHKEY_T_COMMAND; i++) {
		if (sshkeys_value(k, words[i], &num, why, sizeof(why)) < 0) {
			err(p, "%s %s: %s", key, words[i], why);
			return;
		}
	}
	switch (sshkeys[k].type) {
	case SSHKEY_T_FILES: /* several files, space-separated */
		for (i = 1; i < n; i++) {
			int w;

			/* "none": no file (as with -o). */
			if (!strcasecmp(words[i], "none"))
				snprintf(path, psize, "%s", words[i]);
			else if (expand_path(p, key, words[i], path, psize) < 0)
				return;
			if (strchr(path, ' ')) {
				err(p,
				    "%s: a file name with a space cannot be "
				    "in a list",
				    key);
				return;
			}
			w = snprintf(value + used, vsize - used, "%s%s",
				     i > 1 ? " " : "", path);
			if (w < 0 || (size_t)w >= vsize - used) {
				err(p, "%s: too long", key);
				return;
			}
			used += (size_t)w;
		}
		break;
	case SSHKEY_T_FILE:
		if (expand_path(p, key, words[1], value, vsize) < 0)
			return;
		break;
	case SSHKEY_T_PORT:
		*p->port_out = (uint16_t)num;
		snprintf(value, vsize, "%ld", num);
		break;
	case SSHKEY_T_UINT:
	case SSHKEY_T_TIME:
		snprintf(value, vsize, "%ld", num);
		break;
	case SSHKEY_T_COMMAND:
		break; /* joined and checked above */
	default:
		snprintf(value, vsize, "%s", words[1]);
		break;
	}
	add_option(p, key, value);
}

/* Closes the open Route block: it needs a Via, except with Sftp yes,
 * where none means the host the program dialed (Tectia's
 * hostname-from-app), as ftp-tunnel-wrap --sftp without --via. */
static void end_route(struct parser *p)
{
	struct conf_route *r;
	int line = p->line;

	if (p->route < 0)
		return;
	r = &p->c->routes[p->route];
	p->line = r->line;
	if (!r->via[0] && !r->sftp)
		err(p, "Route has no Via (the SSH server to go through; "
		       "only a Route with Sftp yes may go without: to the "
		       "host dialed)");
	else if (!r->via[0] && r->ftphost[0])
		/* The daemon would take FtpHost for the SSH server. */
		err(p, "Route with Sftp yes and no Via has FtpHost: its SSH "
		       "server is the host the program dialed; give Via, or "
		       "drop FtpHost");
	p->line = line;
	p->route = -1;
}

static void start_route(struct parser *p, char **words, int n)
{
	struct conf *c = p->c;
	struct conf_route *r;
	int i;

	p->ignoring = 0;
	p->seen = 0;
	p->profile = -1;
	r = room(c->routes, c->nroutes, CONF_MAX_ROUTES, sizeof(*r));
	if (!r) {
		err(p, "too many Routes (at most %d)", CONF_MAX_ROUTES);
		/* The rest of the block is ignored. */
		p->ignoring = 1;
		return;
	}
	c->routes = r;
	r = &c->routes[c->nroutes];
	memset(r, 0, sizeof(*r));
	r->file = p->fileno;
	r->line = p->line;
	p->route = c->nroutes++;
	p->opts = r->options;
	p->opts_size = sizeof(r->options);
	p->port_out = &r->via_port;
	if (n < 2)
		err(p, "Route needs a host name, an address or a network");
	for (i = 1; i < n; i++)
		parse_pattern(p, words[i]);
}

static void parse_via(struct parser *p, char **words, int n)
{
	struct conf_route *r = &p->c->routes[p->route];
	const char *v = n > 1 ? words[1] : "";
	const char *at = strrchr(v, '@');
	uint16_t port;
	char host[256];

	if (p->seen & SEEN_VIA) {
		err(p, "Via given twice in one Route");
		return;
	}
	p->seen |= SEEN_VIA;
	if (n != 2) {
		err(p, "Via takes one [user@]host[:port]");
		return;
	}
	if (strlen(v) >= sizeof(r->via) || (at && at == v) ||
	    strpbrk(v, " \t") ||
	    conf_parse_via(v, host, sizeof(host), &port) < 0 ||
	    (host[0] != '[' && strpbrk(host, "[]/"))) {
		err(p, "Via %s: not [user@]host[:port]", v);
		return;
	}
	strcpy(r->via, v);
	strcpy(r->via_host, host);
	/* An explicit Port option (before or after) wins, as in the
	 * daemon. */
	if (!(p->seen & port_bit()))
		r->via_port = port;
}

/* Sftp yes|no: the routed FTP connections are answered by ftp-tunneld
 * from the SSH server's SFTP; nothing goes to the FTP port anywhere. */
static void parse_sftp(struct parser *p, char **words, int n)
{
	struct conf_route *r = &p->c->routes[p->route];

	if (n != 2 || sshkeys_yes_no(words[1]) < 0) {
		err(p, "Sftp takes yes or no");
		return;
	}
	r->sftp = sshkeys_yes_no(words[1]);
}

static void parse_ftphost(struct parser *p, char **words, int n)
{
	struct conf_route *r = &p->c->routes[p->route];
	char host[256];
	const char *v = n > 1 ? words[1] : "";
	size_t len = strlen(v);
	unsigned char a6[16];

	if (p->seen & SEEN_FTPHOST) {
		err(p, "FtpHost given twice in one Route");
		return;
	}
	p->seen |= SEEN_FTPHOST;
	if (n != 2) {
		err(p, "FtpHost takes one host name or address");
		return;
	}
	if (len >= sizeof(host)) {
		err(p, "FtpHost: too long");
		return;
	}
	if (v[0] == '[' && len > 2 && v[len - 1] == ']') {
		memcpy(host, v + 1, len - 2);
		host[len - 2] = '\0';
	} else {
		strcpy(host, v);
	}
	if (inet_pton(AF_INET6, host, a6) != 1 &&
	    inet_pton(AF_INET, host, a6) != 1 && !valid_name(host)) {
		err(p,
		    "FtpHost %s: not a host name or an address (the port "
		    "is the one the program connected to)",
		    v);
		return;
	}
	strcpy(r->ftphost, host);
}

/* ---- Profile blocks */

static void end_profile(struct parser *p)
{
	struct profile *pr;
	int i;

	if (p->profile < 0)
		return;
	pr = &p->c->profiles[p->profile];
	/* AllowRelay: a forward without a bind address listens on every
	 * address, wherever AllowRelay stood in the block. */
	for (i = 0; p->allow_relay && i < pr->ntunnels; i++) {
		struct fwd_spec fs;
		char e[256], *spec = pr->tunnels[i].spec;

		/* Written from the parsed fields, not by inserting "*:"
		 * into the text: an empty bind (":2121:h:21") is one field
		 * already, and a spec near PROFILE_SPEC_MAX would be cut. */
		if (spec_parse_forward(spec, pr->tunnels[i].remote, &fs, e,
				       sizeof(e)) == 0 &&
		    !fs.bind[0]) {
			strcpy(fs.bind, "*");
			if (spec_format(&fs, spec, PROFILE_SPEC_MAX) < 0) {
				int line = p->line;

				p->line = pr->tunnels[i].line;
				err(p, "AllowRelay: forward too long");
				p->line = line;
			}
		}
	}
	p->profile = -1;
}

static void start_profile(struct parser *p, char **words, int n)
{
	struct conf *c = p->c;
	struct profile *pr;
	int i;

	p->ignoring = 1; /* until it is known to be good */
	p->seen = 0;
	p->allow_relay = 0;
	if (n != 2 || !*words[1] || strlen(words[1]) >= PROFILE_NAME_MAX ||
	    strpbrk(words[1], "@:/[] \t")) {
		err(p, "Profile takes one name (no @, :, / or brackets)");
		return;
	}
	for (i = 0; i < c->nprofiles; i++) {
		if (strcmp(c->profiles[i].name, words[1]))
			continue;
		if (!strcmp(c->profiles[i].file, p->file)) {
			err(p, "Profile %s defined twice (first at line %d)",
			    words[1], c->profiles[i].line);
			return;
		}
		/* A later file's profile of the same name: the first file
		 * (the user's) wins; this block is read and dropped. */
	}
	pr = room(c->profiles, c->nprofiles, CONF_MAX_PROFILES, sizeof(*pr));
	if (!pr) {
		err(p, "too many Profiles (at most %d)", CONF_MAX_PROFILES);
		return;
	}
	c->profiles = pr;
	pr = &c->profiles[c->nprofiles];
	memset(pr, 0, sizeof(*pr));
	snprintf(pr->name, sizeof(pr->name), "%s", words[1]);
	snprintf(pr->file, sizeof(pr->file), "%s", p->file);
	pr->line = p->line;
	p->profile = c->nprofiles++;
	p->ignoring = 0;
	p->opts = pr->options;
	p->opts_size = sizeof(pr->options);
	p->port_out = &pr->port;
}

/* LocalForward/RemoteForward: one argument in -L syntax, or two as in
 * ssh_config ("[ftp/][bind:]port host:hostport"). */
static void parse_forward(struct parser *p, char **words, int n, int remote)
{
	struct profile *pr = &p->c->profiles[p->profile];
	struct profile_tunnel *t;
	struct fwd_spec fs;
	char spec[PROFILE_SPEC_MAX], e[300];
	int len;

	if (n != 2 && n != 3) {
		err(p, "%s takes [ftp/][bind:]port:host:hostport", words[0]);
		return;
	}
	if (n == 3)
		len = snprintf(spec, sizeof(spec), "%s:%s", words[1], words[2]);
	else
		len = snprintf(spec, sizeof(spec), "%s", words[1]);
	if (len < 0 || (size_t)len >= sizeof(spec)) {
		err(p, "%s: too long", words[0]);
		return;
	}
	if (spec_parse_forward(spec, remote, &fs, e, sizeof(e)) < 0) {
		err(p, "%s: %s", words[0], e);
		return;
	}
	if (pr->ntunnels == PROFILE_MAX_TUNNELS) {
		err(p, "too many forwards in one Profile (at most %d)",
		    PROFILE_MAX_TUNNELS);
		return;
	}
	t = &pr->tunnels[pr->ntunnels++];
	t->remote = remote;
	t->line = p->line;
	memcpy(t->spec, spec, (size_t)len + 1);
}

/* Bits of parser.seen for a Profile's own keys (past the SSH keys). */
#define SEEN_HOSTNAME (1UL << (NKEYS + 2))
#define SEEN_RELAY (1UL << (NKEYS + 3))
#define SEEN_ACTIVE (1UL << (NKEYS + 4))
#define SEEN_PASSIVE (1UL << (NKEYS + 5))
#define SEEN_SFTP_LOGIN (1UL << (NKEYS + 6))
#define SEEN_AHEAD (1UL << (NKEYS + 7))

static int once(struct parser *p, unsigned long bit, const char *key, int n)
{
	if (p->seen & bit) {
		err(p, "%s given twice in one %s", key,
		    p->route >= 0 ? "Route" : "Profile");
		return -1;
	}
	p->seen |= bit;
	if (n != 2) {
		err(p, "%s takes one value", key);
		return -1;
	}
	return 0;
}

/* FtpPassiveAddress control|reply, in a Profile or a Route. */
static void parse_passive_address(struct parser *p, char **words, int n)
{
	if (once(p, SEEN_PASSIVE, "FtpPassiveAddress", n) < 0)
		return;
	if (sshkeys_ftp_passive_reply(words[1]) < 0) {
		err(p, "FtpPassiveAddress %s: want control or reply", words[1]);
		return;
	}
	add_option(p, "FtpPassiveAddress", words[1]);
}

/* FtpPassiveAhead yes|no, in a Profile or a Route. */
static void parse_passive_ahead(struct parser *p, char **words, int n)
{
	if (once(p, SEEN_AHEAD, "FtpPassiveAhead", n) < 0)
		return;
	if (sshkeys_yes_no(words[1]) < 0) {
		err(p, "FtpPassiveAhead %s: want yes or no", words[1]);
		return;
	}
	add_option(p, "FtpPassiveAhead", words[1]);
}

static void parse_profile_line(struct parser *p, char **words, int n)
{
	struct profile *pr = &p->c->profiles[p->profile];
	const char *key = words[0];
	char why[200];
	long num;

	if (!strcasecmp(key, "LocalForward")) {
		parse_forward(p, words, n, 0);
	} else if (!strcasecmp(key, "RemoteForward")) {
		parse_forward(p, words, n, 1);
	} else if (!strcasecmp(key, "HostName")) {
		if (once(p, SEEN_HOSTNAME, "HostName", n) < 0)
			return;
		/* As -o checks it; and no brackets: a Route's Via written
		 * from it ("[v6]:port") must parse again. */
		if (sshkeys_value(SSHKEY_HOSTNAME, words[1], &num, why,
				  sizeof(why)) < 0 ||
		    strlen(words[1]) >= sizeof(pr->host) ||
		    strpbrk(words[1], "@/ \t[]")) {
			err(p, "HostName %s: not a host name or an address",
			    words[1]);
			return;
		}
		snprintf(pr->host, sizeof(pr->host), "%s", words[1]);
	} else if (!strcasecmp(key, "AllowRelay") ||
		   !strcasecmp(key, "GatewayPorts")) {
		if (once(p, SEEN_RELAY, "AllowRelay", n) < 0)
			return;
		p->allow_relay = sshkeys_yes_no(words[1]);
		if (p->allow_relay < 0) {
			p->allow_relay = 0;
			err(p, "%s %s: want yes or no", key, words[1]);
			return;
		}
	} else if (!strcasecmp(key, "SftpLogin")) {
		/* sftp/ tunnels: whose SSH login serves the FTP logins:
		 * ftp-tunnel's own (tunnel) or each FTP login's (ftp). */
		if (once(p, SEEN_SFTP_LOGIN, "SftpLogin", n) < 0)
			return;
		if (sshkeys_sftp_login(words[1]) < 0) {
			err(p, "SftpLogin %s: want tunnel or ftp", words[1]);
			return;
		}
		add_option(p, "SftpLogin", words[1]);
	} else if (!strcasecmp(key, "FtpActiveMode")) {
		if (once(p, SEEN_ACTIVE, "FtpActiveMode", n) < 0)
			return;
		if (sshkeys_ftp_active(words[1]) < 0) {
			err(p,
			    "FtpActiveMode %s: want forward, passive or auto",
			    words[1]);
			return;
		}
		add_option(p, "FtpActiveMode", words[1]);
	} else if (!strcasecmp(key, "FtpPassiveAddress")) {
		parse_passive_address(p, words, n);
	} else if (!strcasecmp(key, "FtpPassiveAhead")) {
		parse_passive_ahead(p, words, n);
	} else {
		/* User and Port land in the fields, the rest in options. */
		size_t before = strlen(pr->options);

		parse_option(p, words, n);
		if (!strcasecmp(key, "User") && strlen(pr->options) > before) {
			snprintf(pr->user, sizeof(pr->user), "%s",
				 pr->options + before + 5);
			pr->user[strcspn(pr->user, "\n")] = '\0';
			pr->options[before] = '\0';
		} else if (!strcasecmp(key, "Port")) {
			pr->options[before] = '\0';
		}
	}
}

static void end_block(struct parser *p)
{
	end_route(p);
	end_profile(p);
	p->ignoring = 0;
}

/* TectiaConfig FILE: recorded for ftp-tunnel, which reads XML. */
static void parse_tectia(struct parser *p, char **words, int n)
{
	struct conf *c = p->c;

	if (n != 2) {
		err(p, "TectiaConfig takes one file name");
		return;
	}
	if (expand_path(p, "TectiaConfig", words[1], p->path, sizeof(p->path)) <
	    0)
		return;
	if (c->ntectia == CONF_MAX_FILES) {
		err(p, "too many TectiaConfig files (at most %d)",
		    CONF_MAX_FILES);
		return;
	}
	if (strlen(p->path) >= sizeof(c->tectia[0])) {
		err(p, "TectiaConfig: file name too long");
		return;
	}
	memcpy(c->tectia[c->ntectia++], p->path, strlen(p->path) + 1);
}

/* One line (without its newline). */
static void parse_line(struct parser *p, const char *s, size_t len)
{
	char *words[MAX_WORDS];
	int n;

	if (len > CONF_LINE_MAX) {
		err(p, "line too long (more than %d bytes)", CONF_LINE_MAX);
		return;
	}
	/* ssh_config's syntax (sshkeys_split), quotes and all. */
	memcpy(p->words_buf, s, len);
	p->words_buf[len] = '\0';
	n = sshkeys_split(p->words_buf, words, MAX_WORDS);
	if (n == SSHKEYS_SPLIT_QUOTE)
		err(p, "unterminated quote");
	else if (n == SSHKEYS_SPLIT_MANY)
		err(p, "too many words on one line");
	if (n <= 0)
		return;
	if (!*words[0]) {
		err(p, "a line starting with '=' or an empty keyword");
		return;
	}
	if (!strcasecmp(words[0], "Route")) {
		end_block(p);
		start_route(p, words, n);
		return;
	}
	if (!strcasecmp(words[0], "Profile")) {
		end_block(p);
		start_profile(p, words, n);
		return;
	}
	if (!strcasecmp(words[0], "TectiaConfig")) {
		end_block(p);
		parse_tectia(p, words, n);
		return;
	}
	if (!strcasecmp(words[0], "Host") || !strcasecmp(words[0], "Match")) {
		end_block(p);
		p->ignoring = 1;
		err(p,
		    "%s blocks belong in ~/.ssh/config, which ftp-tunnel "
		    "reads; here, use Profile (see ftp-tunnel.conf(5))",
		    words[0]);
		return;
	}
	if (p->ignoring)
		return;
	if (p->profile >= 0) {
		parse_profile_line(p, words, n);
		return;
	}
	if (p->route < 0) {
		err(p,
		    "unknown keyword \"%s\" (expected Profile, Route or "
		    "TectiaConfig)",
		    words[0]);
		return;
	}
	if (!strcasecmp(words[0], "Via"))
		parse_via(p, words, n);
	else if (!strcasecmp(words[0], "FtpHost"))
		parse_ftphost(p, words, n);
	else if (!strcasecmp(words[0], "FtpPassiveAddress"))
		parse_passive_address(p, words, n);
	else if (!strcasecmp(words[0], "FtpPassiveAhead"))
		parse_passive_ahead(p, words, n);
	else if (!strcasecmp(words[0], "Sftp"))
		parse_sftp(p, words, n);
	else if (!strcasecmp(words[0], "SftpLogin")) {
		/* With Sftp yes: the daemon's own SSH login (tunnel) or
		 * each FTP login's (ftp), passed on as an option. */
		if (n != 2 || sshkeys_sftp_login(words[1]) < 0)
			err(p, "SftpLogin takes tunnel or ftp");
		else
			add_option(p, "SftpLogin", words[1]);
	} else
		parse_option(p, words, n);
}

int conf_parse(struct conf *c, const char *file, const char *text, size_t len,
	       const char *home)
{
	struct parser *p = calloc(1, sizeof(*p));
	const char *s = text, *e = text + len;
	int failed;

	if (!p) {
		conf_fail(c, file, 0, "out of memory");
		return -1;
	}
	p->c = c;
	p->file = file;
	p->home = home;
	p->route = -1;
	p->profile = -1;
	if (c->nfiles < CONF_MAX_FILES) {
		snprintf(c->files[c->nfiles], sizeof(c->files[0]), "%s", file);
		p->fileno = c->nfiles++;
	} else {
		p->fileno = CONF_MAX_FILES - 1;
	}
	if (memchr(text, '\0', len)) {
		err(p, "a NUL byte: not a text file");
		s = e;
	}
	while (s < e) {
		const char *nl = memchr(s, '\n', (size_t)(e - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(e - s);

		p->line++;
		parse_line(p, s, n);
		s += n + (nl ? 1 : 0);
	}
	end_block(p);
	failed = p->failed;
	free(p);
	return failed ? -1 : 0;
}

const struct profile *conf_profile(const struct conf *c, const char *name)
{
	int i;

	for (i = 0; i < c->nprofiles; i++)
		if (!strcmp(c->profiles[i].name, name))
			return &c->profiles[i];
	return NULL;
}

void conf_finish(struct conf *c)
{
	int i;

	for (i = 0; i < c->nroutes; i++) {
		struct conf_route *r = &c->routes[i];
		const struct profile *pr = conf_profile(c, r->via);
		const char *host;
		char via[sizeof(r->via)], opts[sizeof(r->options)];
		int n;

		if (!pr)
			continue;
		host = pr->host[0] ? pr->host : pr->name;
		n = snprintf(
		    via, sizeof(via), "%s%s%s%s%s:%u", pr->user,
		    pr->user[0] ? "@" : "", strchr(host, ':') ? "[" : "", host,
		    strchr(host, ':') ? "]" : "", pr->port ? pr->port : 22);
		if (n < 0 || (size_t)n >= sizeof(via)) {
			/* Not silently the profile's name as the host. */
			conf_fail(c, c->files[r->file], r->line,
				  "Via %s: the profile's user@host:port is "
				  "too long",
				  r->via);
			continue;
		}
		/* A Route's Port option stays; the profile's options come
		 * first, so the Route's own win. */
		n = snprintf(opts, sizeof(opts), "%s%s", pr->options,
			     r->options);
		if (n < 0 || (size_t)n >= sizeof(opts)) {
			conf_fail(c, c->files[r->file], r->line,
				  "Via %s: the profile's and the Route's "
				  "options are too long together",
				  r->via);
			continue;
		}
		if (strncmp(r->options, "Port=", 5) &&
		    !strstr(r->options, "\nPort="))
			r->via_port = pr->port ? pr->port : 22;
		snprintf(r->via_host, sizeof(r->via_host), "%s", host);
		memcpy(r->via, via, (size_t)strlen(via) + 1);
		memcpy(r->options, opts, (size_t)n + 1);
	}
}

int conf_port_guarded(const struct conf *c, uint16_t port)
{
	int i;

	for (i = 0; i < c->nports; i++)
		if (c->ports[i] == port)
			return 1;
	return 0;
}

int conf_name_id(const struct conf *c, const char *name)
{
	char n[CONF_NAME_MAX];
	int i;

	if (!name || norm_name(name, n) < 0)
		return -1;
	for (i = 0; i < c->nnames; i++)
		if (!strcmp(c->names[i], n))
			return i;
	return -1;
}

int conf_names_on_port(const struct conf *c, uint16_t port)
{
	int i;

	for (i = 0; i < c->npats; i++)
		if (c->pats[i].kind == CONF_PAT_NAME && c->pats[i].port == port)
			return 1;
	return 0;
}

/* sa's address as 16 bytes (IPv4 as ::ffff:a.b.c.d) and its port. */
static int key_of(const struct sockaddr *sa, unsigned char out[16],
		  uint16_t *port)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &s4->sin_addr, 4);
		if (port)
			*port = ntohs(s4->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		memcpy(out, &s6->sin6_addr, 16);
		if (port)
			*port = ntohs(s6->sin6_port);
		return 0;
	}
	return -1;
}

static int in_net(const unsigned char a[16], const struct conf_pattern *p)
{
	int full = p->plen / 8, rest = p->plen % 8;

	if (memcmp(a, p->net, (size_t)full))
		return 0;
	return rest == 0 || ((a[full] ^ p->net[full]) &
			     (unsigned char)(0xff00u >> rest)) == 0;
}

int conf_match(const struct conf *c, const struct sockaddr *sa,
	       int (*has_name)(void *arg, int name, const struct sockaddr *sa),
	       void *arg, int *name)
{
	unsigned char a[16];
	uint16_t port;
	int i;

	*name = -1;
	if (c->bad || key_of(sa, a, &port) < 0)
		return -1;
	/* Patterns are in the order of their routes. */
	for (i = 0; i < c->npats; i++) {
		const struct conf_pattern *p = &c->pats[i];

		if (p->port != port)
			continue;
		if (p->kind == CONF_PAT_NET && in_net(a, p))
			return p->route;
		if (p->kind == CONF_PAT_NAME && has_name &&
		    has_name(arg, p->name, sa)) {
			*name = p->name;
			return p->route;
		}
	}
	return -1;
}

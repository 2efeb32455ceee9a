/* fuzz_conf.c — libFuzzer target for the configuration file parser
 * (common/conf.c): conf_parse, conf_finish, conf_match and conf_profile
 * on arbitrary text, checked against what the parser promises callers.
 *
 * Input: byte 0 picks a Route pattern to aim a connection at, byte 1 is
 * flags (bit 0 no home directory, bit 1 parse the text again as a second
 * file, bit 2 an IPv4-mapped target as AF_INET, bit 3 the name callback
 * says yes to the aimed name, bit 4 flip address bit byte 2), then the
 * file's text. */
#include "conf.h"
#include "spec.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HDR 3
static const char *const files[2] = {"fuzz.conf", "fuzz2.conf"};

static void die(const char *what, const struct conf *c)
{
	fprintf(stderr, "fuzz_conf: %s (err \"%s\")\n", what, c->err);
	abort();
}

/* Lines as conf_parse counts them: a last line needs no newline. */
static int count_lines(const char *t, size_t len)
{
	int n = 0;
	size_t i;

	for (i = 0; i < len; i++)
		n += t[i] == '\n';
	return n + (len && t[len - 1] != '\n');
}

/* "file:line: what" with a line of the input; "file: what" only for a
 * NUL byte, which is no line's fault. */
static void check_err(const struct conf *c, int nlines, int nfiles, int has_nul)
{
	const char *e = c->err, *q;
	long line;
	int f;

	if (!memchr(c->err, '\0', sizeof(c->err)))
		die("error message not terminated", c);
	for (f = 0; f < nfiles; f++)
		if (!strncmp(e, files[f], strlen(files[f])) &&
		    e[strlen(files[f])] == ':')
			break;
	if (f == nfiles)
		die("error message does not start with file:", c);
	q = e + strlen(files[f]) + 1;
	if (*q == ' ') {
		if (!has_nul)
			die("error message names no line", c);
		return;
	}
	line = strtol(q, (char **)&q, 10);
	if (line < 1 || line > nlines || strncmp(q, ": ", 2) || !q[2])
		die("error message names a line outside the input", c);
}

static void check_routes(const struct conf *c, int nlines)
{
	char host[256];
	uint16_t port;
	int i;

	for (i = 0; i < c->nroutes; i++) {
		const struct conf_route *r = &c->routes[i];

		if (!r->via[0] || !r->via_host[0] || !r->via_port)
			die("a route without a via", c);
		if (conf_parse_via(r->via, host, sizeof(host), &port) < 0)
			die("a route's via does not parse", c);
		/* conf_finish replaced every Via naming a profile. */
		if (conf_profile(c, r->via))
			die("a route's via still names a profile", c);
		if (r->file < 0 || r->file >= c->nfiles || r->line < 1 ||
		    r->line > nlines)
			die("a route from nowhere", c);
		if (!memchr(r->options, '\0', sizeof(r->options)) ||
		    (r->options[0] &&
		     r->options[strlen(r->options) - 1] != '\n'))
			die("a route's options are not lines", c);
	}
}

static void check_profiles(const struct conf *c)
{
	struct fwd_spec fs;
	char e[700];
	int i, k;

	for (i = 0; i < c->nprofiles; i++) {
		const struct profile *pr = &c->profiles[i];
		const struct profile *first = conf_profile(c, pr->name);

		if (!first || first > pr || strcmp(first->name, pr->name))
			die("conf_profile misses a profile", c);
		if (pr->ntunnels < 0 || pr->ntunnels > PROFILE_MAX_TUNNELS)
			die("a profile's tunnel count is out of range", c);
		for (k = 0; k < pr->ntunnels; k++)
			if (spec_parse_forward(pr->tunnels[k].spec,
					       pr->tunnels[k].remote, &fs, e,
					       sizeof(e)) < 0) {
				fprintf(stderr, "spec \"%s\"\n",
					pr->tunnels[k].spec);
				die("a profile's tunnel does not re-parse", c);
			}
	}
	if (conf_profile(c, "") != NULL)
		die("a profile without a name", c);
}

static void check_patterns(const struct conf *c)
{
	int i, b;

	for (i = 0; i < c->npats; i++) {
		const struct conf_pattern *p = &c->pats[i];

		if (p->route < 0 || p->route >= c->nroutes ||
		    (i && p->route < c->pats[i - 1].route))
			die("a pattern of no route, or out of order", c);
		if (c->nports < 64 && !conf_port_guarded(c, p->port))
			die("a pattern's port is not guarded", c);
		if (p->kind == CONF_PAT_NAME) {
			if (p->name < 0 || p->name >= c->nnames ||
			    !conf_names_on_port(c, p->port))
				die("a name pattern of no name", c);
			continue;
		}
		if (p->kind != CONF_PAT_NET || p->plen < 0 || p->plen > 128)
			die("a bad network pattern", c);
		for (b = p->plen; b < 128; b++)
			if (p->net[b / 8] & (0x80u >> (b % 8)))
				die("a network pattern with host bits", c);
	}
	for (i = 0; i < c->nnames; i++)
		if (conf_name_id(c, c->names[i]) != i)
			die("conf_name_id misses a name", c);
	if (!conf_port_guarded(c, 21))
		die("port 21 not guarded", c);
}

static int aimed_name = -1;

static int has_name(void *arg, int name, const struct sockaddr *sa)
{
	(void)arg;
	(void)sa;
	return name == aimed_name;
}

/* A connection aimed at pattern sel (its network, maybe one bit off):
 * when it is inside, a route at or before the pattern's takes it. */
static void check_match(const struct conf *c, uint8_t sel, uint8_t flags,
			uint8_t bit)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0,	   0,
						 0, 0, 0, 0, 0xff, 0xff};
	const struct conf_pattern *p = c->npats ? &c->pats[sel % c->npats] : 0;
	struct sockaddr_storage ss;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	unsigned char a[16];
	int inside = 0, r, name;

	memset(&ss, 0, sizeof(ss));
	memset(a, 0, sizeof(a));
	aimed_name = -1;
	if (p && p->kind == CONF_PAT_NET) {
		memcpy(a, p->net, 16);
		inside = 1;
	} else if (p && (flags & 8)) {
		aimed_name = p->name;
		inside = 1;
	}
	if (flags & 16) {
		a[(bit & 127) / 8] ^= (unsigned char)(0x80u >> (bit % 8));
		if (p && p->kind == CONF_PAT_NET && (bit & 127) < p->plen)
			inside = 0;
	}
	if ((flags & 4) && !memcmp(a, mapped, 12)) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(p ? p->port : 21);
		memcpy(&sin.sin_addr, a + 12, 4);
		memcpy(&ss, &sin, sizeof(sin));
	} else {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(p ? p->port : 21);
		memcpy(&sin6.sin6_addr, a, 16);
		memcpy(&ss, &sin6, sizeof(sin6));
	}
	r = conf_match(c, (struct sockaddr *)&ss, has_name, NULL, &name);
	if (c->bad) {
		if (r != -1)
			die("a bad configuration matched", c);
		return;
	}
	if (r < -1 || r >= c->nroutes)
		die("conf_match gave no route", c);
	if (inside && (r < 0 || r > p->route))
		die("conf_match missed the aimed pattern", c);
	if (name != -1 && (r < 0 || name != aimed_name))
		die("conf_match gave a name it was not told", c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf c;
	const char *text = (const char *)data + HDR;
	const char *home;
	size_t len;
	int nlines, nfiles, has_nul, rc;
	uint8_t flags;

	if (size < HDR)
		return 0;
	len = size - HDR;
	flags = data[1];
	home = flags & 1 ? NULL : "/home/fuzz";
	nfiles = flags & 2 ? 2 : 1;
	nlines = count_lines(text, len);
	has_nul = memchr(text, '\0', len) != NULL;

	conf_init(&c);
	rc = conf_parse(&c, files[0], text, len, home);
	if ((rc < 0) != (c.bad != 0))
		die("conf_parse's verdict and bad disagree", &c);
	if (nfiles == 2)
		conf_parse(&c, files[1], text, len, home);
	conf_finish(&c);
	if (c.bad) {
		check_err(&c, nlines, nfiles, has_nul);
	} else {
		check_routes(&c, nlines);
		check_profiles(&c);
	}
	check_patterns(&c);
	check_match(&c, data[0], flags, data[2]);
	conf_free(&c);
	return 0;
}

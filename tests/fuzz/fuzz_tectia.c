/* fuzz_tectia.c — libFuzzer target for the reader of Tectia's
 * ssh-broker-config.xml (daemon/config/tectia.c): the input is the file. Checks
 * that what it returns is what its callers rely on: every message names
 * the file and a line, every tunnel is a forward spec ftp-tunnel parses,
 * every option is one "Key=Value" line of a key ftp-tunnel knows, every
 * string is terminated inside its field, every <filter-engine> ftp-proxy
 * rule names a returned profile or its own host. */
#include "spec.h"
#include "tectia.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_PROFILES 8
#define FUZZ_MAX_RULES 4

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_tectia: %s: %s\n", what, detail);
	abort();
}

/* "fuzz:LINE: message" with LINE a positive number. */
static void check_message(const char *msg)
{
	const char *p = msg + 5;

	if (strncmp(msg, "fuzz:", 5) != 0 || *p < '1' || *p > '9')
		die("message without file:line", msg);
	p += strspn(p, "0123456789");
	if (p[0] != ':' || p[1] != ' ' || !p[2])
		die("message without file:line", msg);
}

static void on_warning(void *arg, const char *msg)
{
	(void)arg;
	check_message(msg);
}

static void check_terminated(const char *s, size_t size, const char *what)
{
	if (!memchr(s, '\0', size))
		die("unterminated field", what);
}

static void check_options(const char *opts)
{
	static const char *const keys[] = {
	    "IdentityFile",	     "UserKnownHostsFile",
	    "StrictHostKeyChecking", "ServerAliveInterval",
	    "ConnectTimeout",	     NULL};
	const char *l, *nl;
	size_t klen;
	int i;

	for (l = opts; *l; l = nl + 1) {
		nl = strchr(l, '\n');
		if (!nl)
			die("option line without a newline", opts);
		klen = strcspn(l, "=");
		if (l + klen >= nl || l + klen + 1 == nl)
			die("option line without Key=Value", opts);
		for (i = 0; keys[i]; i++)
			if (strlen(keys[i]) == klen &&
			    !strncasecmp(l, keys[i], klen))
				break;
		if (!keys[i])
			die("option of an unknown key", opts);
		for (; l < nl; l++)
			if ((unsigned char)*l < 0x20 || *l == 0x7f)
				die("control character in an option", opts);
	}
}

static void check_profile(const struct profile *p)
{
	struct fwd_spec f;
	char err[700];
	int i;

	check_terminated(p->name, sizeof(p->name), "name");
	check_terminated(p->file, sizeof(p->file), "file");
	check_terminated(p->host, sizeof(p->host), "host");
	check_terminated(p->user, sizeof(p->user), "user");
	check_terminated(p->options, sizeof(p->options), "options");
	if (!p->name[0] || strpbrk(p->name, " \t\r\n#\"'\\"))
		die("bad profile name", p->name);
	if (!p->host[0] || strpbrk(p->host, " \t\r\n"))
		die("bad host", p->host);
	if (strcmp(p->file, "fuzz") || p->line < 1)
		die("bad definition place", p->file);
	check_options(p->options);
	if (p->ntunnels < 0 || p->ntunnels > PROFILE_MAX_TUNNELS)
		die("bad tunnel count", p->name);
	for (i = 0; i < p->ntunnels; i++) {
		const struct profile_tunnel *t = &p->tunnels[i];

		check_terminated(t->spec, sizeof(t->spec), "spec");
		if (t->line < 1 || (t->remote != 0 && t->remote != 1))
			die("bad tunnel", t->spec);
		if (spec_parse_forward(t->spec, t->remote, &f, err,
				       sizeof(err)) < 0)
			die("tunnel spec that does not parse", t->spec);
	}
}

/* An ftp-proxy rule as import-tectia prints it: its Via is a profile the
 * parse returned (by name), or its own host with hostname-from-app. */
static void check_rule(const struct tectia_rule *r, const struct profile *out,
		       int n)
{
	int i;

	check_terminated(r->host, sizeof(r->host), "rule host");
	check_terminated(r->via, sizeof(r->via), "rule via");
	if (r->line < 1 || r->port_lo > r->port_hi || r->port_hi > 65535 ||
	    (r->port_lo == 0) != (r->port_hi == 0))
		die("bad rule", r->host);
	if ((r->hostname_from_app != 0 && r->hostname_from_app != 1) ||
	    (r->username_from_app != 0 && r->username_from_app != 1))
		die("bad rule flag", r->host);
	if (r->hostname_from_app) {
		if (r->via[0])
			die("rule with hostname-from-app and a Via", r->via);
		return;
	}
	for (i = 0; i < n && strcmp(out[i].name, r->via); i++)
		;
	if (i == n)
		die("rule naming no returned profile", r->via);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct profile out[FUZZ_MAX_PROFILES];
	static struct tectia_rule rulev[FUZZ_MAX_RULES];
	struct tectia_rules rules = {rulev, FUZZ_MAX_RULES, -1};
	char err[1024];
	int n = -1, i, rc;

	memset(out, 0xa5, sizeof(out));
	memset(rulev, 0xa5, sizeof(rulev));
	rc = tectia_parse_ex("fuzz", (const char *)data, size, out,
			     FUZZ_MAX_PROFILES, &n, &rules, err, sizeof(err),
			     on_warning, NULL);
	if (rc < 0) {
		if (n != 0 || rules.n != 0)
			die("profiles or rules returned with an error", err);
		check_message(err);
		return 0;
	}
	if (rc != 0 || n < 0 || n > FUZZ_MAX_PROFILES)
		die("bad result", "count");
	for (i = 0; i < n; i++)
		check_profile(&out[i]);
	if (rules.n < 0 || rules.n > FUZZ_MAX_RULES)
		die("bad result", "rule count");
	for (i = 0; i < rules.n; i++)
		check_rule(&rulev[i], out, n);
	return 0;
}

/* import_tectia.c — `ftp-tunnel import-tectia FILE`: reads a Tectia
 * Connection Broker configuration (tectia.c) and prints the same profiles,
 * and its FTP-SFTP conversion rules as Routes, in the native
 * configuration's syntax, so a user can review them and
 * paste them into ~/.config/ftp-tunnel/config. */
#include "import_tectia.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"
#include "tectia.h"

#define IMPORT_MAX_PROFILES 256
#define IMPORT_MAX_PORTS 64 /* a rule's port range, as Route patterns */

static void print_warning(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "ftp-tunnel: warning: %s\n", msg);
}

/* s for a comment line: control characters (a newline in a file name)
 * would end the comment. */
static void print_sanitized(const char *s)
{
	for (; *s; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static const char *lb(const char *host)
{
	return strchr(host, ':') ? "[" : "";
}

static const char *rb(const char *host)
{
	return strchr(host, ':') ? "]" : "";
}

/* "LocalForward [ftp/][bind:]port host:hostport" from a -L/-R spec. */
static int print_forward(const struct profile_tunnel *t)
{
	struct fwd_spec f;
	char err[700];

	if (spec_parse_forward(t->spec, t->remote, &f, err, sizeof(err)) < 0)
		return -1;
	printf("    %s %s", t->remote ? "RemoteForward" : "LocalForward",
	       f.ftp ? "ftp/" : "");
	if (f.bind[0])
		printf("%s%s%s:", lb(f.bind), f.bind, rb(f.bind));
	printf("%u %s%s%s:%u\n", f.port, lb(f.host), f.host, rb(f.host),
	       f.hostport);
	return 0;
}

/* The Route patterns of a rule: its host (or every address) at each of
 * its ports (Route's default, 21, when the rule names none). */
static void print_patterns(const struct tectia_rule *r)
{
	static const char *const any[] = {"0.0.0.0/0", "::/0"};
	unsigned p;
	int i;

	for (i = 0; i < (r->host[0] ? 1 : 2); i++) {
		const char *h = r->host[0] ? r->host : any[i];
		/* "[::/0]:21": a v6 network too is bracketed before its
		 * port (conf.c reads "::/0:21" as a bad prefix length). */
		int v6 = strchr(h, ':') != NULL;

		if (!r->port_lo) {
			printf(" %s", h);
			continue;
		}
		for (p = r->port_lo; p <= r->port_hi; p++)
			printf(" %s%s%s:%u", v6 ? "[" : "", h, v6 ? "]" : "",
			       p);
	}
}

/* A Tectia ftp-proxy rule as a Route with FTP-SFTP conversion. Rules
 * ftp-tunnel cannot express are printed commented out, with a warning. */
static void print_rule(const char *file, const struct tectia_rule *r)
{
	const char *via = r->hostname_from_app ? r->host : r->via;
	const char *why = NULL;

	if (r->port_lo && r->port_hi - r->port_lo >= IMPORT_MAX_PORTS)
		why = "more ports than ftp-tunnel prints as Route patterns";
	printf("\n# <rule action=\"ftp-proxy\"> at ");
	print_sanitized(file);
	printf(":%d%s\n", r->line,
	       r->port_lo ? "" : " (no ports: FTP's port 21)");
	if (why) {
		fprintf(stderr,
			"ftp-tunnel: warning: %s:%d: %s; not imported\n", file,
			r->line, why);
		printf("# not imported: %s\n", why);
		return;
	}
	printf("Route");
	print_patterns(r);
	/* hostname-from-app: the SSH server is the host the program
	 * dialed: the rule's host, or, for a rule on any host, a Route
	 * without Via, which means just that. */
	printf("\n");
	if (via[0])
		printf("    Via %s\n", via);
	printf("    Sftp yes\n    SftpLogin %s\n",
	       r->username_from_app ? "ftp" : "tunnel");
}

/* One Profile block; options "Key=Value" lines become "Key Value". */
static int print_profile(const struct profile *p)
{
	const char *l;
	size_t len, klen;
	int i;

	printf("\nProfile %s\n", p->name);
	printf("    HostName %s\n", p->host[0] ? p->host : p->name);
	if (p->user[0])
		printf("    User %s\n", p->user);
	if (p->port)
		printf("    Port %u\n", p->port);
	for (l = p->options; *l; l += len + (l[len] == '\n')) {
		len = strcspn(l, "\n");
		klen = strcspn(l, "=");
		if (klen >= len)
			continue;
		printf("    %.*s %.*s\n", (int)klen, l, (int)(len - klen - 1),
		       l + klen + 1);
	}
	for (i = 0; i < p->ntunnels; i++)
		if (print_forward(&p->tunnels[i]) < 0) {
			fprintf(stderr,
				"ftp-tunnel: error: %s:%d: bad tunnel '%s'\n",
				p->file, p->tunnels[i].line,
				p->tunnels[i].spec);
			return -1;
		}
	return 0;
}

int import_tectia_main(int argc, char **argv)
{
	struct profile *profiles;
	struct tectia_rules rules = {NULL, TECTIA_RULES_MAX, 0};
	char err[1024];
	int n, i, ret = 2;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: ftp-tunnel import-tectia FILE\n");
		return 2;
	}
	profiles = calloc(IMPORT_MAX_PROFILES, sizeof(*profiles));
	rules.v = calloc(TECTIA_RULES_MAX, sizeof(*rules.v));
	if (!profiles || !rules.v) {
		fprintf(stderr, "ftp-tunnel: error: out of memory\n");
		return 1;
	}
	if (tectia_read_ex(argv[1], profiles, IMPORT_MAX_PROFILES, &n, &rules,
			   err, sizeof(err), print_warning, NULL) < 0) {
		fprintf(stderr, "ftp-tunnel: error: %s\n", err);
		goto out;
	}
	printf("# Imported from ");
	print_sanitized(argv[1]);
	printf(" (SSH Tectia ssh-broker-config.xml)\n"
	       "# by ftp-tunnel import-tectia. A <static-tunnels> entry is a "
	       "LocalForward\n# of the profile it names.\n");
	if (rules.n)
		printf(
		    "# A <filter-engine> ftp-proxy rule is a Route with Sftp "
		    "yes (FTP to SFTP\n# conversion).\n");
	for (i = 0; i < n; i++)
		if (print_profile(&profiles[i]) < 0)
			goto out;
	for (i = 0; i < rules.n; i++)
		print_rule(argv[1], &rules.v[i]);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr,
			"ftp-tunnel: error: writing the output failed\n");
		ret = 1;
		goto out;
	}
	ret = 0;
out:
	free(profiles);
	free(rules.v);
	return ret;
}

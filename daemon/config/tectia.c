/* tectia.c — SSH Tectia's ssh-broker-config.xml into connection profiles,
 * with expat. The element names and their meaning come from Tectia's
 * ssh-broker-config(5) and its quick reference; see tectia.h for what is
 * read and what is reported. */
#include "tectia.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <expat.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conffile.h"
#include "spec.h"

/* Where an element sits decides what may be inside it. */
enum tectia_ctx {
	CTX_DOC,       /* before the root element */
	CTX_BROKER,    /* <secsh-broker> */
	CTX_GENERAL,   /* <general> */
	CTX_KEYSTORES, /* <general><key-stores> */
	CTX_DEFAULTS,  /* <default-settings> */
	CTX_PROFILES,  /* <profiles> */
	CTX_PROFILE,   /* <profile> */
	CTX_AUTH,      /* <authentication-methods> */
	CTX_PUBKEY,    /* <auth-publickey> */
	CTX_TUNNELS,   /* <profile><tunnels> */
	CTX_STATIC,    /* <static-tunnels> */
	CTX_FILTER,    /* <filter-engine>, when rules are read */
	CTX_LEAF,      /* an element read here: nothing may be inside */
	CTX_SKIP,      /* inside an ignored element: not looked at */
};

struct tectia_frame {
	enum tectia_ctx ctx;
	char name[40]; /* the element, for messages (cut if longer) */
};

struct tectia_static {
	char profile[PROFILE_NAME_MAX];
	char spec[PROFILE_SPEC_MAX];
	int line;
};

struct tectia {
	XML_Parser xp;
	const char *file;
	struct profile *out;
	int max, n;
	char (*ids)[PROFILE_NAME_MAX]; /* <profile id>, parallel to out */
	char (*gws)[PROFILE_NAME_MAX]; /* its gateway-profile, or "" */
	int cur;		       /* profile being read, or -1 */
	struct tectia_frame stack[TECTIA_DEPTH_MAX];
	int depth;
	/* Settings of <general> and <default-settings>: every profile gets
	 * the ones it does not set itself. */
	char defaults[PROFILE_OPTS_MAX];
	int strict_host_keys; /* <strict-host-key-checking>: -1 unset */
	int accept_unknown;   /* <accept-unknown-host-keys>: -1 unset */
	int host_keys_line;   /* the later of the two, for messages */
	struct tectia_static *statics;
	int nstatics;
	struct tectia_rules *rules; /* NULL: <filter-engine> is ignored */
	int failed;
	char *err;
	size_t errlen;
	tectia_warn_fn warn;
	void *warn_arg;
};

/* Tectia elements that ftp-tunnel has no use for, by where they sit.
 * Anything else is not Tectia's and an error. */
static const char *const broker_ignored[] = {"filter-engine", "gui", NULL};
static const char *const general_ignored[] = {"crypto-lib",
					      "cert-validation",
					      "file-access-control",
					      "host-key-always-ask",
					      "logging",
					      "protocol-parameters",
					      "user-config-directory",
					      "fips-mode",
					      NULL};
static const char *const keystores_ignored[] = {"user-keys", "identification",
						NULL};
static const char *const conn_ignored[] = {"ciphers",
					   "macs",
					   "kexs",
					   "hostkey-algorithms",
					   "rekey",
					   "hostbased-default-domain",
					   "compression",
					   "idle-timeout",
					   "exclusive-connection",
					   "server-banners",
					   "forwards",
					   "remote-environment",
					   "password",
					   "address-family",
					   "sftpg3-mode",
					   "quiet-mode",
					   "checksum",
					   "hostkey",
					   "extended-logging",
					   "server-authentication-methods",
					   "authentication-success-message",
					   NULL};
static const char *const auth_ignored[] = {
    "auth-password", "auth-keyboard-interactive", "auth-gssapi",
    "auth-hostbased", NULL};
static const char *const pubkey_ignored[] = {"key-selection", NULL};

static int in_list(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (!strcmp(*list, name))
			return 1;
	return 0;
}

static int cur_line(struct tectia *st)
{
	unsigned long l = XML_GetCurrentLineNumber(st->xp);

	return l > 1000000000ul ? 1000000000 : (int)l;
}

/* The first error ends the parse. */
__attribute__((format(printf, 3, 4))) static void
fail_at(struct tectia *st, int line, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (st->failed)
		return;
	st->failed = 1;
	k = snprintf(st->err, st->errlen, "%s:%d: ", st->file, line);
	if (k >= 0 && (size_t)k < st->errlen) {
		va_start(ap, fmt);
		vsnprintf(st->err + k, st->errlen - (size_t)k, fmt, ap);
		va_end(ap);
	}
	if (st->xp)
		XML_StopParser(st->xp, XML_FALSE);
}

__attribute__((format(printf, 3, 4))) static void
warn_at(struct tectia *st, int line, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	int k;

	if (!st->warn || st->failed)
		return;
	k = snprintf(msg, sizeof(msg), "%s:%d: ", st->file, line);
	if (k < 0 || (size_t)k >= sizeof(msg))
		k = 0;
	va_start(ap, fmt);
	vsnprintf(msg + k, sizeof(msg) - (size_t)k, fmt, ap);
	va_end(ap);
	st->warn(st->warn_arg, msg);
}

static const char *attr(const char **atts, const char *name)
{
	for (; atts[0]; atts += 2)
		if (!strcmp(atts[0], name))
			return atts[1];
	return NULL;
}

/* Warns about each attribute of elem that is not in used. */
static void warn_attrs(struct tectia *st, int line, const char *elem,
		       const char **atts, const char *const *used)
{
	for (; atts[0]; atts += 2)
		if (!in_list(used, atts[0]))
			warn_at(st, line,
				"attribute %.40s of <%.40s> is not used by "
				"ftp-tunnel; ignored",
				atts[0], elem);
}

/* A value without control characters, shorter than size; blanks only if
 * blanks_ok. Copies it to out. */
static int take_value(struct tectia *st, int line, const char *elem,
		      const char *what, const char *v, int blanks_ok, char *out,
		      size_t size)
{
	const unsigned char *p;

	if (!*v) {
		fail_at(st, line, "empty %s in <%.40s>", what, elem);
		return -1;
	}
	if (strlen(v) >= size) {
		fail_at(st, line,
			"%s in <%.40s> is too long (at most %zu "
			"bytes)",
			what, elem, size - 1);
		return -1;
	}
	for (p = (const unsigned char *)v; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || (!blanks_ok && *p == ' ')) {
			fail_at(st, line, "%s '%.60s' in <%.40s> has a %s",
				what, v, elem,
				*p == ' ' ? "blank" : "control character");
			return -1;
		}
	}
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

/* A host name or address: letters, digits and . - _ (and : % for IPv6,
 * which must then be a valid IPv6 address); "*" where star_ok. */
static int take_host(struct tectia *st, int line, const char *elem,
		     const char *what, const char *v, int star_ok, char *out,
		     size_t size)
{
	struct in6_addr a6;
	const char *p;

	if (take_value(st, line, elem, what, v, 0, out, size) < 0)
		return -1;
	if (star_ok && !strcmp(v, "*"))
		return 0;
	for (p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".-_:%", *p))
			break;
	if (!*p && (!strchr(v, ':') || inet_pton(AF_INET6, v, &a6) == 1 ||
		    strchr(v, '%')))
		return 0;
	fail_at(st, line, "bad %s '%.60s' in <%.40s>", what, v, elem);
	return -1;
}

/* A port 1-65535, blanks around it allowed. */
static int take_port(struct tectia *st, int line, const char *elem,
		     const char *what, const char *v, unsigned *port)
{
	unsigned long n = 0;
	const char *p = v + strspn(v, " \t\r\n");
	int digits = 0;

	for (; isdigit((unsigned char)*p) && digits < 7; p++, digits++)
		n = n * 10 + (unsigned long)(*p - '0');
	p += strspn(p, " \t\r\n");
	if (!digits || *p || n < 1 || n > 65535) {
		fail_at(st, line, "bad %s '%.20s' in <%.40s> (1 to 65535)",
			what, v, elem);
		return -1;
	}
	*port = (unsigned)n;
	return 0;
}

/* yes/no, any case. Returns 1, 0, or -1 (an error). */
static int take_bool(struct tectia *st, int line, const char *elem,
		     const char *what, const char *v)
{
	const char *s = v + strspn(v, " \t");
	size_t len = strcspn(s, " \t");

	if (s[len + strspn(s + len, " \t")] == '\0') {
		if (len == 3 && !strncasecmp(s, "yes", 3))
			return 1;
		if (len == 2 && !strncasecmp(s, "no", 2))
			return 0;
	}
	fail_at(st, line, "bad %s '%.20s' in <%.40s> (yes or no)", what, v,
		elem);
	return -1;
}

/* Seconds 0-86400, for the OpenSSH options that take them. */
static int take_seconds(struct tectia *st, int line, const char *elem,
			const char *v, unsigned *secs)
{
	unsigned long n = 0;
	const char *p = v + strspn(v, " \t");
	int digits = 0;

	for (; isdigit((unsigned char)*p) && digits < 7; p++, digits++)
		n = n * 10 + (unsigned long)(*p - '0');
	p += strspn(p, " \t");
	if (!digits || *p || n > 86400) {
		fail_at(st, line,
			"bad time '%.20s' in <%.40s> (0 to 86400 "
			"seconds)",
			v, elem);
		return -1;
	}
	*secs = (unsigned)n;
	return 0;
}

/* Options of the profile being read, or the defaults outside one. */
static char *options_of(struct tectia *st)
{
	return st->cur >= 0 ? st->out[st->cur].options : st->defaults;
}

/* Appends "Key=Value\n"; value was checked for control characters. */
static int add_option(struct tectia *st, int line, char *opts, const char *key,
		      const char *value)
{
	size_t used = strlen(opts);
	int k = snprintf(opts + used, PROFILE_OPTS_MAX - used, "%s=%s\n", key,
			 value);

	if (k < 0 || (size_t)k >= PROFILE_OPTS_MAX - used) {
		opts[used] = '\0';
		fail_at(st, line,
			"too many settings (at most %d bytes of "
			"options a profile)",
			PROFILE_OPTS_MAX - 1);
		return -1;
	}
	return 0;
}

static int require(struct tectia *st, int line, const char *elem,
		   const char **atts, const char *name, const char **v)
{
	*v = attr(atts, name);
	if (!*v) {
		fail_at(st, line, "<%.40s> has no %s attribute", elem, name);
		return -1;
	}
	return 0;
}

/* <keepalive-interval time=S/> and <tcp-connect-timeout time=S/>. */
static int read_seconds_option(struct tectia *st, int line, const char *elem,
			       const char **atts, const char *key)
{
	static const char *const used[] = {"time", NULL};
	const char *v;
	char num[16];
	unsigned secs;

	if (require(st, line, elem, atts, "time", &v) < 0 ||
	    take_seconds(st, line, elem, v, &secs) < 0)
		return -1;
	warn_attrs(st, line, elem, atts, used);
	snprintf(num, sizeof(num), "%u", secs);
	return add_option(st, line, options_of(st), key, num);
}

/* A key file path as IdentityFile. Blanks are refused: the native
 * configuration, like ssh_config, would need quotes. */
static int add_identity(struct tectia *st, int line, const char *elem,
			const char *path)
{
	char v[1024];

	if (take_value(st, line, elem, "key file", path, 0, v, sizeof(v)) < 0)
		return -1;
	return add_option(st, line, options_of(st), "IdentityFile", v);
}

/* <key-store type="software" init="key_files(A,B)"/>: Tectia's list of
 * extra key files. Other key stores (directories, PKCS#11, Windows
 * certificate stores) have no OpenSSH equivalent here. */
static int read_key_store(struct tectia *st, int line, const char **atts)
{
	static const char *const used[] = {"type", "init", NULL};
	const char *type = attr(atts, "type"), *init = attr(atts, "init");
	char files[1024], *tok, *save = NULL;
	size_t len;

	if (!type || strcasecmp(type, "software") || !init ||
	    strncasecmp(init, "key_files(", 10)) {
		warn_at(st, line,
			"<key-store> of type '%.40s' is not used by "
			"ftp-tunnel; ignored",
			type ? type : "");
		return 0;
	}
	warn_attrs(st, line, "key-store", atts, used);
	len = strlen(init + 10);
	if (len == 0 || init[10 + len - 1] != ')' || len >= sizeof(files)) {
		fail_at(st, line, "bad init '%.60s' in <key-store>", init);
		return -1;
	}
	memcpy(files, init + 10, len - 1);
	files[len - 1] = '\0';
	for (tok = strtok_r(files, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		tok += strspn(tok, " ");
		len = strlen(tok);
		while (len > 0 && tok[len - 1] == ' ')
			tok[--len] = '\0';
		if (*tok && add_identity(st, line, "key-store", tok) < 0)
			return -1;
	}
	return 0;
}

/* enable="yes|no" of a <general> host-key setting. */
static int read_enable(struct tectia *st, int line, const char *elem,
		       const char **atts, int *out)
{
	static const char *const used[] = {"enable", NULL};
	const char *v;
	int b;

	if (require(st, line, elem, atts, "enable", &v) < 0)
		return -1;
	b = take_bool(st, line, elem, "enable", v);
	if (b < 0)
		return -1;
	warn_attrs(st, line, elem, atts, used);
	*out = b;
	return 0;
}

/* The forward of a tunnel element, in -L/-R syntax:
 * [ftp/][bind:]port:host:hostport, IPv6 literals in brackets. Without a
 * listen-address, allow-relay="yes" binds every address ("*"), "no" (the
 * default) loopback only. */
static int tunnel_spec(struct tectia *st, int line, const char *elem,
		       const char **atts, int remote, char *spec, size_t size)
{
	char host[256], bind[256], err[400];
	const char *v, *type;
	unsigned lport, dport;
	int ftp = 0, relay = 0, k;
	struct fwd_spec check;

	type = attr(atts, "type");
	if (type) {
		if (!strcasecmp(type, "ftp")) {
			ftp = 1;
		} else if (strcasecmp(type, "tcp")) {
			fail_at(st, line,
				"bad type '%.20s' in <%.40s> (FTP or TCP)",
				type, elem);
			return -1;
		}
	}
	if (require(st, line, elem, atts, "listen-port", &v) < 0 ||
	    take_port(st, line, elem, "listen-port", v, &lport) < 0 ||
	    require(st, line, elem, atts, "dst-host", &v) < 0 ||
	    take_host(st, line, elem, "dst-host", v, 0, host, sizeof(host)) <
		0 ||
	    require(st, line, elem, atts, "dst-port", &v) < 0 ||
	    take_port(st, line, elem, "dst-port", v, &dport) < 0)
		return -1;
	v = attr(atts, "allow-relay");
	if (v && (relay = take_bool(st, line, elem, "allow-relay", v)) < 0)
		return -1;
	bind[0] = '\0';
	v = attr(atts, "listen-address");
	if (v) {
		if (take_host(st, line, elem, "listen-address", v, 1, bind,
			      sizeof(bind)) < 0)
			return -1;
	} else if (relay) {
		strcpy(bind, "*");
	}
	k = snprintf(spec, size, "%s%s%s%s%s%u:%s%s%s:%u", ftp ? "ftp/" : "",
		     strchr(bind, ':') ? "[" : "", bind,
		     strchr(bind, ':') ? "]" : "", bind[0] ? ":" : "", lport,
		     strchr(host, ':') ? "[" : "", host,
		     strchr(host, ':') ? "]" : "", dport);
	/* What the checks above let through must parse as a forward. */
	if (k < 0 || (size_t)k >= size ||
	    spec_parse_forward(spec, remote, &check, err, sizeof(err)) < 0) {
		fail_at(st, line, "<%.40s> cannot be written as a forward",
			elem);
		return -1;
	}
	return 0;
}

static int add_tunnel(struct tectia *st, int line, struct profile *p,
		      int remote, const char *spec)
{
	struct profile_tunnel *t;

	if (p->ntunnels >= PROFILE_MAX_TUNNELS) {
		fail_at(st, line, "profile %s has more than %d tunnels",
			p->name, PROFILE_MAX_TUNNELS);
		return -1;
	}
	t = &p->tunnels[p->ntunnels++];
	t->remote = remote;
	t->line = line;
	snprintf(t->spec, sizeof(t->spec), "%s", spec);
	return 0;
}

static int read_tunnel(struct tectia *st, int line, const char *elem,
		       const char **atts)
{
	static const char *const used[] = {
	    "type",	"listen-port", "listen-address",
	    "dst-host", "dst-port",    "allow-relay",
	    NULL};
	char spec[PROFILE_SPEC_MAX];
	int remote = !strcmp(elem, "remote-tunnel");

	if (tunnel_spec(st, line, elem, atts, remote, spec, sizeof(spec)) < 0)
		return -1;
	warn_attrs(st, line, elem, atts, used);
	return add_tunnel(st, line, &st->out[st->cur], remote, spec);
}

/* A <static-tunnels><tunnel>: kept until the end, as its profile may
 * come later in the file. */
static int read_static(struct tectia *st, int line, const char **atts)
{
	static const char *const used[] = {
	    "type",	"listen-port", "listen-address", "dst-host",
	    "dst-port", "allow-relay", "profile",	 NULL};
	struct tectia_static *s;
	const char *id;

	if (st->nstatics >= TECTIA_STATIC_MAX) {
		fail_at(st, line, "more than %d static tunnels",
			TECTIA_STATIC_MAX);
		return -1;
	}
	if (!st->statics) {
		st->statics = calloc(TECTIA_STATIC_MAX, sizeof(*st->statics));
		if (!st->statics) {
			fail_at(st, line, "out of memory");
			return -1;
		}
	}
	s = &st->statics[st->nstatics];
	if (tunnel_spec(st, line, "tunnel", atts, 0, s->spec, sizeof(s->spec)) <
		0 ||
	    require(st, line, "tunnel", atts, "profile", &id) < 0 ||
	    take_value(st, line, "tunnel", "profile", id, 0, s->profile,
		       sizeof(s->profile)) < 0)
		return -1;
	warn_attrs(st, line, "tunnel", atts, used);
	s->line = line;
	st->nstatics++;
	return 0;
}

static int read_profile(struct tectia *st, int line, const char **atts)
{
	static const char *const used[] = {
	    "id", "name", "host", "port", "user", "gateway-profile", NULL};
	struct profile *p;
	const char *id, *name, *v;
	unsigned port = 0;
	int i;

	if (st->n >= st->max) {
		fail_at(st, line, "more than %d profiles", st->max);
		return -1;
	}
	p = &st->out[st->n];
	memset(p, 0, sizeof(*p));
	if (require(st, line, "profile", atts, "id", &id) < 0 ||
	    take_value(st, line, "profile", "id", id, 0, st->ids[st->n],
		       sizeof(st->ids[st->n])) < 0)
		return -1;
	/* sshg3 PROFILE names a profile by its name; the id is for
	 * references (static tunnels). Without a name, the id serves. */
	name = attr(atts, "name");
	if (take_value(st, line, "profile", "name", name ? name : id, 0,
		       p->name, sizeof(p->name)) < 0)
		return -1;
	/* It becomes a word of the native configuration: no quotes or
	 * comment signs in it. */
	if (strpbrk(p->name, "#\"'\\")) {
		fail_at(st, line,
			"profile name '%s' has a character (# \" ' "
			"\\) ftp-tunnel does not take in names",
			p->name);
		return -1;
	}
	if (require(st, line, "profile", atts, "host", &v) < 0 ||
	    take_host(st, line, "profile", "host", v, 0, p->host,
		      sizeof(p->host)) < 0)
		return -1;
	v = attr(atts, "port");
	if (v && take_port(st, line, "profile", "port", v, &port) < 0)
		return -1;
	p->port = (uint16_t)port;
	v = attr(atts, "user");
	if (v && *v &&
	    take_value(st, line, "profile", "user", v, 0, p->user,
		       sizeof(p->user)) < 0)
		return -1;
	/* The profile whose server is the jump host on the way (Tectia's
	 * "tunneled connection through another profile"): resolved once
	 * every profile is known (gateway_jumps). */
	v = attr(atts, "gateway-profile");
	if (v && *v &&
	    take_value(st, line, "profile", "gateway-profile", v, 0,
		       st->gws[st->n], sizeof(st->gws[st->n])) < 0)
		return -1;
	for (i = 0; i < st->n; i++) {
		if (!strcmp(st->ids[i], st->ids[st->n])) {
			fail_at(st, line,
				"duplicate profile id '%s' (first at line %d)",
				st->ids[i], st->out[i].line);
			return -1;
		}
		if (!strcmp(st->out[i].name, p->name)) {
			fail_at(st, line,
				"duplicate profile name '%s' (first at line "
				"%d)",
				p->name, st->out[i].line);
			return -1;
		}
	}
	warn_attrs(st, line, "profile", atts, used);
	snprintf(p->file, sizeof(p->file), "%s", st->file);
	p->line = line;
	st->cur = st->n++;
	return 0;
}

/* A Tectia element ftp-tunnel does not use: reported, and nothing inside
 * it is looked at. */
static enum tectia_ctx ignored(struct tectia *st, int line, const char *name)
{
	warn_at(st, line, "<%.40s> is not used by ftp-tunnel; ignored", name);
	return CTX_SKIP;
}

static int unknown(struct tectia *st, int line, const char *name,
		   const char *parent)
{
	fail_at(st, line, "unknown element <%.40s> in <%.40s>", name, parent);
	return -1;
}

/* Settings shared by <default-settings> and <profile>. */
static int conn_setting(struct tectia *st, int line, const char *name,
			const char **atts, const char *parent)
{
	if (!strcmp(name, "keepalive-interval"))
		return read_seconds_option(st, line, name, atts,
					   "ServerAliveInterval") < 0
			   ? -1
			   : CTX_LEAF;
	if (!strcmp(name, "tcp-connect-timeout"))
		return read_seconds_option(st, line, name, atts,
					   "ConnectTimeout") < 0
			   ? -1
			   : CTX_LEAF;
	if (!strcmp(name, "authentication-methods"))
		return CTX_AUTH;
	if (!strcmp(name, "proxy")) {
		/* Tectia's SOCKS and HTTP proxy rules: no SSH jump host to
		 * map them to, and connecting without them may not reach
		 * the server at all. */
		warn_at(st, line,
			"<proxy> (Tectia's SOCKS/HTTP proxy rules) is not "
			"supported by ftp-tunnel; ignored: the connection is "
			"made directly. Through a jump host, use the "
			"profile's gateway-profile, or ProxyJump or "
			"ProxyCommand (e.g. nc -X 5 -x PROXY %%h %%p) in "
			"~/.ssh/config");
		return CTX_SKIP;
	}
	if (in_list(conn_ignored, name))
		return ignored(st, line, name);
	return unknown(st, line, name, parent);
}

/* Tectia's rule ports: "N" or "N-M". */
static int take_ports(struct tectia *st, int line, const char *v, unsigned *lo,
		      unsigned *hi)
{
	char a[16], b[16];
	size_t k = strcspn(v, "-");

	if (k >= sizeof(a) || strlen(v + k) >= sizeof(b)) {
		fail_at(st, line, "bad ports '%.20s' in <rule>", v);
		return -1;
	}
	memcpy(a, v, k);
	a[k] = '\0';
	snprintf(b, sizeof(b), "%s", v[k] ? v + k + 1 : a);
	if (take_port(st, line, "rule", "ports", a, lo) < 0 ||
	    take_port(st, line, "rule", "ports", b, hi) < 0)
		return -1;
	if (*hi < *lo) {
		fail_at(st, line, "bad ports '%.20s' in <rule> (N-M, N <= M)",
			v);
		return -1;
	}
	return 0;
}

/* A <filter-engine> <rule>: ftp-proxy rules are kept for import-tectia;
 * the others say what ftp-tunnel does instead. */
static int read_rule(struct tectia *st, int line, const char **atts)
{
	static const char *const used[] = {"action",
					   "host",
					   "ip-address",
					   "ports",
					   "profile-id",
					   "hostname-from-app",
					   "username-from-app",
					   "fallback-to-plain",
					   NULL};
	const char *action = attr(atts, "action"), *v;
	struct tectia_rule *r;
	int b;

	if (!action) {
		fail_at(st, line, "<rule> has no action");
		return -1;
	}
	if (!strcasecmp(action, "direct")) {
		/* Connections no Route takes go directly already. */
		warn_at(st, line,
			"<rule action=\"direct\">: ftp-tunnel leaves "
			"connections no Route takes direct; nothing to import");
		return 0;
	}
	if (strcasecmp(action, "ftp-proxy")) {
		warn_at(st, line,
			"<rule action=\"%.20s\"> is not supported by "
			"ftp-tunnel; ignored (only ftp-proxy rules become "
			"Routes)",
			action);
		return 0;
	}
	warn_attrs(st, line, "rule", atts, used);
	if (st->rules->n >= st->rules->max) {
		fail_at(st, line, "more than %d ftp-proxy rules",
			st->rules->max);
		return -1;
	}
	r = &st->rules->v[st->rules->n];
	memset(r, 0, sizeof(*r));
	r->line = line;
	v = attr(atts, "host");
	if (!v)
		v = attr(atts, "ip-address");
	/* ".*" is Tectia's "any address" (the manual's example). */
	if (v && *v && strcmp(v, ".*") &&
	    take_host(st, line, "rule", "host", v, 0, r->host,
		      sizeof(r->host)) < 0)
		return -1;
	if ((v = attr(atts, "ports")) &&
	    take_ports(st, line, v, &r->port_lo, &r->port_hi) < 0)
		return -1;
	if ((v = attr(atts, "hostname-from-app"))) {
		if ((b = take_bool(st, line, "rule", "hostname-from-app", v)) <
		    0)
			return -1;
		r->hostname_from_app = b;
	}
	if ((v = attr(atts, "username-from-app"))) {
		if ((b = take_bool(st, line, "rule", "username-from-app", v)) <
		    0)
			return -1;
		r->username_from_app = b;
	}
	v = attr(atts, "profile-id");
	if (r->hostname_from_app && v && *v)
		/* A Route takes a profile's settings only with its host. */
		warn_at(st, line,
			"<rule> profile-id=\"%.40s\" is not used with "
			"hostname-from-app=\"yes\" (the SSH server is the host "
			"dialed): give the Route the profile's User and keys "
			"yourself",
			v);
	if (!r->hostname_from_app) {
		if (!v || !*v) {
			fail_at(st, line,
				"<rule action=\"ftp-proxy\"> has no "
				"profile-id (the SSH server to convert "
				"through); add one, or hostname-from-app="
				"\"yes\"");
			return -1;
		}
		if (take_value(st, line, "rule", "profile-id", v, 0, r->via,
			       sizeof(r->via)) < 0)
			return -1;
	}
	st->rules->n++;
	return 0;
}

/* What the element name opens, given where it is: a context, or -1
 * after an error. */
static int dispatch(struct tectia *st, int line, enum tectia_ctx parent,
		    const char *pname, const char *name, const char **atts)
{
	int b;

	switch (parent) {
	case CTX_DOC:
		if (strcmp(name, "secsh-broker")) {
			fail_at(st, line,
				"root element is <%.40s>, not <secsh-broker>",
				name);
			return -1;
		}
		return CTX_BROKER;
	case CTX_BROKER:
		if (!strcmp(name, "general"))
			return CTX_GENERAL;
		if (!strcmp(name, "default-settings"))
			return CTX_DEFAULTS;
		if (!strcmp(name, "profiles"))
			return CTX_PROFILES;
		if (!strcmp(name, "static-tunnels"))
			return CTX_STATIC;
		if (!strcmp(name, "filter-engine") && st->rules)
			return CTX_FILTER;
		if (in_list(broker_ignored, name))
			return ignored(st, line, name);
		return unknown(st, line, name, pname);
	case CTX_GENERAL:
		if (!strcmp(name, "key-stores"))
			return CTX_KEYSTORES;
		if (!strcmp(name, "strict-host-key-checking")) {
			if (read_enable(st, line, name, atts, &b) < 0)
				return -1;
			st->strict_host_keys = b;
			st->host_keys_line = line;
			return CTX_LEAF;
		}
		if (!strcmp(name, "accept-unknown-host-keys")) {
			if (read_enable(st, line, name, atts, &b) < 0)
				return -1;
			st->accept_unknown = b;
			st->host_keys_line = line;
			return CTX_LEAF;
		}
		if (!strcmp(name, "known-hosts")) {
			static const char *const used[] = {"path", NULL};
			const char *v;
			char path[1024];

			if (require(st, line, name, atts, "path", &v) < 0 ||
			    take_value(st, line, name, "path", v, 0, path,
				       sizeof(path)) < 0 ||
			    add_option(st, line, st->defaults,
				       "UserKnownHostsFile", path) < 0)
				return -1;
			warn_attrs(st, line, name, atts, used);
			return CTX_LEAF;
		}
		if (in_list(general_ignored, name))
			return ignored(st, line, name);
		return unknown(st, line, name, pname);
	case CTX_KEYSTORES:
		if (!strcmp(name, "key-store"))
			return read_key_store(st, line, atts) < 0 ? -1
								  : CTX_LEAF;
		if (in_list(keystores_ignored, name))
			return ignored(st, line, name);
		return unknown(st, line, name, pname);
	case CTX_DEFAULTS:
		return conn_setting(st, line, name, atts, pname);
	case CTX_PROFILES:
		if (strcmp(name, "profile"))
			return unknown(st, line, name, pname);
		return read_profile(st, line, atts) < 0 ? -1 : CTX_PROFILE;
	case CTX_PROFILE:
		if (!strcmp(name, "tunnels"))
			return CTX_TUNNELS;
		return conn_setting(st, line, name, atts, pname);
	case CTX_AUTH:
		if (!strcmp(name, "auth-publickey")) {
			static const char *const none[] = {NULL};

			warn_attrs(st, line, name, atts, none);
			return CTX_PUBKEY;
		}
		if (in_list(auth_ignored, name))
			return ignored(st, line, name);
		return unknown(st, line, name, pname);
	case CTX_PUBKEY:
		if (!strcmp(name, "identity")) {
			static const char *const used[] = {"file", NULL};
			const char *v;

			if (require(st, line, name, atts, "file", &v) < 0 ||
			    add_identity(st, line, name, v) < 0)
				return -1;
			warn_attrs(st, line, name, atts, used);
			return CTX_LEAF;
		}
		if (in_list(pubkey_ignored, name))
			return ignored(st, line, name);
		return unknown(st, line, name, pname);
	case CTX_TUNNELS:
		if (strcmp(name, "local-tunnel") &&
		    strcmp(name, "remote-tunnel"))
			return unknown(st, line, name, pname);
		return read_tunnel(st, line, name, atts) < 0 ? -1 : CTX_LEAF;
	case CTX_FILTER:
		/* Rules may sit in <network> groups; the rest of the filter
		 * engine (dns, network addresses) has no use here. */
		if (!strcmp(name, "network"))
			return CTX_FILTER;
		if (!strcmp(name, "rule"))
			return read_rule(st, line, atts) < 0 ? -1 : CTX_LEAF;
		return ignored(st, line, name);
	case CTX_STATIC:
		if (strcmp(name, "tunnel"))
			return unknown(st, line, name, pname);
		return read_static(st, line, atts) < 0 ? -1 : CTX_LEAF;
	case CTX_LEAF:
		return unknown(st, line, name, pname);
	case CTX_SKIP:
		return CTX_SKIP;
	}
	return unknown(st, line, name, pname);
}

static void XMLCALL on_start(void *arg, const XML_Char *name,
			     const XML_Char **atts)
{
	struct tectia *st = arg;
	struct tectia_frame *f;
	enum tectia_ctx parent;
	int line = cur_line(st), ctx;

	if (st->failed)
		return;
	if (st->depth >= TECTIA_DEPTH_MAX) {
		fail_at(st, line, "elements nested deeper than %d",
			TECTIA_DEPTH_MAX);
		return;
	}
	parent = st->depth ? st->stack[st->depth - 1].ctx : CTX_DOC;
	ctx = dispatch(st, line, parent,
		       st->depth ? st->stack[st->depth - 1].name : "", name,
		       atts);
	if (ctx < 0)
		return;
	f = &st->stack[st->depth++];
	f->ctx = (enum tectia_ctx)ctx;
	snprintf(f->name, sizeof(f->name), "%s", name);
}

static void XMLCALL on_end(void *arg, const XML_Char *name)
{
	struct tectia *st = arg;

	(void)name;
	if (st->failed || st->depth == 0)
		return;
	if (st->stack[--st->depth].ctx == CTX_PROFILE)
		st->cur = -1;
}

/* Internal entities could make a small file expand without bound; a
 * broker configuration has no use for them. */
static void XMLCALL on_entity(void *arg, const XML_Char *name, int is_param,
			      const XML_Char *value, int value_len,
			      const XML_Char *base, const XML_Char *system_id,
			      const XML_Char *public_id,
			      const XML_Char *notation)
{
	struct tectia *st = arg;

	(void)is_param, (void)value, (void)value_len, (void)base;
	(void)system_id, (void)public_id, (void)notation;
	fail_at(st, cur_line(st),
		"entity declarations are not supported "
		"(<!ENTITY %.40s>)",
		name);
}

/* Whether "Key=..." lines in opts set key. */
static int sets_key(const char *opts, const char *key, size_t klen)
{
	const char *l;

	for (l = opts; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] != 0))
		if (!strncasecmp(l, key, klen) && l[klen] == '=')
			return 1;
	return 0;
}

/* "[user@]host[:port]" of profile p, as a ProxyJump hop. */
static int hop_of(const struct profile *p, char *out, size_t size)
{
	int v6 = strchr(p->host, ':') != NULL;
	int k =
	    snprintf(out, size, "%s%s%s%s%s", p->user, p->user[0] ? "@" : "",
		     v6 ? "[" : "", p->host, v6 ? "]" : "");

	if (k >= 0 && (size_t)k < size && p->port)
		k += snprintf(out + k, size - (size_t)k, ":%u", p->port);
	return k < 0 || (size_t)k >= size ? -1 : 0;
}

/* Each profile with a gateway-profile gets a ProxyJump: the gateway's
 * server, after its own gateway's and so on (the outermost first), at
 * most 8 and without a loop. */
static int gateway_jumps(struct tectia *st)
{
	char list[1024], hop[400];
	int i, j, k, chain[8], n;

	for (i = 0; i < st->n; i++) {
		struct profile *p = &st->out[i];

		n = 0;
		for (j = i; st->gws[j][0];) {
			const char *gw = st->gws[j];

			for (j = 0; j < st->n && strcmp(st->ids[j], gw); j++)
				;
			if (j == st->n) {
				fail_at(st, p->line,
					"profile %s: gateway-profile '%s' is "
					"not defined",
					p->name, gw);
				return -1;
			}
			for (k = 0; k < n && chain[k] != j; k++)
				;
			if (j == i || k < n || n == 8) {
				fail_at(st, p->line,
					"profile %s: its gateway-profiles "
					"lead back to a profile already on "
					"the way, or past 8 hops",
					p->name);
				return -1;
			}
			chain[n++] = j;
		}
		if (!n)
			continue;
		list[0] = '\0';
		for (k = n - 1; k >= 0; k--) {
			size_t used = strlen(list);

			if (hop_of(&st->out[chain[k]], hop, sizeof(hop)) < 0 ||
			    snprintf(list + used, sizeof(list) - used, "%s%s",
				     used ? "," : "",
				     hop) >= (int)(sizeof(list) - used)) {
				fail_at(st, p->line,
					"profile %s: its gateways make too "
					"long a ProxyJump",
					p->name);
				return -1;
			}
		}
		if (!sets_key(p->options, "ProxyJump", 9) &&
		    add_option(st, p->line, p->options, "ProxyJump", list) < 0)
			return -1;
	}
	return 0;
}

/* After the document: host-key policy into the defaults, static tunnels
 * to their profiles, defaults into every profile that does not set the
 * same key itself (profile settings override, as in Tectia). */
static int finish(struct tectia *st)
{
	const char *l, *strict = NULL;
	char merged[PROFILE_OPTS_MAX];
	size_t len, klen, used;
	int i, j;

	if (st->strict_host_keys == 1)
		strict = "yes";
	else if (st->accept_unknown == 1)
		strict = "accept-new";
	else if (st->strict_host_keys == 0)
		strict = "ask"; /* Tectia's "no" asks the user */
	if (strict && add_option(st, st->host_keys_line, st->defaults,
				 "StrictHostKeyChecking", strict) < 0)
		return -1;
	if (gateway_jumps(st) < 0)
		return -1;
	for (i = 0; i < st->nstatics; i++) {
		struct tectia_static *s = &st->statics[i];

		for (j = 0; j < st->n && strcmp(st->ids[j], s->profile); j++)
			;
		if (j == st->n) {
			fail_at(st, s->line,
				"static tunnel names profile '%s', which is "
				"not defined",
				s->profile);
			return -1;
		}
		if (add_tunnel(st, s->line, &st->out[j], 0, s->spec) < 0)
			return -1;
	}
	for (i = 0; st->rules && i < st->rules->n; i++) {
		struct tectia_rule *r = &st->rules->v[i];

		if (!r->via[0])
			continue;
		for (j = 0; j < st->n && strcmp(st->ids[j], r->via); j++)
			;
		if (j == st->n) {
			fail_at(st, r->line,
				"<rule> names profile-id '%s', which is not "
				"defined",
				r->via);
			return -1;
		}
		/* Printed Routes name the Profile block, i.e. its name. */
		snprintf(r->via, sizeof(r->via), "%s", st->out[j].name);
	}
	for (i = 0; i < st->n; i++) {
		struct profile *p = &st->out[i];

		used = 0;
		merged[0] = '\0';
		for (l = st->defaults; *l; l += len) {
			len = strcspn(l, "\n") + 1;
			klen = strcspn(l, "=");
			if (sets_key(p->options, l, klen))
				continue;
			if (used + len >= sizeof(merged)) {
				fail_at(st, p->line,
					"profile %s: too many settings",
					p->name);
				return -1;
			}
			memcpy(merged + used, l, len);
			used += len;
		}
		len = strlen(p->options);
		if (used + len >= sizeof(merged)) {
			fail_at(st, p->line, "profile %s: too many settings",
				p->name);
			return -1;
		}
		memcpy(merged + used, p->options, len + 1);
		memcpy(p->options, merged, sizeof(merged));
	}
	return 0;
}

int tectia_parse(const char *file_name, const char *text, size_t len,
		 struct profile *out, int max, int *n, char *err, size_t errlen,
		 tectia_warn_fn warn, void *warn_arg)
{
	return tectia_parse_ex(file_name, text, len, out, max, n, NULL, err,
			       errlen, warn, warn_arg);
}

int tectia_parse_ex(const char *file_name, const char *text, size_t len,
		    struct profile *out, int max, int *n,
		    struct tectia_rules *rules, char *err, size_t errlen,
		    tectia_warn_fn warn, void *warn_arg)
{
	struct tectia st;
	int ret = -1;

	memset(&st, 0, sizeof(st));
	st.file = file_name;
	st.out = out;
	st.max = max < 0 ? 0 : max;
	st.cur = -1;
	st.strict_host_keys = st.accept_unknown = -1;
	st.err = err;
	st.errlen = errlen;
	st.warn = warn;
	st.warn_arg = warn_arg;
	st.rules = rules;
	if (rules)
		rules->n = 0;
	*n = 0;
	if (errlen)
		err[0] = '\0';
	if (len > TECTIA_FILE_MAX) {
		fail_at(&st, 1, "file larger than %d bytes", TECTIA_FILE_MAX);
		return -1;
	}
	st.ids = calloc(st.max ? (size_t)st.max : 1, sizeof(*st.ids));
	st.gws = calloc(st.max ? (size_t)st.max : 1, sizeof(*st.gws));
	st.xp = XML_ParserCreate(NULL);
	if (!st.ids || !st.gws || !st.xp) {
		fail_at(&st, 1, "out of memory");
		goto out;
	}
	XML_SetUserData(st.xp, &st);
	XML_SetElementHandler(st.xp, on_start, on_end);
	XML_SetEntityDeclHandler(st.xp, on_entity);
	if (XML_Parse(st.xp, text, (int)len, XML_TRUE) != XML_STATUS_OK) {
		if (!st.failed) {
			unsigned long l = XML_GetCurrentLineNumber(st.xp);

			fail_at(&st, l > 1000000000ul ? 1000000000 : (int)l,
				"malformed XML: %s",
				XML_ErrorString(XML_GetErrorCode(st.xp)));
		}
		goto out;
	}
	if (st.failed || finish(&st) < 0)
		goto out;
	*n = st.n;
	ret = 0;
out:
	if (ret < 0 && rules)
		rules->n = 0;
	if (st.xp)
		XML_ParserFree(st.xp);
	free(st.ids);
	free(st.gws);
	free(st.statics);
	return ret;
}

int tectia_read(const char *path, struct profile *out, int max, int *n,
		char *err, size_t errlen, tectia_warn_fn warn, void *warn_arg)
{
	return tectia_read_ex(path, out, max, n, NULL, err, errlen, warn,
			      warn_arg);
}

int tectia_read_ex(const char *path, struct profile *out, int max, int *n,
		   struct tectia_rules *rules, char *err, size_t errlen,
		   tectia_warn_fn warn, void *warn_arg)
{
	char *text = NULL, why[256];
	size_t len = 0;
	int rc, ret;

	*n = 0;
	/* The profiles decide where secrets go, as a native configuration
	 * does: the same reader, with ssh's owner and permission checks. */
	rc =
	    conffile_read(path, TECTIA_FILE_MAX, &text, &len, why, sizeof(why));
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", path,
			 rc > 0 ? strerror(ENOENT) : why);
		return -1;
	}
	ret = tectia_parse_ex(path, text, len, out, max, n, rules, err, errlen,
			      warn, warn_arg);
	free(text);
	return ret;
}

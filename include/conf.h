/* conf.h — the configuration file (~/.config/ftp-tunnel/config,
 * /etc/ftp-tunnel/config): its profiles, for ftp-tunnel PROFILE and for
 * routes, and the shim's routes. Pure: no I/O, no globals; the loaders
 * (shim/cfg.c for the shim, daemon/config/confload.c for ftp-tunnel) read the
 * files. Tested by tests/unit/test_shimcfg.c and test_conf.c.
 *
 * Syntax: ssh_config's (sshkeys_split: keywords case-insensitive, "Key
 * value" or "Key=value", '#' starts a comment at the start of a word,
 * "double" or 'single' quotes around a value with spaces, backslash
 * escapes); man/ftp-tunnel.conf.5 is the user's description:
 *
 *   Profile NAME             a connection profile (struct profile)
 *       HostName HOST            the SSH server (default: NAME)
 *       User USER / Port PORT
 *       LocalForward  [ftp/|tcp/][bind:]port:host:hostport
 *       LocalForward  [ftp/|tcp/][bind:]port host:hostport   (ssh_config)
 *       RemoteForward ... likewise
 *       AllowRelay yes|no        forwards without a bind address listen
 *                                on every address (Tectia's allow-relay)
 *       FtpActiveMode forward|passive|auto
 *       FtpPassiveAddress control|reply
 *       FtpPassiveAhead yes|no
 *       IdentityFile FILE ...    any SSH option the daemon knows
 *   Route PATTERN...         a host name, an address or a CIDR, each with
 *                            an optional :port ([v6]:port), default 21
 *       Via [user@]host[:port]   the SSH server, or a Profile (required
 *                                but with Sftp yes: the host dialed)
 *       Sftp yes|no              answered by the daemon from SFTP
 *       SftpLogin tunnel|ftp     with Sftp yes: whose SSH login
 *       FtpHost HOST             the FTP server as the SSH server sees it
 *       FtpPassiveAddress control|reply
 *       FtpPassiveAhead yes|no
 *       IdentityFile FILE        any SSH option the daemon knows, passed on
 *       ...                      as option=Key=Value
 *   TectiaConfig FILE        read the profiles of a Tectia
 *                            ssh-broker-config.xml too (ftp-tunnel only)
 *
 * A block runs to the next Profile, Route or TectiaConfig line. */
#ifndef CONF_H
#define CONF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "profile.h"

/* Bounds: a file beyond them is malformed. */
#define CONF_MAX_ROUTES 1024
#define CONF_MAX_PATTERNS 4096
#define CONF_MAX_NAMES 512
#define CONF_MAX_FILES 4
#define CONF_LINE_MAX 4096
#define CONF_OPTS_MAX 3072 /* a route's option lines */
#define CONF_NAME_MAX 254  /* a host name (253) and its NUL */
#define CONF_MAX_PROFILES 256

enum conf_kind { CONF_PAT_NET = 1, CONF_PAT_NAME };

struct conf_pattern {
	enum conf_kind kind;
	int route; /* index in routes */
	uint16_t port;
	unsigned char net[16]; /* CONF_PAT_NET: IPv6, IPv4 as ::ffff:a.b.c.d */
	int plen;	       /* its prefix length, 0..128 (IPv4: 96 + n) */
	int name;	       /* CONF_PAT_NAME: index in names */
};

struct conf_route {
	char via[256];	    /* [user@]host[:port] verbatim; "" only with
			     * sftp: the host the program dialed, port 22 */
	char via_host[256]; /* its host ([] and user@ removed) */
	uint16_t via_port;  /* the SSH port: Port option, via's, or 22 */
	char ftphost[256];  /* "" when not given */
	int sftp;	    /* Sftp yes: the daemon answers the program's FTP
			     * itself, from the SSH server's SFTP */
	char options[CONF_OPTS_MAX]; /* "Key=Value" lines, '\n'-ended */
	int file, line;		     /* where its Route line is */
};

struct conf {
	struct conf_route *routes;
	int nroutes;
	struct conf_pattern *pats;
	int npats;
	char (*names)[CONF_NAME_MAX]; /* distinct host names, lower case */
	int nnames;
	struct profile *profiles;
	int nprofiles;
	char tectia[CONF_MAX_FILES][256]; /* TectiaConfig files, in order */
	int ntectia;
	/* Set by a loader when the user named the file (-F,
	 * FTP_TUNNEL_CONFIG): Tectia's default files are then not read. */
	int named;
	char files[CONF_MAX_FILES][256]; /* file names, for messages */
	int nfiles;
	/* The first error: "file:line: what" (then no route can be
	 * trusted). */
	int bad;
	char err[600];
	/* Every port a pattern named, and 21: where a bad configuration
	 * refuses connections. */
	uint16_t ports[64];
	int nports;
};

void conf_init(struct conf *c);
void conf_free(struct conf *c);

/* Parses one file's text (len bytes; NUL bytes are an error) and appends
 * its routes. file names it in messages; home is the directory "~/" in
 * file options stands for (NULL: none). 0, or -1 when the file has an
 * error (the first one is in c->err; the rest of the file is still read
 * for its ports). */
int conf_parse(struct conf *c, const char *file, const char *text, size_t len,
	       const char *home);

/* After the last file: a Route whose Via names a Profile takes the
 * profile's server, user, port and options (the Route's own options
 * after them, so they win). */
void conf_finish(struct conf *c);

/* The profile called name (the first file's, when two define it), or
 * NULL. */
const struct profile *conf_profile(const struct conf *c, const char *name);

/* Records an error found outside the parser (a file that cannot be read),
 * unless there is one already. line 0: none. */
void conf_fail(struct conf *c, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Whether a bad configuration must refuse connections to port. */
int conf_port_guarded(const struct conf *c, uint16_t port);

/* The index of host name in c->names (case and a trailing dot ignored),
 * or -1. */
int conf_name_id(const struct conf *c, const char *name);

/* Whether a name route may match a connection to port (any name pattern
 * with that port). */
int conf_names_on_port(const struct conf *c, uint16_t port);

/* The first route matching sa (AF_INET or AF_INET6, with its port), or -1.
 * A name pattern matches when has_name(arg, name_id, sa) says so; *name
 * gets the matched name's index (or -1 for an address match). */
int conf_match(const struct conf *c, const struct sockaddr *sa,
	       int (*has_name)(void *arg, int name, const struct sockaddr *sa),
	       void *arg, int *name);

/* Splits "[user@]host[:port]" (host may be [v6] or a bare v6 literal)
 * into host and *port (22 when absent). 0 or -EINVAL. */
int conf_parse_via(const char *via, char *host, size_t hostlen, uint16_t *port);

#endif

/* conf.h — the shim's routes from the configuration file (pure: no I/O, no
 * globals; the loader in cfg.c reads the files) and the table of host names
 * the program resolved (names.c). Used by the shim and by
 * tests/unit/test_shimcfg.c, which includes conf.c and names.c.
 *
 * Syntax (keywords case-insensitive, "Key value" or "Key=value", '#' starts
 * a comment at the start of a word, "double quotes" around a value with
 * spaces):
 *
 *   Route PATTERN...         a host name, an address or a CIDR, each with
 *                            an optional :port ([v6]:port), default 21
 *       Via [user@]host[:port]   the SSH server (required)
 *       FtpHost HOST             the FTP server as the SSH server sees it
 *       IdentityFile FILE        any SSH option the daemon knows, passed on
 *       ...                      as option=Key=Value
 *   Profile ... / Host ...   accepted and ignored with their blocks (the
 *                            rest of the configuration format)
 *
 * A block runs to the next Route, Profile or Host line. */
#ifndef SHIM_CONF_H
#define SHIM_CONF_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Bounds: a file beyond them is malformed. */
#define SHIM_CONF_MAX_ROUTES 1024
#define SHIM_CONF_MAX_PATTERNS 4096
#define SHIM_CONF_MAX_NAMES 512
#define SHIM_CONF_MAX_FILES 4
#define SHIM_CONF_LINE_MAX 4096
#define SHIM_CONF_OPTS_MAX 3072 /* a route's option lines */
#define SHIM_CONF_NAME_MAX 254	/* a host name (253) and its NUL */

enum shim_conf_kind { SHIM_PAT_NET = 1, SHIM_PAT_NAME };

struct shim_conf_pattern {
	enum shim_conf_kind kind;
	int route; /* index in routes */
	uint16_t port;
	unsigned char net[16]; /* SHIM_PAT_NET: IPv6, IPv4 as ::ffff:a.b.c.d */
	int plen;	       /* its prefix length, 0..128 (IPv4: 96 + n) */
	int name;	       /* SHIM_PAT_NAME: index in names */
};

struct shim_conf_route {
	char via[256];	    /* [user@]host[:port] verbatim */
	char via_host[256]; /* its host ([] and user@ removed) */
	uint16_t via_port;  /* the SSH port: Port option, via's, or 22 */
	char ftphost[256];  /* "" when not given */
	char options[SHIM_CONF_OPTS_MAX]; /* "Key=Value" lines, '\n'-ended */
	int file, line;			  /* where its Route line is */
};

struct shim_conf {
	struct shim_conf_route *routes;
	int nroutes;
	struct shim_conf_pattern *pats;
	int npats;
	char (*names)[SHIM_CONF_NAME_MAX]; /* distinct host names, lower case */
	int nnames;
	char files[SHIM_CONF_MAX_FILES][256]; /* file names, for messages */
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

void shim_conf_init(struct shim_conf *c);
void shim_conf_free(struct shim_conf *c);

/* Parses one file's text (len bytes; NUL bytes are an error) and appends
 * its routes. file names it in messages; home is the directory "~/" in
 * file options stands for (NULL: none). 0, or -1 when the file has an
 * error (the first one is in c->err; the rest of the file is still read
 * for its ports). */
int shim_conf_parse(struct shim_conf *c, const char *file, const char *text,
		    size_t len, const char *home);

/* Records an error found outside the parser (a file that cannot be read),
 * unless there is one already. line 0: none. */
void shim_conf_fail(struct shim_conf *c, const char *file, int line,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Whether a bad configuration must refuse connections to port. */
int shim_conf_port_guarded(const struct shim_conf *c, uint16_t port);

/* The index of host name in c->names (case and a trailing dot ignored),
 * or -1. */
int shim_conf_name_id(const struct shim_conf *c, const char *name);

/* Whether a name route may match a connection to port (any name pattern
 * with that port). */
int shim_conf_names_on_port(const struct shim_conf *c, uint16_t port);

/* The first route matching sa (AF_INET or AF_INET6, with its port), or -1.
 * A name pattern matches when has_name(arg, name_id, sa) says so; *name
 * gets the matched name's index (or -1 for an address match). */
int shim_conf_match(const struct shim_conf *c, const struct sockaddr *sa,
		    int (*has_name)(void *arg, int name,
				    const struct sockaddr *sa),
		    void *arg, int *name);

/* Splits "[user@]host[:port]" (host may be [v6] or a bare v6 literal)
 * into host and *port (22 when absent). 0 or -EINVAL. */
int shim_cfg_parse_via(const char *via, char *host, size_t hostlen,
		       uint16_t *port);

/* ---- names.c: host names the program resolved, and to what */

#define SHIM_NAMES_MAX 256

struct shim_names {
	pthread_mutex_t lock;
	unsigned long clock;
	int n;
	struct {
		int name;
		unsigned char addr[16]; /* IPv6, IPv4 as ::ffff:a.b.c.d */
		unsigned long used;
	} e[SHIM_NAMES_MAX];
};

void shim_names_init(struct shim_names *t);
/* Remembers that name resolved to sa's address (AF_INET or AF_INET6;
 * others ignored); the least recently used entry makes room. */
void shim_names_record(struct shim_names *t, int name,
		       const struct sockaddr *sa);
/* Whether name resolved to sa's address (ports ignored). */
int shim_names_has(struct shim_names *t, int name, const struct sockaddr *sa);

#endif

/* cfg.c — the shim's routing configuration: the environment
 * (FTP_TUNNEL_VIA, FTP_TUNNEL_PORTS, FTP_TUNNEL_OPTIONS, FTP_TUNNEL_DEBUG),
 * read once by shim_init, and the routes of the configuration files, read
 * on first use (the parser is conf.c), with the names the program
 * resolved (names.c). */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "conffile.h"

/* A configuration file larger than this is refused (malformed). */
#define CONF_FILE_MAX (1 << 20)

struct shim_cfg shim_cfg;

/* "21,2121" (commas or spaces) into shim_cfg.ports; complains once about
 * entries that are not ports (they route nothing). */
static void load_ports(const char *s)
{
	char *end;
	unsigned long n;

	shim_cfg.nports = 0;
	while (s && *s) {
		if (*s == ',' || *s == ' ') {
			s++;
			continue;
		}
		errno = 0;
		n = strtoul(s, &end, 10);
		if (errno || end == s || n == 0 || n > 65535 ||
		    (*end && *end != ',' && *end != ' ')) {
			shim_say("FTP_TUNNEL_PORTS: \"%s\" is not a list of "
				 "ports; the bad entry routes nothing",
				 getenv("FTP_TUNNEL_PORTS"));
			end = strpbrk(s, ", ");
			if (!end)
				break;
		} else if (shim_cfg.nports < SHIM_CFG_MAX_PORTS) {
			shim_cfg.ports[shim_cfg.nports++] = (uint16_t)n;
		}
		s = end;
	}
	if (shim_cfg.nports == 0)
		shim_cfg.ports[shim_cfg.nports++] = 21;
}

void shim_cfg_load(void)
{
	const char *via, *dbg, *opts, *sftp;

	/* None of them in a privileged process: its caller set them. */
	if (shim_privileged())
		return;
	via = getenv("FTP_TUNNEL_VIA");
	dbg = getenv("FTP_TUNNEL_DEBUG");
	opts = getenv("FTP_TUNNEL_OPTIONS");
	sftp = getenv("FTP_TUNNEL_SFTP");
	shim_cfg.debug = dbg && !strcmp(dbg, "1");
	shim_cfg.sftp = sftp && !strcmp(sftp, "1");
	if ((!via || !*via) && shim_cfg.sftp) {
		/* ftp-tunnel-wrap --sftp without --via: each program's FTP
		 * server host is its own SSH server. */
		shim_cfg.enabled = 1;
		shim_cfg.via[0] = '\0';
		if (opts && strlen(opts) < sizeof(shim_cfg.options))
			strcpy(shim_cfg.options, opts);
		else if (opts)
			shim_cfg.options[0] = '\n';
		load_ports(getenv("FTP_TUNNEL_PORTS"));
		return;
	}
	if (!via || !*via)
		return;
	shim_cfg.enabled = 1;
	/* A bad value still routes (and fails the connection with a
	 * message, hook_connect.c): falling back to a clear-text
	 * connection because of a typo is what must never happen. */
	if (strlen(via) >= sizeof(shim_cfg.via) || strchr(via, '\n') ||
	    conf_parse_via(via, shim_cfg.via_host, sizeof(shim_cfg.via_host),
			   &shim_cfg.via_port) < 0) {
		shim_cfg.via[0] = '\0';
	} else {
		strcpy(shim_cfg.via, via);
	}
	if (opts && strlen(opts) < sizeof(shim_cfg.options))
		strcpy(shim_cfg.options, opts);
	else if (opts)
		shim_cfg.options[0] = '\n'; /* too long: see connect */
	load_ports(getenv("FTP_TUNNEL_PORTS"));
}

int shim_cfg_routed_port(uint16_t port)
{
	int i;

	for (i = 0; i < shim_cfg.nports; i++)
		if (shim_cfg.ports[i] == port)
			return 1;
	return 0;
}

/* Thread-local: inside the shim's own work (reading the files, resolving
 * a route's name), where connect() and the lookups are the shim's.
 * initial-exec: an offset from the thread pointer, without
 * __tls_get_addr and so without a dependency on ld.so itself to bind at
 * load time; 4 bytes fit in the static TLS glibc keeps spare for a
 * library loaded later (dlopen). */
static _Thread_local int busy __attribute__((tls_model("initial-exec")));

/* getaddrinfo for the shim's own look-ups (TCP, any family), with its
 * hooks out of the way. 0 with *res to free, or getaddrinfo's error. */
static int shim_resolve(const char *host, struct addrinfo **res)
{
	struct addrinfo hints;
	int rc;

	if (!shim_real.getaddrinfo)
		return EAI_FAIL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	busy++;
	rc = shim_real.getaddrinfo(host, NULL, &hints, res);
	busy--;
	return rc;
}

int shim_cfg_is_endpoint(const struct sockaddr *sa, const char *host,
			 uint16_t port)
{
	struct sockaddr_storage ss;
	struct addrinfo *res, *ai;
	int same = 0;

	if (!host[0] || addr_port(sa) != port)
		return 0;
	if (addr_parse(host, 0, &ss) == 0)
		return addr_same_host(sa, (struct sockaddr *)&ss);
	/* A name: resolved on each such connect (rare: only connections to
	 * the SSH port get here), so nothing is cached across a change of
	 * address. */
	if (shim_resolve(host, &res) != 0)
		return 0;
	for (ai = res; ai && !same; ai = ai->ai_next)
		same = addr_same_host(sa, ai->ai_addr);
	freeaddrinfo(res);
	return same;
}

int shim_cfg_is_ssh_server(const struct sockaddr *sa)
{
	if (!shim_cfg.via[0])
		return 0;
	return shim_cfg_is_endpoint(sa, shim_cfg.via_host, shim_cfg.via_port);
}

/* ---- the configuration files */

static struct conf conf;
static struct shim_names names;
static pthread_once_t conf_once = PTHREAD_ONCE_INIT;
/* 0: not read yet; 1: read, routes nothing; 2: routes (or is bad). */
static atomic_int conf_state;

/* Reads one configuration file into conf; a missing one is fine. */
static void load_file(const char *path)
{
	char *text, err[200];
	size_t len;
	int rc =
	    conffile_read(path, CONF_FILE_MAX, &text, &len, err, sizeof(err));

	if (rc < 0)
		conf_fail(&conf, path, 0, "%s", err);
	if (rc != 0)
		return;
	/* The home directory only when the file has a ~ to expand. */
	conf_parse(&conf, path, text, len,
		   memchr(text, '~', len) ? conffile_home() : NULL);
	free(text);
}

static void names_prepare(void)
{
	pthread_mutex_lock(&names.lock);
}

static void names_resume(void)
{
	pthread_mutex_unlock(&names.lock);
}

/* ftp-tunnel's own programs make the tunnels: a shim preloaded into them
 * (/etc/ld.so.preload) must not route their connections back into the
 * daemon. */
static int own_program(void)
{
	const char *n = program_invocation_short_name;

	return n && (!strcmp(n, "ftp-tunneld") || !strcmp(n, "ftp-tunnel"));
}

/* conffile_search's callback. */
static void load_one(void *arg, const char *path, int named)
{
	(void)arg;
	(void)named;
	load_file(path);
}

static void conf_load(void)
{
	int i;

	busy++;
	conf_init(&conf);
	shim_names_init(&names);
	if (own_program())
		goto done;
	/* A privileged process reads only the system's file (its routes
	 * are refused, not made in clear). */
	conffile_search(NULL, shim_privileged(), load_one, NULL);
	conf_finish(&conf);
	/* Routes now carry what their profiles said; the profiles themselves
	 * (tunnels, for ftp-tunnel) are not the shim's to keep. */
	free(conf.profiles);
	conf.profiles = NULL;
	conf.nprofiles = 0;
done:
	if (conf.nroutes || conf.bad) {
		shim_reg_atfork();
		pthread_atfork(names_prepare, names_resume, names_resume);
		atomic_store(&conf_state, 2);
	} else {
		atomic_store(&conf_state, 1);
	}
	if (shim_cfg.debug) {
		if (conf.bad)
			shim_debug("configuration: %s", conf.err);
		for (i = 0; i < conf.nroutes; i++)
			shim_debug("route %s:%d via %s%s",
				   conf.files[conf.routes[i].file],
				   conf.routes[i].line,
				   conf.routes[i].via[0] ? conf.routes[i].via
							 : "the host dialed",
				   conf.routes[i].sftp ? " (SFTP)" : "");
		if (!conf.nroutes && !conf.bad)
			shim_debug("configuration: no routes");
	}
	busy--;
}

const struct conf *shim_conf_get(void)
{
	int saved = errno;

	if (busy)
		return NULL;
	pthread_once(&conf_once, conf_load);
	errno = saved;
	return &conf;
}

int shim_may_route(uint16_t port)
{
	int state = atomic_load_explicit(&conf_state, memory_order_acquire);

	if (shim_cfg.enabled && shim_cfg_routed_port(port))
		return 1;
	if (shim_reg_any() || state == 0)
		return 1;
	if (state == 1)
		return 0;
	/* Read, routes (or is bad): conf.ports holds every port a pattern
	 * names (a bad file refuses exactly those), unless the table
	 * overflowed. */
	if (conf.nports >= (int)(sizeof(conf.ports) / sizeof(conf.ports[0])))
		return 1;
	return conf_port_guarded(&conf, port);
}

int shim_routing_active(void)
{
	return shim_cfg.enabled || atomic_load(&conf_state) == 2;
}

/* A name route's fallback: the shim resolves the name itself and records
 * what it got. Whether sa is among the addresses. */
static int resolve_has(int name, const struct sockaddr *sa)
{
	struct addrinfo *res, *ai;
	int found = 0, rc, saved = errno;

	rc = shim_resolve(conf.names[name], &res);
	errno = saved;
	if (rc != 0)
		return 0;
	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		shim_names_record(&names, name, ai->ai_addr);
		if (addr_same_host(sa, ai->ai_addr))
			found = 1;
	}
	freeaddrinfo(res);
	if (shim_cfg.debug) {
		char a[INET6_ADDRSTRLEN];

		shim_debug("resolved %s myself: %s %s", conf.names[name],
			   addr_host(sa, a, sizeof(a)),
			   found ? "is one of its addresses" : "is not");
	}
	return found;
}

static int has_name(void *arg, int name, const struct sockaddr *sa)
{
	(void)arg;
	return shim_names_has(&names, name, sa) || resolve_has(name, sa);
}

int shim_conf_route(const struct sockaddr *sa, int *name)
{
	const struct conf *c = shim_conf_get();

	*name = -1;
	if (!c || c->bad || !c->nroutes)
		return -1;
	return conf_match(c, sa, has_name, NULL, name);
}

/* The name ids of name and of canon (-1 for either when no route names
 * it); 0 when neither is. */
static int ids_of(const char *name, const char *canon, int id[2])
{
	const struct conf *c;

	id[0] = id[1] = -1;
	if (!name)
		return 0;
	c = shim_conf_get();
	if (!c || c->bad || !c->nnames)
		return 0;
	id[0] = conf_name_id(c, name);
	if (canon)
		id[1] = conf_name_id(c, canon);
	if (id[1] == id[0])
		id[1] = -1;
	return id[0] >= 0 || id[1] >= 0;
}

void shim_names_seen_ai(const char *name, const struct addrinfo *res)
{
	const struct addrinfo *ai;
	int id[2], saved = errno;

	if (!res || !ids_of(name, res->ai_canonname, id)) {
		errno = saved;
		return;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		if (!ai->ai_addr ||
		    (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen < addr_len(ai->ai_addr))
			continue;
		shim_names_record(&names, id[0], ai->ai_addr);
		shim_names_record(&names, id[1], ai->ai_addr);
	}
	if (shim_cfg.debug)
		shim_debug("getaddrinfo(%s): recorded", name);
	errno = saved;
}

void shim_names_seen_he(const char *name, const struct hostent *he)
{
	struct sockaddr_storage ss;
	int id[2], i, saved = errno;

	if (!he || !he->h_addr_list || !ids_of(name, he->h_name, id)) {
		errno = saved;
		return;
	}
	for (i = 0; he->h_addr_list[i]; i++) {
		memset(&ss, 0, sizeof(ss));
		if (he->h_addrtype == AF_INET && he->h_length == 4) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			s4->sin_family = AF_INET;
			memcpy(&s4->sin_addr, he->h_addr_list[i], 4);
		} else if (he->h_addrtype == AF_INET6 && he->h_length == 16) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			s6->sin6_family = AF_INET6;
			memcpy(&s6->sin6_addr, he->h_addr_list[i], 16);
		} else {
			continue;
		}
		shim_names_record(&names, id[0], (struct sockaddr *)&ss);
		shim_names_record(&names, id[1], (struct sockaddr *)&ss);
	}
	if (shim_cfg.debug)
		shim_debug("gethostbyname(%s): recorded", name);
	errno = saved;
}

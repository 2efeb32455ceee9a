/* cfg.c — the shim's routing configuration, read once from the environment
 * (FTP_TUNNEL_VIA, FTP_TUNNEL_PORTS, FTP_TUNNEL_OPTIONS, FTP_TUNNEL_DEBUG)
 * until configuration files exist. */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

struct shim_cfg shim_cfg;

int shim_cfg_parse_via(const char *via, char *host, size_t hostlen,
		       uint16_t *port)
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
		if (errno || end == p || *end || n == 0 || n > 65535)
			return -EINVAL;
		*port = (uint16_t)n;
	}
	return 0;
}

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
	const char *via = getenv("FTP_TUNNEL_VIA");
	const char *dbg = getenv("FTP_TUNNEL_DEBUG");
	const char *opts = getenv("FTP_TUNNEL_OPTIONS");

	shim_cfg.debug = dbg && !strcmp(dbg, "1");
	if (!via || !*via)
		return;
	shim_cfg.enabled = 1;
	/* A bad value still routes (and fails the connection with a
	 * message, hook_connect.c): falling back to a clear-text
	 * connection because of a typo is what must never happen. */
	if (strlen(via) >= sizeof(shim_cfg.via) || strchr(via, '\n') ||
	    shim_cfg_parse_via(via, shim_cfg.via_host,
			       sizeof(shim_cfg.via_host),
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

int shim_cfg_is_ssh_server(const struct sockaddr *sa)
{
	struct sockaddr_storage ss;
	struct addrinfo hints, *res, *ai;
	int same = 0;

	if (!shim_cfg.via[0] || addr_port(sa) != shim_cfg.via_port)
		return 0;
	if (addr_parse(shim_cfg.via_host, 0, &ss) == 0)
		return addr_same_host(sa, (struct sockaddr *)&ss);
	/* A name: resolved on each such connect (rare: only connections to
	 * the SSH port get here), so nothing is cached across a change of
	 * address. */
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(shim_cfg.via_host, NULL, &hints, &res) != 0)
		return 0;
	for (ai = res; ai && !same; ai = ai->ai_next)
		same = addr_same_host(sa, ai->ai_addr);
	freeaddrinfo(res);
	return same;
}

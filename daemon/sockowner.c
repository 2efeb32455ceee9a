/* sockowner.c — the owner of a local TCP socket, read from
 * /proc/net/tcp{,6}: "sl local_address rem_address st ... uid ...", with
 * addresses as hex words in host byte order. */
#include "sockowner.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* The address as /proc/net/tcp6 prints it (IPv4 as ::ffff:a.b.c.d). */
static void to_v6(const struct sockaddr *sa, struct in6_addr *out,
		  unsigned *port)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		out->s6_addr[10] = 0xff;
		out->s6_addr[11] = 0xff;
		memcpy(out->s6_addr + 12, &s4->sin_addr, 4);
		*port = ntohs(s4->sin_port);
	} else {
		const struct sockaddr_in6 *s6 =
		    (const struct sockaddr_in6 *)sa;

		*out = s6->sin6_addr;
		*port = ntohs(s6->sin6_port);
	}
}

/* Parses "HEX:PORT" of /proc/net/tcp (4 bytes) or tcp6 (16 bytes). */
static int parse_hex_addr(const char *s, int v6, struct in6_addr *out,
			  unsigned *port)
{
	unsigned w[4];
	int i;

	memset(out, 0, sizeof(*out));
	if (v6) {
		if (sscanf(s, "%8x%8x%8x%8x:%x", &w[0], &w[1], &w[2], &w[3],
			   port) != 5)
			return -1;
		for (i = 0; i < 4; i++)
			memcpy(out->s6_addr + 4 * i, &w[i], 4);
	} else {
		if (sscanf(s, "%8x:%x", &w[0], port) != 2)
			return -1;
		out->s6_addr[10] = 0xff;
		out->s6_addr[11] = 0xff;
		memcpy(out->s6_addr + 12, &w[0], 4);
	}
	return 0;
}

static int scan(const char *path, int v6, const struct in6_addr *pa,
		unsigned pport, const struct in6_addr *la, unsigned lport,
		uid_t *uid)
{
	char line[512], loc[64], rem[64];
	unsigned long u;
	FILE *f = fopen(path, "re");
	int found = -1;

	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f)) { /* header */
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		struct in6_addr a, b;
		unsigned ap, bp, st;

		if (sscanf(line, "%*d: %63s %63s %x %*s %*s %*s %lu", loc, rem,
			   &st, &u) != 4)
			continue;
		if (parse_hex_addr(loc, v6, &a, &ap) ||
		    parse_hex_addr(rem, v6, &b, &bp))
			continue;
		if (ap == pport && bp == lport && !memcmp(&a, pa, sizeof(a)) &&
		    !memcmp(&b, la, sizeof(b))) {
			*uid = (uid_t)u;
			found = 0;
			break;
		}
	}
	fclose(f);
	return found;
}

int sockowner_uid(const struct sockaddr *peer, const struct sockaddr *local,
		  uid_t *uid)
{
	struct in6_addr pa, la;
	unsigned pport, lport;

	to_v6(peer, &pa, &pport);
	to_v6(local, &la, &lport);
	if (scan("/proc/net/tcp", 0, &pa, pport, &la, lport, uid) == 0)
		return 0;
	return scan("/proc/net/tcp6", 1, &pa, pport, &la, lport, uid);
}

/* ftpaddr.c — PORT and EPRT arguments parsed, 227 replies written, for
 * the SFTP bridge's server side. */
#include "ftpaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A decimal number of at most 5 digits; *p moves past it. -1 if none. */
static long number(const char **p)
{
	long n = 0;
	int digits = 0;

	while (**p == ' ')
		(*p)++;
	while (**p >= '0' && **p <= '9' && digits < 6) {
		n = n * 10 + (**p - '0');
		(*p)++;
		digits++;
	}
	return digits && digits < 6 ? n : -1;
}

int ftpaddr_port(const char *arg, struct sockaddr_storage *out)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)out;
	const char *p = arg;
	long v[6];
	int i;

	for (i = 0; i < 6; i++) {
		v[i] = number(&p);
		if (v[i] < 0 || v[i] > 255)
			return -1;
		while (*p == ' ')
			p++;
		if (i < 5 && *p++ != ',')
			return -1;
	}
	if (*p || (v[4] == 0 && v[5] == 0))
		return -1;
	memset(out, 0, sizeof(*out));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr =
	    htonl((uint32_t)(v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3]));
	sin->sin_port = htons((uint16_t)(v[4] << 8 | v[5]));
	return 0;
}

int ftpaddr_eprt(const char *arg, struct sockaddr_storage *out)
{
	char d = arg[0], host[64];
	const char *p = arg + 1, *end;
	long fam, port;
	size_t len;

	if (d < 33 || d > 126 || (d >= '0' && d <= '9'))
		return -1;
	fam = number(&p);
	if (fam < 0 || *p++ != d)
		return -1;
	end = strchr(p, d);
	if (!end || (len = (size_t)(end - p)) == 0 || len >= sizeof(host))
		return -1;
	memcpy(host, p, len);
	host[len] = '\0';
	p = end + 1;
	port = number(&p);
	if (port <= 0 || port > 65535 || *p++ != d || *p)
		return -1;
	memset(out, 0, sizeof(*out));
	if (fam == 1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)out;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -1;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		return 0;
	}
	if (fam == 2) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -1;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		return 0;
	}
	return -2;
}

int ftpaddr_227(const struct sockaddr *a, char *out, size_t outlen)
{
	const unsigned char *b;
	unsigned port;
	int n;

	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)a;

		b = (const unsigned char *)&sin->sin_addr;
		port = ntohs(sin->sin_port);
	} else if (a->sa_family == AF_INET6 &&
		   IN6_IS_ADDR_V4MAPPED(
		       &((const struct sockaddr_in6 *)a)->sin6_addr)) {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)a;

		b = (const unsigned char *)&sin6->sin6_addr + 12;
		port = ntohs(sin6->sin6_port);
	} else {
		return -1;
	}
	n = snprintf(out, outlen,
		     "227 Entering Passive Mode (%u,%u,%u,%u,%u,%u).\r\n", b[0],
		     b[1], b[2], b[3], port >> 8, port & 255);
	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

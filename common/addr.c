/* addr.c — socket address helpers. */
#include "addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

socklen_t addr_len(const struct sockaddr *sa)
{
	switch (sa->sa_family) {
	case AF_INET:
		return sizeof(struct sockaddr_in);
	case AF_INET6:
		return sizeof(struct sockaddr_in6);
	default:
		return 0;
	}
}

uint16_t addr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

void addr_set_port(struct sockaddr *sa, uint16_t port)
{
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)sa)->sin_port = htons(port);
	else if (sa->sa_family == AF_INET6)
		((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
}

char *addr_host(const struct sockaddr *sa, char *out, size_t outlen)
{
	const void *a = NULL;

	if (sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (!a || !inet_ntop(sa->sa_family, a, out, (socklen_t)outlen))
		snprintf(out, outlen, "?");
	return out;
}

char *addr_format(const struct sockaddr *sa, char *out, size_t outlen)
{
	char host[INET6_ADDRSTRLEN];

	addr_host(sa, host, sizeof(host));
	snprintf(out, outlen, sa->sa_family == AF_INET6 ? "[%s]:%u" : "%s:%u",
		 host, addr_port(sa));
	return out;
}

int addr_v4(const struct sockaddr *sa, struct in_addr *out)
{
	if (sa->sa_family == AF_INET) {
		*out = ((const struct sockaddr_in *)sa)->sin_addr;
		return 1;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 =
		    &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			memcpy(&out->s_addr, a6->s6_addr + 12, 4);
			return 1;
		}
	}
	return 0;
}

int addr_same_host(const struct sockaddr *a, const struct sockaddr *b)
{
	struct in_addr a4, b4;

	if (addr_v4(a, &a4) && addr_v4(b, &b4))
		return a4.s_addr == b4.s_addr;
	if (a->sa_family == AF_INET6 && b->sa_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			       &((const struct sockaddr_in6 *)b)->sin6_addr,
			       sizeof(struct in6_addr));
	return 0;
}

int addr_same_conn(const struct sockaddr *src, const struct sockaddr *dst,
		   const struct sockaddr_storage *a,
		   const struct sockaddr_storage *b)
{
	return addr_same_host(src, (const struct sockaddr *)a) &&
	       addr_port(src) == addr_port((const struct sockaddr *)a) &&
	       addr_same_host(dst, (const struct sockaddr *)b) &&
	       addr_port(dst) == addr_port((const struct sockaddr *)b);
}

int addr_is_loopback(const struct sockaddr *sa)
{
	struct in_addr a4;

	if (addr_v4(sa, &a4))
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(
		    &((const struct sockaddr_in6 *)sa)->sin6_addr);
	return 0;
}

int addr_is_unspecified(const struct sockaddr *sa)
{
	struct in_addr a4;

	if (addr_v4(sa, &a4))
		return a4.s_addr == INADDR_ANY;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(
		    &((const struct sockaddr_in6 *)sa)->sin6_addr);
	return 0;
}

int addr_parse(const char *host, uint16_t port, struct sockaddr_storage *out)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;

	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		return 0;
	}
	return -1;
}

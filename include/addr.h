/* addr.h — socket address helpers shared by the daemon and the shim. */
#ifndef ADDR_H
#define ADDR_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Size of the sockaddr for its family (0 if unknown). */
socklen_t addr_len(const struct sockaddr *sa);
uint16_t addr_port(const struct sockaddr *sa);
void addr_set_port(struct sockaddr *sa, uint16_t port);
/* "1.2.3.4" or "::1" into out. Returns out. */
char *addr_host(const struct sockaddr *sa, char *out, size_t outlen);
/* "1.2.3.4:21" or "[::1]:21" into out. Returns out. */
char *addr_format(const struct sockaddr *sa, char *out, size_t outlen);
/* Same host (IPv4-mapped IPv6 equals its IPv4 address); ports ignored. */
int addr_same_host(const struct sockaddr *a, const struct sockaddr *b);

/* Whether src -> dst (hosts and ports) is the connection a -> b: the
 * DATA/PEER checks of both FTP engines ask this of an accepted socket. */
int addr_same_conn(const struct sockaddr *src, const struct sockaddr *dst,
		   const struct sockaddr_storage *a,
		   const struct sockaddr_storage *b);
int addr_is_loopback(const struct sockaddr *sa);
/* 0.0.0.0, :: or ::ffff:0.0.0.0: "any address", or in EPRT "my own". */
int addr_is_unspecified(const struct sockaddr *sa);
/* 1 and *out set for an AF_INET or v4-mapped AF_INET6 address, else 0. */
int addr_v4(const struct sockaddr *sa, struct in_addr *out);
/* Parses a numeric IPv4/IPv6 address (no brackets) and port. 0 or -1. */
int addr_parse(const char *host, uint16_t port, struct sockaddr_storage *out);

#endif

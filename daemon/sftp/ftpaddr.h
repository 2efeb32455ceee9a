/* ftpaddr.h — the addresses in PORT and EPRT arguments and in 227 and
 * 229 replies, for the SFTP bridge's server side (the engine's rewriter,
 * ftp.c, parses them from the client's view). Pure: no sockets opened, no
 * globals, no logging. */
#ifndef SFTP_FTPADDR_H
#define SFTP_FTPADDR_H

#include <stddef.h>
#include <sys/socket.h>

/* PORT h1,h2,h3,h4,p1,p2 (RFC 959 §4.1.2) -> an IPv4 address and port.
 * 0, or -1 when malformed or port 0. */
int ftpaddr_port(const char *arg, struct sockaddr_storage *out);
/* EPRT |1|a.b.c.d|port| or |2|v6|port| (RFC 2428 §2; any delimiter in
 * 33-126). 0; -1 when malformed; -2 for an unknown address family (the
 * caller answers 522). */
int ftpaddr_eprt(const char *arg, struct sockaddr_storage *out);
/* "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2).\r\n" for an IPv4
 * address (an IPv4-mapped IPv6 one too). 0, or -1 when a is not IPv4. */
int ftpaddr_227(const struct sockaddr *a, char *out, size_t outlen);

#endif

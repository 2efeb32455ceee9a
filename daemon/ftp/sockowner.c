/* sockowner.c — the owner of a local TCP socket: asked of the kernel by
 * sock_diag (one hash look-up of the exact connection), or, where that
 * netlink family is missing, read from /proc/net/tcp{,6} ("sl
 * local_address rem_address st ... uid ...", addresses as hex words in
 * host byte order). The file costs a walk of every TCP socket of the
 * host, TIME_WAIT ones included: with a few thousand of them (a busy FTP
 * client leaves one per data connection) that was ~10-25 ms per data
 * connection accepted. */
#include "sockowner.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

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

/* Fills one end of a sock_diag socket id: IPv4 in the first word when
 * the request is AF_INET, else 16 bytes (IPv4 as ::ffff:a.b.c.d, which the
 * kernel looks up in the IPv4 table when both ends are mapped). */
static void diag_end(const struct sockaddr *sa, int family, __be32 addr[4],
		     __be16 *port)
{
	struct in6_addr a6;
	unsigned p;

	to_v6(sa, &a6, &p);
	*port = htons((uint16_t)p);
	if (family == AF_INET)
		memcpy(addr, a6.s6_addr + 12, 4);
	else
		memcpy(addr, a6.s6_addr, 16);
}

/* Asks sock_diag for the one socket whose local end is `peer` and whose
 * remote end is `local` (no dump: the kernel looks it up by its 4-tuple).
 * 0 with *uid set; 1 when there is no such socket; -1 when sock_diag
 * cannot answer (then the caller reads /proc). */
static int diag_lookup(const struct sockaddr *peer,
		       const struct sockaddr *local, uid_t *uid)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req;
	union {
		struct nlmsghdr nlh;
		char bytes[1024];
	} ans;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	const struct inet_diag_msg *m;
	const struct nlmsgerr *e;
	int family = peer->sa_family == AF_INET && local->sa_family == AF_INET
			 ? AF_INET
			 : AF_INET6;
	ssize_t n;
	int fd, ret = -1;

	memset(&req, 0, sizeof(req));
	req.nlh.nlmsg_len = sizeof(req);
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST;
	req.r.sdiag_family = (uint8_t)family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = ~0u;
	diag_end(peer, family, req.r.id.idiag_src, &req.r.id.idiag_sport);
	diag_end(local, family, req.r.id.idiag_dst, &req.r.id.idiag_dport);
	req.r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -1;
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) != (ssize_t)sizeof(req))
		goto out;
	/* The kernel answers within sendto(): nothing to wait for. */
	n = recv(fd, &ans, sizeof(ans), MSG_DONTWAIT);
	if (n < 0 || !NLMSG_OK(&ans.nlh, (size_t)n))
		goto out;
	if (ans.nlh.nlmsg_type == NLMSG_ERROR) {
		e = NLMSG_DATA(&ans.nlh);
		if (ans.nlh.nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) &&
		    e->error == -ENOENT)
			ret = 1;
		goto out;
	}
	if (ans.nlh.nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    ans.nlh.nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		goto out;
	m = NLMSG_DATA(&ans.nlh);
	/* The look-up falls back to a listener on the peer's port when the
	 * connection is gone; only the connection itself names its owner. */
	if (m->idiag_state == TCP_LISTEN ||
	    m->id.idiag_sport != req.r.id.idiag_sport ||
	    m->id.idiag_dport != req.r.id.idiag_dport) {
		ret = 1;
		goto out;
	}
	*uid = (uid_t)m->idiag_uid;
	ret = 0;
out:
	close(fd);
	return ret;
}

int sockowner_uid(const struct sockaddr *peer, const struct sockaddr *local,
		  uid_t *uid)
{
	struct in6_addr pa, la;
	unsigned pport, lport;
	int r = diag_lookup(peer, local, uid);

	if (r >= 0)
		return r == 0 ? 0 : -1;
	to_v6(peer, &pa, &pport);
	to_v6(local, &la, &lport);
	if (scan("/proc/net/tcp", 0, &pa, pport, &la, lport, uid) == 0)
		return 0;
	return scan("/proc/net/tcp6", 1, &pa, pport, &la, lport, uid);
}

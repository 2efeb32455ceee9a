/* sockowner.c — the owner of a local TCP socket: asked of the kernel by
 * sock_diag (one hash look-up of the exact connection), or, where that
 * netlink family is missing, read from /proc/net/tcp{,6} ("sl
 * local_address rem_address st ... uid ...", addresses as hex words in
 * host byte order). The file costs a walk of every TCP socket of the
 * host, TIME_WAIT ones included: with a few thousand of them (a busy FTP
 * client leaves one per data connection) that was ~10-25 ms per data
 * connection accepted.
 *
 * A socket its process has closed no longer names its owner reliably:
 *   - TIME_WAIT (and FIN_WAIT2, which the kernel keeps as a timewait
 *     socket once the FIN is acknowledged) is a small struct with no
 *     owner at all; both interfaces print uid 0.
 *   - An orphan (closed, still a full socket: FIN_WAIT1 until the peer
 *     acknowledges the FIN) has no inode. Older kernels (6.1 among them)
 *     print uid 0 for it, the owner having been read from the inode;
 *     newer ones print the uid saved in the socket when it was made
 *     (sk_uid), its true owner.
 * Reading either 0 as "root" let any user's closed connection pass as
 * root's. So a closed socket's uid is believed only when it is not 0, or
 * when a probe (once per process) showed that this kernel keeps the owner
 * of an orphan; otherwise the answer is SOCKOWNER_GONE.
 *
 * Nothing later recovers the owner of a socket in TIME_WAIT, and asking
 * earlier is no cure: the connecting program's connect() returns as the
 * handshake completes, before any wake-up of ours, and it may write and
 * close at once; polling the listener or dumping SYN_SENT sockets only
 * narrows that race. What the kernel keeps is the orphan's owner on newer
 * kernels, until the FIN is acknowledged; an unaccepted connection
 * acknowledges a FIN with a delayed ACK (40-200 ms), too short a window
 * on a loaded host, so the data listener holds the FIN back until it has
 * asked (ftpdata.c, fin_hold). */
#include "sockowner.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <unistd.h>

/* idiag_timer of a timewait socket (inet_diag's and /proc's "tr"). */
#define TIMER_TIMEWAIT 3
/* Who the probe's socket belongs to: nobody. */
#define PROBE_UID 65534
/* diag_lookup: the kernel has no such connection. */
#define DIAG_NONE (-2)

/* What the kernel lists for one socket. */
struct listing {
	unsigned state, timer;
	unsigned long ino; /* 0: no process holds the socket */
	uid_t uid;
};

static int orphan_owner_kept(void);

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
		struct listing *li)
{
	char line[512], loc[64], rem[64];
	unsigned long u, ino;
	unsigned tr;
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

		/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line,
			   "%*d: %63s %63s %x %*x:%*x %x:%*x %*x %lu %*d %lu",
			   loc, rem, &st, &tr, &u, &ino) != 6)
			continue;
		if (parse_hex_addr(loc, v6, &a, &ap) ||
		    parse_hex_addr(rem, v6, &b, &bp))
			continue;
		if (ap == pport && bp == lport && !memcmp(&a, pa, sizeof(a)) &&
		    !memcmp(&b, la, sizeof(b))) {
			li->state = st;
			li->timer = tr;
			li->ino = ino;
			li->uid = (uid_t)u;
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
 * 0 with *li filled; DIAG_NONE when there is no such socket; -1 when
 * sock_diag cannot answer (then the caller reads /proc). */
static int diag_lookup(const struct sockaddr *peer,
		       const struct sockaddr *local, struct listing *li)
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
			ret = DIAG_NONE;
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
		ret = DIAG_NONE;
		goto out;
	}
	li->state = m->idiag_state;
	li->timer = m->idiag_timer;
	li->ino = m->idiag_inode;
	li->uid = (uid_t)m->idiag_uid;
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
	struct listing li;
	int r = diag_lookup(peer, local, &li);

	if (r == DIAG_NONE)
		return -1;
	if (r < 0) {
		to_v6(peer, &pa, &pport);
		to_v6(local, &la, &lport);
		if (scan("/proc/net/tcp", 0, &pa, pport, &la, lport, &li) < 0 &&
		    scan("/proc/net/tcp6", 1, &pa, pport, &la, lport, &li) < 0)
			return -1;
	}
	if (li.timer == TIMER_TIMEWAIT || li.state == TCP_TIME_WAIT)
		return SOCKOWNER_GONE;
	if (li.ino == 0 && li.uid == 0 && !orphan_owner_kept())
		return SOCKOWNER_GONE;
	*uid = li.uid;
	return 0;
}

/* --- does this kernel keep an orphan's owner? ------------------------- */

static int kept;
static pthread_once_t kept_once = PTHREAD_ONCE_INIT;

/* Fills the socket's way out (the peer reads nothing, its window closes)
 * so that after close() it stays an orphan in FIN_WAIT1, its FIN queued
 * behind data that cannot leave. Gives up after a few MiB. */
static int stuff(int fd)
{
	static const char junk[16384];
	size_t total = 0;
	struct pollfd p = {.fd = fd, .events = POLLOUT};

	if (poll(&p, 1, 1000) != 1)
		return -1;
	while (total < (8u << 20)) {
		ssize_t n = send(fd, junk, sizeof(junk), MSG_NOSIGNAL);

		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		total += (size_t)n;
	}
	return -1;
}

/* Makes a socket owned by PROBE_UID (fsuid names a new socket's owner;
 * changing it needs CAP_SETUID, so only a root process can probe, and
 * only root needs to: for anyone else an orphan listed as uid 0 is not
 * theirs either way), connects it to a listener of ours that never
 * accepts, closes it while it is stuck, and asks who owns the orphan. */
static void probe(void)
{
	struct sockaddr_in la = {.sin_family = AF_INET}, ca;
	socklen_t alen = sizeof(la), clen = sizeof(ca);
	int small = 4096, l = -1, c = -1;
	struct listing li;
	uid_t was;

	la.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (getuid() != 0)
		return;
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 ||
	    setsockopt(l, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) < 0 ||
	    bind(l, (struct sockaddr *)&la, sizeof(la)) < 0 ||
	    listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&la, &alen) < 0)
		goto out;
	was = (uid_t)setfsuid(PROBE_UID);
	if ((uid_t)setfsuid(PROBE_UID) != PROBE_UID) {
		setfsuid(was);
		goto out;
	}
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setfsuid(was);
	if (c < 0 ||
	    setsockopt(c, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)) < 0 ||
	    (connect(c, (struct sockaddr *)&la, sizeof(la)) < 0 &&
	     errno != EINPROGRESS) ||
	    stuff(c) < 0 || getsockname(c, (struct sockaddr *)&ca, &clen) < 0)
		goto out;
	close(c);
	c = -1;
	/* The orphan lists PROBE_UID where the kernel keeps the owner, 0
	 * where it forgot it. */
	kept = diag_lookup((struct sockaddr *)&ca, (struct sockaddr *)&la,
			   &li) == 0 &&
	       li.ino == 0 && li.uid == PROBE_UID;
out:
	if (c >= 0)
		close(c);
	if (l >= 0)
		close(l); /* resets the orphan too */
}

static int orphan_owner_kept(void)
{
	pthread_once(&kept_once, probe);
	return kept;
}

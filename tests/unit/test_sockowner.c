/* test_sockowner.c — sockowner_uid on real loopback connections: our own
 * client socket in each family combination a data listener meets, a peer
 * that does not exist, a listener's port given as the peer (which
 * names no connection and so no owner), and a client that closed first
 * and sits in TIME_WAIT (which names no owner: listed as uid 0, it must
 * not pass for root's). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "sockowner.h"

static socklen_t fill(struct sockaddr_storage *ss, int family, const char *host,
		      in_port_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = port;
		inet_pton(AF_INET, host, &a->sin_addr);
		return sizeof(*a);
	}
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	a6->sin6_family = AF_INET6;
	a6->sin6_port = port;
	inet_pton(AF_INET6, host, &a6->sin6_addr);
	return sizeof(*a6);
}

static in_port_t port_of(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET
		   ? ((const struct sockaddr_in *)ss)->sin_port
		   : ((const struct sockaddr_in6 *)ss)->sin6_port;
}

/* A listener at lhost (family lfam), a client of family cfam connecting
 * to chost at the listener's port; checks the accepted peer's owner. */
static void one(const char *what, int lfam, const char *lhost, int cfam,
		const char *chost)
{
	struct sockaddr_storage ls, cs, peer, local;
	socklen_t len = fill(&ls, lfam, lhost, 0), plen = sizeof(peer),
		  llen = sizeof(local);
	int l = socket(lfam, SOCK_STREAM | SOCK_CLOEXEC, 0), c = -1, s = -1;
	uid_t uid = (uid_t)-1;

	if (l < 0 || bind(l, (struct sockaddr *)&ls, len) < 0 ||
	    listen(l, 4) < 0 ||
	    getsockname(l, (struct sockaddr *)&ls, &len) < 0) {
		printf("skip %s: no such loopback here\n", what);
		goto out;
	}
	len = fill(&cs, cfam, chost, port_of(&ls));
	c = socket(cfam, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(c >= 0 && connect(c, (struct sockaddr *)&cs, len) == 0,
	      "%s: connect", what);
	s = accept(l, (struct sockaddr *)&peer, &plen);
	CHECK(s >= 0, "%s: accept", what);
	if (s < 0)
		goto out;
	getsockname(s, (struct sockaddr *)&local, &llen);
	CHECK(sockowner_uid((struct sockaddr *)&peer, (struct sockaddr *)&local,
			    &uid) == 0 &&
		  uid == getuid(),
	      "%s: owner %d, want %d", what, (int)uid, (int)getuid());

	/* The listener's own address as the peer: a listener is no
	 * connection to `local`, so it must not lend its owner. */
	CHECK(sockowner_uid((struct sockaddr *)&ls, (struct sockaddr *)&local,
			    &uid) < 0,
	      "%s: a listener's port answered for a peer", what);
out:
	if (s >= 0)
		close(s);
	if (c >= 0)
		close(c);
	if (l >= 0)
		close(l);
}

/* The client closes first, then the accepted end: the client's socket
 * is in TIME_WAIT, which the kernel lists with uid 0 and no inode. */
static void time_wait(void)
{
	struct sockaddr_storage ls, peer, local;
	socklen_t len = fill(&ls, AF_INET, "127.0.0.1", 0), plen = sizeof(peer),
		  llen = sizeof(local);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), c = -1, s = -1;
	uid_t uid = 12345;
	char b;

	if (l < 0 || bind(l, (struct sockaddr *)&ls, len) < 0 ||
	    listen(l, 4) < 0 ||
	    getsockname(l, (struct sockaddr *)&ls, &len) < 0)
		goto out;
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(c >= 0 && connect(c, (struct sockaddr *)&ls, len) == 0,
	      "TIME_WAIT: connect");
	s = accept(l, (struct sockaddr *)&peer, &plen);
	CHECK(s >= 0, "TIME_WAIT: accept");
	if (s < 0)
		goto out;
	getsockname(s, (struct sockaddr *)&local, &llen);
	close(c);
	c = -1;
	CHECK(read(s, &b, 1) == 0, "TIME_WAIT: the client's FIN");
	close(s);
	s = -1;
	CHECK(sockowner_uid((struct sockaddr *)&peer, (struct sockaddr *)&local,
			    &uid) == SOCKOWNER_GONE &&
		  uid == 12345,
	      "TIME_WAIT peer: want SOCKOWNER_GONE, got owner %d", (int)uid);
out:
	if (s >= 0)
		close(s);
	if (c >= 0)
		close(c);
	if (l >= 0)
		close(l);
}

int main(void)
{
	struct sockaddr_storage a, b;
	uid_t uid = 12345;

	one("IPv4", AF_INET, "127.0.0.1", AF_INET, "127.0.0.1");
	one("IPv6", AF_INET6, "::1", AF_INET6, "::1");
	one("IPv4 client, dual-stack listener", AF_INET6, "::", AF_INET,
	    "127.0.0.1");
	one("mapped client, dual-stack listener", AF_INET6, "::", AF_INET6,
	    "::ffff:127.0.0.1");

	time_wait();

	fill(&a, AF_INET, "127.0.0.9", htons(1));
	fill(&b, AF_INET, "127.0.0.1", htons(2));
	CHECK(sockowner_uid((struct sockaddr *)&a, (struct sockaddr *)&b,
			    &uid) < 0 &&
		  uid == 12345,
	      "no such connection: found uid %d", (int)uid);

	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

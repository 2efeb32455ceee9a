/* net.c — TCP socket set-up shared by the session, forwards and FTP data
 * connections. */
#include "net.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"

/* How long a listener waits after running out of descriptors. */
#define ACCEPT_PAUSE_MS 200

void net_nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int net_connect_start(const struct sockaddr *sa, socklen_t salen)
{
	int fd = socket(sa->sa_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	net_nodelay(fd);
	if (connect(fd, sa, salen) < 0 && errno != EINPROGRESS) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

int net_connect_result(int fd)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return errno;
	return soerr;
}

int net_refuse_waiting(struct loop *loop, int lfd, const char *who)
{
	int fd, zero = 0, n = 0;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		/* Without the listener's filter (datalisten.c's FIN hold) the
		 * peer's FIN, after ours, ends the connection on both sides
		 * now, not after its retransmissions time out. */
		setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &zero,
			   sizeof(zero));
		close(fd);
		n++;
	}
	net_accept_failed(loop, lfd, who);
	return n;
}

void net_accept_failed(struct loop *loop, int lfd, const char *who)
{
	if (errno != EMFILE && errno != ENFILE)
		return; /* EAGAIN, or a connection gone before accept */
	log_warn("%s: out of file descriptors (%s); new connections wait", who,
		 errno == EMFILE ? "the process's limit" : "the system's");
	loop_pause(loop, lfd, ACCEPT_PAUSE_MS);
}

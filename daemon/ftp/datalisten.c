/* datalisten.c — a local data listener's life for whoever owns it:
 * opened, its connection accepted or handed over by the shim, with one
 * loop and one log line for both FTP engines, so their listeners cannot
 * drift apart. The owner checks stay with the owners. */
#include "datalisten.h"

#include <errno.h>
#include <linux/filter.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "net.h"

/* A data listener takes one connection, yet its backlog is as long as the
 * system allows (net.core.somaxconn caps it): with a short one, a burst
 * of connections overflows it and the kernel drops the surplus silently.
 * Those connectors then retry their SYN for seconds (1, 3, 7 s...),
 * after our listener is gone, into a port that may by then be another
 * program's listener, which may keep them open (t_hostile's
 * 200-connection flood: the others' answers took 1.08 s, the first
 * retransmission; queued instead, they are all reset at once when the
 * listener closes, in 0.05-0.16 s). */
#define DATA_BACKLOG SOMAXCONN

/* A socket filter on a loopback data listener (its connections inherit
 * it) that drops every segment with FIN set: a peer that writes and
 * closes before we accept stays in FIN_WAIT1, a full socket whose owner
 * the kernel still names (sockowner.h), instead of becoming a TIME_WAIT
 * socket with none once our queued connection acknowledged its FIN (a
 * delayed ACK, 40-200 ms: a loaded host can be slower than that to get
 * to the accept, and the client's own upload was refused). Removed from
 * the accepted connection after the check; the peer's FIN comes again at
 * its next retransmission (its RTO, 200 ms or so), which is what a
 * client that closes before the accept pays. Offsets are in the TCP
 * header, where a TCP socket's filter starts. */
static const struct sock_filter fin_hold_code[] = {
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),	      /* flags */
    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x01, 0, 1), /* FIN */
    BPF_STMT(BPF_RET | BPF_K, 0),		      /* drop */
    BPF_STMT(BPF_RET | BPF_K, 0xffffffff),	      /* keep */
};

static void fin_hold(int lfd, const char *name)
{
	struct sock_fprog prog = {
	    .len = sizeof(fin_hold_code) / sizeof(fin_hold_code[0]),
	    .filter = (struct sock_filter *)fin_hold_code,
	};

	if (setsockopt(lfd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) <
	    0)
		log_debug("%s: no FIN filter on the data listener (%s): a "
			  "client that closes before the accept may be "
			  "refused",
			  name, strerror(errno));
}

/* Harmless (ENOENT) on a socket that has no filter. */
static void fin_release(int fd)
{
	int zero = 0;

	setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &zero, sizeof(zero));
}

int datalisten_open(struct loop *loop, const struct sockaddr *at, int hold_fin,
		    loop_fd_cb cb, void *arg, struct sockaddr_storage *bound,
		    const char *name)
{
	socklen_t blen = sizeof(*bound);
	int lfd = socket(at->sa_family,
			 SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int rc;

	if (lfd < 0)
		return -errno;
	if (hold_fin)
		fin_hold(lfd,
			 name); /* before listen(): every connection has it */
	if (bind(lfd, at, addr_len(at)) < 0 || listen(lfd, DATA_BACKLOG) < 0 ||
	    getsockname(lfd, (struct sockaddr *)bound, &blen) < 0) {
		rc = -errno;
		close(lfd);
		return rc;
	}
	rc = loop_watch(loop, lfd, EPOLLIN, cb, arg);
	if (rc < 0) {
		close(lfd);
		return rc;
	}
	return lfd;
}

int datalisten_accept(struct loop *loop, int lfd, const char *name,
		      datalisten_check_fn check, void *arg)
{
	for (;;) {
		struct sockaddr_storage peer, local;
		socklen_t plen = sizeof(peer), llen = sizeof(local);
		const char *why;
		char who[80];
		int fd = accept4(lfd, (struct sockaddr *)&peer, &plen,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			net_accept_failed(loop, lfd, name);
			return -1;
		}
		getsockname(fd, (struct sockaddr *)&local, &llen);
		why = check(arg, (struct sockaddr *)&peer,
			    (struct sockaddr *)&local);
		/* Checked, refused or taken: its FIN may end it now. */
		fin_release(fd);
		if (!why)
			return fd;
		log_warn(
		    "%s: refused a data connection from %s (%s)", name,
		    addr_format((struct sockaddr *)&peer, who, sizeof(who)),
		    why);
		close(fd);
	}
}

int datalisten_may_adopt(int lfd, uint16_t bound_port, int taken, uint16_t port,
			 int fd, const char *name)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);

	if (lfd < 0 || taken || bound_port != port ||
	    getpeername(fd, (struct sockaddr *)&peer, &plen) < 0)
		return -1;
	log_debug("%s: data connection passed by the shim", name);
	return 0;
}

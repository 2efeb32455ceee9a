/* datalisten.c — accepts a local data listener's connection for whoever
 * owns the listener: one loop and one log line for both FTP engines, so
 * their refusals cannot drift apart. The checks stay with the owners. */
#include "datalisten.h"

#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "net.h"

int datalisten_accept(struct loop *loop, int lfd, const char *name,
		      datalisten_check_fn check, datalisten_settle_fn settle,
		      void *arg)
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
		if (settle)
			settle(arg, fd);
		if (!why)
			return fd;
		log_warn(
		    "%s: refused a data connection from %s (%s)", name,
		    addr_format((struct sockaddr *)&peer, who, sizeof(who)),
		    why);
		close(fd);
	}
}

/* hook_sendto.c — the exported sendto() and sendmsg(): with MSG_FASTOPEN
 * and an address they connect a TCP socket (TCP Fast Open) without
 * connect(), so a routed destination must be caught here too. */
/* Not _GNU_SOURCE: see hook_connect.c. */
#define _DEFAULT_SOURCE
#include "shim.h"

SHIM_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
			   const struct sockaddr *sa, socklen_t len)
{
	int rc;

	shim_init();
	if ((flags & MSG_FASTOPEN) && shim_route_fastopen(fd, sa, len, &rc)) {
		if (rc < 0)
			return -1;
		return shim_real.sendto(fd, buf, n, flags & ~MSG_FASTOPEN, NULL,
					0);
	}
	return shim_real.sendto(fd, buf, n, flags, sa, len);
}

SHIM_EXPORT ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
	int rc;

	shim_init();
	if ((flags & MSG_FASTOPEN) && m &&
	    shim_route_fastopen(fd, m->msg_name, m->msg_namelen, &rc)) {
		struct msghdr c = *m;

		if (rc < 0)
			return -1;
		c.msg_name = NULL;
		c.msg_namelen = 0;
		return shim_real.sendmsg(fd, &c, flags & ~MSG_FASTOPEN);
	}
	return shim_real.sendmsg(fd, m, flags);
}

/* hook_accept.c — the exported accept() and accept4(): an active-mode data
 * connection from the daemon is reported as coming from the FTP server. */
/* Not _GNU_SOURCE: see hook_connect.c; accept4 is declared here. */
#define _DEFAULT_SOURCE
#include "shim.h"

int accept4(int fd, struct sockaddr *restrict sa, socklen_t *restrict len,
	    int flags);

SHIM_EXPORT int accept(int fd, struct sockaddr *restrict sa,
		       socklen_t *restrict len)
{
	int rc;

	shim_init();
	rc = shim_real.accept(fd, sa, len);
	if (rc >= 0)
		shim_route_accepted(rc, sa, len);
	return rc;
}

SHIM_EXPORT int accept4(int fd, struct sockaddr *restrict sa,
			socklen_t *restrict len, int flags)
{
	int rc;

	shim_init();
	rc = shim_real.accept4(fd, sa, len, flags);
	if (rc >= 0)
		shim_route_accepted(rc, sa, len);
	return rc;
}

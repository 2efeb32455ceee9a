/* hook_getpeername.c — the exported getpeername(): a registered socket
 * reports the FTP server's address instead of the daemon's loopback one. */
/* Not _GNU_SOURCE: see hook_connect.c. */
#define _DEFAULT_SOURCE
#include "shim.h"

SHIM_EXPORT int getpeername(int fd, struct sockaddr *restrict sa,
			    socklen_t *restrict len)
{
	int rc;

	shim_init();
	rc = shim_real.getpeername(fd, sa, len);
	/* libc's answer first: an unconnected socket still says ENOTCONN
	 * (programs poll for connect completion that way). */
	if (rc == 0 && sa && len)
		shim_route_peer(fd, sa, len);
	return rc;
}

/* hook_connect.c — the exported connect(): routed FTP connections go
 * through the daemon (route.c), everything else straight to libc. */
/* Not _GNU_SOURCE: glibc then declares connect() with a transparent union
 * argument that a definition cannot match. */
#define _DEFAULT_SOURCE
#include "shim.h"

SHIM_EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	shim_init();
	return shim_route_connect(fd, sa, len);
}

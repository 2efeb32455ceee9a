/* sockowner.h — which local user owns the other end of a loopback TCP
 * connection (from sock_diag netlink, else /proc/net/tcp and tcp6), so a
 * data listener can accept only the tunnel user's own connection. */
#ifndef SOCKOWNER_H
#define SOCKOWNER_H

#include <sys/socket.h>
#include <sys/types.h>

/* For a connection accepted on `local` from `peer`, finds the socket
 * bound to `peer` and connected to `local` and stores its owner in *uid.
 * 0, or -1 when no such socket is listed (not a local peer). Does not
 * block; costs one netlink round trip into the kernel. */
int sockowner_uid(const struct sockaddr *peer, const struct sockaddr *local,
		  uid_t *uid);

#endif

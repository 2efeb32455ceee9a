/* sockowner.h — which local user owns the other end of a loopback TCP
 * connection (from sock_diag netlink, else /proc/net/tcp and tcp6), so a
 * data listener can accept only the tunnel user's own connection. */
#ifndef SOCKOWNER_H
#define SOCKOWNER_H

#include <sys/socket.h>
#include <sys/types.h>

/* sockowner_uid: the peer socket is there but its process closed it and
 * the kernel no longer names its owner (TIME_WAIT; or an orphan listed as
 * uid 0 by a kernel that forgets an orphan's owner). */
#define SOCKOWNER_GONE 1

/* For a connection accepted on `local` from `peer`, finds the socket
 * bound to `peer` and connected to `local` and stores its owner in *uid.
 * 0; SOCKOWNER_GONE (*uid untouched); or -1 when no such socket is listed
 * (not a local peer). Does not block; costs one netlink round trip into
 * the kernel (the first call of a root process also makes one loopback
 * connection to learn how this kernel lists orphans). */
int sockowner_uid(const struct sockaddr *peer, const struct sockaddr *local,
		  uid_t *uid);

#endif

/* net.h — the TCP socket set-up the daemon's modules share. */
#ifndef NET_H
#define NET_H

#include <sys/socket.h>

struct loop;

/* TCP_NODELAY: small FTP lines and channel opens must not wait for
 * delayed ACKs (TESTBED.md). */
void net_nodelay(int fd);
/* A non-blocking, close-on-exec TCP socket with TCP_NODELAY whose connect
 * to sa has started (or finished). Returns the fd, or -errno when the
 * socket can't be made or connect fails at once. Wait for EPOLLOUT, then
 * ask net_connect_result. */
int net_connect_start(const struct sockaddr *sa, socklen_t salen);
/* Once fd of net_connect_start is writable: 0 when it is connected, else
 * the errno its connect failed with (SO_ERROR). */
int net_connect_result(int fd);
/* After accept on lfd failed with errno: out of descriptors (EMFILE,
 * ENFILE) pauses the listener for a while and says so, rather than
 * spinning on a backlog it cannot take; the connections wait there. */
void net_accept_failed(struct loop *loop, int lfd, const char *who);
/* Accepts and closes every connection waiting on lfd (a listener whose one
 * connection is taken), so each is told at once; before the close, a
 * socket filter inherited from lfd is removed. The number closed. */
int net_refuse_waiting(struct loop *loop, int lfd, const char *who);

#endif

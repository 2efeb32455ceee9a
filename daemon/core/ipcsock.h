/* ipcsock.h — the serving side of the per-user IPC sockets (docs/IPC.txt):
 * a listening socket made in a checked directory, and the peer's uid
 * check. Used by ftp-tunneld and by each foreground ftp-tunnel. */
#ifndef IPCSOCK_H
#define IPCSOCK_H

/* A listening socket (non-blocking, close-on-exec, mode 0600 from
 * before it exists) named name in the directory dfd, an ipc_dir_open
 * descriptor; path is its full name, for messages. A stale file of that
 * name is removed first: the caller must own the name (the daemon holds
 * its lock; a foreground process's name holds its pid). The socket, or -1
 * after logging why. Changes the working directory for the bind and back
 * (single-threaded callers only). */
int ipcsock_listen(int dfd, const char *path, const char *name);
/* Whether the peer of the accepted Unix socket fd runs as our real uid
 * (SO_PEERCRED); *uid gets its uid (-1 when unknown), for the log. */
int ipcsock_peer_is_us(int fd, int *uid);

#endif

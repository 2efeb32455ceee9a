/* control.h — the FTP control connections ftp-tunneld carries for the
 * shim, listed per pooled SSH connection on that connection's worker:
 * what STATUS reports, where DATA and PEER look, what a closing
 * connection ends. Every function runs on the connection's worker. */
#ifndef CONTROL_H
#define CONTROL_H

#include <sys/socket.h>

#include "connpool.h"
#include "ftpfwd.h"

/* A live FTP control connection, as `ftp-tunnel status` lists it. */
struct control {
	struct pool_conn *pc;
	struct ftp_ctl *k;
	unsigned long id;
	char dst[80];  /* what the program connect()ed to */
	char ftp[300]; /* the FTP server as the SSH server sees it */
	struct sockaddr_storage dst_sa; /* dst, for DATA and PEER */
	struct control *next;
};

/* pc's controls, newest first; borrowed, valid until the worker returns
 * to its loop. */
struct control *control_list(struct pool_conn *pc);
/* Lists k (a posted job of pc's: its end takes it out of pc's load) as
 * control id to dst, carried to ftphost:port; without memory it closes k.
 * Keeps nothing of the arguments but k. */
void control_add(struct pool_conn *pc, struct ftp_ctl *k, unsigned long id,
		 const struct sockaddr *dst, const char *ftphost,
		 unsigned port);
/* The connpool_ops.closing of the daemon's pool: pc's FTP clients learn
 * why, then their controls close. */
void control_closing(struct pool_conn *pc, int stopping, void *arg);

#endif

/* control.h — the FTP control connections ftp-tunneld carries for the
 * shim, or answers itself from SFTP (sftp=1), listed per pooled SSH
 * connection on that connection's worker:
 * what STATUS reports, where DATA and PEER look, what a closing
 * connection ends. Every function runs on the connection's worker. */
#ifndef CONTROL_H
#define CONTROL_H

#include <sys/socket.h>

#include "connpool.h"
#include "ftpfwd.h"
#include "ftpsrv.h"

/* A live FTP control connection, as `ftp-tunnel status` lists it. */
struct control {
	struct pool_conn *pc;
	struct ftp_ctl *k; /* a tunneled control connection, or */
	struct ftpsrv *f;  /* an FTP session served from SFTP */
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
/* Serves the FTP client on fd (the daemon's end of the loopback pair
 * whose other end the program has) as control id to dst, from the sftp
 * subsystem of pc's session (a posted job of pc's: its end takes it out
 * of pc's load). The session's 227 names dst, for the shim's DATA. name
 * is for the log. On failure fd is closed and the job done. */
void control_add_sftp(struct pool_conn *pc, int fd, unsigned long id,
		      const struct sockaddr *dst, const char *name);
/* The connpool_ops.closing of the daemon's pool: pc's FTP clients learn
 * why, then their controls close. */
void control_closing(struct pool_conn *pc, int stopping, void *arg);

#endif

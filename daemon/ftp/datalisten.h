/* datalisten.h — what the local data listeners of both FTP engines
 * (ftpdata.c, sftp/fsdata.c) share: opening one, taking the first
 * connection its owner's check lets in (refusing and logging every
 * other), and the checks on a connection the shim hands over instead. */
#ifndef DATALISTEN_H
#define DATALISTEN_H

#include <stdint.h>
#include <sys/socket.h>

#include "loop.h"

/* NULL when the connection from peer (to our local end) may carry the
 * data, else why not, as the log line says it. */
typedef const char *(*datalisten_check_fn)(void *arg,
					   const struct sockaddr *peer,
					   const struct sockaddr *local);

/* Opens a non-blocking listener at `at` (port 0: any), watched for
 * EPOLLIN by cb(arg); *bound gets its address. hold_fin for a loopback
 * listener whose check asks who owns the peer (sockowner.h): its
 * connections' FINs wait until datalisten_accept has checked them. The
 * listening fd, or -errno. */
int datalisten_open(struct loop *loop, const struct sockaddr *at, int hold_fin,
		    loop_fd_cb cb, void *arg, struct sockaddr_storage *bound,
		    const char *name);

/* Accepts on lfd until check lets a connection in and returns its fd
 * (non-blocking, close-on-exec, its FIN no longer held). Each refused
 * one is logged as "name: refused a data connection from ADDR (why)" and
 * closed. -1 when none is left waiting or accept failed
 * (net_accept_failed handled it). */
int datalisten_accept(struct loop *loop, int lfd, const char *name,
		      datalisten_check_fn check, void *arg);

/* DATA (docs/IPC.txt): the shim hands over fd, a connection the daemon
 * made for the program that connect()ed to a passive port (its IPC
 * peer's uid is checked already, so there is no owner check). 0 when fd
 * may be the connection of the listener lfd bound to bound_port: that
 * listener is still open (-1: closed, it waits for nothing), bound to
 * port, has taken no connection yet (taken 0) and fd is a connected
 * socket; the hand-over is logged. Else -1, and fd stays the
 * caller's. */
int datalisten_may_adopt(int lfd, uint16_t bound_port, int taken, uint16_t port,
			 int fd, const char *name);

#endif

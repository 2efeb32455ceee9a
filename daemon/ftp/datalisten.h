/* datalisten.h — the accept path shared by the local data listeners of
 * both FTP engines (ftpdata.c, sftp/fsdata.c): take the first
 * connection its owner's check lets in, refuse and log every other. */
#ifndef DATALISTEN_H
#define DATALISTEN_H

#include <sys/socket.h>

#include "loop.h"

/* NULL when the connection from peer (to our local end) may carry the
 * data, else why not, as the log line says it. */
typedef const char *(*datalisten_check_fn)(void *arg,
					   const struct sockaddr *peer,
					   const struct sockaddr *local);

/* Called with every accepted fd once it is checked, refused or not,
 * before it is closed or handed on (for a listener's own per-socket
 * settings, such as ftpdata.c's FIN hold). */
typedef void (*datalisten_settle_fn)(void *arg, int fd);

/* Accepts on lfd until check lets a connection in and returns its fd
 * (non-blocking, close-on-exec). Each refused one is logged as
 * "name: refused a data connection from ADDR (why)" and closed. -1 when
 * none is left waiting or accept failed (net_accept_failed handled it).
 * settle may be NULL. */
int datalisten_accept(struct loop *loop, int lfd, const char *name,
		      datalisten_check_fn check, datalisten_settle_fn settle,
		      void *arg);

#endif

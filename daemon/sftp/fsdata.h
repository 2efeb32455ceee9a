/* fsdata.h — the SFTP bridge's FTP data connections ("FTP server
 * data": the data side of ftpsrv.h), all of them local between the FTP
 * client and ftp-tunnel: a passive listener that takes one connection
 * from the client (by socket owner on loopback, by address elsewhere), or
 * an active connect to the client's own address.
 * No SSH here: file bytes reach the SSH server inside SFTP. */
#ifndef SFTP_FSDATA_H
#define SFTP_FSDATA_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "loop.h"

struct fsdata;

/* The data connection is up (fd >= 0, now the callee's, non-blocking) or
 * could not be made (fd -1, err says why). Called once per fsdata_wait. */
typedef void (*fsdata_cb)(struct fsdata *d, int fd, const char *err, void *arg);

/* How long a data connection is waited for. */
#define FSDATA_TIMEOUT_MS 60000

/* Listens on at's address, any port (*bound gets it), for one connection
 * whose peer is `peer`'s host and, on loopback, a socket of uid (the
 * control connection's). Connections that fail the check are closed and
 * logged. After FSDATA_TIMEOUT_MS without one it listens no more. NULL
 * with err set. name is copied. */
struct fsdata *fsdata_listen(struct loop *loop, const struct sockaddr *at,
			     const struct sockaddr *peer, uid_t uid,
			     struct sockaddr_storage *bound, const char *name,
			     char *err, size_t errlen);
/* Connects to `to` once fsdata_wait is called (RFC 959 §3.2: the server
 * opens an active data connection on the transfer command). The caller
 * has checked that `to` is the control connection's peer. */
struct fsdata *fsdata_connect(struct loop *loop, const struct sockaddr *to,
			      const char *name);
/* Hands the connection to cb when there is one (maybe before returning). */
void fsdata_wait(struct fsdata *d, fsdata_cb cb, void *arg);
/* DATA (docs/IPC.txt): a passive listener on port that still waits for
 * its connection (not timed out, none taken) takes fd as its connection,
 * with the checks of datalisten_may_adopt (no owner check: the IPC
 * peer's uid is checked already). 0, or -1 when d is not that listener
 * (fd is then still the caller's). */
int fsdata_adopt(struct fsdata *d, uint16_t port, int fd);
/* PEER: an active connection under way or made: 1 with our end in src
 * and the client's listener in dst, else 0. */
int fsdata_made(const struct fsdata *d, struct sockaddr_storage *src,
		struct sockaddr_storage *dst);
/* Closes the listener and any connection not handed over. Accepts NULL. */
void fsdata_free(struct fsdata *d);

#endif

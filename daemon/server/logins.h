/* logins.h — the daemon's SftpLogin=ftp sessions: FTP sessions answered
 * from SFTP whose USER and PASS log in to SSH themselves, each on an SSH
 * connection of its own that no other request rides (ftpsrv.h). They
 * run on one worker thread of their own, started with the first: the
 * main loop never waits for a login's name lookup, key exchange or
 * transfer. */
#ifndef LOGINS_H
#define LOGINS_H

#include <stdint.h>
#include <sys/socket.h>

#include "ssh.h"
#include "taskq.h"

struct login_set;

/* No thread yet. NULL on out of memory. */
struct login_set *logins_new(void);
/* Serves the FTP control connection fd (taken) as a login session to the
 * SSH server of o (its strings taken, o left empty); dst is what the
 * program dialed, which a 227 names. name: for the log. 0, or -1 (fd
 * closed, o released). */
int logins_start(struct login_set *set, int fd, struct ssh_opts *o,
		 const struct sockaddr *dst, const char *name);
/* Sessions not yet ended: for the idle exit. Any thread. */
int logins_count(const struct login_set *set);

/* DATA and PEER for these sessions (tunneld.c): fn(arg) runs on their
 * thread, which calls logins_data_adopt or logins_data_made there.
 * 0, or -1 when there is no such thread (no login yet) or no memory:
 * then fn does not run. */
int logins_ask(struct login_set *set, taskq_fn fn, void *arg);
/* On the sessions' thread: the session to dst whose passive listener
 * waits on port takes fd. 0, or -1 (none). */
int logins_data_adopt(struct login_set *set, const struct sockaddr *dst,
		      uint16_t port, int fd);
/* On the sessions' thread: whether a session made the connection
 * peer -> local; *server is then what its program dialed. */
int logins_data_made(struct login_set *set, const struct sockaddr *peer,
		     const struct sockaddr *local,
		     struct sockaddr_storage *server);

/* Ends every session (their SSH connections close) and the thread.
 * Accepts NULL. */
void logins_free(struct login_set *set);

#endif

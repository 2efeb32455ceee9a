/* ftpfwd.h — the FTP glue: one FTP control connection carried over an
 * SSH channel through the rewriter (ftp.h), and the data channels it sets
 * up: passive listeners, forwarded or converted active connections. */
#ifndef FTPFWD_H
#define FTPFWD_H

#include <libssh2.h>
#include <sys/socket.h>

#include "spec.h"
#include "ssh.h"

struct ftp_ctl;

/* Takes ownership of fd and ch. For a local tunnel (spec->remote == 0) the
 * FTP client is on fd and the server behind ch; for a remote tunnel the
 * reverse. active_mode: enum ftp_active_mode or FWD_ACTIVE_AUTO.
 * advertise (may be NULL, copied): the host a rewritten 227 names instead
 * of the data listener's own (the shim redirects it there). NULL on
 * failure (fd and ch closed). */
struct ftp_ctl *ftpfwd_control_new(struct ssh_sess *s, LIBSSH2_CHANNEL *ch,
				   int fd, const struct fwd_spec *spec,
				   int active_mode,
				   const struct sockaddr *advertise,
				   const char *name);

#endif

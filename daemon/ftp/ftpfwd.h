/* ftpfwd.h — the FTP glue: one FTP control connection carried over an
 * SSH channel through the rewriter (ftp.h), and the data channels it sets
 * up: passive listeners, forwarded or converted active connections. */
#ifndef FTPFWD_H
#define FTPFWD_H

#include <libssh2.h>
#include <stdint.h>
#include <sys/socket.h>

#include "spec.h"
#include "ssh.h"

struct ftp_ctl;

/* An active_mode for ftpfwd_control_new(): let it choose (forward when the
 * FTP server is the SSH server's own loopback or the tunnel is remote,
 * else convert). */
#define FWD_ACTIVE_AUTO (-1)

/* Takes ownership of fd and ch. For a local tunnel (spec->remote == 0) the
 * FTP client is on fd and the server behind ch; for a remote tunnel the
 * reverse. active_mode: enum ftp_active_mode or FWD_ACTIVE_AUTO.
 * passive_reply: a 227's data connection goes to the address the reply
 * names; 0: to the control connection's server, at the reply's port.
 * passive_ahead: the rewriter's passive_ahead (ftp.h).
 * advertise (may be NULL, copied): the host a rewritten 227 names instead
 * of the data listener's own (the shim redirects it there). NULL on
 * failure (fd and ch closed). */
struct ftp_ctl *ftpfwd_control_new(struct ssh_sess *s, LIBSSH2_CHANNEL *ch,
				   int fd, const struct fwd_spec *spec,
				   int active_mode, int passive_reply,
				   int passive_ahead,
				   const struct sockaddr *advertise,
				   const char *name);

/* The control connection ended and k is about to be freed. */
typedef void (*ftpfwd_done_cb)(struct ftp_ctl *k, void *arg);
/* Sets the owner's done callback (NULL: none). */
void ftpfwd_control_set_done(struct ftp_ctl *k, ftpfwd_done_cb cb, void *arg);

/* Counters for `ftp-tunnel status`. up = client to server, down = server
 * to client, as bytes written to the far side (after rewriting). */
struct ftpfwd_info {
	uint64_t started_ms; /* loop_now_ms() at the start */
	unsigned long long up, down;
	int ndata; /* data connections carrying bytes now */
};
struct ftpfwd_data_info {
	unsigned long n; /* its number within the control connection */
	int active;	 /* 0: passive (PASV/EPSV) */
	int converted;	 /* active for the client, passive to the server */
	uint64_t started_ms;
	unsigned long long up, down;
};
void ftpfwd_control_info(const struct ftp_ctl *k, struct ftpfwd_info *out);
/* The i-th (0-based) data connection carrying bytes now: 0, or -1 when
 * there are fewer. */
int ftpfwd_data_info(const struct ftp_ctl *k, int i,
		     struct ftpfwd_data_info *out);

/* For the shim's DATA request (docs/IPC.txt): fd is the FTP client's
 * passive data connection to our listener on port; a local tunnel's
 * listener waiting there takes it (0), else -1 (fd stays the caller's). */
int ftpfwd_data_adopt(struct ftp_ctl *k, uint16_t port, int fd);
/* For the shim's PEER request: whether k made, within the last minute or
 * now, an active-mode data connection from src to dst (hosts and ports):
 * 1 or 0. */
int ftpfwd_data_made(const struct ftp_ctl *k, const struct sockaddr *src,
		     const struct sockaddr *dst);

/* Ends the connection now: the client (on the socket side of a local
 * tunnel) gets reply_421 (a full "421 ...\r\n" line) first; its data
 * connections are cut. The done callback runs. */
void ftpfwd_control_close(struct ftp_ctl *k, const char *reply_421);

#endif

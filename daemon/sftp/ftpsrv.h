/* ftpsrv.h — one FTP server session of the SFTP bridge: the FTP client's
 * control connection, answered here, every file command served from the
 * SSH server's sftp subsystem (sftpc.h), data connections local
 * (fsdata.h). */
#ifndef SFTP_FTPSRV_H
#define SFTP_FTPSRV_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "loop.h"
#include "ssh.h"

struct ftpsrv;

/* The session ended (the client left, or the SSH connection is gone);
 * the session is freed after the callback. */
typedef void (*ftpsrv_done_cb)(struct ftpsrv *f, void *arg);

struct ftpsrv_opts {
	/* Where a login starts: a path on the SFTP server, "" for the
	 * server's own start (realpath "."). Copied. */
	const char *start_dir;
	/* SftpLogin=ftp: the session makes its own SSH connection at PASS,
	 * as the FTP USER with the FTP PASS (password or
	 * keyboard-interactive only), with these settings otherwise
	 * (borrowed, outliving the session); s is then NULL. */
	const struct ssh_opts *login_opts;
	/* Who may make data connections on loopback: the control
	 * connection's uid. */
	uid_t peer_uid;
	/* Optional (copied): the address a 227 names, for the shim, which
	 * sends the program's connect() to it on to the daemon's loopback
	 * listener of the same port (docs/IPC.txt). Default: the control
	 * connection's own address. */
	const struct sockaddr *pasv_addr;
};

/* Takes ownership of fd (the accepted control connection, its peer
 * already checked by the caller) and starts an sftp subsystem on s (a
 * session that is up, borrowed, outliving the FTP session). The 220
 * greeting goes out once SFTP is up; a failure answers 421 and ends the
 * session. With o->login_opts, s is NULL: 220 at once, the SSH login at
 * PASS (230 once SFTP is up, 530 when the server refuses it, and no
 * connection is left open). NULL with errno set (fd closed). name is
 * copied. */
struct ftpsrv *ftpsrv_new(struct loop *loop, struct ssh_sess *s, int fd,
			  const struct ftpsrv_opts *o, const char *name,
			  ftpsrv_done_cb done, void *arg);
/* Ends the session at once without calling back. Accepts NULL. */
void ftpsrv_free(struct ftpsrv *f);
/* Ends the session with a last reply (e.g. "421 ..."), calling back. */
void ftpsrv_close(struct ftpsrv *f, const char *reply);

/* ftp-tunneld's DATA and PEER (docs/IPC.txt), for a session whose 227
 * names the address the program dialed (ftpsrv_opts.pasv_addr). */
/* The passive listener on port takes fd (the daemon's end of a loopback
 * pair given to the shim): 0, or -1 when there is none (fd stays the
 * caller's). */
int ftpsrv_data_adopt(struct ftpsrv *f, uint16_t port, int fd);
/* Whether the session made the active data connection src -> dst (being
 * set up, or set up within the last minute). */
int ftpsrv_data_made(const struct ftpsrv *f, const struct sockaddr *src,
		     const struct sockaddr *dst);

#endif

/* sftp_tunnel.h — `-L sftp/[bind:]port[:dir]`: the FTP sessions of one
 * local listener (tunnel.c binds and accepts), each an FTP server backed by
 * the SSH server's SFTP (ftpsrv.h), with SftpLogin=tunnel: the SSH login
 * is ftp-tunnel's own, so only the same local user may connect. */
#ifndef SFTP_SFTP_TUNNEL_H
#define SFTP_SFTP_TUNNEL_H

#include <stddef.h>
#include <sys/types.h>

#include "loop.h"
#include "ssh.h"

struct sftp_tunnel;

/* Refuses a bind address other than loopback: with ftp-tunnel's own SSH
 * login any FTP login is accepted, so the listener must not be reachable
 * from another host. 0, or -1 with a message in err. */
int sftp_tunnel_check_bind(const char *bind, char *err, size_t errlen);

/* The sessions of one listener on s (borrowed, outliving it); start_dir
 * ("" for the server's start) and name are copied. With login_opts
 * (SftpLogin=ftp; borrowed, outliving the tunnel) s is NULL: each FTP
 * login makes an SSH connection of its own, as the FTP user with the FTP
 * password. NULL on ENOMEM. */
struct sftp_tunnel *sftp_tunnel_new(struct loop *loop, struct ssh_sess *s,
				    const char *start_dir,
				    const struct ssh_opts *login_opts,
				    const char *name);
/* The FTP session of a connection sftp_tunnel_admit let in, on the
 * tunnel's own session: takes fd; done(arg) when the session ends (not
 * when sftp_tunnel_free ends it). 0, or -1 (fd closed, no call). */
int sftp_tunnel_adopt(struct sftp_tunnel *st, int fd, uid_t uid,
		      const char *name, void (*done)(void *arg), void *arg);
/* Checks a connection accepted on the listener: with SftpLogin=tunnel
 * only a socket of our own uid is served (sock_diag, as for data
 * listeners). 0 and *uid (the peer's, for its data connections), or -1
 * after refusing and closing fd. */
int sftp_tunnel_admit(struct sftp_tunnel *st, int fd, const char *name,
		      uid_t *uid);
/* An admitted connection's FTP session on another SSH connection (a
 * worker's loop and session, connpool.h): takes fd; done(arg) when the
 * session ends. start_dir is copied. 0, or -1 (fd closed). */
int sftp_tunnel_serve(struct loop *loop, struct ssh_sess *s, int fd,
		      const char *start_dir, uid_t uid, const char *name,
		      void (*done)(void *arg), void *arg);
/* Where its logins start ("" for the server's start). Borrowed. */
const char *sftp_tunnel_start_dir(const struct sftp_tunnel *st);
/* Nonzero with SftpLogin=ftp (each FTP login logs in itself). */
int sftp_tunnel_has_own_login(const struct sftp_tunnel *st);
/* FTP sessions open now. */
int sftp_tunnel_sessions(const struct sftp_tunnel *st);
/* Ends every session. Accepts NULL. */
void sftp_tunnel_free(struct sftp_tunnel *st);

#endif

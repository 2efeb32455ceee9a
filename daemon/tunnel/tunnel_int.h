/* tunnel_int.h — what tunnel.c shares with spread.c alone: the tunnel
 * record, the registry of the FTP sessions it carries (for `ftp-tunnel
 * status`), and the ways a connection is carried on the tunnel's own
 * session. All on the tunnel's thread unless said otherwise. */
#ifndef TUNNEL_INT_H
#define TUNNEL_INT_H

#include <sys/types.h>

#include "connpool.h"
#include "ftpfwd.h"
#include "report.h"
#include "sftp_tunnel.h"
#include "ssh.h"
#include "statusrep.h"
#include "tunnel.h"

#define MAX_LISTENERS 4

struct tunnel {
	struct loop *loop;
	struct ssh_sess *s;
	struct fwd_spec spec;
	struct tunnel_opts topts;
	tunnel_ready_cb cb;
	void *arg;
	char name[600];
	int lfds[MAX_LISTENERS];
	int nlfds;
	LIBSSH2_LISTENER *rlistener;
	int bound_port;
	long listen_req;
	unsigned long nconn;
	struct half_open *half_open; /* waiting for their other half */
	struct sftp_tunnel *sftp;    /* sftp/: the FTP sessions served here */
	int up;			     /* reported up */
	struct tunnel_ctl *ctls;     /* its FTP sessions on its own session */
};

/* An FTP control connection a tunnel carries, or an sftp/ tunnel's FTP
 * session (k NULL), as `ftp-tunnel status` lists it. Listed in its
 * tunnel (on the tunnel's own session, the tunnel's thread) or in its
 * extra connection's connpool_data (that worker's). */
struct tunnel_ctl {
	struct ftp_ctl *k; /* NULL: an FTP session served from SFTP */
	unsigned long id;
	char client[80];      /* the FTP client's address, "" when not ours */
	char dst[300];	      /* what the FTP client connected to */
	char ftp[300];	      /* the FTP server, as the SSH server reaches it */
	char tunnel[600];     /* its tunnel's name (a copy: an extra
			       * connection's may outlive the tunnel) */
	int *sessions;	      /* the FTP session counter, or NULL */
	struct pool_conn *pc; /* on an extra connection: its job ends */
	int own_login;	      /* SftpLogin=ftp: no session of ours (0) */
	struct tunnel_ctl *next, **prevp;
};

/* A control connection's number, unique in the process when the owner
 * gave a counter. */
unsigned long tunnel_next_ctl_id(struct tunnel *t);
/* A registry entry for the FTP session on fd (the FTP client's socket of
 * a local tunnel, our connection to the FTP server of a remote one),
 * before fd is handed over. NULL without memory: the session then goes
 * unlisted. */
struct tunnel_ctl *tunnel_ctl_new(const struct fwd_spec *spec, int fd,
				  unsigned long id, const char *tunnel);
/* Lists e at *head (a tunnel's ctls, or an extra connection's). */
void tunnel_ctl_link(struct tunnel_ctl *e, struct tunnel_ctl **head);
/* An ftpfwd_done_cb: the control connection (arg, its entry) ended. */
void tunnel_ctl_done(struct ftp_ctl *k, void *arg);
/* An sftp/ session's entry: served from the SFTP of session s (NULL:
 * each FTP login's own SSH login, to host). */
void tunnel_ctl_sftp(struct tunnel_ctl *e, const struct ssh_sess *s,
		     const char *host);
/* An sftp/ session (arg, its entry) ended. */
void tunnel_ctl_sftp_done(void *arg);
/* A "control" record for each entry from e on, numbered sess_id. */
void tunnel_ctl_report(const struct tunnel_ctl *e, struct statusrep *r,
		       struct report_totals *tot, unsigned long sess_id,
		       uint64_t now);

/* Opens fd's channel on the tunnel's own session (a local tunnel). */
void tunnel_open_local(struct tunnel *t, int fd, const char *peer_host,
		       int peer_port, const char *name);
/* An admitted sftp/ connection's FTP session on the tunnel's own session
 * (or its own login), listed in the tunnel. e: its entry, or NULL. */
void tunnel_adopt_sftp(struct tunnel *t, int fd, uid_t uid, const char *name,
		       struct tunnel_ctl *e);
/* Tells an FTP client (ftp) that the SSH connection is full, then
 * closes fd. */
void tunnel_refuse_full(int fd, int ftp, const char *name);
/* Resets fd, as OpenSSH does when the far end can't be reached. */
void tunnel_reset_close(int fd);

#endif

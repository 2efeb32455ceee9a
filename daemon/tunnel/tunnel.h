/* tunnel.h — tunnels: a local (-L) or remote (-R) forward on one SSH
 * session. Plain ones pump bytes; FTP ones hand each connection to the
 * FTP control-channel glue (ftpfwd.h). */
#ifndef TUNNEL_H
#define TUNNEL_H

#include <netinet/in.h>

#include "connpool.h"
#include "ftpfwd.h" /* FWD_ACTIVE_AUTO */
#include "spec.h"
#include "ssh.h"

struct tunnel;

/* Called once per tunnel when it is up (err NULL) or has failed. */
typedef void (*tunnel_ready_cb)(struct tunnel *t, const char *err, void *arg);

struct tunnel_opts {
	int ftp_active_mode; /* enum ftp_active_mode or FWD_ACTIVE_AUTO */
	/* FtpPassiveAddress=reply: a 227's data connection goes to the
	 * address it names (default 0: to the control connection's server,
	 * at the reply's port). */
	int ftp_passive_reply;
	/* FtpPassiveAhead (default yes): after a passive transfer, ask the
	 * FTP server for the next PASV before the client does (ftp.h). */
	int ftp_passive_ahead;
	/* Optional, borrowed, outliving the tunnel's session: counts the
	 * FTP sessions on it. */
	int *ftp_sessions;
	/* Optional, borrowed (its rehome handoff_rehome): FTP connections to a
	 * local tunnel that arrive while its session carries an FTP session
	 * may go to extra connections with settings ssh_opts (whose
	 * ssh_opts_key is pool_key), unless the session's login asked
	 * somebody for a secret. Needs ftp_sessions. */
	struct connpool *pool;
	const struct ssh_opts *ssh_opts;
	const char *pool_key;
	/* With pool: the pool's connection whose session the tunnel runs
	 * on (connpool_own; the tunnel lives on its worker). The pick is
	 * made on the pool's thread; a session it leaves to the tunnel
	 * comes back to this worker. */
	struct pool_conn *own;
	/* Optional, borrowed, main thread's: numbers the FTP control
	 * connections of every tunnel that shares it (status reports them
	 * by it); without it each tunnel counts its own. */
	unsigned long *ctl_ids;
	/* sftp/ tunnels with SftpLogin=ftp: each FTP login logs in to SSH
	 * itself, with ssh_opts otherwise; the tunnel's session is unused
	 * (may be NULL). -1 until ftpopts_settle (ftpopts.h) decides. */
	int sftp_login_ftp;
};

/* Binds a local tunnel's listeners now (so a port in use is an error at
 * once) or, for a remote tunnel, only records it. NULL with a message in
 * err. The session is borrowed. */
struct tunnel *tunnel_new(struct loop *loop, struct ssh_sess *s,
			  const struct fwd_spec *spec,
			  const struct tunnel_opts *topts, tunnel_ready_cb cb,
			  void *arg, char *err, size_t errlen);
/* Starts accepting (local) or asks the server to listen (remote); call
 * once the session is ready. The callback reports the outcome. */
void tunnel_start(struct tunnel *t);
void tunnel_free(struct tunnel *t);

struct statusrep;
struct report_totals;
/* Adds a STATUS record (report.h) for each FTP control connection the
 * tunnel carries on its own session, numbered sess_id in the report.
 * On the tunnel's thread. */
void tunnel_report(const struct tunnel *t, struct statusrep *r,
		   struct report_totals *tot, unsigned long sess_id);
/* Whether the tunnel is up (listening here or on the server). */
int tunnel_is_up(const struct tunnel *t);

/* "L 127.0.0.1:2121 -> host:21" etc. Borrowed. */
const char *tunnel_name(const struct tunnel *t);
/* The port the server bound for a remote tunnel (0 before it is up). */
int tunnel_bound_port(const struct tunnel *t);

#endif

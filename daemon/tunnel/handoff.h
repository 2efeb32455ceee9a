/* handoff.h — one FTP control connection handed to a pooled SSH
 * connection (connpool.h): the channel to the FTP server opened on the
 * connection's worker, the FTP glue (ftpfwd.h) started on it, the job
 * handed back when an extra connection never logged in. Used by
 * ftp-tunnel -L for its extra connections and by ftp-tunneld's CONNECT;
 * what differs between them (where the FTP client's descriptor comes
 * from, how a refusal reaches the client) is the owner's, in
 * handoff_ops. */
#ifndef HANDOFF_H
#define HANDOFF_H

#include <netinet/in.h>
#include <sys/socket.h>

#include "connpool.h"
#include "ftpfwd.h"
#include "spec.h"
#include "ssh.h"

struct handoff;

struct handoff_ops {
	/* Worker: the channel opened. Returns the descriptor of the FTP
	 * client's side (the glue takes it), or -1 after the owner told its
	 * client why (the channel is then discarded). */
	int (*opened)(struct handoff *h, struct ssh_sess *s);
	/* Worker: the FTP glue runs as k (or k is NULL: it could not start,
	 * and the job is out of the connection's load). The owner keeps k
	 * or arranges, with ftpfwd_control_set_done, that handoff_ctl_done
	 * runs when it ends; it owns h again. */
	void (*started)(struct handoff *h, struct ftp_ctl *k);
	/* Worker: no channel. opening: ssh_open_direct refused it (err is
	 * EAGAIN when the connection carries MaxChannels channels, else
	 * ECONNABORTED); else the SSH server refused the channel (err
	 * ECONNREFUSED, or ECONNABORTED when the connection died; msg is the
	 * server's reason). The job is out of the load; the owner refuses
	 * its client and owns h again. */
	void (*failed)(struct handoff *h, int opening, int err,
		       const char *msg);
	/* Main thread: no connection of the pool takes the job back (after
	 * connpool_handback). The owner gives it a connection of its own or
	 * fails it; it owns h again. */
	void (*orphaned)(struct handoff *h);
};

/* The job, embedded in the owner's: filled by the owner before
 * handoff_post, read-only afterwards but for pc. */
struct handoff {
	const struct handoff_ops *ops;
	struct pool_conn *pc; /* the connection carrying it (worker) */
	struct fwd_spec spec; /* host, hostport: the FTP server */
	int active_mode;      /* as ftpfwd_control_new takes them */
	int passive_reply;
	int passive_ahead;
	/* ftpfwd_control_new's advertise (NULL: none); borrowed from the
	 * owner's job. */
	const struct sockaddr *advertise;
	char origin_host[INET6_ADDRSTRLEN]; /* the channel's originator */
	int origin_port;
	char name[96]; /* "ftp #3", "ctl 12": for the log */
};

/* Main thread: runs h on pc's worker (counted in pc's load). 0, or
 * -ENOMEM: the owner still owns h. */
int handoff_post(struct pool_conn *pc, struct handoff *h);
/* The connpool_ops.rehome of a pool whose jobs are handoffs. */
void handoff_rehome(void *job, struct pool_conn *to, void *arg);
/* An ftpfwd_done_cb: arg is the job's pool_conn (h->pc); the FTP
 * session's end takes it out of the connection's load. */
void handoff_ctl_done(struct ftp_ctl *k, void *arg);

#endif

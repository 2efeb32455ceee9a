/* tunneld.c — the daemon's requests: PING, CONNECT, DATA, PEER, STATUS,
 * STOP. A CONNECT finds (or makes) an SSH connection to its server, opens
 * a channel to the FTP server, makes a loopback TCP connection of the
 * program's family, hands one end to the shim and runs the FTP glue on
 * the other. A DATA hands the shim one end of another such connection and
 * gives the other to the control's waiting passive listener; a PEER says
 * whether the daemon made an active-mode connection the program accepted.
 *
 * Threads: the main thread serves the IPC socket; the SSH connections are
 * a connpool.h pool, each on a worker thread of its own with everything
 * that rides on it (channels, pumps, FTP controls, data listeners,
 * timers). The main thread reaches a connection only by posting jobs to
 * its worker. Concurrent FTP sessions to one server are spread over up to
 * Connections= SSH connections with the same settings. */
#include "tunneld.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "addr.h"
#include "connpool.h"
#include "ftpfwd.h"
#include "ftpopts.h"
#include "ftpsrv.h"
#include "fwd.h"
#include "held.h"
#include "ipc.h"
#include "ipcsock.h"
#include "log.h"
#include "mem.h"
#include "net.h"
#include "report.h"
#include "spec.h"
#include "ssh.h"
#include "sshconfig.h"
#include "statusrep.h"
#include "version.h"

#define MAX_OPTIONS 32
#define SESSION_IDLE_MS (5 * 60 * 1000)

/* A CONNECT waiting for its channel (made by the main thread, then the
 * worker's; back to the main thread if its connection cannot log in). */
struct pending {
	struct pool_conn *pc;
	int client; /* the IPC connection, answered when the channel opens */
	struct sockaddr_storage dst; /* what the program asked for */
	char ftphost[256];
	uint16_t port;
	unsigned long id;
	int sftp; /* answered here from SFTP (docs/IPC.txt, sftp=1) */
	struct tunnel_opts topts; /* its FtpActiveMode, FtpPassiveAddress */
};

/* A live FTP control connection, as `ftp-tunnel status` lists it. Lives
 * on its connection's worker, listed from *connpool_data(). */
struct control {
	struct pool_conn *pc;
	struct ftp_ctl *k; /* a tunneled control connection, or */
	struct ftpsrv *f;  /* an FTP session served from SFTP */
	unsigned long id;
	char dst[80];     /* what the program connect()ed to */
	char ftp[300];    /* the FTP server as the SSH server sees it */
	struct sockaddr_storage dst_sa; /* dst, for DATA and PEER */
	struct control *next;
};

struct tunneld {
	struct loop *loop;
	int lfd;
	int idle_exit_s;
	uint64_t last_activity;
	struct connpool *pool;
	struct held_set *held; /* ftp-tunnel -f's tunnels */
	struct loop_timer *tick;
	unsigned long nconn;
	unsigned long nrequests;
	int nlogins; /* SftpLogin=ftp sessions (each its own SSH login) */
	struct login_sess *logins; /* ... listed for DATA and PEER */
	uint64_t started_ms;
};

static void reply_err(int client, int err, const char *msg)
{
	struct ipc_msg m;

	ipc_init(&m, "ERR");
	ipc_addf(&m, "errno", "%d", err);
	ipc_add(&m, "message", msg);
	ipc_send(client, &m, -1);
}

/* --- connections (on their workers) ---------------------------------- */

static struct control **controls_of(struct pool_conn *pc)
{
	return (struct control **)connpool_data(pc);
}

/* The connection closes: its FTP clients learn why, as from a server
 * shutting down (RFC 959: 421 closes the control connection). */
static void conn_closing(struct pool_conn *pc, int stopping, void *arg)
{
	struct control **controls = controls_of(pc);
	unsigned long n = 0;
	struct control *c;

	(void)arg;
	for (c = *controls; c; c = c->next)
		n++;
	if (n)
		log_info("sess %s: closing %lu FTP control connection(s)",
			 ssh_sess_name(connpool_sess(pc)), n);
	while (*controls) {
		const char *why = stopping ? "421 ftp-tunnel: the tunnel "
					     "daemon is stopping.\r\n"
					   : "421 ftp-tunnel: the SSH "
					     "connection is closing.\r\n";

		if ((*controls)->f)
			/* ftpsrv adds its own line end. */
			ftpsrv_close((*controls)->f,
				     stopping ? "421 ftp-tunnel: the tunnel "
						"daemon is stopping."
					      : "421 ftp-tunnel: the SSH "
						"connection is closing.");
		else
			ftpfwd_control_close((*controls)->k, why);
	}
}

static void conn_dump(struct loop *loop, void *arg)
{
	(void)loop;
	ssh_sess_dump(connpool_sess(arg));
}

/* --- control connections (on the connection's worker) -------------------- */

static void control_done(struct ftp_ctl *k, void *arg)
{
	struct control *c = arg, **pp;

	(void)k;
	for (pp = controls_of(c->pc); *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	connpool_job_done(c->pc);
	free(c);
}

/* Keeps k in the list STATUS reports and counts it in the session's
 * load; without memory it closes k. */
static void control_add(struct ftp_ctl *k, const struct pending *p,
			const char *dst)
{
	struct control *c = calloc(1, sizeof(*c));

	if (!c) {
		ftpfwd_control_close(k, "421 ftp-tunnel: out of memory.\r\n");
		connpool_job_done(p->pc);
		return;
	}
	c->pc = p->pc;
	c->k = k;
	c->id = p->id;
	snprintf(c->dst, sizeof(c->dst), "%s", dst);
	c->dst_sa = p->dst;
	snprintf(c->ftp, sizeof(c->ftp),
		 strchr(p->ftphost, ':') ? "[%s]:%u" : "%s:%u", p->ftphost,
		 p->port);
	c->next = *controls_of(p->pc);
	*controls_of(p->pc) = c;
	ftpfwd_control_set_done(k, control_done, c);
}

/* --- CONNECT ---------------------------------------------------------- */

/* How many connections loopback_pair takes from its listener before its
 * own: a stranger's can only be ahead of ours while the queue (backlog
 * 1, so two) holds them, and ours is queued once connect() returned. */
#define PAIR_ACCEPTS 8

/* A connected pair of TCP sockets on the loopback of `family`: the shim
 * gets *give, the daemon keeps *keep. 0 or -errno.
 * Not socketpair(): the program asked for a TCP socket and gets this one
 * in its place, so it must answer getsockname(), TCP_NODELAY and the
 * like as one. The listener lives for microseconds, but any local user
 * may connect to it (its port is in /proc/net/tcp): the accepted
 * connection is kept only if its peer is our own connecting socket,
 * else a stranger would hold the daemon's end of the FTP control or
 * data connection and our program a dead one. */
static int loopback_pair(int family, int *give, int *keep)
{
	struct sockaddr_storage a, mine, peer;
	socklen_t alen = sizeof(a), mlen = sizeof(mine), plen;
	int l = -1, c = -1, s = -1, rc = 0, i;

	addr_parse(family == AF_INET6 ? "::1" : "127.0.0.1", 0, &a);
	l = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a,
			  addr_len((struct sockaddr *)&a)) < 0 ||
	    listen(l, 1) < 0 || getsockname(l, (struct sockaddr *)&a, &alen) < 0)
		goto fail;
	c = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&a, alen) < 0 ||
	    getsockname(c, (struct sockaddr *)&mine, &mlen) < 0)
		goto fail;
	for (i = 0; i < PAIR_ACCEPTS; i++) {
		plen = sizeof(peer);
		s = accept4(l, (struct sockaddr *)&peer, &plen,
			    SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (s < 0)
			goto fail;
		if (plen == mlen &&
		    addr_port((struct sockaddr *)&peer) ==
			addr_port((struct sockaddr *)&mine) &&
		    addr_same_host((struct sockaddr *)&peer,
				   (struct sockaddr *)&mine))
			break;
		log_warn("loopback pair: refused a connection from another "
			 "socket to the daemon's private listener");
		close(s);
		s = -1;
	}
	if (s < 0) {
		errno = ECONNABORTED;
		goto fail;
	}
	net_nodelay(c);
	net_nodelay(s);
	close(l);
	*give = c;
	*keep = s;
	return 0;
fail:
	rc = -errno;
	if (l >= 0)
		close(l);
	if (c >= 0)
		close(c);
	return rc ? rc : -EIO;
}

/* On the worker: the channel for a CONNECT opened (ch) or failed. */
static void connect_opened(struct ssh_sess *s, LIBSSH2_CHANNEL *ch,
			   const char *err, void *arg)
{
	struct pending *p = arg;
	struct fwd_spec spec;
	struct ipc_msg m;
	struct ftp_ctl *k;
	char name[64], dst[80];
	int give = -1, keep = -1, rc;

	addr_format((struct sockaddr *)&p->dst, dst, sizeof(dst));
	if (!ch) {
		/* The SSH server could not reach the FTP server: the program
		 * sees what a direct connect would have told it. */
		char msg[1600];
		int e = ssh_sess_dead(s) ? ECONNABORTED : ECONNREFUSED;

		if (ssh_sess_dead(s) && connpool_handback(p->pc, p))
			return; /* another connection takes it */

		snprintf(msg, sizeof(msg), "%s", err ? err : "no channel");
		reply_err(p->client, e, msg);
		goto fail;
	}
	rc = loopback_pair(p->dst.ss_family, &give, &keep);
	if (rc < 0) {
		reply_err(p->client, -rc, "cannot make a loopback connection");
		ssh_chan_discard(s, ch);
		goto fail;
	}
	ipc_init(&m, "OK");
	ipc_addf(&m, "id", "%lu", p->id);
	rc = ipc_send(p->client, &m, give);
	close(give);
	if (rc < 0) {
		log_warn("ctl %lu: the program went away before its "
			 "connection was ready",
			 p->id);
		close(keep);
		ssh_chan_discard(s, ch);
		goto fail;
	}
	memset(&spec, 0, sizeof(spec));
	snprintf(spec.host, sizeof(spec.host), "%s", p->ftphost);
	spec.hostport = p->port;
	snprintf(name, sizeof(name), "ctl %lu", p->id);
	log_info("%s: FTP control connection to %s through %s", name, dst,
		 ssh_sess_name(s));
	k = ftpfwd_control_new(s, ch, keep, &spec, p->topts.ftp_active_mode,
			       p->topts.ftp_passive_reply,
			       (struct sockaddr *)&p->dst, name);
	if (!k)
		goto fail;
	control_add(k, p, dst);
	close(p->client);
	free(p);
	return;
fail:
	connpool_job_done(p->pc);
	close(p->client);
	free(p);
}

static void sftp_done(struct ftpsrv *f, void *arg)
{
	struct control *c = arg, **pp;

	(void)f;
	for (pp = controls_of(c->pc); *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	connpool_job_done(c->pc);
	free(c);
}

/* On the worker: a CONNECT with sftp=1. The program gets one end of a
 * loopback connection; the other is an FTP server session here whose
 * files are the SSH server's, through its SFTP subsystem. Nothing is
 * sent to the FTP port: the program's 227 names the address it dialed,
 * and the shim brings its data connection to our loopback listener. */
static void sftp_task(struct pending *p, struct ssh_sess *s)
{
	struct ftpsrv_opts o = {.start_dir = "",
				.peer_uid = getuid(),
				.pasv_addr = (struct sockaddr *)&p->dst};
	struct control *c = calloc(1, sizeof(*c));
	struct ipc_msg m;
	char name[64], dst[80];
	int give = -1, keep = -1, rc;

	addr_format((struct sockaddr *)&p->dst, dst, sizeof(dst));
	rc = c ? loopback_pair(p->dst.ss_family, &give, &keep) : -ENOMEM;
	if (rc < 0) {
		reply_err(p->client, -rc, "cannot make a loopback connection");
		goto fail;
	}
	ipc_init(&m, "OK");
	ipc_addf(&m, "id", "%lu", p->id);
	rc = ipc_send(p->client, &m, give);
	close(give);
	if (rc < 0) {
		close(keep);
		goto fail;
	}
	snprintf(name, sizeof(name), "sftp %lu", p->id);
	log_info("%s: FTP to %s answered from SFTP on %s", name, dst,
		 ssh_sess_name(s));
	c->pc = p->pc;
	c->id = p->id;
	snprintf(c->dst, sizeof(c->dst), "%s", dst);
	c->dst_sa = p->dst; /* DATA and PEER find the session by it */
	snprintf(c->ftp, sizeof(c->ftp), "sftp:%s", ssh_sess_name(s));
	c->f = ftpsrv_new(ssh_sess_loop(s), s, keep, &o, name, sftp_done, c);
	if (!c->f)
		goto fail;
	c->next = *controls_of(p->pc);
	*controls_of(p->pc) = c;
	close(p->client);
	free(p);
	return;
fail:
	free(c);
	connpool_job_done(p->pc);
	close(p->client);
	free(p);
}

/* SftpLogin=ftp through the shim: the settings each FTP login's SSH
 * connection is made with (the user and password are the login's). */
struct login_sess {
	struct tunneld *d;
	struct ssh_opts o;
	struct ftpsrv *f;
	struct sockaddr_storage dst; /* what the program dialed */
	struct login_sess *next, **prevp;
};

static void login_done(struct ftpsrv *f, void *arg)
{
	struct login_sess *ls = arg;

	(void)f;
	ls->d->nlogins--;
	*ls->prevp = ls->next;
	if (ls->next)
		ls->next->prevp = ls->prevp;
	ssh_opts_release(&ls->o);
	free(ls);
}

/* On the main thread: an FTP session whose USER and PASS log in to SSH
 * themselves (ftpsrv.h), never on a connection another login made.
 * Takes o's strings (o is left empty) and p. */
static void sftp_login_start(struct tunneld *d, struct pending *p,
			     struct ssh_opts *o)
{
	struct login_sess *ls = calloc(1, sizeof(*ls));
	struct ftpsrv_opts fo = {.start_dir = "",
				 .peer_uid = getuid(),
				 .pasv_addr = (struct sockaddr *)&p->dst};
	struct ipc_msg m;
	char name[64], dst[80];
	int give = -1, keep = -1, rc;

	addr_format((struct sockaddr *)&p->dst, dst, sizeof(dst));
	rc = ls ? loopback_pair(p->dst.ss_family, &give, &keep) : -ENOMEM;
	if (rc < 0) {
		reply_err(p->client, -rc, "cannot make a loopback connection");
		goto fail;
	}
	ipc_init(&m, "OK");
	ipc_addf(&m, "id", "%lu", p->id);
	rc = ipc_send(p->client, &m, give);
	close(give);
	if (rc < 0) {
		close(keep);
		goto fail;
	}
	ls->d = d;
	ls->o = *o;
	ssh_opts_init(o); /* its strings are ls's now */
	ls->dst = p->dst;
	fo.login_opts = &ls->o;
	snprintf(name, sizeof(name), "sftp %lu", p->id);
	log_info("%s: FTP to %s answered from SFTP, the FTP login's own SSH "
		 "login to %s",
		 name, dst, ls->o.host);
	ls->f = ftpsrv_new(d->loop, NULL, keep, &fo, name, login_done, ls);
	if (!ls->f) {
		ssh_opts_release(&ls->o);
		free(ls);
		ls = NULL;
	} else {
		d->nlogins++;
		ls->next = d->logins;
		if (ls->next)
			ls->next->prevp = &ls->next;
		ls->prevp = &d->logins;
		d->logins = ls;
	}
	close(p->client);
	free(p);
	return;
fail:
	free(ls);
	ssh_opts_release(o);
	close(p->client);
	free(p);
}

/* On the worker: a CONNECT handed over by the main thread. */
static void connect_task(struct pool_conn *pc, void *job)
{
	struct pending *p = job;
	struct ssh_sess *s = connpool_sess(pc);
	long rc;

	p->pc = pc;
	if (p->sftp) {
		if (ssh_sess_dead(s) && connpool_handback(pc, p))
			return;
		sftp_task(p, s);
		return;
	}
	log_debug("ctl %lu: CONNECT port %u via %s (sess %lu)", p->id, p->port,
		  ssh_sess_name(s), connpool_id(pc));
	rc = ssh_open_direct(s, p->ftphost, p->port, "127.0.0.1", 0,
			     connect_opened, p);
	if (rc >= 0)
		return; /* answered when the channel opens */
	if (rc == -ENOTCONN && connpool_handback(pc, p))
		return;
	reply_err(p->client, rc == -EMFILE ? EAGAIN : ECONNABORTED,
		  rc == -EMFILE ? "the SSH connection carries as many "
				  "channels as MaxChannels allows; try "
				  "again later"
				: "the SSH session is down");
	connpool_job_done(pc);
	close(p->client);
	free(p);
}

/* On the main thread: a CONNECT whose extra connection could not log in
 * goes to another connection to its server, or fails as it would have. */
static void connect_rehome(void *job, struct pool_conn *to, void *arg)
{
	struct pending *p = job;

	(void)arg;
	if (to && connpool_post(to, connect_task, p) == 0)
		return;
	reply_err(p->client, ECONNABORTED, "the SSH session is down");
	close(p->client);
	free(p);
}

static const struct connpool_ops connect_pool_ops = {
    .rehome = connect_rehome,
    .closing = conn_closing,
};

static void handle_connect(struct tunneld *d, int client,
			   const struct ipc_msg *req)
{
	char family[16], dst[80], port[8], via[512], opt[1024];
	char key[CONNPOOL_KEY_MAX], err[1200];
	struct ssh_opts o;
	struct pending *p;
	struct pool_conn *pc;
	int i;

	ssh_opts_init(&o);
	if (ipc_get(req, "family", 0, family, sizeof(family)) ||
	    ipc_get(req, "dst", 0, dst, sizeof(dst)) ||
	    ipc_get(req, "port", 0, port, sizeof(port)) ||
	    ipc_get(req, "via", 0, via, sizeof(via))) {
		reply_err(client, EINVAL, "CONNECT needs family, dst, port, via");
		goto fail;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		reply_err(client, ENOMEM, "out of memory");
		goto fail;
	}
	ftpopts_init(&p->topts);
	p->client = client;
	p->port = (uint16_t)atoi(port);
	p->id = ++d->nconn;
	if (addr_parse(dst, p->port, &p->dst) < 0 ||
	    (strcmp(family, "inet") == 0 && p->dst.ss_family != AF_INET)) {
		reply_err(client, EINVAL, "bad dst or family");
		free(p);
		goto fail;
	}
	if (strcmp(family, "inet6") == 0 && p->dst.ss_family == AF_INET) {
		/* The program's socket is IPv6: give it an IPv6 socket. */
		struct sockaddr_in6 m6 = {.sin6_family = AF_INET6,
					  .sin6_port = htons(p->port)};
		struct sockaddr_in *v4 = (struct sockaddr_in *)&p->dst;

		m6.sin6_addr.s6_addr[10] = m6.sin6_addr.s6_addr[11] = 0xff;
		memcpy(&m6.sin6_addr.s6_addr[12], &v4->sin_addr, 4);
		memcpy(&p->dst, &m6, sizeof(m6));
	}
	if (ipc_get(req, "ftphost", 0, p->ftphost, sizeof(p->ftphost)))
		snprintf(p->ftphost, sizeof(p->ftphost), "%s", dst);
	{
		char v[8];

		p->sftp = ipc_get(req, "sftp", 0, v, sizeof(v)) == 0 &&
			  !strcmp(v, "1");
	}
	if (p->sftp && !via[0]) {
		/* ftp-tunnel-wrap --sftp without --via: the host the
		 * program dialed is the SSH server, port 22 (or ssh_config's
		 * Port for it). */
		char name[256];

		if (ipc_get(req, "name", 0, name, sizeof(name)) == 0 && name[0])
			snprintf(via, sizeof(via), "%s", name);
		else
			snprintf(via, sizeof(via),
				 strchr(p->ftphost, ':') ? "[%s]" : "%s",
				 p->ftphost);
	}
	if (ssh_opts_set_dest(&o, via) < 0) {
		reply_err(client, EINVAL, "bad via (expected [user@]host[:port])");
		free(p);
		goto fail;
	}
	/* The request's options win over via's user and port (as the
	 * shim's Route blocks document), then ssh_config fills the rest. */
	for (i = 0; i < MAX_OPTIONS &&
		    ipc_get(req, "option", i, opt, sizeof(opt)) == 0;
	     i++) {
		int rc = ftpopts_set(&p->topts, opt, err, sizeof(err));

		if (rc < 0 ||
		    (rc == 1 && ssh_opts_set(&o, opt, err, sizeof(err)) < 0)) {
			reply_err(client, EINVAL, err);
			free(p);
			goto fail;
		}
	}
	if (sshconfig_load(&o, err, sizeof(err)) < 0) {
		log_warn("ctl %lu: %s", p->id, err);
		reply_err(client, EINVAL, err);
		free(p);
		goto fail;
	}
	if (p->sftp && p->topts.sftp_login_ftp) {
		/* Each FTP login its own SSH connection: no pool. */
		sftp_login_start(d, p, &o);
		return;
	}
	/* Requests whose settings come out the same share connections. */
	ssh_opts_key(&o, key, sizeof(key));
	pc = connpool_pick(d->pool, &o, key, -1);
	if (!pc) {
		reply_err(client, ENOMEM, "out of memory");
		free(p);
		goto fail;
	}
	log_debug("ctl %lu: CONNECT %s port %u, sess %lu", p->id, dst, p->port,
		  connpool_id(pc));
	if (connpool_post(pc, connect_task, p) < 0) {
		reply_err(client, ENOMEM, "out of memory");
		free(p);
		goto fail;
	}
	ssh_opts_release(&o);
	return; /* the worker answers */
fail:
	ssh_opts_release(&o);
	close(client);
}

/* --- DATA and PEER: the shim's data connections ---------------------- */

/* What a DATA or PEER request looks for, and what it found. */
struct data_job {
	struct sockaddr_storage dst;	     /* DATA: the FTP server asked */
	uint16_t port;			     /* DATA: its data port */
	int fd;				     /* DATA: our end of the pair */
	struct sockaddr_storage local, peer; /* PEER: the accepted socket */
	struct pool_conn *pc;
	int found;
	struct sockaddr_storage server; /* PEER: its control's dst */
};

/* On the worker: the control to job->dst whose passive listener waits on
 * job->port takes job->fd. */
static void data_task(struct loop *loop, void *arg)
{
	struct data_job *j = arg;
	struct control *c;

	(void)loop;
	for (c = *controls_of(j->pc); c && !j->found; c = c->next)
		if (addr_same_host((struct sockaddr *)&c->dst_sa,
				   (struct sockaddr *)&j->dst) &&
		    (c->k ? ftpfwd_data_adopt(c->k, j->port, j->fd)
			  : ftpsrv_data_adopt(c->f, j->port, j->fd)) == 0)
			j->found = 1;
}

/* On the worker: whether a control made the connection job->peer ->
 * job->local (the program accepted it). */
static void peer_task(struct loop *loop, void *arg)
{
	struct data_job *j = arg;
	struct control *c;

	(void)loop;
	for (c = *controls_of(j->pc); c && !j->found; c = c->next) {
		if (c->k ? ftpfwd_data_made(c->k, (struct sockaddr *)&j->peer,
					    (struct sockaddr *)&j->local)
			 : ftpsrv_data_made(c->f, (struct sockaddr *)&j->peer,
					    (struct sockaddr *)&j->local)) {
			j->found = 1;
			j->server = c->dst_sa;
		}
	}
}

/* On the main thread: DATA or PEER for the SftpLogin=ftp sessions, which
 * live here, outside the pool. */
static void data_job_logins(struct tunneld *d, struct data_job *j)
{
	struct login_sess *ls;

	for (ls = d->logins; ls && !j->found; ls = ls->next) {
		if (j->fd >= 0) {
			j->found =
			    addr_same_host((struct sockaddr *)&ls->dst,
					   (struct sockaddr *)&j->dst) &&
			    ftpsrv_data_adopt(ls->f, j->port, j->fd) == 0;
		} else if (ftpsrv_data_made(ls->f, (struct sockaddr *)&j->peer,
					    (struct sockaddr *)&j->local)) {
			j->found = 1;
			j->server = ls->dst;
		}
	}
}

static void data_job_of(struct pool_conn *pc, void *arg)
{
	struct data_job *j = arg;

	if (j->found)
		return;
	j->pc = pc;
	connpool_call(pc, j->fd >= 0 ? data_task : peer_task, j);
}

/* Reads key (an address) and key's port (portkey) into out. 0 or -1. */
static int get_addr(const struct ipc_msg *req, const char *key,
		    const char *portkey, struct sockaddr_storage *out)
{
	char host[80], port[8];
	long p;

	if (ipc_get(req, key, 0, host, sizeof(host)) ||
	    ipc_get(req, portkey, 0, port, sizeof(port)))
		return -1;
	p = strtol(port, NULL, 10);
	if (p <= 0 || p > 65535)
		return -1;
	return addr_parse(host, (uint16_t)p, out);
}

/* DATA: the program's connect() to a data port of a tunneled FTP server
 * gets one end of a loopback pair whose other end the waiting passive
 * listener takes as its connection. Never a connection to a port anybody
 * else could listen on. */
static void handle_data(struct tunneld *d, int client,
			const struct ipc_msg *req)
{
	char family[16], where[80];
	struct data_job j;
	struct ipc_msg m;
	int give = -1, rc;

	memset(&j, 0, sizeof(j));
	j.fd = -1;
	if (ipc_get(req, "family", 0, family, sizeof(family)) ||
	    (strcmp(family, "inet") && strcmp(family, "inet6")) ||
	    get_addr(req, "dst", "port", &j.dst) < 0) {
		reply_err(client, EINVAL, "DATA needs family, dst, port");
		close(client);
		return;
	}
	j.port = addr_port((struct sockaddr *)&j.dst);
	rc = loopback_pair(strcmp(family, "inet") ? AF_INET6 : AF_INET, &give,
			   &j.fd);
	if (rc < 0) {
		reply_err(client, -rc, "cannot make a loopback connection");
		close(client);
		return;
	}
	connpool_each(d->pool, data_job_of, &j);
	data_job_logins(d, &j);
	addr_format((struct sockaddr *)&j.dst, where, sizeof(where));
	if (!j.found) {
		log_warn("ipc: no data listener of ours waits for %s: "
			 "connection refused",
			 where);
		close(j.fd);
		close(give);
		reply_err(client, ECONNREFUSED,
			  "no FTP data connection of a tunneled session waits "
			  "on that port");
		close(client);
		return;
	}
	log_debug("ipc: data connection to %s passed to the program", where);
	ipc_init(&m, "OK");
	if (ipc_send(client, &m, give) < 0)
		log_warn("ipc: the program went away before its data "
			 "connection to %s was ready",
			 where);
	close(give);
	close(client);
}

/* PEER: whether a connection the program accepted is an active-mode data
 * connection we made; if so, which FTP server it stands for. */
static void handle_peer(struct tunneld *d, int client,
			const struct ipc_msg *req)
{
	char server[80];
	struct data_job j;
	struct ipc_msg m;

	memset(&j, 0, sizeof(j));
	j.fd = -1;
	if (get_addr(req, "local", "lport", &j.local) < 0 ||
	    get_addr(req, "peer", "pport", &j.peer) < 0) {
		reply_err(client, EINVAL,
			  "PEER needs local, lport, peer, pport");
		close(client);
		return;
	}
	connpool_each(d->pool, data_job_of, &j);
	data_job_logins(d, &j);
	if (!j.found) {
		reply_err(client, ENOENT, "not a data connection of ours");
		close(client);
		return;
	}
	ipc_init(&m, "OK");
	ipc_add(
	    &m, "server",
	    addr_host((struct sockaddr *)&j.server, server, sizeof(server)));
	ipc_send(client, &m, -1);
	close(client);
}

/* --- the IPC socket --------------------------------------------------- */

static unsigned long long age_s(uint64_t now_ms, uint64_t since_ms)
{
	return (now_ms - since_ms) / 1000;
}

/* One session's part of a STATUS reply, written by its worker while the
 * main thread waits (so r and the totals have one user at a time). */
struct status_job {
	struct pool_conn *pc;
	struct statusrep *r;
	struct report_totals tot;
	char line[600]; /* format 1: "name state" */
};

/* A control record, then one record per running data connection. */
static void status_control(struct status_job *j, const struct control *c,
			   uint64_t now)
{
	struct report_ctl rc = {.id = c->id,
				.session = connpool_id(j->pc),
				.dst = c->dst,
				.ftp_server = c->ftp};

	report_control(j->r, &j->tot, &rc, c->k, now);
}

/* On the worker: its session and controls into j->r (format 2), or its
 * one line into j->line (format 1, j->r NULL). */
static void status_task(struct loop *loop, void *arg)
{
	struct status_job *j = arg;
	struct ssh_sess *s = connpool_sess(j->pc);
	const struct control *c;

	if (!j->r) {
		snprintf(j->line, sizeof(j->line), "%s %s", ssh_sess_name(s),
			 ssh_sess_dead(s)    ? "dead"
			 : ssh_sess_ready(s) ? "ready"
					     : "connecting");
		return;
	}
	report_session(j->r, &j->tot, connpool_id(j->pc), s,
		       loop_now_ms(loop));
	for (c = *controls_of(j->pc); c; c = c->next)
		status_control(j, c, loop_now_ms(loop));
}

/* Adds one connection's records to j (format 2). */
static void status_records_of(struct pool_conn *pc, void *arg)
{
	struct status_job *j = arg;

	j->pc = pc;
	connpool_call(pc, status_task, j);
}

/* Format 2 (docs/IPC.txt): records, for `ftp-tunnel status [--json]`. */
static void status_records(struct tunneld *d, int client)
{
	struct statusrep r;
	struct status_job j;

	memset(&j, 0, sizeof(j));
	j.r = &r;
	statusrep_init(&r, client);
	statusrep_record(&r, "daemon");
	statusrep_add(&r, "pid", "%d", (int)getpid());
	statusrep_add(&r, "version", "%s", FTP_TUNNEL_VERSION);
	statusrep_add(&r, "uptime", "%llu",
		      age_s(loop_now_ms(d->loop), d->started_ms));
	statusrep_add(&r, "connections", "%lu", d->nconn);
	statusrep_add(&r, "requests", "%lu", d->nrequests);
	connpool_each(d->pool, status_records_of, &j);
	held_status(d->held, &r);
	report_totals(&r, &j.tot);
	if (statusrep_finish(&r) < 0)
		log_debug("ipc: the STATUS reply was not read");
	close(client);
}

/* Adds one connection's line to a format 1 reply. */
static void status_line_of(struct pool_conn *pc, void *arg)
{
	struct status_job j;

	memset(&j, 0, sizeof(j));
	j.pc = pc;
	connpool_call(pc, status_task, &j);
	ipc_add(arg, "session", j.line);
}

static void handle_status(struct tunneld *d, int client,
			  const struct ipc_msg *req)
{
	struct ipc_msg m;
	char format[8];

	if (ipc_get(req, "format", 0, format, sizeof(format)) == 0 &&
	    atoi(format) >= 2) {
		status_records(d, client);
		return;
	}
	/* Format 1, for clients that ask for nothing else. */
	ipc_init(&m, "OK");
	ipc_addf(&m, "pid", "%d", (int)getpid());
	ipc_addf(&m, "connections", "%lu", d->nconn);
	connpool_each(d->pool, status_line_of, &m);
	ipc_send(client, &m, -1);
	close(client);
}

static void accept_cb(struct loop *loop, int lfd, uint32_t events, void *arg)
{
	struct tunneld *d = arg;

	(void)events;
	for (;;) {
		struct timeval tv = {.tv_sec = 2};
		struct ipc_msg req, m;
		char word[32];
		int uid, passed, client = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (client < 0) {
			net_accept_failed(loop, lfd, "ipc");
			return;
		}
		d->last_activity = loop_now_ms(loop);
		/* Only our own user: another uid gets nothing, not even an
		 * error message. */
		if (!ipcsock_peer_is_us(client, &uid)) {
			log_warn("ipc: refused a connection from uid %d", uid);
			close(client);
			continue;
		}
		/* A request follows its connect at once; don't let a stuck
		 * peer hold the daemon for long. */
		setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (ipc_recv(client, &req, &passed) < 0 ||
		    ipc_word(&req, word, sizeof(word)) < 0) {
			if (passed >= 0)
				close(passed);
			close(client);
			continue;
		}
		if (passed >= 0)
			close(passed); /* no request passes descriptors */
		d->nrequests++;
		if (!strcmp(word, "PING")) {
			ipc_init(&m, "OK");
			ipc_add(&m, "version", "1");
			ipc_add(&m, "revision", "2");
			ipc_addf(&m, "pid", "%d", (int)getpid());
			ipc_send(client, &m, -1);
			close(client);
		} else if (!strcmp(word, "CONNECT")) {
			handle_connect(d, client, &req);
		} else if (!strcmp(word, "DATA")) {
			handle_data(d, client, &req);
		} else if (!strcmp(word, "PEER")) {
			handle_peer(d, client, &req);
		} else if (!strcmp(word, "HOLD")) {
			held_hold(d->held, client, &req);
		} else if (!strcmp(word, "RELEASE")) {
			held_release(d->held, client, &req);
		} else if (!strcmp(word, "STATUS")) {
			handle_status(d, client, &req);
		} else if (!strcmp(word, "STOP")) {
			/* The pid lets the client wait until we are gone. */
			ipc_init(&m, "OK");
			ipc_addf(&m, "pid", "%d", (int)getpid());
			ipc_send(client, &m, -1);
			close(client);
			log_info("stopping on request");
			loop_stop(loop);
			return;
		} else {
			reply_err(client, EOPNOTSUPP, "unknown request");
			close(client);
		}
	}
}

static void tick_cb(struct loop *loop, void *arg)
{
	struct tunneld *d = arg;

	if (d->idle_exit_s > 0 && !connpool_count(d->pool) &&
	    !held_count(d->held) && !d->nlogins &&
	    loop_now_ms(loop) - d->last_activity >=
		(uint64_t)d->idle_exit_s * 1000) {
		log_info("idle for %d s: exiting", d->idle_exit_s);
		loop_stop(loop);
		return;
	}
	loop_timer_arm(d->tick, 1000);
}

struct tunneld *tunneld_new(struct loop *loop, int listen_fd, int idle_exit_s)
{
	struct tunneld *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->loop = loop;
	d->lfd = listen_fd;
	d->idle_exit_s = idle_exit_s;
	d->last_activity = loop_now_ms(loop);
	d->started_ms = d->last_activity;
	d->tick = loop_timer_new(loop, tick_cb, d);
	d->held = held_new(loop);
	d->pool = connpool_new(loop, &connect_pool_ops, d, SESSION_IDLE_MS);
	if (!d->tick || !d->held || !d->pool ||
	    loop_watch(loop, listen_fd, EPOLLIN, accept_cb, d) < 0) {
		loop_timer_free(d->tick);
		held_free(d->held);
		connpool_free(d->pool);
		free(d);
		return NULL;
	}
	loop_timer_arm(d->tick, 1000);
	return d;
}

static void dump_one(struct pool_conn *pc, void *arg)
{
	(void)arg;
	connpool_call(pc, conn_dump, pc);
}

/* Each connection's state goes into the log from its own thread. */
void tunneld_dump(struct tunneld *d)
{
	connpool_each(d->pool, dump_one, NULL);
	mem_log_stats();
}

void tunneld_free(struct tunneld *d)
{
	if (!d)
		return;
	loop_unwatch(d->loop, d->lfd);
	close(d->lfd);
	connpool_free(d->pool); /* conn_closing tells the FTP clients */
	held_free(d->held);
	loop_timer_free(d->tick);
	free(d);
}

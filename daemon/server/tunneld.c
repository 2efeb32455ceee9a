/* tunneld.c — the daemon's requests: PING, CONNECT, DATA, PEER, STOP,
 * and HOLD, RELEASE and STATUS handed to held.c and statusreq.c. A CONNECT
 * finds (or makes) an SSH connection to its server, opens a channel to the FTP
 * server, makes a loopback TCP connection of the program's family, hands one
 * end to the shim and runs the FTP glue on the other. A DATA hands the shim one
 * end of another such connection and gives the other to the control's waiting
 * passive listener; a PEER says whether the daemon made an active-mode
 * connection the program accepted.
 *
 * Threads: the main thread serves the IPC socket, never waiting for a
 * client or a worker; the SSH connections are
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
#include <unistd.h>

#include "addr.h"
#include "connpool.h"
#include "ftpfwd.h"
#include "ftpopts.h"
#include "ftpsrv.h"
#include "tunnel.h"
#include "handoff.h"
#include "control.h"
#include "held.h"
#include "ipc.h"
#include "ipcserve.h"
#include "log.h"
#include "logins.h"
#include "mem.h"
#include "net.h"
#include "spec.h"
#include "ssh.h"
#include "sshconfig.h"
#include "statusreq.h"
#include "worker.h"

#define MAX_OPTIONS 32
/* A client has this long to send its whole request (and to read a
 * reply), and at most this many connections are in hand at a time. */
#define REQ_WAIT_MS 2000
#define REQ_MAX_CONNS 128
#define SESSION_IDLE_MS (5 * 60 * 1000)

/* A CONNECT waiting for its channel (made by the main thread, then the
 * worker's; back to the main thread if its connection cannot log in). */
struct connect_req {
	struct handoff h; /* first: the job the pool carries */
	int client; /* the IPC connection, answered when the channel opens */
	struct sockaddr_storage dst; /* what the program asked for */
	char dst_name[80];	     /* dst, formatted */
	char ftphost[256];
	uint16_t port;
	unsigned long id;
	struct tunnel_opts topts; /* its FtpActiveMode, FtpPassiveAddress,
				   * SftpLogin */
	int sftp; /* answered here from SFTP (docs/IPC.txt, sftp=1) */
};

struct tunneld {
	struct loop *loop;
	int lfd;
	int idle_exit_s;
	uint64_t last_activity;
	struct connpool *pool;
	struct held_set *held;	       /* ftp-tunnel -f's tunnels */
	struct statusreq_set *reports; /* STATUS requests being answered */
	struct taskq *q;	       /* DATA and PEER answers from workers */
	struct data_job *data_jobs;    /* DATA and PEER requests in flight */
	struct ipcserve *srv;	       /* the IPC socket's connections */
	struct loop_timer *tick;
	unsigned long nconn;
	unsigned long nrequests;
	struct login_set *logins; /* SftpLogin=ftp sessions */
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

static void conn_dump(struct loop *loop, void *arg)
{
	(void)loop;
	ssh_sess_dump(connpool_sess(arg));
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
	if (l < 0 ||
	    bind(l, (struct sockaddr *)&a, addr_len((struct sockaddr *)&a)) <
		0 ||
	    listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &alen) < 0)
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

/* Answers p's CONNECT with one end of a new loopback connection; the
 * other end, for the FTP session here, or -1 (the program has its
 * error, or its socket is gone). */
static int give_loopback_pair(struct connect_req *p)
{
	struct ipc_msg m;
	int give = -1, keep = -1, rc;

	rc = loopback_pair(p->dst.ss_family, &give, &keep);
	if (rc < 0) {
		reply_err(p->client, -rc, "cannot make a loopback connection");
		return -1;
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
		return -1;
	}
	return keep;
}

/* On the worker: the channel is open; the program gets its end of a
 * loopback connection, the FTP glue the other. */
static int connect_opened(struct handoff *h, struct ssh_sess *s)
{
	struct connect_req *p = (struct connect_req *)h;
	int keep = give_loopback_pair(p);

	if (keep < 0)
		return -1;
	log_info("%s: FTP control connection to %s through %s", h->name,
		 p->dst_name, ssh_sess_name(s));
	return keep;
}

/* On the worker: the FTP glue runs (k), or could not start. */
static void connect_started(struct handoff *h, struct ftp_ctl *k)
{
	struct connect_req *p = (struct connect_req *)h;

	if (k)
		control_add(h->pc, k, p->id, (struct sockaddr *)&p->dst,
			    p->ftphost, p->port);
	close(p->client);
	free(p);
}

/* On the worker: no channel; the program sees what a direct connect
 * would have told it. */
static void connect_failed(struct handoff *h, int opening, int err,
			   const char *msg)
{
	struct connect_req *p = (struct connect_req *)h;

	(void)opening;
	reply_err(p->client, err, msg);
	close(p->client);
	free(p);
}

/* On the main thread: a CONNECT whose extra connection could not log in
 * and that no other connection to its server took fails as it would
 * have. */
static void connect_orphaned(struct handoff *h)
{
	struct connect_req *p = (struct connect_req *)h;

	reply_err(p->client, ECONNABORTED, "the SSH session is down");
	close(p->client);
	free(p);
}

/* --- CONNECT with sftp=1: answered here from SFTP ---------------------- */

/* On the worker: a CONNECT with sftp=1. The program gets one end of a
 * loopback connection; the other is an FTP server session here whose
 * files are the SSH server's, through its SFTP subsystem (control.h).
 * Nothing is sent to the FTP port: the program's 227 names the address
 * it dialed, and the shim's DATA brings its data connection to the
 * session's listener. */
static void sftp_task(struct connect_req *p, struct ssh_sess *s)
{
	char name[64];
	int keep = give_loopback_pair(p);

	if (keep < 0) {
		connpool_job_done(p->h.pc);
		goto out;
	}
	snprintf(name, sizeof(name), "sftp %lu", p->id);
	log_info("%s: FTP to %s answered from SFTP on %s", name, p->dst_name,
		 ssh_sess_name(s));
	control_add_sftp(p->h.pc, keep, p->id, (struct sockaddr *)&p->dst,
			 name);
out:
	close(p->client);
	free(p);
}

/* On the worker: the job of a CONNECT with sftp=1 (no channel to open:
 * the sftp subsystem is the session's). */
static void sftp_run(struct pool_conn *pc, void *job)
{
	struct connect_req *p = job;
	struct ssh_sess *s = connpool_sess(pc);

	p->h.pc = pc;
	if (ssh_sess_dead(s) && connpool_handback(pc, p))
		return; /* another connection takes it */
	sftp_task(p, s);
}

static void connect_orphaned(struct handoff *h);

/* The pool's rehome: a CONNECT job whose extra connection could not log
 * in goes to another connection, the way it came. */
static void connect_rehome(void *job, struct pool_conn *to, void *arg)
{
	struct connect_req *p = job;

	if (!p->sftp) {
		handoff_rehome(job, to, arg);
		return;
	}
	if (to && connpool_post(to, sftp_run, p) == 0)
		return;
	connect_orphaned(&p->h);
}

/* SftpLogin=ftp through the shim: the program gets its end of a
 * loopback connection; the other is a login session's (logins.h), never
 * on a connection another login made. Takes o's strings (o is left
 * empty) and p. */
static void sftp_login_start(struct tunneld *d, struct connect_req *p,
			     struct ssh_opts *o)
{
	char name[64];
	int keep = give_loopback_pair(p);

	snprintf(name, sizeof(name), "sftp %lu", p->id);
	if (keep >= 0)
		logins_start(d->logins, keep, o, (struct sockaddr *)&p->dst,
			     name);
	ssh_opts_release(o);
	close(p->client);
	free(p);
}

static const struct handoff_ops connect_ops = {
    .opened = connect_opened,
    .started = connect_started,
    .failed = connect_failed,
    .orphaned = connect_orphaned,
};

static const struct connpool_ops connect_pool_ops = {
    .rehome = connect_rehome,
    .closing = control_closing,
};

/* An IPv4 destination for a program whose socket is IPv6: the
 * program gets an IPv6 socket, so the address becomes v4-mapped. */
static void map_v4_to_v6(struct sockaddr_storage *dst, uint16_t port)
{
	struct sockaddr_in6 m6 = {.sin6_family = AF_INET6,
				  .sin6_port = htons(port)};
	struct sockaddr_in *v4 = (struct sockaddr_in *)dst;

	m6.sin6_addr.s6_addr[10] = m6.sin6_addr.s6_addr[11] = 0xff;
	memcpy(&m6.sin6_addr.s6_addr[12], &v4->sin_addr, 4);
	memcpy(dst, &m6, sizeof(m6));
}

/* A CONNECT's job from the request's family, dst, port, ftphost and
 * sftp; dst (the text) and via are copied out for the next steps. NULL
 * after refusing the client (the caller closes it). */
static struct connect_req *connect_req_new(struct tunneld *d, int client,
					   const struct ipc_msg *req, char *dst,
					   size_t dstlen, char *via,
					   size_t vialen)
{
	char family[16], port[8], v[8];
	struct connect_req *p;

	if (ipc_get(req, "family", 0, family, sizeof(family)) ||
	    ipc_get(req, "dst", 0, dst, dstlen) ||
	    ipc_get(req, "port", 0, port, sizeof(port)) ||
	    ipc_get(req, "via", 0, via, vialen)) {
		reply_err(client, EINVAL,
			  "CONNECT needs family, dst, port, via");
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		reply_err(client, ENOMEM, "out of memory");
		return NULL;
	}
	ftpopts_init(&p->topts);
	p->client = client;
	p->port = (uint16_t)atoi(port);
	p->id = ++d->nconn;
	if (addr_parse(dst, p->port, &p->dst) < 0 ||
	    (strcmp(family, "inet") == 0 && p->dst.ss_family != AF_INET)) {
		reply_err(client, EINVAL, "bad dst or family");
		free(p);
		return NULL;
	}
	if (strcmp(family, "inet6") == 0 && p->dst.ss_family == AF_INET)
		map_v4_to_v6(&p->dst, p->port);
	if (ipc_get(req, "ftphost", 0, p->ftphost, sizeof(p->ftphost)))
		snprintf(p->ftphost, sizeof(p->ftphost), "%s", dst);
	p->sftp = ipc_get(req, "sftp", 0, v, sizeof(v)) == 0 && !strcmp(v, "1");
	return p;
}

/* ftp-tunnel-wrap --sftp without --via: the host the program dialed is
 * the SSH server, port 22 (or ssh_config's Port for it). */
static void sftp_default_via(const struct connect_req *p,
			     const struct ipc_msg *req, char *via,
			     size_t vialen)
{
	char name[256];

	if (ipc_get(req, "name", 0, name, sizeof(name)) == 0 && name[0])
		snprintf(via, vialen, "%s", name);
	else
		snprintf(via, vialen, strchr(p->ftphost, ':') ? "[%s]" : "%s",
			 p->ftphost);
}

/* The SSH settings of a CONNECT into o: via, then the request's options
 * (they win over via's user and port, as the shim's Route blocks
 * document), then ssh_config for the rest. 0, or -1 after refusing the
 * client. */
static int connect_settings(struct connect_req *p, const struct ipc_msg *req,
			    const char *via, struct ssh_opts *o)
{
	char opt[1024], err[1200];
	int i;

	if (ssh_opts_set_dest(o, via) < 0) {
		reply_err(p->client, EINVAL,
			  "bad via (expected [user@]host[:port])");
		return -1;
	}
	for (i = 0; i < MAX_OPTIONS &&
		    ipc_get(req, "option", i, opt, sizeof(opt)) == 0;
	     i++) {
		int rc = ftpopts_set(&p->topts, opt, err, sizeof(err));

		if (rc < 0 ||
		    (rc == 1 && ssh_opts_set(o, opt, err, sizeof(err)) < 0)) {
			reply_err(p->client, EINVAL, err);
			return -1;
		}
	}
	if (sshconfig_load(o, err, sizeof(err)) < 0) {
		log_warn("ctl %lu: %s", p->id, err);
		reply_err(p->client, EINVAL, err);
		return -1;
	}
	return 0;
}

/* The job onto pc: answered there from SFTP, or through a channel to the
 * FTP server. 0, or -ENOMEM (p is still the caller's). */
static int connect_post(struct connect_req *p, struct pool_conn *pc)
{
	if (p->sftp)
		return connpool_post(pc, sftp_run, p);
	p->h.ops = &connect_ops;
	snprintf(p->h.spec.host, sizeof(p->h.spec.host), "%s", p->ftphost);
	p->h.spec.hostport = p->port;
	p->h.active_mode = p->topts.ftp_active_mode;
	p->h.passive_reply = p->topts.ftp_passive_reply;
	p->h.passive_ahead = p->topts.ftp_passive_ahead;
	p->h.advertise = (struct sockaddr *)&p->dst;
	snprintf(p->h.origin_host, sizeof(p->h.origin_host), "127.0.0.1");
	snprintf(p->h.name, sizeof(p->h.name), "ctl %lu", p->id);
	return handoff_post(pc, &p->h);
}

/* CONNECT: the program's FTP control connection, through a pooled SSH
 * connection to the FTP server, or answered from SFTP. */
static void handle_connect(struct tunneld *d, int client,
			   const struct ipc_msg *req)
{
	char dst[80], via[512], key[CONNPOOL_KEY_MAX];
	struct ssh_opts o;
	struct connect_req *p;
	struct pool_conn *pc;

	ssh_opts_init(&o);
	p = connect_req_new(d, client, req, dst, sizeof(dst), via, sizeof(via));
	if (!p)
		goto fail;
	if (p->sftp && !via[0])
		sftp_default_via(p, req, via, sizeof(via));
	if (connect_settings(p, req, via, &o) < 0)
		goto fail;
	addr_format((struct sockaddr *)&p->dst, p->dst_name,
		    sizeof(p->dst_name));
	/* No SSH user from via, the options or ssh_config: each FTP
	 * login is its own (unless SftpLogin says otherwise). */
	ftpopts_settle(&p->topts, &o);
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
		goto fail;
	}
	log_debug("ctl %lu: CONNECT %s port %u, sess %lu", p->id, dst, p->port,
		  connpool_id(pc));
	if (connect_post(p, pc) < 0) {
		reply_err(client, ENOMEM, "out of memory");
		goto fail;
	}
	ssh_opts_release(&o);
	return; /* the worker answers */
fail:
	free(p);
	ssh_opts_release(&o);
	close(client);
}

/* --- DATA and PEER: the shim's data connections ---------------------- */

/* A DATA or PEER request: what it looks for and what it found. The
 * main thread asks one connection's worker at a time, newest first, and
 * goes on when the answer comes back: it never waits for a worker. */
struct data_job {
	struct tunneld *d;
	int client;			     /* owned until answered */
	int fd;				     /* DATA: our end of the pair */
	int give;			     /* DATA: the program's end */
	struct sockaddr_storage dst;	     /* DATA: the FTP server asked */
	uint16_t port;			     /* DATA: its data port */
	struct sockaddr_storage local, peer; /* PEER: the accepted socket */
	struct pool_conn *pc;		     /* the one being asked */
	unsigned long below;		     /* ask those numbered below */
	int logins_asked;		     /* the SftpLogin=ftp sessions */
	int found;
	struct sockaddr_storage server; /* PEER: its control's dst */
	struct data_job *next, **prevp; /* in flight, for tunneld_free */
};

static void data_job_free(struct data_job *j)
{
	*j->prevp = j->next;
	if (j->next)
		j->next->prevp = j->prevp;
	if (j->fd >= 0 && !j->found)
		close(j->fd); /* else a data listener took it */
	if (j->give >= 0)
		close(j->give);
	close(j->client);
	free(j);
}

/* On the worker: the control to job->dst whose passive listener waits on
 * job->port takes job->fd. */
static void data_task(struct loop *loop, void *arg)
{
	struct data_job *j = arg;
	struct control *c;

	(void)loop;
	for (c = control_list(j->pc); c && !j->found; c = c->next)
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
	for (c = control_list(j->pc); c && !j->found; c = c->next) {
		if (c->k ? ftpfwd_data_made(c->k, (struct sockaddr *)&j->peer,
					    (struct sockaddr *)&j->local)
			 : ftpsrv_data_made(c->f, (struct sockaddr *)&j->peer,
					    (struct sockaddr *)&j->local)) {
			j->found = 1;
			j->server = c->dst_sa;
		}
	}
}

static void data_back(struct loop *loop, void *arg);

/* On the worker: asks its controls, then tells the main thread. */
static void data_ask_task(struct loop *loop, void *arg)
{
	struct data_job *j = arg;

	if (j->fd >= 0)
		data_task(loop, j);
	else
		peer_task(loop, j);
	/* Without memory for the queue's entry the request is never
	 * answered; the program's own timeout ends its wait. */
	if (taskq_post(j->d->q, data_back, j) < 0)
		log_err("ipc: DATA/PEER: out of memory");
}

/* On the SftpLogin=ftp sessions' thread: asks them, then tells the main
 * thread. */
static void logins_ask_task(struct loop *loop, void *arg)
{
	struct data_job *j = arg;
	struct login_set *set = j->d->logins;

	(void)loop;
	if (j->fd >= 0)
		j->found = logins_data_adopt(set, (struct sockaddr *)&j->dst,
					     j->port, j->fd) == 0;
	else
		j->found =
		    logins_data_made(set, (struct sockaddr *)&j->peer,
				     (struct sockaddr *)&j->local, &j->server);
	if (taskq_post(j->d->q, data_back, j) < 0)
		log_err("ipc: DATA/PEER: out of memory");
}

/* The live connection numbered highest below j->below. */
static void newest_below(struct pool_conn *pc, void *arg)
{
	struct data_job *j = arg;

	if (connpool_id(pc) < j->below &&
	    (!j->pc || connpool_id(pc) > connpool_id(j->pc)))
		j->pc = pc;
}

static void data_answer(struct data_job *j);

/* Asks the next connection, or answers when none is left. The
 * SftpLogin=ftp sessions are asked first. */
static void data_next(struct data_job *j)
{
	if (!j->logins_asked) {
		j->logins_asked = 1;
		if (logins_ask(j->d->logins, logins_ask_task, j) == 0)
			return;
	}
	for (;;) {
		j->pc = NULL;
		connpool_each(j->d->pool, newest_below, j);
		if (!j->pc)
			break;
		j->below = connpool_id(j->pc);
		if (connpool_ask(j->pc, data_ask_task, j) == 0)
			return;
	}
	data_answer(j);
}

static void data_back(struct loop *loop, void *arg)
{
	struct data_job *j = arg;

	(void)loop;
	if (j->found)
		data_answer(j);
	else
		data_next(j);
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

static struct data_job *data_job_new(struct tunneld *d, int client)
{
	struct data_job *j = calloc(1, sizeof(*j));

	if (!j) {
		reply_err(client, ENOMEM, "out of memory");
		close(client);
		return NULL;
	}
	j->d = d;
	j->client = client;
	j->fd = j->give = -1;
	j->below = ~0UL;
	j->next = d->data_jobs;
	if (j->next)
		j->next->prevp = &j->next;
	j->prevp = &d->data_jobs;
	d->data_jobs = j;
	return j;
}

/* Every connection was asked, or one said yes. */
static void data_answer(struct data_job *j)
{
	char where[80], server[80];
	struct ipc_msg m;

	if (j->fd < 0) { /* PEER */
		if (!j->found) {
			reply_err(j->client, ENOENT,
				  "not a data connection of ours");
		} else {
			ipc_init(&m, "OK");
			ipc_add(&m, "server",
				addr_host((struct sockaddr *)&j->server, server,
					  sizeof(server)));
			ipc_send(j->client, &m, -1);
		}
		data_job_free(j);
		return;
	}
	addr_format((struct sockaddr *)&j->dst, where, sizeof(where));
	if (!j->found) {
		log_warn("ipc: no data listener of ours waits for %s: "
			 "connection refused",
			 where);
		reply_err(j->client, ECONNREFUSED,
			  "no FTP data connection of a tunneled session waits "
			  "on that port");
		data_job_free(j);
		return;
	}
	log_debug("ipc: data connection to %s passed to the program", where);
	ipc_init(&m, "OK");
	if (ipc_send(j->client, &m, j->give) < 0)
		log_warn("ipc: the program went away before its data "
			 "connection to %s was ready",
			 where);
	data_job_free(j);
}

/* DATA: the program's connect() to a data port of a tunneled FTP server
 * gets one end of a loopback pair whose other end the waiting passive
 * listener takes as its connection. Never a connection to a port anybody
 * else could listen on. */
static void handle_data(struct tunneld *d, int client,
			const struct ipc_msg *req)
{
	char family[16];
	struct data_job *j = data_job_new(d, client);
	int rc;

	if (!j)
		return;
	if (ipc_get(req, "family", 0, family, sizeof(family)) ||
	    (strcmp(family, "inet") && strcmp(family, "inet6")) ||
	    get_addr(req, "dst", "port", &j->dst) < 0) {
		reply_err(client, EINVAL, "DATA needs family, dst, port");
		data_job_free(j);
		return;
	}
	j->port = addr_port((struct sockaddr *)&j->dst);
	rc = loopback_pair(strcmp(family, "inet") ? AF_INET6 : AF_INET,
			   &j->give, &j->fd);
	if (rc < 0) {
		reply_err(client, -rc, "cannot make a loopback connection");
		data_job_free(j);
		return;
	}
	data_next(j);
}

/* PEER: whether a connection the program accepted is an active-mode data
 * connection we made; if so, which FTP server it stands for. */
static void handle_peer(struct tunneld *d, int client,
			const struct ipc_msg *req)
{
	struct data_job *j = data_job_new(d, client);

	if (!j)
		return;
	if (get_addr(req, "local", "lport", &j->local) < 0 ||
	    get_addr(req, "peer", "pport", &j->peer) < 0) {
		reply_err(client, EINVAL,
			  "PEER needs local, lport, peer, pport");
		data_job_free(j);
		return;
	}
	data_next(j);
}

/* --- the IPC socket --------------------------------------------------- */

static void handle_ping(int client)
{
	struct ipc_msg m;

	ipc_init(&m, "OK");
	ipc_add(&m, "version", "1");
	ipc_add(&m, "revision", "2");
	ipc_addf(&m, "pid", "%d", (int)getpid());
	ipc_send(client, &m, -1);
	close(client);
}

static void handle_status(struct tunneld *d, int client,
			  const struct ipc_msg *req)
{
	struct statusreq_daemon rd = {
	    .pool = d->pool,
	    .started_ms = d->started_ms,
	    .nconn = d->nconn,
	    .nrequests = d->nrequests,
	};

	statusreq_answer(d->reports, &rd, client, req);
}

static void handle_stop(struct tunneld *d, int client)
{
	struct ipc_msg m;

	/* The pid lets the client wait until we are gone. */
	ipc_init(&m, "OK");
	ipc_addf(&m, "pid", "%d", (int)getpid());
	ipc_send(client, &m, -1);
	close(client);
	log_info("stopping on request");
	loop_stop(d->loop);
}

/* The request on client: answered now, or handed to what answers it
 * later (client owned from here). */
static void dispatch(int client, const struct ipc_msg *req, void *arg)
{
	struct tunneld *d = arg;
	char word[32];

	if (ipc_word(req, word, sizeof(word)) < 0) {
		close(client);
		return;
	}
	d->nrequests++;
	if (!strcmp(word, "PING"))
		handle_ping(client);
	else if (!strcmp(word, "CONNECT"))
		handle_connect(d, client, req);
	else if (!strcmp(word, "DATA"))
		handle_data(d, client, req);
	else if (!strcmp(word, "PEER"))
		handle_peer(d, client, req);
	else if (!strcmp(word, "HOLD"))
		held_hold(d->held, client, req);
	else if (!strcmp(word, "RELEASE"))
		held_release(d->held, client, req);
	else if (!strcmp(word, "STATUS"))
		handle_status(d, client, req);
	else if (!strcmp(word, "STOP"))
		handle_stop(d, client);
	else {
		reply_err(client, EOPNOTSUPP, "unknown request");
		close(client);
	}
}

/* Any connection, even one refused, counts as activity. */
static void accepted(void *arg)
{
	struct tunneld *d = arg;

	d->last_activity = loop_now_ms(d->loop);
}

static const struct ipcserve_ops serve_ops = {.request = dispatch,
					      .accepted = accepted};
/* Requests are read without waiting (ipcserve.h); the replies are small
 * and written at once, or, for STATUS, without blocking either
 * (statusreq.c); the socket timeouts bound a peer that reads nothing. */
static const struct ipcserve_limits serve_limits = {.what = "ipc",
						    .max_conns = REQ_MAX_CONNS,
						    .request_ms = REQ_WAIT_MS,
						    .blocking_ms = REQ_WAIT_MS};

static void tick_cb(struct loop *loop, void *arg)
{
	struct tunneld *d = arg;

	if (d->idle_exit_s > 0 && !connpool_count(d->pool) &&
	    !held_count(d->held) && !logins_count(d->logins) &&
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
	d->srv = ipcserve_new(loop, listen_fd, &serve_ops, &serve_limits, d);
	d->reports =
	    d->held && d->srv ? statusreq_set_new(loop, d->held, d->srv) : NULL;
	d->q = taskq_new(loop);
	d->pool = connpool_new(loop, &connect_pool_ops, d, SESSION_IDLE_MS);
	d->logins = logins_new();
	if (!d->tick || !d->held || !d->srv || !d->reports || !d->q ||
	    !d->pool || !d->logins) {
		logins_free(d->logins);
		ipcserve_free(d->srv);
		loop_timer_free(d->tick);
		statusreq_set_free(d->reports);
		held_free(d->held);
		connpool_free(d->pool);
		taskq_free(d->q);
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
	ipcserve_free(d->srv); /* requests being read, replies written */
	close(d->lfd);
	connpool_free(d->pool); /* control_closing tells the FTP clients */
	logins_free(d->logins);
	/* After the pool and the logins: no worker writes a STATUS part or
	 * answers a DATA or PEER any more. */
	statusreq_set_free(d->reports);
	taskq_free(d->q);
	while (d->data_jobs)
		data_job_free(d->data_jobs);
	held_free(d->held);
	loop_timer_free(d->tick);
	free(d);
}

/* tunnel.c — local and remote forwards. A local tunnel listens here and opens
 * a direct-tcpip channel per connection; a remote tunnel asks the server
 * for a tcpip-forward and connects each forwarded-tcpip channel to its
 * destination from here. */
#include "tunnel.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "ftpfwd.h"
#include "handoff.h"
#include "log.h"
#include "net.h"
#include "pump.h"
#include "report.h"
#include "sftp_tunnel.h"

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
	struct fwd_ctl *ctls;	     /* its FTP sessions on its own session */
};

/* An FTP control connection a tunnel carries, as `ftp-tunnel status`
 * lists it. Listed in its tunnel (on the tunnel's own session, main
 * thread) or in its extra connection's connpool_data (that worker's). */
struct fwd_ctl {
	struct ftp_ctl *k;
	unsigned long id;
	char client[80];      /* the FTP client's address, "" when not ours */
	char dst[300];	      /* what the FTP client connected to */
	char ftp[300];	      /* the FTP server, as the SSH server reaches it */
	const char *tunnel;   /* its tunnel's name, borrowed: the tunnel
			       * outlives every report */
	int *sessions;	      /* the FTP session counter, or NULL */
	struct pool_conn *pc; /* on an extra connection: its job ends */
	struct fwd_ctl *next, **prevp;
};

/* A connection waiting for its other half: a local client waiting for its
 * channel to open, or a forwarded channel waiting for its local connect. */
struct half_open {
	struct tunnel *t;
	int fd;
	LIBSSH2_CHANNEL *ch;
	long req; /* a local one's channel open */
	char name[96];
	struct half_open *next, **prevp;
};

/* Half-open connections stay listed in their tunnel so that tunnel_free can end
 * the ones whose other half never came. */
static struct half_open *half_open_new(struct tunnel *t)
{
	struct half_open *pd = calloc(1, sizeof(*pd));

	if (!pd)
		return NULL;
	pd->t = t;
	pd->fd = -1;
	pd->next = t->half_open;
	if (pd->next)
		pd->next->prevp = &pd->next;
	pd->prevp = &t->half_open;
	t->half_open = pd;
	return pd;
}

static void half_open_free(struct half_open *pd)
{
	*pd->prevp = pd->next;
	if (pd->next)
		pd->next->prevp = pd->prevp;
	free(pd);
}

const char *tunnel_name(const struct tunnel *t)
{
	return t->name;
}

int tunnel_is_up(const struct tunnel *t)
{
	return t->up;
}

/* A control connection's number, unique in the process when the owner
 * gave a counter (main thread only). */
static unsigned long next_ctl_id(struct tunnel *t)
{
	return t->topts.ctl_ids ? ++*t->topts.ctl_ids : t->nconn;
}

/* A registry entry for the FTP session on fd (the FTP client's socket of
 * a local tunnel, our connection to the FTP server of a remote one),
 * before fd is handed over. NULL without memory: the session then goes
 * unlisted. */
static struct fwd_ctl *fwd_ctl_new(const struct fwd_spec *spec, int fd,
				   unsigned long id, const char *tunnel)
{
	struct fwd_ctl *e = calloc(1, sizeof(*e));
	struct sockaddr_storage a;
	socklen_t alen = sizeof(a);

	if (!e)
		return NULL;
	e->id = id;
	e->tunnel = tunnel;
	snprintf(e->ftp, sizeof(e->ftp),
		 strchr(spec->host, ':') ? "[%s]:%u" : "%s:%u", spec->host,
		 spec->hostport);
	if (spec->remote) {
		/* The FTP client is on the SSH server's side. */
		snprintf(e->dst, sizeof(e->dst), "%s:%u (on the SSH server)",
			 spec->bind[0] ? spec->bind : "localhost", spec->port);
		return e;
	}
	if (getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
		addr_format((struct sockaddr *)&a, e->dst, sizeof(e->dst));
	alen = sizeof(a);
	if (getpeername(fd, (struct sockaddr *)&a, &alen) == 0)
		addr_format((struct sockaddr *)&a, e->client,
			    sizeof(e->client));
	return e;
}

static void fwd_ctl_link(struct fwd_ctl *e, struct fwd_ctl **head)
{
	e->next = *head;
	if (e->next)
		e->next->prevp = &e->next;
	e->prevp = head;
	*head = e;
}

static void fwd_ctl_unlink(struct fwd_ctl *e)
{
	*e->prevp = e->next;
	if (e->next)
		e->next->prevp = e->prevp;
}

/* The control connection ended: out of the list, out of the counts. */
static void fwd_ctl_done(struct ftp_ctl *k, void *arg)
{
	struct fwd_ctl *e = arg;

	(void)k;
	fwd_ctl_unlink(e);
	if (e->sessions)
		(*e->sessions)--;
	if (e->pc)
		connpool_job_done(e->pc);
	free(e);
}

static void report_list(const struct fwd_ctl *e, struct statusrep *r,
			struct report_totals *tot, unsigned long sess_id,
			uint64_t now)
{
	for (; e; e = e->next) {
		struct report_ctl c = {.id = e->id,
				       .session = sess_id,
				       .dst = e->dst,
				       .ftp_server = e->ftp,
				       .client = e->client,
				       .tunnel = e->tunnel};

		report_control(r, tot, &c, e->k, now);
	}
}

void tunnel_report(const struct tunnel *t, struct statusrep *r,
		   struct report_totals *tot, unsigned long sess_id)
{
	report_list(t->ctls, r, tot, sess_id, loop_now_ms(t->loop));
}

int tunnel_bound_port(const struct tunnel *t)
{
	return t->bound_port;
}

/* FTP sessions on the tunnel's own session, counted from the accept
 * (a local one) or the connect (a remote one) to the end. */
static void ftp_session_begins(struct tunnel *t)
{
	if (t->topts.ftp_sessions)
		(*t->topts.ftp_sessions)++;
}

/* arg: the counter, or NULL when nobody counts. */
static void ftp_session_ends(struct ftp_ctl *k, void *arg)
{
	int *n = arg;

	(void)k;
	if (n)
		(*n)--;
}

/* Both halves are there: pump plain bytes, or run the FTP glue. For a
 * remote tunnel the FTP client is on the channel side. */
static void connect_halves(struct tunnel *t, int fd, LIBSSH2_CHANNEL *ch,
			   const char *name)
{
	if (t->spec.ftp) {
		struct fwd_ctl *e =
		    fwd_ctl_new(&t->spec, fd, next_ctl_id(t), t->name);
		struct ftp_ctl *k = ftpfwd_control_new(
		    t->s, ch, fd, &t->spec, t->topts.ftp_active_mode,
		    t->topts.ftp_passive_reply, t->topts.ftp_passive_ahead,
		    NULL, name);

		if (!k) {
			log_warn("%s: cannot start FTP session", name);
			if (!t->spec.remote)
				ftp_session_ends(NULL, t->topts.ftp_sessions);
			free(e);
			return;
		}
		if (t->spec.remote)
			ftp_session_begins(t);
		if (!e) {
			ftpfwd_control_set_done(k, ftp_session_ends,
						t->topts.ftp_sessions);
			return;
		}
		e->k = k;
		e->sessions = t->topts.ftp_sessions;
		fwd_ctl_link(e, &t->ctls);
		ftpfwd_control_set_done(k, fwd_ctl_done, e);
		return;
	}
	if (!pump_new(t->s, ch, fd, name, NULL, NULL))
		log_warn("%s: out of memory", name);
}

/* --- local tunnels ---------------------------------------------------- */

/* Reset, as OpenSSH does when the far end can't be reached. */
static void reset_close(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* Tells an FTP client why, in its own terms (RFC 959: 421 closes the
 * control connection), then closes fd. */
static void refuse_full(int fd, int ftp, const char *name)
{
	static const char full[] =
	    "421 ftp-tunnel: the SSH connection carries as many channels as "
	    "MaxChannels allows; try again later.\r\n";

	if (ftp &&
	    send(fd, full, sizeof(full) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("%s: %s", name, strerror(errno));
	close(fd);
}

static void local_opened(struct ssh_sess *s, LIBSSH2_CHANNEL *ch,
			 const char *err, void *arg)
{
	struct half_open *pd = arg;

	(void)s;
	if (!ch) {
		log_warn("%s: %s", pd->name, err);
		reset_close(pd->fd);
		if (pd->t->spec.ftp)
			ftp_session_ends(NULL, pd->t->topts.ftp_sessions);
	} else {
		connect_halves(pd->t, pd->fd, ch, pd->name);
	}
	half_open_free(pd);
}

/* Opens fd's channel on the tunnel's own session. */
static void open_local(struct tunnel *t, int fd, const char *peer_host,
		       int peer_port, const char *name)
{
	struct half_open *pd = half_open_new(t);

	if (!pd) {
		close(fd);
		return;
	}
	pd->fd = fd;
	snprintf(pd->name, sizeof(pd->name), "%s", name);
	if (t->spec.ftp)
		ftp_session_begins(t);
	pd->req = ssh_open_direct(t->s, t->spec.host, t->spec.hostport,
				  peer_host, peer_port, local_opened, pd);
	if (pd->req < 0) {
		if (t->spec.ftp)
			ftp_session_ends(NULL, t->topts.ftp_sessions);
		refuse_full(fd, t->spec.ftp, name);
		half_open_free(pd);
	}
}

/* --- local FTP sessions on extra connections (connpool.h) ------------- */

/* An FTP client's connection on its way to an extra connection. The
 * tunnel is the main thread's: the worker reads only the job's copies. */
struct spread_job {
	struct handoff h; /* first: the job the pool carries */
	struct tunnel *t;
	int fd;
	unsigned long id;  /* its control connection's number */
	struct fwd_ctl *e; /* its registry entry (worker) */
};

/* On the worker: the channel is open; the FTP client's socket goes to the
 * glue, listed for STATUS first (its addresses are read before). */
static int spread_opened(struct handoff *h, struct ssh_sess *s)
{
	struct spread_job *j = (struct spread_job *)h;

	(void)s;
	j->e = fwd_ctl_new(&h->spec, j->fd, j->id, j->t->name);
	return j->fd;
}

/* Worker: the FTP sessions on pc, from its connpool_data slot. */
static struct fwd_ctl **ctls_of(struct pool_conn *pc)
{
	return (struct fwd_ctl **)connpool_data(pc);
}

static void spread_started(struct handoff *h, struct ftp_ctl *k)
{
	struct spread_job *j = (struct spread_job *)h;

	if (k && j->e) {
		j->e->k = k;
		j->e->pc = h->pc;
		fwd_ctl_link(j->e, ctls_of(h->pc));
		ftpfwd_control_set_done(k, fwd_ctl_done, j->e);
	} else if (k) {
		ftpfwd_control_set_done(k, handoff_ctl_done, h->pc);
	} else {
		free(j->e);
	}
	free(j);
}

static void spread_failed(struct handoff *h, int opening, int err,
			  const char *msg)
{
	struct spread_job *j = (struct spread_job *)h;

	(void)err;
	if (opening) {
		refuse_full(j->fd, 1, h->name);
	} else {
		log_warn("%s: %s", h->name, msg);
		reset_close(j->fd);
	}
	free(j);
}

/* No extra connection took it: the tunnel's own session does. */
static void spread_orphaned(struct handoff *h)
{
	struct spread_job *j = (struct spread_job *)h;

	open_local(j->t, j->fd, h->origin_host, h->origin_port, h->name);
	free(j);
}

static const struct handoff_ops spread_ops = {
    .opened = spread_opened,
    .started = spread_started,
    .failed = spread_failed,
    .orphaned = spread_orphaned,
};

const struct connpool_ops tunnel_pool_ops = {.rehome = handoff_rehome};

/* --- sftp/ sessions on extra connections ------------------------------- */

struct sftp_job {
	struct pool_conn *pc;
	int fd;
	uid_t uid;
	char start_dir[1024];
	char name[96];
};

static void sftp_job_done(void *arg)
{
	connpool_job_done(arg);
}

/* On the worker: the FTP session on its connection. A connection that
 * cannot log in answers the client 421 (extra connections log in without
 * asking anybody, as the first one did: see spread_sftp). */
static void sftp_job_run(struct pool_conn *pc, void *job)
{
	struct sftp_job *j = job;
	struct ssh_sess *s = connpool_sess(pc);

	log_debug("%s: through %s", j->name, ssh_sess_name(s));
	if (sftp_tunnel_serve(ssh_sess_loop(s), s, j->fd, j->start_dir, j->uid,
			      j->name, sftp_job_done, pc) < 0) {
		log_warn("%s: cannot start the FTP session", j->name);
		connpool_job_done(pc);
	}
	free(j);
}

/* Gives an admitted sftp/ connection to an extra connection when the
 * pool picks one: concurrent FTP sessions then spread over SSH
 * connections, each a core's worth of libssh2. 1 when it took fd. */
static int spread_sftp(struct tunnel *t, int fd, uid_t uid, const char *name)
{
	struct sftp_job *j;
	struct pool_conn *pc;

	if (!t->topts.pool || sftp_tunnel_has_own_login(t->sftp) ||
	    ssh_sess_login_typed(t->s))
		return 0;
	pc = connpool_pick(t->topts.pool, t->topts.ssh_opts, t->topts.pool_key,
			   sftp_tunnel_sessions(t->sftp));
	if (!pc)
		return 0;
	j = calloc(1, sizeof(*j));
	if (!j)
		return 0;
	j->fd = fd;
	j->uid = uid;
	snprintf(j->start_dir, sizeof(j->start_dir), "%s",
		 sftp_tunnel_start_dir(t->sftp));
	snprintf(j->name, sizeof(j->name), "%s", name);
	if (connpool_post(pc, sftp_job_run, j) < 0) {
		free(j);
		return 0;
	}
	log_debug("%s: to sess %lu", name, connpool_id(pc));
	return 1;
}

/* One extra connection's part of a report, written on its worker while
 * the main thread waits. */
struct pool_report {
	struct pool_conn *pc;
	struct statusrep *r;
	struct report_totals *tot;
	unsigned long id_base;
};

static void pool_report_task(struct loop *loop, void *arg)
{
	struct pool_report *j = arg;
	unsigned long id = connpool_id(j->pc) + j->id_base;

	report_session(j->r, j->tot, id, connpool_sess(j->pc),
		       loop_now_ms(loop));
	report_list(*ctls_of(j->pc), j->r, j->tot, id, loop_now_ms(loop));
}

static void pool_report_of(struct pool_conn *pc, void *arg)
{
	struct pool_report *j = arg;

	j->pc = pc;
	connpool_call(pc, pool_report_task, j);
}

void tunnel_pool_report(struct connpool *pool, struct statusrep *r,
			struct report_totals *tot, unsigned long id_base)
{
	struct pool_report j = {.r = r, .tot = tot, .id_base = id_base};

	if (pool)
		connpool_each(pool, pool_report_of, &j);
}

/* Gives an FTP client's connection to an extra connection when the pool
 * picks one. 1 when it took fd, 0 when the tunnel's own session should
 * carry it: no pool, a login somebody typed for, or the pick. */
static int spread(struct tunnel *t, int fd, const char *peer_host,
		  int peer_port, const char *name)
{
	struct spread_job *j;
	struct pool_conn *pc;

	if (!t->topts.pool || !t->topts.ftp_sessions ||
	    ssh_sess_login_typed(t->s))
		return 0;
	pc = connpool_pick(t->topts.pool, t->topts.ssh_opts, t->topts.pool_key,
			   *t->topts.ftp_sessions);
	if (!pc)
		return 0;
	j = calloc(1, sizeof(*j));
	if (!j)
		return 0;
	j->t = t;
	j->fd = fd;
	j->h.ops = &spread_ops;
	j->h.spec = t->spec;
	j->h.active_mode = t->topts.ftp_active_mode;
	j->h.passive_reply = t->topts.ftp_passive_reply;
	j->h.passive_ahead = t->topts.ftp_passive_ahead;
	snprintf(j->h.name, sizeof(j->h.name), "%s", name);
	snprintf(j->h.origin_host, sizeof(j->h.origin_host), "%s", peer_host);
	j->h.origin_port = peer_port;
	j->id = next_ctl_id(t);
	if (handoff_post(pc, &j->h) < 0) {
		free(j);
		return 0;
	}
	log_debug("%s: to sess %lu", name, connpool_id(pc));
	return 1;
}

static void local_accept_cb(struct loop *loop, int lfd, uint32_t events,
			    void *arg)
{
	struct tunnel *t = arg;

	(void)events;
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		char peername[64], host[INET6_ADDRSTRLEN], name[96];
		int port, fd = accept4(lfd, (struct sockaddr *)&peer, &plen,
				       SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			net_accept_failed(loop, lfd, t->name);
			return;
		}
		net_nodelay(fd);
		snprintf(name, sizeof(name), "%s #%lu",
			 t->spec.ftp ? "ftp" : "fwd", ++t->nconn);
		log_debug("%s: connection from %s on %s", name,
			  addr_format((struct sockaddr *)&peer, peername,
				      sizeof(peername)),
			  t->name);
		if (t->sftp) {
			uid_t uid;

			snprintf(name, sizeof(name), "sftp #%lu", t->nconn);
			if (t->topts.pool &&
			    !sftp_tunnel_has_own_login(t->sftp)) {
				if (sftp_tunnel_admit(t->sftp, fd, name, &uid) <
				    0)
					continue;
				if (spread_sftp(t, fd, uid, name))
					continue;
				sftp_tunnel_adopt(t->sftp, fd, uid, name);
				continue;
			}
			sftp_tunnel_accept(t->sftp, fd, name);
			continue;
		}
		addr_host((struct sockaddr *)&peer, host, sizeof(host));
		port = addr_port((struct sockaddr *)&peer);
		if (t->spec.ftp && spread(t, fd, host, port, name))
			continue;
		open_local(t, fd, host, port, name);
	}
}

static int bind_one(struct tunnel *t, const struct sockaddr *sa,
		    socklen_t salen, char *err, size_t errlen)
{
	char where[80];
	int one = 1;
	int fd = socket(sa->sa_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, sa, salen) < 0 || listen(fd, 128) < 0)
		goto fail;
	t->lfds[t->nlfds++] = fd;
	return 0;
fail:
	snprintf(err, errlen, "cannot listen on %s: %s",
		 addr_format(sa, where, sizeof(where)), strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int bind_local(struct tunnel *t, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE};
	struct addrinfo *res = NULL, *ai;
	const char *node = t->spec.bind;
	char port[8];
	int rc;

	snprintf(port, sizeof(port), "%u", t->spec.port);
	if (!node[0] || !strcmp(node, "localhost")) {
		/* Loopback by default, both families where available. */
		struct sockaddr_storage a;

		addr_parse("127.0.0.1", t->spec.port, &a);
		if (bind_one(t, (struct sockaddr *)&a,
			     addr_len((struct sockaddr *)&a), err, errlen) < 0)
			return -1;
		addr_parse("::1", t->spec.port, &a);
		if (bind_one(t, (struct sockaddr *)&a,
			     addr_len((struct sockaddr *)&a), err,
			     errlen) < 0 &&
		    errno != EADDRNOTAVAIL && errno != EAFNOSUPPORT)
			return -1;
		return 0;
	}
	if (!strcmp(node, "*"))
		node = NULL;
	rc = getaddrinfo(node, port, &hints, &res);
	if (rc) {
		snprintf(err, errlen, "cannot resolve bind address %s: %s",
			 t->spec.bind, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai && t->nlfds < MAX_LISTENERS; ai = ai->ai_next)
		if (bind_one(t, ai->ai_addr, ai->ai_addrlen, err, errlen) < 0) {
			freeaddrinfo(res);
			return -1;
		}
	freeaddrinfo(res);
	return t->nlfds ? 0 : -1;
}

/* --- remote tunnels --------------------------------------------------- */

static void remote_connected(struct loop *loop, int fd, uint32_t events,
			     void *arg)
{
	struct half_open *pd = arg;
	int soerr = net_connect_result(fd);

	(void)events;
	loop_unwatch(loop, fd);
	if (soerr) {
		log_warn("%s: cannot connect to %s port %u: %s", pd->name,
			 pd->t->spec.host, pd->t->spec.hostport,
			 strerror(soerr));
		close(fd);
		ssh_chan_discard(pd->t->s, pd->ch);
	} else {
		connect_halves(pd->t, fd, pd->ch, pd->name);
	}
	half_open_free(pd);
}

static void remote_accept(struct ssh_sess *s, LIBSSH2_CHANNEL *ch, void *arg)
{
	struct tunnel *t = arg;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	struct half_open *pd = half_open_new(t);
	char port[8];
	int fd = -1, rc;

	if (!pd)
		goto fail;
	pd->ch = ch;
	snprintf(pd->name, sizeof(pd->name), "%s #%lu",
		 t->spec.ftp ? "rftp" : "rfwd", ++t->nconn);
	snprintf(port, sizeof(port), "%u", t->spec.hostport);
	rc = getaddrinfo(t->spec.host, port, &hints, &res);
	if (rc) {
		log_warn("%s: cannot resolve %s: %s", pd->name, t->spec.host,
			 gai_strerror(rc));
		goto fail;
	}
	fd = net_connect_start(res->ai_addr, res->ai_addrlen);
	if (fd < 0) {
		log_warn("%s: cannot connect to %s port %u: %s", pd->name,
			 t->spec.host, t->spec.hostport, strerror(-fd));
		goto fail;
	}
	freeaddrinfo(res);
	res = NULL;
	pd->fd = fd;
	if (loop_watch(t->loop, fd, EPOLLOUT, remote_connected, pd) < 0)
		goto fail;
	return;
fail:
	if (res)
		freeaddrinfo(res);
	if (fd >= 0)
		close(fd);
	if (pd)
		half_open_free(pd);
	ssh_chan_discard(s, ch);
}

static void remote_listening(struct ssh_sess *s, LIBSSH2_LISTENER *l,
			     int bound_port, const char *err, void *arg)
{
	struct tunnel *t = arg;

	(void)s;
	t->listen_req = 0;
	if (!l) {
		t->cb(t, err, t->arg);
		return;
	}
	t->rlistener = l;
	t->bound_port = bound_port;
	t->up = 1;
	if (t->spec.port == 0)
		log_warn("Allocated port %d for remote forward to %s:%u",
			 bound_port, t->spec.host, t->spec.hostport);
	t->cb(t, NULL, t->arg);
}

/* --- tunnels ---------------------------------------------------------- */

struct tunnel *tunnel_new(struct loop *loop, struct ssh_sess *s,
			  const struct fwd_spec *spec,
			  const struct tunnel_opts *topts, tunnel_ready_cb cb,
			  void *arg, char *err, size_t errlen)
{
	struct tunnel *t = calloc(1, sizeof(*t));

	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->loop = loop;
	t->s = s;
	t->spec = *spec;
	t->topts = *topts;
	t->cb = cb;
	t->arg = arg;
	if (spec->sftp && topts->sftp_login_ftp)
		snprintf(t->name, sizeof(t->name),
			 "-L sftp/%.100s%s%u -> (FTP user)@%.200s:%.200s",
			 spec->bind, spec->bind[0] ? ":" : "", spec->port,
			 topts->ssh_opts->host,
			 spec->host[0] ? spec->host : ".");
	else if (spec->sftp)
		snprintf(t->name, sizeof(t->name), "-L sftp/%s%s%u -> %s:%s",
			 spec->bind, spec->bind[0] ? ":" : "", spec->port,
			 ssh_sess_name(s), spec->host[0] ? spec->host : ".");
	else
		snprintf(t->name, sizeof(t->name), "%s %s%s%s%u -> %s:%u",
			 spec->remote ? "-R" : "-L", spec->ftp ? "ftp/" : "",
			 spec->bind[0] ? spec->bind : "",
			 spec->bind[0] ? ":" : "", spec->port, spec->host,
			 spec->hostport);
	if (spec->sftp) {
		if (!topts->sftp_login_ftp &&
		    sftp_tunnel_check_bind(spec->bind, err, errlen) < 0) {
			tunnel_free(t);
			return NULL;
		}
		t->sftp = sftp_tunnel_new(
		    loop, s, spec->host,
		    topts->sftp_login_ftp ? topts->ssh_opts : NULL, t->name);
		if (!t->sftp) {
			snprintf(err, errlen, "out of memory");
			tunnel_free(t);
			return NULL;
		}
	}
	if (!spec->remote && bind_local(t, err, errlen) < 0) {
		tunnel_free(t);
		return NULL;
	}
	return t;
}

void tunnel_start(struct tunnel *t)
{
	int i;

	if (!t->spec.remote) {
		for (i = 0; i < t->nlfds; i++)
			loop_watch(t->loop, t->lfds[i], EPOLLIN,
				   local_accept_cb, t);
		t->up = 1;
		t->cb(t, NULL, t->arg);
		return;
	}
	t->listen_req =
	    ssh_listen(t->s, t->spec.bind[0] ? t->spec.bind : "localhost",
		       t->spec.port, remote_listening, remote_accept, t);
	if (t->listen_req < 0)
		t->cb(t, "the SSH session is not connected", t->arg);
}

void tunnel_free(struct tunnel *t)
{
	int i;

	if (!t)
		return;
	for (i = 0; i < t->nlfds; i++) {
		loop_unwatch(t->loop, t->lfds[i]);
		close(t->lfds[i]);
	}
	if (t->listen_req > 0)
		ssh_open_cancel(t->s, t->listen_req);
	if (t->rlistener)
		ssh_unlisten(t->s, t->rlistener);
	sftp_tunnel_free(t->sftp);
	/* Its FTP sessions may end after it (with the session): they keep
	 * only the count. */
	while (t->ctls) {
		struct fwd_ctl *e = t->ctls;

		fwd_ctl_unlink(e);
		ftpfwd_control_set_done(e->k, ftp_session_ends, e->sessions);
		free(e);
	}
	/* Halves still waiting: a local client whose channel is being
	 * opened, a forwarded channel whose local connect is under way. */
	while (t->half_open) {
		struct half_open *pd = t->half_open;

		if (pd->ch) {
			loop_unwatch(t->loop, pd->fd);
			ssh_chan_discard(t->s, pd->ch);
		} else {
			ssh_open_cancel(t->s, pd->req);
		}
		close(pd->fd);
		half_open_free(pd);
	}
	free(t);
}

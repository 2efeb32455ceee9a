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
#include "log.h"
#include "net.h"
#include "pump.h"
#include "report.h"
#include "sftp_tunnel.h"
#include "spread.h"
#include "tunnel_int.h"

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
unsigned long tunnel_next_ctl_id(struct tunnel *t)
{
	return t->topts.ctl_ids ? ++*t->topts.ctl_ids : t->nconn;
}

/* A registry entry for the FTP session on fd (the FTP client's socket of
 * a local tunnel, our connection to the FTP server of a remote one),
 * before fd is handed over. NULL without memory: the session then goes
 * unlisted. */
struct tunnel_ctl *tunnel_ctl_new(const struct fwd_spec *spec, int fd,
				  unsigned long id, const char *tunnel)
{
	struct tunnel_ctl *e = calloc(1, sizeof(*e));
	struct sockaddr_storage a;
	socklen_t alen = sizeof(a);

	if (!e)
		return NULL;
	e->id = id;
	snprintf(e->tunnel, sizeof(e->tunnel), "%s", tunnel);
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

void tunnel_ctl_link(struct tunnel_ctl *e, struct tunnel_ctl **head)
{
	e->next = *head;
	if (e->next)
		e->next->prevp = &e->next;
	e->prevp = head;
	*head = e;
}

static void ctl_unlink(struct tunnel_ctl *e)
{
	*e->prevp = e->next;
	if (e->next)
		e->next->prevp = e->prevp;
}

/* The control connection ended: out of the list, out of the counts. */
void tunnel_ctl_done(struct ftp_ctl *k, void *arg)
{
	struct tunnel_ctl *e = arg;

	(void)k;
	ctl_unlink(e);
	if (e->sessions)
		(*e->sessions)--;
	if (e->pc)
		connpool_job_done(e->pc);
	free(e);
}

/* An sftp/ session's entry: served from the SFTP of session s (NULL:
 * each FTP login's own SSH login, to host). */
void tunnel_ctl_sftp(struct tunnel_ctl *e, const struct ssh_sess *s,
		     const char *host)
{
	if (s)
		snprintf(e->ftp, sizeof(e->ftp), "sftp:%s", ssh_sess_name(s));
	else
		snprintf(e->ftp, sizeof(e->ftp), "sftp:(FTP user)@%s", host);
}

/* An sftp/ session ended: out of the list, out of its connection's
 * load. */
void tunnel_ctl_sftp_done(void *arg)
{
	struct tunnel_ctl *e = arg;

	ctl_unlink(e);
	if (e->pc)
		connpool_job_done(e->pc);
	free(e);
}

void tunnel_ctl_report(const struct tunnel_ctl *e, struct statusrep *r,
		       struct report_totals *tot, unsigned long sess_id,
		       uint64_t now)
{
	for (; e; e = e->next) {
		struct report_ctl c = {.id = e->id,
				       .session = e->own_login ? 0 : sess_id,
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
	tunnel_ctl_report(t->ctls, r, tot, sess_id, loop_now_ms(t->loop));
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
		struct tunnel_ctl *e = tunnel_ctl_new(
		    &t->spec, fd, tunnel_next_ctl_id(t), t->name);
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
		tunnel_ctl_link(e, &t->ctls);
		ftpfwd_control_set_done(k, tunnel_ctl_done, e);
		return;
	}
	if (!pump_new(t->s, ch, fd, name, NULL, NULL))
		log_warn("%s: out of memory", name);
}

/* --- local tunnels ---------------------------------------------------- */

/* Reset, as OpenSSH does when the far end can't be reached. */
void tunnel_reset_close(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* Tells an FTP client why, in its own terms (RFC 959: 421 closes the
 * control connection), then closes fd. */
void tunnel_refuse_full(int fd, int ftp, const char *name)
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
		tunnel_reset_close(pd->fd);
		if (pd->t->spec.ftp)
			ftp_session_ends(NULL, pd->t->topts.ftp_sessions);
	} else {
		connect_halves(pd->t, pd->fd, ch, pd->name);
	}
	half_open_free(pd);
}

/* Opens fd's channel on the tunnel's own session. */
void tunnel_open_local(struct tunnel *t, int fd, const char *peer_host,
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
		tunnel_refuse_full(fd, t->spec.ftp, name);
		half_open_free(pd);
	}
}

static void unlisted_done(void *arg)
{
	(void)arg;
}

/* On the tunnel's thread: an sftp/ FTP session on the tunnel's own
 * session (SftpLogin=tunnel) or with its own SSH login (SftpLogin=ftp),
 * listed in the tunnel. e: its entry, or NULL to make it here. */
void tunnel_adopt_sftp(struct tunnel *t, int fd, uid_t uid, const char *name,
		       struct tunnel_ctl *e)
{
	int own_login = sftp_tunnel_has_own_login(t->sftp);

	if (!e)
		e = tunnel_ctl_new(&t->spec, fd, tunnel_next_ctl_id(t),
				   t->name);
	if (!e) {
		sftp_tunnel_adopt(t->sftp, fd, uid, name, unlisted_done, NULL);
		return;
	}
	tunnel_ctl_sftp(e, own_login ? NULL : t->s,
			t->topts.ssh_opts ? t->topts.ssh_opts->host : "?");
	e->own_login = own_login;
	tunnel_ctl_link(e, &t->ctls);
	if (sftp_tunnel_adopt(t->sftp, fd, uid, name, tunnel_ctl_sftp_done, e) <
	    0) {
		ctl_unlink(e);
		free(e);
	}
}

/* An sftp/ connection the listener let in: an extra connection's when
 * the pool picks one, else the tunnel's own session's. */
static void serve_sftp(struct tunnel *t, int fd, const char *name)
{
	uid_t uid;

	if (sftp_tunnel_admit(t->sftp, fd, name, &uid) < 0)
		return;
	if (spread_sftp(t, fd, uid, name))
		return;
	tunnel_adopt_sftp(t, fd, uid, name, NULL);
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
			snprintf(name, sizeof(name), "sftp #%lu", t->nconn);
			serve_sftp(t, fd, name);
			continue;
		}
		addr_host((struct sockaddr *)&peer, host, sizeof(host));
		port = addr_port((struct sockaddr *)&peer);
		if (t->spec.ftp && spread_ftp(t, fd, host, port, name))
			continue;
		tunnel_open_local(t, fd, host, port, name);
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
		struct tunnel_ctl *e = t->ctls;

		ctl_unlink(e);
		if (e->k) /* sftp/ ones ended with t->sftp */
			ftpfwd_control_set_done(e->k, ftp_session_ends,
						e->sessions);
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

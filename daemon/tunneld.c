/* tunneld.c — the daemon's requests: PING, CONNECT, STATUS, STOP. A
 * CONNECT finds (or makes) the SSH session for its server, opens a channel
 * to the FTP server, makes a loopback TCP connection of the program's
 * family, hands one end to the shim and runs the FTP glue on the other. */
#include "tunneld.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "addr.h"
#include "ftpfwd.h"
#include "fwd.h"
#include "held.h"
#include "ipc.h"
#include "log.h"
#include "mem.h"
#include "net.h"
#include "spec.h"
#include "ssh.h"
#include "sshconfig.h"
#include "statusrep.h"
#include "version.h"

#define MAX_OPTIONS 32
#define SESSION_IDLE_MS (5 * 60 * 1000)
#define SESSION_KEY_MAX 8192

struct session {
	char key[SESSION_KEY_MAX]; /* ssh_opts_key of its settings */
	unsigned long id; /* for `ftp-tunnel status` */
	struct ssh_sess *s;
	uint64_t idle_since; /* 0 while busy */
	struct session *next;
};

/* A CONNECT waiting for its channel. */
struct pending {
	struct tunneld *d;
	int client; /* the IPC connection, answered when the channel opens */
	struct sockaddr_storage dst; /* what the program asked for */
	char ftphost[256];
	uint16_t port;
	unsigned long id;
	unsigned long sess_id;
};

/* A live FTP control connection, as `ftp-tunnel status` lists it. */
struct control {
	struct tunneld *d;
	struct ftp_ctl *k;
	unsigned long id, sess_id;
	char dst[80];     /* what the program connect()ed to */
	char ftp[300];    /* the FTP server as the SSH server sees it */
	struct control *next;
};

struct tunneld {
	struct loop *loop;
	int lfd;
	int idle_exit_s;
	uint64_t last_activity;
	struct session *sessions;
	struct held_set *held; /* ftp-tunnel -f's tunnels */
	struct control *controls;
	struct loop_timer *tick;
	unsigned long nconn;
	unsigned long nrequests;
	unsigned long nsessions;
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

/* --- sessions --------------------------------------------------------- */

static void sess_event(struct ssh_sess *s, enum ssh_event ev, const char *msg,
		       void *arg)
{
	(void)s;
	(void)arg;
	if (ev == SSH_EV_READY)
		log_info("sess %s: ready", ssh_sess_name(s));
	else
		log_warn("%s", msg);
	/* A dead session is dropped by the next tick or request; freeing it
	 * here, inside its own callback, would pull the floor away. */
}

static struct session *find_session(struct tunneld *d, const char *key)
{
	struct session *se;

	for (se = d->sessions; se; se = se->next)
		if (!strcmp(se->key, key) && !ssh_sess_dead(se->s))
			return se;
	return NULL;
}

static struct session *get_session(struct tunneld *d, struct ssh_opts *o,
				   const char *key)
{
	struct session *se = find_session(d, key);

	if (se)
		return se;
	se = calloc(1, sizeof(*se));
	if (!se)
		return NULL;
	snprintf(se->key, sizeof(se->key), "%s", key);
	se->id = ++d->nsessions;
	/* The daemon has no terminal: it never asks. */
	o->batch_mode = 1;
	se->s = ssh_sess_new(d->loop, o, sess_event, se);
	if (!se->s) {
		free(se);
		return NULL;
	}
	se->next = d->sessions;
	d->sessions = se;
	return se;
}

static void reap_sessions(struct tunneld *d, int all)
{
	struct session **pp = &d->sessions;
	uint64_t now = loop_now_ms(d->loop);

	while (*pp) {
		struct session *se = *pp;
		int idle = !ssh_sess_busy(se->s);

		if (!idle)
			se->idle_since = 0;
		else if (!se->idle_since)
			se->idle_since = now;
		if (all || ssh_sess_dead(se->s) ||
		    (idle && now - se->idle_since >= SESSION_IDLE_MS)) {
			if (!ssh_sess_dead(se->s))
				log_info("sess %s: closing (%s)",
					 ssh_sess_name(se->s),
					 all ? "the daemon stops" : "idle");
			*pp = se->next;
			ssh_sess_free(se->s);
			free(se);
			continue;
		}
		pp = &se->next;
	}
}

/* --- control connections ---------------------------------------------- */

static void control_done(struct ftp_ctl *k, void *arg)
{
	struct control *c = arg, **pp;

	(void)k;
	for (pp = &c->d->controls; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	free(c);
}

/* Keeps k in the list STATUS reports; without memory it just isn't. */
static void control_add(struct tunneld *d, struct ftp_ctl *k,
			const struct pending *p, const char *dst)
{
	struct control *c = calloc(1, sizeof(*c));

	if (!c)
		return;
	c->d = d;
	c->k = k;
	c->id = p->id;
	c->sess_id = p->sess_id;
	snprintf(c->dst, sizeof(c->dst), "%s", dst);
	snprintf(c->ftp, sizeof(c->ftp),
		 strchr(p->ftphost, ':') ? "[%s]:%u" : "%s:%u", p->ftphost,
		 p->port);
	c->next = d->controls;
	d->controls = c;
	ftpfwd_control_set_done(k, control_done, c);
}

/* --- CONNECT ---------------------------------------------------------- */

/* A connected pair of TCP sockets on the loopback of `family`: the shim
 * gets *give, the daemon keeps *keep. 0 or -errno. */
static int loopback_pair(int family, int *give, int *keep)
{
	struct sockaddr_storage a;
	socklen_t alen = sizeof(a);
	int l = -1, c = -1, s = -1, rc = 0;

	addr_parse(family == AF_INET6 ? "::1" : "127.0.0.1", 0, &a);
	l = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a,
			  addr_len((struct sockaddr *)&a)) < 0 ||
	    listen(l, 1) < 0 || getsockname(l, (struct sockaddr *)&a, &alen) < 0)
		goto fail;
	c = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&a, alen) < 0)
		goto fail;
	s = accept4(l, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (s < 0)
		goto fail;
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

static void connect_opened(struct ssh_sess *s, LIBSSH2_CHANNEL *ch,
			   const char *err, void *arg)
{
	struct pending *p = arg;
	struct tunneld *d = p->d;
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

		snprintf(msg, sizeof(msg), "%s", err ? err : "no channel");
		reply_err(p->client, e, msg);
		goto out;
	}
	rc = loopback_pair(p->dst.ss_family, &give, &keep);
	if (rc < 0) {
		reply_err(p->client, -rc, "cannot make a loopback connection");
		ssh_chan_discard(s, ch);
		goto out;
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
		goto out;
	}
	memset(&spec, 0, sizeof(spec));
	snprintf(spec.host, sizeof(spec.host), "%s", p->ftphost);
	spec.hostport = p->port;
	snprintf(name, sizeof(name), "ctl %lu", p->id);
	log_info("%s: FTP control connection to %s through %s", name, dst,
		 ssh_sess_name(s));
	k = ftpfwd_control_new(s, ch, keep, &spec, FWD_ACTIVE_AUTO,
			       (struct sockaddr *)&p->dst, name);
	if (k)
		control_add(d, k, p, dst);
out:
	close(p->client);
	free(p);
	d->last_activity = loop_now_ms(d->loop);
}

static void handle_connect(struct tunneld *d, int client,
			   const struct ipc_msg *req)
{
	char family[16], dst[80], port[8], via[512], opt[1024];
	char key[SESSION_KEY_MAX], err[1200];
	struct ssh_opts o;
	struct pending *p;
	struct session *se;
	long rc;
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
	p->d = d;
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
		if (ssh_opts_set(&o, opt, err, sizeof(err)) < 0) {
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
	/* Requests whose settings come out the same share one session. */
	ssh_opts_key(&o, key, sizeof(key));
	se = get_session(d, &o, key);
	if (!se) {
		reply_err(client, ENOMEM, "out of memory");
		free(p);
		goto fail;
	}
	p->sess_id = se->id;
	log_debug("ctl %lu: CONNECT %s port %u via %s", p->id, dst, p->port,
		  ssh_sess_name(se->s));
	rc = ssh_open_direct(se->s, p->ftphost, p->port, "127.0.0.1", 0,
			     connect_opened, p);
	if (rc < 0) {
		reply_err(client, rc == -EMFILE ? EAGAIN : ECONNABORTED,
			  rc == -EMFILE ? "the SSH connection carries as many "
					  "channels as MaxChannels allows; try "
					  "again later"
					: "the SSH session is down");
		free(p);
		goto fail;
	}
	ssh_opts_release(&o);
	return; /* answered when the channel opens */
fail:
	ssh_opts_release(&o);
	close(client);
}

/* --- the IPC socket --------------------------------------------------- */

static unsigned long long age_s(struct tunneld *d, uint64_t since_ms)
{
	return (loop_now_ms(d->loop) - since_ms) / 1000;
}

static void status_session(struct tunneld *d, struct statusrep *r,
			   const struct session *se)
{
	struct ssh_sess_info i;

	ssh_sess_info(se->s, &i);
	statusrep_record(r, "session");
	statusrep_add(r, "id", "%lu", se->id);
	statusrep_add(r, "name", "%s", ssh_sess_name(se->s));
	statusrep_add(r, "user", "%s", i.user);
	statusrep_add(r, "host", "%s", i.host);
	statusrep_add(r, "port", "%u", i.port);
	statusrep_add(r, "state", "%s", i.state);
	statusrep_add(r, "uptime", "%llu", age_s(d, i.started_ms));
	statusrep_add(r, "kex", "%s", i.kex);
	statusrep_add(r, "hostkey", "%s", i.hostkey);
	statusrep_add(r, "cipher_cs", "%s", i.cipher_cs);
	statusrep_add(r, "cipher_sc", "%s", i.cipher_sc);
	statusrep_add(r, "mac_cs", "%s", i.mac_cs);
	statusrep_add(r, "mac_sc", "%s", i.mac_sc);
	statusrep_add(r, "channels", "%d", i.nchannels);
	statusrep_add(r, "rx_bytes", "%llu", i.rx_bytes);
	statusrep_add(r, "tx_bytes", "%llu", i.tx_bytes);
}

/* A control record, then one record per running data connection. Adds
 * its bytes to *up and *down and its data connections to *ndata. */
static void status_control(struct tunneld *d, struct statusrep *r,
			   const struct control *c, unsigned long long *up,
			   unsigned long long *down, unsigned long *ndata)
{
	struct ftpfwd_info ci;
	struct ftpfwd_data_info di;
	int i;

	ftpfwd_control_info(c->k, &ci);
	statusrep_record(r, "control");
	statusrep_add(r, "id", "%lu", c->id);
	statusrep_add(r, "session", "%lu", c->sess_id);
	statusrep_add(r, "dst", "%s", c->dst);
	statusrep_add(r, "ftp_server", "%s", c->ftp);
	statusrep_add(r, "uptime", "%llu", age_s(d, ci.started_ms));
	statusrep_add(r, "bytes_up", "%llu", ci.up);
	statusrep_add(r, "bytes_down", "%llu", ci.down);
	statusrep_add(r, "data_channels", "%d", ci.ndata);
	*up += ci.up;
	*down += ci.down;
	for (i = 0; ftpfwd_data_info(c->k, i, &di) == 0; i++) {
		statusrep_record(r, "data");
		statusrep_add(r, "control", "%lu", c->id);
		statusrep_add(r, "n", "%lu", di.n);
		statusrep_add(r, "mode", "%s", di.active ? "active" : "passive");
		statusrep_add(r, "converted", "%d", di.converted);
		statusrep_add(r, "uptime", "%llu", age_s(d, di.started_ms));
		statusrep_add(r, "bytes_up", "%llu", di.up);
		statusrep_add(r, "bytes_down", "%llu", di.down);
		*up += di.up;
		*down += di.down;
		(*ndata)++;
	}
}

/* Format 2 (docs/IPC.txt): records, for `ftp-tunnel status [--json]`. */
static void status_records(struct tunneld *d, int client)
{
	struct statusrep r;
	struct session *se;
	struct control *c;
	unsigned long long up = 0, down = 0;
	unsigned long nsess = 0, nctl = 0, ndata = 0;

	statusrep_init(&r, client);
	statusrep_record(&r, "daemon");
	statusrep_add(&r, "pid", "%d", (int)getpid());
	statusrep_add(&r, "version", "%s", FTP_TUNNEL_VERSION);
	statusrep_add(&r, "uptime", "%llu", age_s(d, d->started_ms));
	statusrep_add(&r, "connections", "%lu", d->nconn);
	statusrep_add(&r, "requests", "%lu", d->nrequests);
	for (se = d->sessions; se; se = se->next, nsess++)
		status_session(d, &r, se);
	for (c = d->controls; c; c = c->next, nctl++)
		status_control(d, &r, c, &up, &down, &ndata);
	held_status(d->held, &r);
	statusrep_record(&r, "totals");
	statusrep_add(&r, "sessions", "%lu", nsess);
	statusrep_add(&r, "controls", "%lu", nctl);
	statusrep_add(&r, "data_channels", "%lu", ndata);
	statusrep_add(&r, "bytes_up", "%llu", up);
	statusrep_add(&r, "bytes_down", "%llu", down);
	if (statusrep_finish(&r) < 0)
		log_debug("ipc: the STATUS reply was not read");
	close(client);
}

static void handle_status(struct tunneld *d, int client,
			  const struct ipc_msg *req)
{
	struct ipc_msg m;
	struct session *se;
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
	for (se = d->sessions; se; se = se->next)
		ipc_addf(&m, "session", "%s %s", ssh_sess_name(se->s),
			 ssh_sess_dead(se->s)	 ? "dead"
			 : ssh_sess_ready(se->s) ? "ready"
						 : "connecting");
	ipc_send(client, &m, -1);
	close(client);
}

static void accept_cb(struct loop *loop, int lfd, uint32_t events, void *arg)
{
	struct tunneld *d = arg;

	(void)events;
	for (;;) {
		struct ucred cred;
		socklen_t clen = sizeof(cred);
		struct timeval tv = {.tv_sec = 2};
		struct ipc_msg req, m;
		char word[32];
		int passed, client = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (client < 0) {
			net_accept_failed(loop, lfd, "ipc");
			return;
		}
		d->last_activity = loop_now_ms(loop);
		/* Only our own user: another uid gets nothing, not even an
		 * error message. */
		if (getsockopt(client, SOL_SOCKET, SO_PEERCRED, &cred, &clen) <
			0 ||
		    cred.uid != getuid()) {
			log_warn("ipc: refused a connection from uid %d",
				 (int)cred.uid);
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
			ipc_addf(&m, "pid", "%d", (int)getpid());
			ipc_send(client, &m, -1);
			close(client);
		} else if (!strcmp(word, "CONNECT")) {
			handle_connect(d, client, &req);
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

	reap_sessions(d, 0);
	if (d->idle_exit_s > 0 && !d->sessions && !held_count(d->held) &&
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
	if (!d->tick || !d->held ||
	    loop_watch(loop, listen_fd, EPOLLIN, accept_cb, d) < 0) {
		loop_timer_free(d->tick);
		held_free(d->held);
		free(d);
		return NULL;
	}
	loop_timer_arm(d->tick, 1000);
	return d;
}

static unsigned long count_controls(const struct tunneld *d)
{
	const struct control *c;
	unsigned long n = 0;

	for (c = d->controls; c; c = c->next)
		n++;
	return n;
}

void tunneld_dump(struct tunneld *d)
{
	struct session *se;

	for (se = d->sessions; se; se = se->next)
		ssh_sess_dump(se->s);
	mem_log_stats();
}

void tunneld_free(struct tunneld *d)
{
	if (!d)
		return;
	loop_unwatch(d->loop, d->lfd);
	close(d->lfd);
	/* FTP clients learn why their connection ends, as from a server
	 * shutting down (RFC 959: 421 closes the control connection). */
	if (d->controls)
		log_info("closing %lu FTP control connection(s)",
			 count_controls(d));
	while (d->controls)
		ftpfwd_control_close(d->controls->k,
				     "421 ftp-tunnel: the tunnel daemon is "
				     "stopping.\r\n");
	held_free(d->held);
	reap_sessions(d, 1);
	loop_timer_free(d->tick);
	free(d);
}

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
#include "net.h"
#include "spec.h"
#include "ssh.h"
#include "sshconfig.h"

#define MAX_OPTIONS 32
#define SESSION_IDLE_MS (5 * 60 * 1000)
#define SESSION_KEY_MAX 8192

struct session {
	char key[SESSION_KEY_MAX]; /* ssh_opts_key of its settings */
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
};

struct tunneld {
	struct loop *loop;
	int lfd;
	int idle_exit_s;
	uint64_t last_activity;
	struct session *sessions;
	struct held_set *held; /* ftp-tunnel -f's tunnels */
	struct loop_timer *tick;
	unsigned long nconn;
	unsigned long nrequests;
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
				log_info("sess %s: closing (idle)",
					 ssh_sess_name(se->s));
			*pp = se->next;
			ssh_sess_free(se->s);
			free(se);
			continue;
		}
		pp = &se->next;
	}
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
	ftpfwd_control_new(s, ch, keep, &spec, FWD_ACTIVE_AUTO,
			   (struct sockaddr *)&p->dst, name);
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
	log_debug("ctl %lu: CONNECT %s port %u via %s", p->id, dst, p->port,
		  ssh_sess_name(se->s));
	if (ssh_open_direct(se->s, p->ftphost, p->port, "127.0.0.1", 0,
			    connect_opened, p) < 0) {
		reply_err(client, ECONNABORTED, "the SSH session is down");
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

static void handle_status(struct tunneld *d, int client)
{
	struct ipc_msg m;
	struct session *se;

	ipc_init(&m, "OK");
	ipc_addf(&m, "pid", "%d", (int)getpid());
	ipc_addf(&m, "connections", "%lu", d->nconn);
	for (se = d->sessions; se; se = se->next)
		ipc_addf(&m, "session", "%s %s", ssh_sess_name(se->s),
			 ssh_sess_dead(se->s)	 ? "dead"
			 : ssh_sess_ready(se->s) ? "ready"
						 : "connecting");
	held_status(d->held, &m);
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
			handle_status(d, client);
		} else if (!strcmp(word, "STOP")) {
			ipc_init(&m, "OK");
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

void tunneld_free(struct tunneld *d)
{
	if (!d)
		return;
	loop_unwatch(d->loop, d->lfd);
	close(d->lfd);
	held_free(d->held);
	reap_sessions(d, 1);
	loop_timer_free(d->tick);
	free(d);
}

/* held.c — tunnels the daemon holds for `ftp-tunnel -f` (see held.h). Each
 * HOLD gets an SSH connection of its own (connpool_own): a held profile is
 * independent of the shim's sessions and of other profiles, and releasing
 * it closes exactly what it opened. The connection, its tunnels and
 * their listeners live on the connection's worker, like every SSH
 * connection of the daemon; the main thread keeps the list of names. */
#include "held.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "connpool.h"
#include "ftp.h"
#include "ftpopts.h"
#include "tunnel.h"
#include "log.h"
#include "spec.h"
#include "ssh.h"
#include "sshconfig.h"
#include "worker.h"

#define HELD_MAX_TUNNELS 64
#define HELD_MAX_OPTIONS 64

struct held {
	struct held_set *set;
	char name[128];
	struct pool_conn *pc;
	/* The main thread's. */
	int listed;   /* sname and tnames are written (the worker said so) */
	int released; /* RELEASE asked for it */
	int gone;     /* the worker is done with it */
	int refs;     /* the worker's, and one per RELEASE on its way */
	struct held *next;
	/* The worker's, once posted (the main thread fills them before). */
	struct fwd_spec specs[HELD_MAX_TUNNELS];
	struct tunnel *tunnels[HELD_MAX_TUNNELS];
	int ntunnels;
	int pending;	   /* tunnels not yet up */
	int client;	   /* the HOLD request, until answered; else -1 */
	int made;	   /* start_task made the tunnels */
	int ready;	   /* the session is ready */
	char failed[1200]; /* why the session failed before start_task ran */
	int ending;	   /* end_task is queued */
	int ended;	   /* its tunnels are closed: nothing more to do */
	struct tunnel_opts topts;
	/* Read by the main thread for STATUS. */
	atomic_int up; /* answered OK */
	char sname[300];
	char tnames[HELD_MAX_TUNNELS][200];
};

struct held_set {
	struct loop *loop;
	struct held *list;
	struct connpool *pool; /* the held connections */
	struct taskq *q;       /* news from their workers */
};

/* --- on the connection's worker ------------------------------------------ */

static void answer(struct held *e, const char *word, int err, const char *msg)
{
	struct ipc_msg m;
	int i;

	if (e->client < 0)
		return;
	ipc_init(&m, word);
	if (err) {
		ipc_addf(&m, "errno", "%d", err);
		ipc_add(&m, "message", msg);
	}
	for (i = 0; !err && i < e->ntunnels; i++)
		if (e->specs[i].remote && !e->specs[i].port)
			ipc_addf(&m, "port", "%d",
				 tunnel_bound_port(e->tunnels[i]));
	ipc_send(e->client, &m, -1);
	close(e->client);
	e->client = -1;
}

/* On the main thread: one user of e less; the last frees it. */
static void unref(struct held *e)
{
	struct held **pp;

	if (--e->refs > 0)
		return;
	for (pp = &e->set->list; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	}
	free(e);
}

/* On the main thread: the worker is done with e (no task of its will
 * touch it again, but a RELEASE's may be on its way). */
static void gone_main(struct loop *loop, void *arg)
{
	struct held *e = arg;

	(void)loop;
	e->gone = 1;
	unref(e);
}

/* On the main thread: a RELEASE's task is done with e. */
static void release_done_main(struct loop *loop, void *arg)
{
	(void)loop;
	unref(arg);
}

/* Closes e's tunnels and its connection; the main thread then forgets
 * it. Never inside a callback of e's session or tunnels. */
static void end(struct held *e)
{
	int i;

	if (e->ended)
		return;
	e->ended = 1;
	answer(e, "ERR", ECONNABORTED, "released before it was up");
	for (i = 0; i < e->ntunnels; i++)
		tunnel_free(e->tunnels[i]);
	*connpool_data(e->pc) = NULL;
	connpool_close(e->pc);
	if (taskq_post(e->set->q, gone_main, e) < 0)
		log_err("held %s: out of memory (its entry stays listed)",
			e->name);
}

static void end_task(struct loop *loop, void *arg)
{
	(void)loop;
	end(arg);
}

static void fail(struct held *e, int err, const char *msg)
{
	log_warn("held %s: %s", e->name, msg);
	answer(e, "ERR", err, msg);
	/* Later, from the worker's queue: the session or a tunnel is
	 * running the callback that brought us here. Once: the first
	 * end_task lets the main thread free e. */
	if (e->ending)
		return;
	if (connpool_ask(e->pc, end_task, e) < 0)
		log_err("held %s: out of memory", e->name);
	else
		e->ending = 1;
}

static void tunnel_up(struct tunnel *t, const char *err, void *arg)
{
	struct held *e = arg;
	char msg[1200];

	if (e->ended)
		return;
	if (err) {
		snprintf(msg, sizeof(msg), "%s: %s", tunnel_name(t), err);
		fail(e, EADDRINUSE, msg);
		return;
	}
	log_info("held %s: tunnel %s: up", e->name, tunnel_name(t));
	if (--e->pending == 0) {
		atomic_store(&e->up, 1);
		answer(e, "OK", 0, NULL);
	}
}

static void start_tunnels(struct held *e)
{
	int i;

	e->pending = e->ntunnels;
	for (i = 0; i < e->ntunnels; i++)
		tunnel_start(e->tunnels[i]);
}

/* The pool's event hook: e's session is ready, failed or lost. */
static void sess_event(struct pool_conn *pc, enum ssh_event ev, const char *msg,
		       void *arg)
{
	struct held *e = *connpool_data(pc);
	char line[1200];

	(void)arg;
	if (!e || e->ended)
		return;
	if (!e->made) {
		/* Before start_task: it acts on what happened. */
		if (ev == SSH_EV_READY)
			e->ready = 1;
		else
			snprintf(e->failed, sizeof(e->failed), "%s", msg);
		return;
	}
	switch (ev) {
	case SSH_EV_READY:
		start_tunnels(e);
		break;
	case SSH_EV_FAILED:
		fail(e, ECONNREFUSED, msg);
		break;
	case SSH_EV_CLOSED:
		/* Its listeners go with it: a held name never carries
		 * connections in clear text or to nowhere. */
		snprintf(line, sizeof(line),
			 "%s; its tunnels are closed (ftp-tunnel -f %s opens "
			 "them again)",
			 msg, e->name);
		fail(e, ECONNRESET, line);
		break;
	}
}

/* The pool's closing hook: the daemon stops (or the connection ends
 * before e did). */
static void conn_closing(struct pool_conn *pc, int stopping, void *arg)
{
	struct held *e = *connpool_data(pc);

	(void)stopping;
	(void)arg;
	if (e)
		end(e);
}

/* On the main thread: STATUS may list e now. */
static void listed_main(struct loop *loop, void *arg)
{
	struct held *e = arg;

	(void)loop;
	e->listed = 1;
}

/* The first task on e's connection: binds the local listeners (a port
 * in use is refused now), then starts the tunnels once the session is
 * ready. */
static void start_task(struct loop *loop, void *arg)
{
	struct held *e = arg;
	struct ssh_sess *s = connpool_sess(e->pc);
	char err[1200];
	int i;

	snprintf(e->sname, sizeof(e->sname), "%s", ssh_sess_name(s));
	e->made = 1; /* from here on, e's events are acted on */
	for (i = 0; i < e->ntunnels; i++) {
		e->tunnels[i] = tunnel_new(loop, s, &e->specs[i], &e->topts,
					   tunnel_up, e, err, sizeof(err));
		if (!e->tunnels[i]) {
			e->ntunnels = i;
			log_warn("held %s: %s", e->name, err);
			answer(e, "ERR", EINVAL, err);
			end(e);
			return;
		}
		snprintf(e->tnames[i], sizeof(e->tnames[i]), "%s",
			 tunnel_name(e->tunnels[i]));
	}
	log_info("held %s: via %s, %d tunnel(s)", e->name, e->sname,
		 e->ntunnels);
	if (taskq_post(e->set->q, listed_main, e) < 0)
		log_err("held %s: out of memory (not in STATUS)", e->name);
	/* The session may have got there before this task ran. */
	if (e->failed[0])
		fail(e, ECONNREFUSED, e->failed);
	else if (e->ready)
		start_tunnels(e);
}

/* A RELEASE on its way to the worker. */
struct release {
	struct held *e;
	int client;
};

static void release_task(struct loop *loop, void *arg)
{
	struct release *r = arg;
	struct ipc_msg m;

	(void)loop;
	log_info("held %s: released", r->e->name);
	end(r->e);
	/* Answered once the listeners are closed. */
	ipc_init(&m, "OK");
	ipc_send(r->client, &m, -1);
	close(r->client);
	if (taskq_post(r->e->set->q, release_done_main, r->e) < 0)
		log_err("held %s: out of memory (its entry stays listed)",
			r->e->name);
	free(r);
}

/* --- on the main thread ------------------------------------------------ */

static const struct connpool_ops held_pool_ops = {
    .closing = conn_closing,
    .event = sess_event,
};

static struct held *find(struct held_set *h, const char *name)
{
	struct held *e;

	for (e = h->list; e; e = e->next)
		if (!e->released && !e->gone && !strcmp(e->name, name))
			return e;
	return NULL;
}

/* The request's settings into o: the destination, then its options in
 * order (later ones win), then ssh_config for what is left. */
static int read_settings(const struct ipc_msg *req, struct ssh_opts *o,
			 struct held *e, char *err, size_t errlen)
{
	char dest[512], opt[1100];
	int i;

	if (ipc_get(req, "dest", 0, dest, sizeof(dest)) ||
	    ssh_opts_set_dest(o, dest) < 0) {
		snprintf(err, errlen, "HOLD needs dest=[user@]host[:port]");
		return -1;
	}
	for (i = 0; i < HELD_MAX_OPTIONS &&
		    ipc_get(req, "option", i, opt, sizeof(opt)) == 0;
	     i++) {
		int rc = ftpopts_set(&e->topts, opt, err, errlen);

		if (rc < 0)
			return -1;
		if (rc == 1 && ssh_opts_set(o, opt, err, errlen) < 0)
			return -1;
	}
	if (sshconfig_load(o, err, errlen) < 0)
		return -1;
	ftpopts_settle(&e->topts, o);
	o->batch_mode = 1; /* the daemon has no terminal: it never asks */
	return 0;
}

/* sftp/ tunnels: ftp-tunnel refuses -f with SftpLogin=ftp (given, or the
 * default without an SSH user), whose FTP logins each log in themselves:
 * there is no session of the daemon's to hold them on. */
static int check_sftp_login(const struct held *e, char *err, size_t errlen)
{
	int i;

	for (i = 0; i < e->ntunnels; i++) {
		if (e->specs[i].sftp && e->topts.sftp_login_ftp) {
			snprintf(err, errlen,
				 "SftpLogin=ftp is for ftp-tunnel in the "
				 "foreground: the daemon does not hold such "
				 "tunnels");
			return -1;
		}
	}
	return 0;
}

static int read_tunnels(const struct ipc_msg *req, struct held *e, char *err,
			size_t errlen)
{
	static const char *const kinds[2] = {"local", "remote"};
	char spec[700];
	int k, i;

	for (k = 0; k < 2; k++) {
		for (i = 0; ipc_get(req, kinds[k], i, spec, sizeof(spec)) == 0;
		     i++) {
			if (e->ntunnels == HELD_MAX_TUNNELS) {
				snprintf(err, errlen, "too many tunnels");
				return -1;
			}
			if (spec_parse_forward(spec, k, &e->specs[e->ntunnels],
					       err, errlen) < 0)
				return -1;
			e->ntunnels++;
		}
	}
	if (!e->ntunnels) {
		snprintf(err, errlen, "HOLD without tunnels");
		return -1;
	}
	return 0;
}

void held_hold(struct held_set *h, int client, const struct ipc_msg *req)
{
	struct ssh_opts o;
	struct held *e = calloc(1, sizeof(*e));
	char err[1200];
	struct ipc_msg m;

	ssh_opts_init(&o);
	if (!e) {
		snprintf(err, sizeof(err), "out of memory");
		goto refuse;
	}
	e->set = h;
	e->client = -1;
	ftpopts_init(&e->topts);
	if (ipc_get(req, "name", 0, e->name, sizeof(e->name)) || !e->name[0]) {
		snprintf(err, sizeof(err), "HOLD needs name=");
		goto refuse;
	}
	if (find(h, e->name)) {
		snprintf(err, sizeof(err),
			 "%s is held already (ftp-tunnel release %s first)",
			 e->name, e->name);
		goto refuse;
	}
	if (read_settings(req, &o, e, err, sizeof(err)) < 0 ||
	    read_tunnels(req, e, err, sizeof(err)) < 0 ||
	    check_sftp_login(e, err, sizeof(err)) < 0)
		goto refuse;
	e->pc = connpool_own(h->pool, &o, e, NULL);
	if (!e->pc) {
		snprintf(err, sizeof(err), "cannot start an SSH connection: %s",
			 strerror(errno));
		goto refuse;
	}
	e->refs = 1;
	e->next = h->list;
	h->list = e;
	e->client = client; /* before the worker may answer it */
	if (connpool_ask(e->pc, start_task, e) < 0) {
		/* Its connection holds e until it closes: e stays listed,
		 * inert, until the daemon stops. */
		e->client = -1;
		e->ended = 1;
		e->gone = 1;
		connpool_close(e->pc);
		snprintf(err, sizeof(err), "out of memory");
		e = NULL;
		goto refuse;
	}
	ssh_opts_release(&o);
	return; /* its worker answers when the tunnels are up */
refuse:
	log_warn("held %s: %s", e ? e->name : "?", err);
	ipc_init(&m, "ERR");
	ipc_addf(&m, "errno", "%d", EINVAL);
	ipc_add(&m, "message", err);
	ipc_send(client, &m, -1);
	close(client);
	free(e);
	ssh_opts_release(&o);
}

void held_release(struct held_set *h, int client, const struct ipc_msg *req)
{
	char name[128];
	struct held *e = NULL;
	struct release *r;
	struct ipc_msg m;

	if (ipc_get(req, "name", 0, name, sizeof(name)) == 0)
		e = find(h, name);
	if (e && (r = malloc(sizeof(*r)))) {
		r->e = e;
		r->client = client;
		if (connpool_ask(e->pc, release_task, r) == 0) {
			e->released = 1;
			e->refs++;
			return; /* its worker answers */
		}
		free(r);
	}
	ipc_init(&m, "ERR");
	ipc_addf(&m, "errno", "%d", e ? ENOMEM : ENOENT);
	ipc_add(&m, "message", e ? "out of memory" : "no such name is held");
	ipc_send(client, &m, -1);
	close(client);
}

int held_count(const struct held_set *h)
{
	const struct held *e;
	int n = 0;

	for (e = h->list; e; e = e->next)
		n += !e->released && !e->gone;
	return n;
}

void held_status(const struct held_set *h, struct statusrep *r)
{
	const struct held *e;
	int i;

	for (e = h->list; e; e = e->next) {
		if (!e->listed || e->released || e->gone)
			continue;
		for (i = 0; i < e->ntunnels; i++) {
			statusrep_record(r, "held");
			statusrep_add(r, "name", "%s", e->name);
			statusrep_add(r, "session", "%s", e->sname);
			statusrep_add(r, "state", "%s",
				      atomic_load(&e->up) ? "up" : "starting");
			statusrep_add(r, "tunnel", "%s", e->tnames[i]);
		}
	}
}

struct held_set *held_new(struct loop *loop)
{
	struct held_set *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->loop = loop;
	h->q = taskq_new(loop);
	/* Idle time does not matter: connpool_own's connections close only
	 * when lost or released. */
	h->pool = connpool_new(loop, &held_pool_ops, h, 0);
	if (!h->q || !h->pool) {
		connpool_free(h->pool);
		taskq_free(h->q);
		free(h);
		return NULL;
	}
	return h;
}

void held_free(struct held_set *h)
{
	struct held *e;

	if (!h)
		return;
	/* Every worker ends its tunnels first (conn_closing); their news
	 * then goes with the queue. */
	connpool_free(h->pool);
	taskq_free(h->q);
	while ((e = h->list)) {
		h->list = e->next;
		free(e);
	}
	free(h);
}

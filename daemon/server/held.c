/* held.c — tunnels the daemon holds for `ftp-tunnel -f` (see held.h). Each
 * HOLD gets its own SSH session: a held profile is independent of the
 * shim's sessions and of other profiles, and releasing it closes exactly
 * what it opened. */
#include "held.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ftp.h"
#include "ftpopts.h"
#include "fwd.h"
#include "log.h"
#include "spec.h"
#include "ssh.h"
#include "sshconfig.h"

#define HELD_MAX_TUNNELS 64
#define HELD_MAX_OPTIONS 64

struct held {
	struct held_set *set;
	char name[128];
	struct ssh_sess *s;
	struct fwd_spec specs[HELD_MAX_TUNNELS];
	struct tunnel *tunnels[HELD_MAX_TUNNELS];
	int ntunnels;
	int pending; /* tunnels not yet up */
	int client;  /* the HOLD request, until answered; else -1 */
	int up;	     /* answered OK */
	struct tunnel_opts topts;
	struct held *next;
};

struct held_set {
	struct loop *loop;
	struct held *list;
	struct loop_timer *reaper; /* frees entries that failed */
};

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

static void entry_free(struct held *e)
{
	int i;

	answer(e, "ERR", ECONNABORTED, "released before it was up");
	for (i = 0; i < e->ntunnels; i++)
		tunnel_free(e->tunnels[i]);
	ssh_sess_free(e->s);
	free(e);
}

/* Unlinks and frees e (from the reaper: never inside e's own callbacks,
 * which the session or a tunnel is still running). */
static void drop_later(struct held *e)
{
	e->up = -1;
	loop_timer_arm(e->set->reaper, 0);
}

static void reap_cb(struct loop *loop, void *arg)
{
	struct held_set *h = arg;
	struct held **pp = &h->list;

	(void)loop;
	while (*pp) {
		struct held *e = *pp;

		if (e->up >= 0) {
			pp = &e->next;
			continue;
		}
		*pp = e->next;
		entry_free(e);
	}
}

static void fail(struct held *e, int err, const char *msg)
{
	log_warn("held %s: %s", e->name, msg);
	answer(e, "ERR", err, msg);
	drop_later(e);
}

static void tunnel_up(struct tunnel *t, const char *err, void *arg)
{
	struct held *e = arg;
	char msg[1200];

	if (e->up < 0)
		return;
	if (err) {
		snprintf(msg, sizeof(msg), "%s: %s", tunnel_name(t), err);
		fail(e, EADDRINUSE, msg);
		return;
	}
	log_info("held %s: tunnel %s: up", e->name, tunnel_name(t));
	if (--e->pending == 0) {
		e->up = 1;
		answer(e, "OK", 0, NULL);
	}
}

static void sess_event(struct ssh_sess *s, enum ssh_event ev, const char *msg,
		       void *arg)
{
	struct held *e = arg;
	char line[1200];
	int i;

	(void)s;
	if (e->up < 0)
		return;
	switch (ev) {
	case SSH_EV_READY:
		e->pending = e->ntunnels;
		for (i = 0; i < e->ntunnels; i++)
			tunnel_start(e->tunnels[i]);
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

static struct held *find(struct held_set *h, const char *name)
{
	struct held *e;

	for (e = h->list; e; e = e->next)
		if (e->up >= 0 && !strcmp(e->name, name))
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
	/* sftp/ tunnels: ftp-tunnel refuses -f with SftpLogin=ftp, whose
	 * FTP logins would each need a password nobody here can give. */
	if (e->topts.sftp_login_ftp) {
		snprintf(err, errlen,
			 "SftpLogin=ftp is for ftp-tunnel in the foreground: "
			 "the daemon does not hold such tunnels");
		return -1;
	}
	if (sshconfig_load(o, err, errlen) < 0)
		return -1;
	o->batch_mode = 1; /* the daemon has no terminal: it never asks */
	return 0;
}

static int read_tunnels(struct held_set *h, const struct ipc_msg *req,
			struct held *e, char *err, size_t errlen)
{
	static const char *const kinds[2] = {"local", "remote"};
	char spec[700];
	int k, i;

	for (k = 0; k < 2; k++) {
		for (i = 0; ipc_get(req, kinds[k], i, spec, sizeof(spec)) == 0;
		     i++) {
			struct fwd_spec *fs = &e->specs[e->ntunnels];

			if (e->ntunnels == HELD_MAX_TUNNELS) {
				snprintf(err, errlen, "too many tunnels");
				return -1;
			}
			if (spec_parse_forward(spec, k, fs, err, errlen) < 0)
				return -1;
			e->tunnels[e->ntunnels] =
			    tunnel_new(h->loop, e->s, fs, &e->topts, tunnel_up,
				       e, err, errlen);
			if (!e->tunnels[e->ntunnels])
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
	if (read_settings(req, &o, e, err, sizeof(err)) < 0)
		goto refuse;
	e->s = ssh_sess_new(h->loop, &o, sess_event, e);
	if (!e->s) {
		snprintf(err, sizeof(err), "out of memory");
		goto refuse;
	}
	/* Local listeners are bound here: a port in use is refused now. */
	if (read_tunnels(h, req, e, err, sizeof(err)) < 0)
		goto refuse;
	e->client = client;
	e->next = h->list;
	h->list = e;
	log_info("held %s: via %s, %d tunnel(s)", e->name, ssh_sess_name(e->s),
		 e->ntunnels);
	ssh_opts_release(&o);
	return; /* answered when the tunnels are up */
refuse:
	log_warn("held %s: %s", e ? e->name : "?", err);
	ipc_init(&m, "ERR");
	ipc_addf(&m, "errno", "%d", EINVAL);
	ipc_add(&m, "message", err);
	ipc_send(client, &m, -1);
	close(client);
	if (e)
		entry_free(e);
	ssh_opts_release(&o);
}

void held_release(struct held_set *h, int client, const struct ipc_msg *req)
{
	char name[128];
	struct held *e = NULL;
	struct ipc_msg m;

	if (ipc_get(req, "name", 0, name, sizeof(name)) == 0)
		e = find(h, name);
	if (e) {
		log_info("held %s: released", e->name);
		drop_later(e);
		ipc_init(&m, "OK");
	} else {
		ipc_init(&m, "ERR");
		ipc_addf(&m, "errno", "%d", ENOENT);
		ipc_add(&m, "message", "no such name is held");
	}
	ipc_send(client, &m, -1);
	close(client);
}

int held_count(const struct held_set *h)
{
	const struct held *e;
	int n = 0;

	for (e = h->list; e; e = e->next)
		n += e->up >= 0;
	return n;
}

void held_status(const struct held_set *h, struct statusrep *r)
{
	const struct held *e;
	int i;

	for (e = h->list; e; e = e->next) {
		if (e->up < 0)
			continue;
		for (i = 0; i < e->ntunnels; i++) {
			statusrep_record(r, "held");
			statusrep_add(r, "name", "%s", e->name);
			statusrep_add(r, "session", "%s", ssh_sess_name(e->s));
			statusrep_add(r, "state", "%s",
				      e->up ? "up" : "starting");
			statusrep_add(r, "tunnel", "%s",
				      tunnel_name(e->tunnels[i]));
		}
	}
}

struct held_set *held_new(struct loop *loop)
{
	struct held_set *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->loop = loop;
	h->reaper = loop_timer_new(loop, reap_cb, h);
	if (!h->reaper) {
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
	while ((e = h->list)) {
		h->list = e->next;
		entry_free(e);
	}
	loop_timer_free(h->reaper);
	free(h);
}

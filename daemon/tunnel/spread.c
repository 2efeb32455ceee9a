/* spread.c — a local tunnel's FTP sessions spread over the pool's
 * connections (see spread.h). */
#include "spread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handoff.h"
#include "log.h"
#include "tunnel_int.h"

/* The tunnel lives on its own session's worker (topts.own); the pick of a
 * connection for a new FTP session is made on the pool's thread, and a
 * session the pick leaves to the tunnel comes back to the tunnel's
 * worker. An FTP client's connection on that way: its job copies what
 * the other threads read, so they never touch the tunnel. */
struct spread_job {
	struct handoff h; /* first: the job the pool carries */
	struct tunnel *t; /* read on the tunnel's worker only */
	struct connpool *pool;
	const struct ssh_opts *ssh_opts;
	const char *pool_key;
	struct pool_conn *own;
	int first_load; /* FTP sessions on the tunnel's own session */
	int fd;
	unsigned long id;     /* its control connection's number */
	char tunnel[600];     /* the tunnel's name */
	struct tunnel_ctl *e; /* its registry entry (worker) */
	/* sftp/: the job the pool carries is an sftp_job instead. */
	int sftp;
	uid_t uid;
	char start_dir[1024];
};

static struct spread_job *spread_job_new(struct tunnel *t, int fd,
					 int first_load, const char *name)
{
	struct spread_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->t = t;
	j->pool = t->topts.pool;
	j->ssh_opts = t->topts.ssh_opts;
	j->pool_key = t->topts.pool_key;
	j->own = t->topts.own;
	j->first_load = first_load;
	j->fd = fd;
	snprintf(j->tunnel, sizeof(j->tunnel), "%s", t->name);
	snprintf(j->h.name, sizeof(j->h.name), "%s", name);
	return j;
}

/* On the worker: the channel is open; the FTP client's socket goes to the
 * glue, listed for STATUS first (its addresses are read before). */
static int spread_opened(struct handoff *h, struct ssh_sess *s)
{
	struct spread_job *j = (struct spread_job *)h;

	(void)s;
	j->e = tunnel_ctl_new(&h->spec, j->fd, j->id, j->tunnel);
	return j->fd;
}

/* Worker: the FTP sessions on pc, from its connpool_data slot. */
static struct tunnel_ctl **ctls_of(struct pool_conn *pc)
{
	return (struct tunnel_ctl **)connpool_data(pc);
}

static void spread_started(struct handoff *h, struct ftp_ctl *k)
{
	struct spread_job *j = (struct spread_job *)h;

	if (k && j->e) {
		j->e->k = k;
		j->e->pc = h->pc;
		tunnel_ctl_link(j->e, ctls_of(h->pc));
		ftpfwd_control_set_done(k, tunnel_ctl_done, j->e);
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
		tunnel_refuse_full(j->fd, 1, h->name);
	} else {
		log_warn("%s: %s", h->name, msg);
		tunnel_reset_close(j->fd);
	}
	free(j);
}

/* On the tunnel's worker: its own session carries the FTP session. */
static void own_task(struct loop *loop, void *arg)
{
	struct spread_job *j = arg;

	(void)loop;
	if (j->sftp)
		tunnel_adopt_sftp(j->t, j->fd, j->uid, j->h.name, j->e);
	else
		tunnel_open_local(j->t, j->fd, j->h.origin_host,
				  j->h.origin_port, j->h.name);
	free(j);
}

/* On the pool's thread: back to the tunnel's own session. */
static void to_own(struct spread_job *j)
{
	if (connpool_ask(j->own, own_task, j) == 0)
		return;
	log_warn("%s: out of memory", j->h.name);
	close(j->fd);
	if (j->sftp)
		free(j->e);
	free(j);
}

/* No extra connection took it: the tunnel's own session does. */
static void spread_orphaned(struct handoff *h)
{
	to_own((struct spread_job *)h);
}

static const struct handoff_ops spread_ops = {
    .opened = spread_opened,
    .started = spread_started,
    .failed = spread_failed,
    .orphaned = spread_orphaned,
};

/* --- sftp/ sessions on extra connections ------------------------------- */

/* An unlisted job's end (its entry could not be made). */
static void sftp_job_done(void *arg)
{
	connpool_job_done(arg);
}

struct sftp_job {
	int fd;
	uid_t uid;
	char start_dir[1024];
	char name[96];
	struct tunnel_ctl *e; /* its entry for status, or NULL */
};

/* On the worker: the FTP session on its connection, listed in it. A
 * connection that cannot log in answers the client 421 (extra
 * connections log in without asking anybody, as the first one did: see
 * spread_sftp). */
static void sftp_job_run(struct pool_conn *pc, void *job)
{
	struct sftp_job *j = job;
	struct ssh_sess *s = connpool_sess(pc);
	struct tunnel_ctl *e = j->e;

	log_debug("%s: through %s", j->name, ssh_sess_name(s));
	if (e) {
		e->pc = pc;
		tunnel_ctl_sftp(e, s, "");
		tunnel_ctl_link(e, ctls_of(pc));
	}
	if (sftp_tunnel_serve(ssh_sess_loop(s), s, j->fd, j->start_dir, j->uid,
			      j->name, e ? tunnel_ctl_sftp_done : sftp_job_done,
			      e ? (void *)e : (void *)pc) < 0) {
		log_warn("%s: cannot start the FTP session", j->name);
		if (e)
			tunnel_ctl_sftp_done(e);
		else
			connpool_job_done(pc);
	}
	free(j);
}

/* On the pool's thread: an extra connection for an sftp/ session. 0 when
 * one took it. */
static int post_sftp(struct spread_job *sj, struct pool_conn *pc)
{
	struct sftp_job *j = calloc(1, sizeof(*j));

	if (!j)
		return -1;
	j->fd = sj->fd;
	j->uid = sj->uid;
	snprintf(j->start_dir, sizeof(j->start_dir), "%s", sj->start_dir);
	snprintf(j->name, sizeof(j->name), "%s", sj->h.name);
	j->e = sj->e;
	if (connpool_post(pc, sftp_job_run, j) < 0) {
		free(j);
		return -1;
	}
	free(sj);
	return 0;
}

/* On the pool's thread: the connection for a new FTP session, as
 * connpool_pick says; the tunnel's own session when it says so or no
 * other takes the job. */
static void pick_task(struct loop *loop, void *arg)
{
	struct spread_job *j = arg;
	struct pool_conn *pc;
	unsigned long id;

	(void)loop;
	pc = connpool_pick(j->pool, j->ssh_opts, j->pool_key, j->first_load);
	if (!pc) {
		to_own(j);
		return;
	}
	id = connpool_id(pc);
	log_debug("%s: to sess %lu", j->h.name, id);
	if ((j->sftp ? post_sftp(j, pc) : handoff_post(pc, &j->h)) < 0)
		to_own(j);
}

/* Sends j to the pool's thread for a pick. 1 when it took the FTP
 * client's connection, 0 when the tunnel's own session should carry it
 * now. */
static int ask_pick(struct spread_job *j)
{
	if (connpool_post_main(j->own, pick_task, j) == 0)
		return 1;
	free(j);
	return 0;
}

/* Gives an admitted sftp/ connection to an extra connection when the
 * pool picks one: concurrent FTP sessions then spread over SSH
 * connections, each a core's worth of libssh2. 1 when it took fd. */
int spread_sftp(struct tunnel *t, int fd, uid_t uid, const char *name)
{
	struct spread_job *j;
	int load;

	if (!t->topts.pool || sftp_tunnel_has_own_login(t->sftp) ||
	    ssh_sess_login_typed(t->s))
		return 0;
	/* An idle own session takes it: connpool_pick would say so too. */
	load = sftp_tunnel_sessions(t->sftp);
	if (load == 0)
		return 0;
	j = spread_job_new(t, fd, load, name);
	if (!j)
		return 0;
	j->sftp = 1;
	j->uid = uid;
	snprintf(j->start_dir, sizeof(j->start_dir), "%s",
		 sftp_tunnel_start_dir(t->sftp));
	j->e = tunnel_ctl_new(&t->spec, fd, tunnel_next_ctl_id(t), t->name);
	return ask_pick(j);
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
	tunnel_ctl_report(*ctls_of(j->pc), j->r, j->tot, id, loop_now_ms(loop));
}

static void pool_report_of(struct pool_conn *pc, void *arg)
{
	struct pool_report *j = arg;

	if (connpool_is_own(pc))
		return; /* the tunnels' own session: its owner reports it */
	j->pc = pc;
	connpool_call(pc, pool_report_task, j);
}

void spread_pool_report(struct connpool *pool, struct statusrep *r,
			struct report_totals *tot, unsigned long id_base)
{
	struct pool_report j = {.r = r, .tot = tot, .id_base = id_base};

	if (pool)
		connpool_each(pool, pool_report_of, &j);
}

/* Gives an FTP client's connection to an extra connection when the pool
 * picks one. 1 when it took fd, 0 when the tunnel's own session should
 * carry it now: no pool, a login somebody typed for, an idle own
 * session. */
int spread_ftp(struct tunnel *t, int fd, const char *peer_host, int peer_port,
	       const char *name)
{
	struct spread_job *j;

	if (!t->topts.pool || !t->topts.ftp_sessions ||
	    ssh_sess_login_typed(t->s))
		return 0;
	/* An idle own session takes it: connpool_pick would say so too. */
	if (*t->topts.ftp_sessions == 0)
		return 0;
	j = spread_job_new(t, fd, *t->topts.ftp_sessions, name);
	if (!j)
		return 0;
	j->h.ops = &spread_ops;
	j->h.spec = t->spec;
	j->h.active_mode = t->topts.ftp_active_mode;
	j->h.passive_reply = t->topts.ftp_passive_reply;
	j->h.passive_ahead = t->topts.ftp_passive_ahead;
	snprintf(j->h.origin_host, sizeof(j->h.origin_host), "%s", peer_host);
	j->h.origin_port = peer_port;
	j->id = tunnel_next_ctl_id(t);
	return ask_pick(j);
}

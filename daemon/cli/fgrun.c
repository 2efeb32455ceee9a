/* fgrun.c — a foreground ftp-tunnel's tunnels at work (see fgrun.h): the
 * SSH connection on the pool with its tunnels, signals, the status
 * socket's report, and what ends the process with which status. */
#include "fgrun.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "handoff.h"
#include "log.h"
#include "report.h"
#include "spread.h"
#include "tty.h"
#include "version.h"
#include "worker.h"

/* Extra connections for concurrent FTP sessions close this long after
 * their last one ends: the next burst pays a login, an idle tunnel holds
 * one connection. */
#define EXTRA_IDLE_MS (30 * 1000)

static void fatal(struct cli *c, int code, const char *msg)
{
	log_err("%s", msg);
	c->exit_code = code;
	loop_stop(c->loop);
}

/* What ends the process, on its way from own's worker. */
struct ending {
	struct cli *c;
	int code;
	int quiet; /* --check's success: nothing to say */
	char msg[1200];
};

static void ending_task(struct loop *loop, void *arg)
{
	struct ending *e = arg;

	(void)loop;
	if (e->quiet) {
		e->c->exit_code = e->code;
		loop_stop(e->c->loop);
	} else {
		fatal(e->c, e->code, e->msg);
	}
	free(e);
}

/* On the tunnels' thread: ends the process with code, after msg (NULL:
 * quietly), as fatal() does on the main thread. */
static void end_with(struct cli *c, int code, const char *msg)
{
	struct ending *e;
	int rc = -1;

	if (!c->own && !c->alone) {
		/* Still on the main thread: connpool_own reports a login
		 * that fails at once before it returns. */
		if (msg)
			fatal(c, code, msg);
		else
			loop_stop(c->loop);
		return;
	}
	e = calloc(1, sizeof(*e));
	if (e) {
		e->c = c;
		e->code = code;
		e->quiet = !msg;
		snprintf(e->msg, sizeof(e->msg), "%s", msg ? msg : "");
		rc = c->own ? connpool_post_main(c->own, ending_task, e)
			    : taskq_post(c->mainq, ending_task, e);
	}
	if (rc < 0) {
		log_err("out of memory: %s", msg ? msg : "stopping");
		free(e);
	}
}

static void tunnel_up(struct tunnel *t, const char *err, void *arg)
{
	struct cli *c = arg;
	int i;

	if (err) {
		char msg[1200];

		snprintf(msg, sizeof(msg), "%s: %s", tunnel_name(t), err);
		end_with(c, 1, msg);
		return;
	}
	log_info("tunnel %s: up", tunnel_name(t));
	for (i = 0; i < c->ntunnels; i++)
		if (c->tunnels[i] == t)
			atomic_store(&c->up[i], 1);
	if (--c->pending == 0) {
		log_info("all tunnels up");
		if (c->ready_fd >= 0) {
			char line[64];
			int n;

			/* One line per remote tunnel with port 0, then READY.
			 */
			for (i = 0; i < c->ntunnels; i++) {
				if (!c->specs[i].remote || c->specs[i].port)
					continue;
				n = snprintf(line, sizeof(line), "PORT %d\n",
					     tunnel_bound_port(c->tunnels[i]));
				if (write(c->ready_fd, line, (size_t)n) < 0)
					break;
			}
			if (write(c->ready_fd, "READY\n", 6) < 0)
				log_debug("ready fd: %s", strerror(errno));
			close(c->ready_fd);
			c->ready_fd = -1;
		}
	}
}

static void start_tunnels(struct cli *c)
{
	int i;

	c->pending = c->ntunnels;
	for (i = 0; i < c->ntunnels; i++)
		tunnel_start(c->tunnels[i]);
}

static void start_tunnels_task(struct loop *loop, void *arg)
{
	(void)loop;
	start_tunnels(arg);
}

/* On the tunnels' thread, its last task. */
static void free_tunnels_task(struct loop *loop, void *arg)
{
	struct cli *c = arg;
	int i;

	(void)loop;
	for (i = 0; i < c->ntunnels; i++) {
		tunnel_free(c->tunnels[i]);
		c->tunnels[i] = NULL;
	}
}

/* The pool's event hook, on own's worker: the tunnels start once own is
 * ready; its failure or loss ends the process. Extras' events are the
 * pool's. */
static void own_event(struct pool_conn *pc, enum ssh_event ev, const char *msg,
		      void *arg)
{
	struct cli *c = arg;

	if (!connpool_is_own(pc))
		return;
	switch (ev) {
	case SSH_EV_READY:
		atomic_store(&c->logged_in, 1);
		if (c->check) {
			end_with(c, 0, NULL);
			break;
		}
		start_tunnels(c);
		break;
	case SSH_EV_FAILED:
	case SSH_EV_CLOSED:
		atomic_store(&c->own_down, 1);
		end_with(c, 255, msg);
		break;
	}
}

/* The pool's closing hook, on own's worker: the tunnels go with their
 * session. */
static void own_closing(struct pool_conn *pc, int stopping, void *arg)
{
	struct cli *c = arg;
	int i;

	(void)stopping;
	if (!connpool_is_own(pc))
		return;
	for (i = 0; i < c->ntunnels; i++) {
		tunnel_free(c->tunnels[i]);
		c->tunnels[i] = NULL;
	}
}

static const struct connpool_ops cli_pool_ops = {
    .rehome = handoff_rehome,
    .closing = own_closing,
    .event = own_event,
};

static void dump_task(struct loop *loop, void *arg)
{
	(void)loop;
	ssh_sess_dump(connpool_sess(arg));
}

static void signal_cb(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;
	struct cli *c = arg;

	(void)events;
	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGUSR1) {
		if (c->own && connpool_ask(c->own, dump_task, c->own) < 0)
			log_warn("out of memory");
		return;
	}
	log_info("signal %u: stopping", si.ssi_signo);
	c->stop_signal = (int)si.ssi_signo;
	c->exit_code = 0;
	loop_stop(loop);
}

/* Every tunnel is an sftp/ one. */
static int only_sftp(const struct cli *c)
{
	int i;

	for (i = 0; i < c->ntunnels; i++)
		if (!c->specs[i].sftp)
			return 0;
	return c->ntunnels > 0;
}

/* A STATUS report (docs/IPC.txt) as it is written: the records
 * ftp-tunneld gives for its own, after one "process" record and one
 * "tunnel" record per tunnel. The tunnels' own session is connpool_id 1
 * (the first connection of the pool), extra connections follow. */
struct cli_report {
	struct cli *c;
	struct statusrep *r;
	struct report_totals tot;
	uint64_t now;
};

/* The process record; connections: the FTP control connections so far,
 * or -1 when the tunnels' thread cannot be asked. */
static void report_process(struct cli_report *j, long connections)
{
	struct cli *c = j->c;
	struct statusrep *r = j->r;

	statusrep_record(r, "process");
	statusrep_add(r, "pid", "%d", (int)getpid());
	statusrep_add(r, "kind", "foreground");
	statusrep_add(r, "version", "%s", FTP_TUNNEL_VERSION);
	statusrep_add(r, "uptime", "%llu",
		      (unsigned long long)(j->now - c->started_ms) / 1000);
	statusrep_add(r, "name", "%s", c->name);
	if (c->profile)
		statusrep_add(r, "profile", "%s", c->name);
	statusrep_add(r, "command", "%s", c->command);
	if (connections >= 0)
		statusrep_add(r, "connections", "%ld", connections);
}

static void report_tunnels(struct cli_report *j)
{
	struct cli *c = j->c;
	int i;

	for (i = 0; i < c->ntunnels; i++) {
		statusrep_record(j->r, "tunnel");
		statusrep_add(j->r, "name", "%s", c->tnames[i]);
		statusrep_add(j->r, "state", "%s",
			      atomic_load(&c->up[i]) ? "up" : "starting");
		if (c->own)
			statusrep_add(j->r, "session", "%lu",
				      connpool_id(c->own));
	}
}

/* On the tunnels' thread: what lives there. */
static void report_own(struct loop *loop, void *arg)
{
	struct cli_report *j = arg;
	struct cli *c = j->c;
	unsigned long id = c->own ? connpool_id(c->own) : 1;
	int i;

	(void)loop;
	report_process(j, (long)c->ctl_ids);
	report_tunnels(j);
	/* SftpLogin=ftp alone: each FTP login has its own connection. */
	if (c->own)
		report_session(j->r, &j->tot, id, connpool_sess(c->own),
			       j->now);
	for (i = 0; i < c->ntunnels; i++)
		if (c->tunnels[i])
			tunnel_report(c->tunnels[i], j->r, &j->tot, id);
}

/* Whether own's worker answers now: it is not gone, and not maybe
 * waiting for somebody at the terminal. */
static int own_answers(struct cli *c)
{
	return !atomic_load(&c->own_down) &&
	       (!c->may_prompt || atomic_load(&c->logged_in));
}

static void cli_report(struct statusrep *r, void *arg)
{
	struct cli_report j = {.c = arg, .r = r};
	struct cli *c = j.c;

	j.now = loop_now_ms(c->loop);
	if (c->alone) {
		worker_call(c->alone, report_own, &j);
	} else if (!c->own || !own_answers(c) ||
		   connpool_call(c->own, report_own, &j) < 0) {
		/* What the main thread knows: no session, no controls. */
		report_process(&j, -1);
		report_tunnels(&j);
	}
	spread_pool_report(c->pool, r, &j.tot, 0);
	report_totals(r, &j.tot);
}

/* `ftp-tunnel stop PID`: as SIGTERM. */
static void cli_stop(void *arg)
{
	struct cli *c = arg;

	c->stop_signal = SIGTERM; /* a prompt open now ends as on one */
	c->exit_code = 0;
	loop_stop(c->loop);
}

static const struct fgsock_ops cli_status_ops = {.report = cli_report,
						 .stop = cli_stop};

/* Extras only help a local FTP tunnel, and only when Connections allows
 * more than one. */
static int wants_pool(const struct cli *c)
{
	int i;

	if (connpool_max(&c->opts) < 2)
		return 0;
	for (i = 0; i < c->ntunnels; i++)
		if ((c->specs[i].ftp && !c->specs[i].remote) ||
		    (c->specs[i].sftp && !c->topts.sftp_login_ftp))
			return 1;
	return 0;
}

/* Makes the tunnels on loop and session s (NULL: SftpLogin=ftp alone),
 * their listeners bound: a port in use is an error before any SSH
 * traffic. 0, or -1 with c->exit_code set. */
static int make_tunnels(struct cli *c, struct loop *loop, struct ssh_sess *s)
{
	char err[1024];
	int i;

	for (i = 0; i < c->ntunnels; i++) {
		c->tunnels[i] = tunnel_new(loop, s, &c->specs[i], &c->topts,
					   tunnel_up, c, err, sizeof(err));
		if (!c->tunnels[i]) {
			log_err("%s", err);
			c->exit_code = 1;
			while (i-- > 0) {
				tunnel_free(c->tunnels[i]);
				c->tunnels[i] = NULL;
			}
			return -1;
		}
		snprintf(c->tnames[i], sizeof(c->tnames[i]), "%s",
			 tunnel_name(c->tunnels[i]));
	}
	return 0;
}

/* connpool_own's setup: the tunnels on own's loop and session, before
 * its worker runs. */
static int own_setup(struct pool_conn *pc, void *data)
{
	struct cli *c = data;
	struct ssh_sess *s = connpool_sess(pc);

	c->topts.own = pc; /* the tunnels copy it */
	if (make_tunnels(c, ssh_sess_loop(s), s) < 0) {
		c->topts.own = NULL;
		return -EINVAL;
	}
	c->own = pc; /* before the worker: it reads c->own */
	return 0;
}

/* The pool, and in it the SSH connection the tunnels run on (own), on a
 * worker of its own; with it the tunnels. -1 to go on (to run, or with
 * c->exit_code set to clean up), or the status to exit with. */
static int start_own(struct cli *c)
{
	c->pool = connpool_new(c->loop, &cli_pool_ops, c, EXTRA_IDLE_MS);
	if (!c->pool) {
		log_err("out of memory");
		return 1;
	}
	/* The login asks at the terminal on own's worker; the main
	 * thread's signals wait for it (see run). */
	c->may_prompt = !c->opts.batch_mode && tty_available();
	if (!c->check && wants_pool(c)) {
		/* Concurrent FTP sessions spread over more connections, each
		 * on a thread of its own (libssh2 1.10 is one core's worth
		 * per connection). */
		ssh_opts_key(&c->opts, c->pool_key, sizeof(c->pool_key));
		c->topts.pool = c->pool;
		c->topts.pool_key = c->pool_key;
	}
	if (!connpool_own(c->pool, &c->opts, c, own_setup)) {
		if (c->exit_code)
			return -1; /* a tunnel could not be made: said */
		/* Its worker did not start: the tunnels made on its loop
		 * went with it, unfreed; we exit now. */
		log_err("cannot start the SSH connection: %s",
			strerror(errno ? errno : ENOMEM));
		return 1;
	}
	return -1;
}

/* SftpLogin=ftp alone: no SSH connection of our own (each FTP login
 * makes its own). The tunnels run on a worker all the same, so that the
 * main thread keeps only the signals and the status socket and never
 * waits for a login's name lookup or key exchange. -1 to go on (to run,
 * or with c->exit_code set to clean up), or the status to exit with. */
static int start_alone(struct cli *c)
{
	int rc;

	c->mainq = taskq_new(c->loop);
	c->alone = worker_new();
	if (!c->mainq || !c->alone) {
		log_err("out of memory");
		return 1;
	}
	if (make_tunnels(c, worker_loop(c->alone), NULL) < 0)
		return -1;
	rc = worker_start(c->alone);
	if (rc < 0) {
		log_err("cannot start a thread: %s", strerror(-rc));
		return 1;
	}
	if (worker_post(c->alone, start_tunnels_task, c) < 0) {
		log_err("out of memory");
		c->exit_code = 1;
	}
	return -1;
}

/* Makes the event loop, its signal watch (*sfd), the SSH connection with
 * the tunnels (or the tunnels alone, SftpLogin=ftp), the status socket.
 * Returns -1 to go on (to run, or with c->exit_code set to clean up), or
 * the status to exit with. */
static int start(struct cli *c, int *sfd)
{
	int rc;

	signal(SIGPIPE, SIG_IGN);
	c->loop = loop_new();
	if (!c->loop) {
		log_err("cannot create event loop: %s", strerror(errno));
		return 1;
	}
	/* Blocked before any worker starts: workers inherit the mask. */
	*sfd = loop_watch_signals(c->loop, signal_cb, c);
	if (*sfd < 0) {
		log_err("cannot watch signals: %s", strerror(-*sfd));
		return 1;
	}
	c->topts.ssh_opts = &c->opts;
	c->topts.ftp_sessions = &c->ftp_sessions;
	c->topts.ctl_ids = &c->ctl_ids;
	c->started_ms = loop_now_ms(c->loop);
	/* Local listeners first: a port in use is an error before we
	 * connect anywhere. Every tunnel an sftp/ one whose FTP logins log
	 * in themselves (SftpLogin=ftp): no SSH connection of our own. */
	if (!c->check && c->topts.sftp_login_ftp && only_sftp(c))
		rc = start_alone(c);
	else
		rc = start_own(c);
	if (rc >= 0 || c->exit_code)
		return rc;
	if (!c->check)
		c->status = fgsock_new(c->loop, c->name, &cli_status_ops, c);
	return -1;
}

/* Runs the tunnels until a signal or an error, then frees everything
 * start() made. Returns the status to exit with. */
static int run(struct cli *c, int sfd)
{
	if (c->exit_code == 0)
		loop_run(c->loop);
	fgsock_free(c->status); /* first: status stops listing us */
	if (c->stop_signal && c->own && !atomic_load(&c->logged_in) &&
	    !atomic_load(&c->own_down)) {
		/* own's worker may be at a prompt, which ends on a stop
		 * signal (tty.h) and never returns to its loop otherwise:
		 * the one we took is its to see. */
		kill(getpid(), c->stop_signal);
	}
	/* Every connection ends on its worker: own's takes the tunnels
	 * with it (own_closing); extras' hand-backs name them. */
	connpool_free(c->pool);
	worker_end(c->alone, free_tunnels_task, c);
	taskq_free(c->mainq);
	loop_unwatch(c->loop, sfd);
	close(sfd);
	loop_free(c->loop);
	ssh_opts_release(&c->opts);
	return c->exit_code;
}

int fgrun(struct cli *c)
{
	int rc, sfd = -1;

	rc = start(c, &sfd);
	if (rc >= 0)
		return rc;
	return run(c, sfd);
}

/* handoff.c — an FTP control connection carried by a pooled SSH
 * connection (see handoff.h): the steps on the worker, and the way back
 * to the main thread when an extra connection cannot log in. */
#include "handoff.h"

#include <errno.h>
#include <stdio.h>

#include "log.h"

void handoff_ctl_done(struct ftp_ctl *k, void *arg)
{
	(void)k;
	connpool_job_done(arg);
}

/* On the worker: the channel opened (ch), or not. */
static void opened(struct ssh_sess *s, LIBSSH2_CHANNEL *ch, const char *err,
		   void *arg)
{
	struct handoff *h = arg;
	struct ftp_ctl *k;
	int fd;

	if (!ch) {
		/* The SSH server could not reach the FTP server: the client
		 * learns what a direct connect would have told it. */
		if (ssh_sess_dead(s) && connpool_handback(h->pc, h))
			return; /* another connection takes it */
		connpool_job_done(h->pc);
		h->ops->failed(h, 0,
			       ssh_sess_dead(s) ? ECONNABORTED : ECONNREFUSED,
			       err ? err : "no channel");
		return;
	}
	fd = h->ops->opened(h, s);
	if (fd < 0) {
		ssh_chan_discard(s, ch);
		connpool_job_done(h->pc);
		h->ops->started(h, NULL);
		return;
	}
	log_debug("%s: through %s (sess %lu)", h->name, ssh_sess_name(s),
		  connpool_id(h->pc));
	k = ftpfwd_control_new(s, ch, fd, &h->spec, h->active_mode,
			       h->passive_reply, h->passive_ahead, h->advertise,
			       h->name);
	if (!k) {
		log_warn("%s: cannot start FTP session", h->name);
		connpool_job_done(h->pc);
	}
	h->ops->started(h, k);
}

/* On the worker: asks for the channel. */
static void run(struct pool_conn *pc, void *job)
{
	struct handoff *h = job;
	struct ssh_sess *s = connpool_sess(pc);
	char why[1100];
	long rc;

	h->pc = pc;
	rc = ssh_open_direct(s, h->spec.host, h->spec.hostport, h->origin_host,
			     h->origin_port, opened, h);
	if (rc >= 0 || (rc == -ENOTCONN && connpool_handback(pc, h)))
		return; /* opened() goes on */
	/* Why, when it is known: "jump host b: host key changed" (read
	 * while the job still holds the connection). */
	if (rc == -EMFILE)
		snprintf(why, sizeof(why),
			 "the SSH connection carries as many channels as "
			 "MaxChannels allows; try again later");
	else
		snprintf(why, sizeof(why), "the SSH session is down%s%s",
			 *ssh_sess_why(s) ? ": " : "", ssh_sess_why(s));
	connpool_job_done(pc);
	h->ops->failed(h, 1, rc == -EMFILE ? EAGAIN : ECONNABORTED, why);
}

int handoff_post(struct pool_conn *pc, struct handoff *h)
{
	return connpool_post(pc, run, h);
}

void handoff_rehome(void *job, struct pool_conn *to, void *arg)
{
	struct handoff *h = job;

	(void)arg;
	if (to && handoff_post(to, h) == 0)
		return;
	h->ops->orphaned(h);
}

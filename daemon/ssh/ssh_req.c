/* ssh_req.c — the session's request queue: direct-tcpip channel opens,
 * sftp subsystem starts and remote forwards, one in flight at a time, and
 * the listeners of the remote forwards it set up. */
#include "ssh_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "wire.h"

/* --- requests: channel opens and remote forwards, one at a time -------- */

static struct ssh_req *new_req(struct ssh_sess *s, enum req_kind kind,
			       const char *host, int port, void *arg)
{
	struct ssh_req *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->id = ++s->next_id;
	r->kind = kind;
	snprintf(r->host, sizeof(r->host), "%s", host);
	r->port = port;
	r->arg = arg;
	*s->reqs_tail = r;
	s->reqs_tail = &r->next;
	return r;
}

int ssh_sess_room(const struct ssh_sess *s)
{
	const struct ssh_chan *c;
	const struct ssh_req *r;
	int n = 0;

	if (s->opts.max_channels <= 0)
		return INT_MAX;
	for (c = s->chans; c; c = c->next)
		n++;
	for (c = s->closing; c; c = c->next)
		n++;
	for (r = s->reqs; r; r = r->next)
		n += r->kind != REQ_LISTEN;
	return n < s->opts.max_channels ? s->opts.max_channels - n : 0;
}

/* Fills r->msg: host and port to connect to, originator address and port
 * (RFC 4254 §7.2). Returns its length. host and orig_host are bounded by
 * their arrays, so it fits. */
static unsigned int direct_msg(struct ssh_req *r)
{
	unsigned char *p = r->msg;

	p = wire_put_bytes(p, r->host, (uint32_t)strlen(r->host));
	p = wire_put_u32(p, (uint32_t)r->port);
	p = wire_put_bytes(p, r->orig_host, (uint32_t)strlen(r->orig_host));
	p = wire_put_u32(p, (uint32_t)r->orig_port);
	return (unsigned int)(p - r->msg);
}

long ssh_open_direct(struct ssh_sess *s, const char *host, int port,
		     const char *orig_host, int orig_port, ssh_open_cb cb,
		     void *arg)
{
	struct ssh_req *r;

	if (s->state == SESS_DEAD)
		return -ENOTCONN;
	if (ssh_sess_room(s) == 0) {
		log_warn("sess %s: %d channels open, the most MaxChannels "
			 "allows: a new one is refused",
			 s->name, s->opts.max_channels);
		return -EMFILE;
	}
	r = new_req(s, REQ_DIRECT, host, port, arg);
	if (!r)
		return -ENOMEM;
	snprintf(r->orig_host, sizeof(r->orig_host), "%s",
		 orig_host ? orig_host : "127.0.0.1");
	r->orig_port = orig_port;
	r->msg_len = direct_msg(r);
	r->open_cb = cb;
	ssh_sess_kick(s);
	return r->id;
}

long ssh_listen(struct ssh_sess *s, const char *host, int port,
		ssh_listen_cb lcb, ssh_accept_cb acb, void *arg)
{
	struct ssh_req *r;

	if (s->state == SESS_DEAD)
		return -ENOTCONN;
	r = new_req(s, REQ_LISTEN, host, port, arg);
	if (!r)
		return -ENOMEM;
	r->listen_cb = lcb;
	r->accept_cb = acb;
	ssh_sess_kick(s);
	return r->id;
}

long ssh_open_sftp(struct ssh_sess *s, ssh_sftp_cb cb, void *arg)
{
	struct ssh_req *r;

	if (s->state == SESS_DEAD)
		return -ENOTCONN;
	if (ssh_sess_room(s) == 0)
		return -EMFILE;
	r = new_req(s, REQ_SFTP, "sftp", 0, arg);
	if (!r)
		return -ENOMEM;
	r->sftp_cb = cb;
	ssh_sess_kick(s);
	return r->id;
}

long ssh_open_subsystem(struct ssh_sess *s, const char *name, ssh_open_cb cb,
			void *arg)
{
	struct ssh_req *r;

	if (s->state == SESS_DEAD)
		return -ENOTCONN;
	if (ssh_sess_room(s) == 0)
		return -EMFILE;
	r = new_req(s, REQ_SUBSYS, name, 0, arg);
	if (!r)
		return -ENOMEM;
	r->open_cb = cb;
	ssh_sess_kick(s);
	return r->id;
}

/* A request libssh2 has not seen yet leaves the queue at once, so a
 * client that asks for data connections faster than their opens finish
 * (each PASV opens one, ftpdata.c) does not fill MaxChannels with opens
 * nobody waits for; a started one must finish (libssh2 resumes it) and its
 * channel is discarded then. */
void ssh_open_cancel(struct ssh_sess *s, long id)
{
	struct ssh_req **pp;

	for (pp = &s->reqs; *pp; pp = &(*pp)->next) {
		struct ssh_req *r = *pp;

		if (r->id != id)
			continue;
		if (r->started) {
			r->cancelled = 1;
			return;
		}
		*pp = r->next;
		if (s->reqs_tail == &r->next)
			s->reqs_tail = pp;
		free(r);
		return;
	}
}

/* A channel open answered: its time is a round trip's, plus the server's
 * connect to the target; the shortest one is kept. */
static void rtt_sample(struct ssh_sess *s, const struct ssh_req *r)
{
	uint64_t t = loop_now_ms(s->loop) - r->started_ms;

	if (!s->rtt_known || t < s->rtt_ms) {
		s->rtt_ms = t;
		s->rtt_known = 1;
		log_debug("sess %s: round trip %llu ms (a channel open)",
			  s->name, (unsigned long long)t);
	}
}

void ssh_req_pop(struct ssh_sess *s)
{
	struct ssh_req *r = s->reqs;

	s->reqs = r->next;
	if (!s->reqs)
		s->reqs_tail = &s->reqs;
	free(r);
}

/* A subsystem channel: the session channel's open, then the subsystem
 * request, each resumed by libssh2 after EAGAIN (the open's state in
 * the session, the request's in the channel). EAGAIN, or 0 once the
 * owner has its answer. */
static int subsys_step(struct ssh_sess *s, struct ssh_req *r)
{
	char msg[1400];
	int rc;

	if (!r->subsys_ch) {
		r->subsys_ch = libssh2_channel_open_ex(
		    s->raw, "session", sizeof("session") - 1, WINDOW_OPEN,
		    LIBSSH2_CHANNEL_PACKET_DEFAULT, NULL, 0);
		rc = r->subsys_ch ? 0 : libssh2_session_last_errno(s->raw);
		if (ssh_ungate(s, r, rc) == LIBSSH2_ERROR_EAGAIN)
			return rc;
		if (r->subsys_ch)
			rtt_sample(s, r);
		if (r->subsys_ch && !ssh_gate(s, r))
			return LIBSSH2_ERROR_EAGAIN;
	}
	if (r->subsys_ch) {
		rc = libssh2_channel_process_startup(
		    r->subsys_ch, "subsystem", sizeof("subsystem") - 1, r->host,
		    (unsigned)strlen(r->host));
		if (ssh_ungate(s, r, rc) == LIBSSH2_ERROR_EAGAIN)
			return rc;
	} else {
		rc = -1;
	}
	if (rc == 0 && r->cancelled) {
		ssh_chan_discard(s, r->subsys_ch);
		return 0;
	}
	if (rc != 0 && r->subsys_ch) {
		snprintf(msg, sizeof(msg), "%s refused the %s subsystem: %s",
			 s->name, r->host, ssh_last_error(s));
		ssh_chan_discard(s, r->subsys_ch);
	} else if (rc != 0) {
		snprintf(msg, sizeof(msg),
			 "%s refused to open a session channel: %s", s->name,
			 ssh_last_error(s));
	}
	if (!r->cancelled)
		r->open_cb(s, rc == 0 ? r->subsys_ch : NULL,
			   rc == 0 ? NULL : msg, r->arg);
	return 0;
}

int ssh_req_service(struct ssh_sess *s)
{
	int progress = 0;

	while (s->reqs && ssh_gate(s, s->reqs)) {
		struct ssh_req *r = s->reqs;
		char msg[1400];

		if (!r->started) {
			r->started = 1;
			r->started_ms = loop_now_ms(s->loop);
		}
		if (r->kind == REQ_SFTP) {
			/* libssh2_sftp_init opens a "session" channel and
			 * keeps its resume state in the session, as channel
			 * opens do: it waits its turn in the same queue. */
			LIBSSH2_SFTP *sftp = libssh2_sftp_init(s->raw);
			int rc = sftp ? 0 : libssh2_session_last_errno(s->raw);

			if (ssh_ungate(s, r, rc) == LIBSSH2_ERROR_EAGAIN)
				break;
			progress = 1;
			if (sftp && r->cancelled) {
				/* Closing the channel frees the SFTP state
				 * too (libssh2's close callback). */
				ssh_chan_discard(
				    s, libssh2_sftp_get_channel(sftp));
			} else if (!r->cancelled) {
				if (!sftp)
					snprintf(msg, sizeof(msg),
						 "%s refused the sftp "
						 "subsystem: %s",
						 s->name, ssh_last_error(s));
				r->sftp_cb(s, sftp, sftp ? NULL : msg, r->arg);
			}
		} else if (r->kind == REQ_SUBSYS) {
			if (subsys_step(s, r) == LIBSSH2_ERROR_EAGAIN)
				break;
			progress = 1;
		} else if (r->kind == REQ_DIRECT) {
			LIBSSH2_CHANNEL *ch = libssh2_channel_open_ex(
			    s->raw, "direct-tcpip", sizeof("direct-tcpip") - 1,
			    WINDOW_OPEN, LIBSSH2_CHANNEL_PACKET_DEFAULT,
			    (const char *)r->msg, r->msg_len);
			int rc = ch ? 0 : libssh2_session_last_errno(s->raw);

			if (ssh_ungate(s, r, rc) == LIBSSH2_ERROR_EAGAIN)
				break;
			progress = 1;
			if (ch)
				rtt_sample(s, r);
			if (ch && r->cancelled) {
				ssh_chan_discard(s, ch);
			} else if (!r->cancelled) {
				if (!ch)
					snprintf(msg, sizeof(msg),
						 "%s refused to open a "
						 "channel to %s port %d: %s",
						 s->name, r->host, r->port,
						 ssh_last_error(s));
				r->open_cb(s, ch, ch ? NULL : msg, r->arg);
			}
		} else {
			int bound = 0;
			LIBSSH2_LISTENER *l = libssh2_channel_forward_listen_ex(
			    s->raw, r->host, r->port, &bound, 16);
			int rc = l ? 0 : libssh2_session_last_errno(s->raw);

			if (ssh_ungate(s, r, rc) == LIBSSH2_ERROR_EAGAIN)
				break;
			progress = 1;
			if (l) {
				struct ssh_listener *sl =
				    calloc(1, sizeof(*sl));

				if (sl) {
					sl->raw = l;
					sl->accept_cb = r->accept_cb;
					sl->arg = r->arg;
					sl->next = s->listeners;
					s->listeners = sl;
				}
				if (r->cancelled && sl)
					sl->cancelling = 1;
			}
			if (!r->cancelled) {
				if (!l)
					snprintf(msg, sizeof(msg),
						 "%s refused the remote "
						 "forward of %s port %d: %s",
						 s->name, r->host, r->port,
						 ssh_last_error(s));
				r->listen_cb(s, l, bound, l ? NULL : msg,
					     r->arg);
			}
		}
		ssh_req_pop(s);
	}
	return progress;
}

void ssh_unlisten(struct ssh_sess *s, LIBSSH2_LISTENER *l)
{
	struct ssh_listener *sl;

	for (sl = s->listeners; sl; sl = sl->next)
		if (sl->raw == l)
			sl->cancelling = 1;
	ssh_sess_kick(s);
}

int ssh_req_service_listeners(struct ssh_sess *s)
{
	struct ssh_listener **pp = &s->listeners;
	int progress = 0;

	while (*pp) {
		struct ssh_listener *l = *pp;
		int rc;

		/* Not break: the holder of the pending packet may be a
		 * listener further down the list, and only it can go on. */
		if (!ssh_gate(s, l)) {
			pp = &l->next;
			continue;
		}
		if (l->cancelling) {
			rc = ssh_ungate(s, l,
					libssh2_channel_forward_cancel(l->raw));
			if (rc == LIBSSH2_ERROR_EAGAIN) {
				pp = &l->next;
				continue;
			}
			*pp = l->next;
			free(l);
			progress = 1;
			continue;
		}
		for (;;) {
			LIBSSH2_CHANNEL *ch =
			    libssh2_channel_forward_accept(l->raw);

			rc = ch ? 0 : libssh2_session_last_errno(s->raw);
			rc = ssh_ungate(s, l, rc);
			if (!ch)
				break;
			progress = 1;
			l->accept_cb(s, ch, l->arg);
		}
		pp = &l->next;
	}
	return progress;
}

int ssh_sess_accept_queued(struct ssh_sess *s)
{
	if (s->state != SESS_READY || !s->in_service)
		return 0;
	return ssh_req_service_listeners(s);
}

/* Fails every queued request; their owners learn through their callbacks. */
void ssh_req_fail_all(struct ssh_sess *s, const char *why)
{
	while (s->reqs) {
		struct ssh_req *r = s->reqs;

		s->reqs = r->next;
		if (!r->cancelled) {
			if (r->kind == REQ_DIRECT || r->kind == REQ_SUBSYS)
				r->open_cb(s, NULL, why, r->arg);
			else if (r->kind == REQ_SFTP)
				r->sftp_cb(s, NULL, why, r->arg);
			else
				r->listen_cb(s, NULL, 0, why, r->arg);
		}
		free(r);
	}
	s->reqs_tail = &s->reqs;
}

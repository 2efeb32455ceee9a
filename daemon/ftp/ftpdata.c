/* ftpdata.c — one FTP data connection's setup: listener or remote forward
 * or pair, the peer check, the timeout, then a pump. */
#include "ftpdata.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "datalisten.h"
#include "log.h"
#include "net.h"
#include "pump.h"
#include "sockowner.h"

enum ftpdata_kind { KIND_LISTEN_HERE, KIND_LISTEN_THERE, KIND_PAIR };

struct ftp_data {
	enum ftpdata_kind kind;
	struct ssh_sess *s;
	struct loop *loop;
	char name[96];
	ftpdata_done_cb done;
	ftpdata_bound_cb bound;
	void *arg;
	struct loop_timer *timer;
	/* listen here */
	int lfd;
	enum ftpdata_check check;
	struct sockaddr_storage expected_peer;
	struct sockaddr_storage bound_addr; /* the listener's address */
	/* The channel opens with the client's next command (open_later,
	 * ftpdata_command_passed), or open_timer after the connection. */
	int open_later;
	struct loop_timer *open_timer;
	/* the channel side */
	char chan_host[256];
	int chan_port;
	long req;	     /* pending open or listen request */
	LIBSSH2_CHANNEL *ch; /* opened or accepted channel */
	LIBSSH2_LISTENER *rl;
	/* the socket side */
	struct sockaddr_storage local_target;
	struct sockaddr_storage source; /* our end of a local connect */
	int fd;
	int fd_connected;
	int connecting;	   /* a connection was accepted */
	int download;	   /* ftpdata_download() */
	struct pump *pump; /* once both halves are connected */
};

/* Releases everything not yet handed to a pump. */
static void release(struct ftp_data *d)
{
	loop_timer_free(d->timer);
	loop_timer_free(d->open_timer);
	if (d->lfd >= 0) {
		loop_unwatch(d->loop, d->lfd);
		close(d->lfd);
	}
	if (d->fd >= 0) {
		loop_unwatch(d->loop, d->fd);
		close(d->fd);
	}
	if (d->req > 0)
		ssh_open_cancel(d->s, d->req);
	if (d->ch)
		ssh_chan_discard(d->s, d->ch);
	if (d->rl)
		ssh_unlisten(d->s, d->rl);
	free(d);
}

static void finish(struct ftp_data *d, const char *err)
{
	if (err)
		log_warn("%s: data connection failed: %s", d->name, err);
	if (d->done)
		d->done(d, err, d->arg);
	release(d);
}

void ftpdata_cancel(struct ftp_data *d)
{
	if (d)
		release(d);
}

void ftpdata_detach(struct ftp_data *d)
{
	if (!d)
		return;
	if (!d->connecting) {
		release(d);
		return;
	}
	d->done = NULL;
	d->bound = NULL;
}

void ftpdata_download(struct ftp_data *d)
{
	d->download = 1;
}

int ftpdata_connecting(const struct ftp_data *d)
{
	return d->connecting;
}

struct pump *ftpdata_pump(const struct ftp_data *d)
{
	return d->pump;
}

/* Both halves are connected: hand them to a pump. */
static void start_pump(struct ftp_data *d)
{
	int fd = d->fd;
	LIBSSH2_CHANNEL *ch = d->ch;

	d->fd = -1;
	d->ch = NULL;
	loop_unwatch(d->loop, fd);
	d->pump = pump_new(d->s, ch, fd, d->name, NULL, NULL);
	if (!d->pump) {
		finish(d, "out of memory");
		return;
	}
	if (d->download)
		pump_input_done(d->pump);
	if (d->lfd >= 0) {
		loop_unwatch(d->loop, d->lfd);
		pump_keep_listener(d->pump, d->lfd);
		d->lfd = -1;
	}
	finish(d, NULL);
}

static void timeout_cb(struct loop *loop, void *arg)
{
	struct ftp_data *d = arg;

	(void)loop;
	finish(d, "no data connection came within 60 s");
}

static struct ftp_data *data_new(struct ssh_sess *s, enum ftpdata_kind kind,
				 const char *name, ftpdata_done_cb done,
				 void *arg)
{
	struct ftp_data *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->kind = kind;
	d->s = s;
	d->loop = ssh_sess_loop(s);
	d->lfd = d->fd = -1;
	d->done = done;
	d->arg = arg;
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->timer = loop_timer_new(d->loop, timeout_cb, d);
	if (!d->timer) {
		free(d);
		return NULL;
	}
	loop_timer_arm(d->timer, FTPDATA_TIMEOUT_MS);
	return d;
}

/* A constructor's SSH request (id < 0: it could not be queued) is in
 * flight: d, else d is released (its callback never called) and NULL. */
static struct ftp_data *requested(struct ftp_data *d, long id)
{
	if (id < 0) {
		release(d);
		return NULL;
	}
	d->req = id;
	return d;
}

/* --- channel opened / local connect finished -------------------------- */

static void maybe_both(struct ftp_data *d)
{
	if (d->ch && d->fd >= 0 && d->fd_connected)
		start_pump(d);
}

/* Our SSH request (a channel open, a remote listen) was answered: 1 when
 * it gave what was asked (ok), else 0 and the setup failed with err. */
static int answered(struct ftp_data *d, int ok, const char *err)
{
	d->req = 0;
	if (!ok)
		finish(d, err);
	return ok;
}

static void chan_opened(struct ssh_sess *s, LIBSSH2_CHANNEL *ch,
			const char *err, void *arg)
{
	struct ftp_data *d = arg;

	(void)s;
	if (!answered(d, ch != NULL, err))
		return;
	d->ch = ch;
	maybe_both(d);
}

static void local_connected(struct loop *loop, int fd, uint32_t events,
			    void *arg)
{
	struct ftp_data *d = arg;
	int soerr = net_connect_result(fd);
	char msg[160], where[80];

	(void)events;
	loop_unwatch(loop, fd);
	if (soerr) {
		snprintf(msg, sizeof(msg), "cannot connect to %s: %s",
			 addr_format((struct sockaddr *)&d->local_target, where,
				     sizeof(where)),
			 strerror(soerr));
		finish(d, msg);
		return;
	}
	d->fd_connected = 1;
	maybe_both(d);
}

static int connect_local(struct ftp_data *d)
{
	const struct sockaddr *sa = (struct sockaddr *)&d->local_target;
	int fd = net_connect_start(sa, addr_len(sa));

	socklen_t slen = sizeof(d->source);

	if (fd < 0)
		return fd;
	d->fd = fd;
	/* connect() has bound the socket: its port tells the FTP client's
	 * shim that the connection it accepts is ours (ftpdata_made). */
	if (getsockname(fd, (struct sockaddr *)&d->source, &slen) < 0)
		d->source.ss_family = AF_UNSPEC;
	if (loop_watch(d->loop, fd, EPOLLOUT, local_connected, d) < 0)
		return -ENOMEM;
	return 0;
}

/* --- listen here ------------------------------------------------------ */

/* NULL when the connection from peer may carry the data, else why not. */
static const char *peer_refused(struct ftp_data *d, const struct sockaddr *peer,
				const struct sockaddr *local)
{
	uid_t uid;
	int r;

	if (d->check == FTPDATA_CHECK_ADDR)
		return addr_same_host(peer,
				      (struct sockaddr *)&d->expected_peer)
			   ? NULL
			   : "not the FTP client's address";
	/* Loopback: only a socket of our own user may take the data. A
	 * socket closed before we got here may no longer name its owner
	 * (sockowner.h): whoever it was, its bytes are all in our queue
	 * already and cannot be told from a stranger's, so it is refused,
	 * as root too, where "uid 0" used to let in anyone's. The listener
	 * stays open for the client's own connection. */
	r = sockowner_uid(peer, local, &uid);
	if (r == SOCKOWNER_GONE)
		return "closed before it was accepted, by an owner the "
		       "kernel no longer names";
	if (r < 0)
		return "no local socket owns it";
	return uid == getuid() ? NULL : "another user's";
}

/* Once the listener's connection is taken: every further one is closed at
 * once (the pump does so too once it has the listener, till it ends). */
static void refuse_cb(struct loop *loop, int lfd, uint32_t events, void *arg)
{
	struct ftp_data *d = arg;

	(void)events;
	net_refuse_waiting(loop, lfd, d->name);
}

/* Opens the listener's channel before its connection needs it: the port
 * is the one the FTP server (or, -R active, the client) just named, and
 * it will be used, so its round trip overlaps the client's command (-L
 * passive: sent with it, ftpdata_command_passed) or connect (-R active:
 * at once). The originator is our listener (the peer is not known yet);
 * a listener nobody uses discards its channel (release). */
static int open_early(struct ftp_data *d)
{
	char here[80];
	long id;

	d->open_later = 0;
	loop_timer_disarm(d->open_timer);
	addr_host((struct sockaddr *)&d->bound_addr, here, sizeof(here));
	id = ssh_open_direct(d->s, d->chan_host, d->chan_port, here,
			     addr_port((struct sockaddr *)&d->bound_addr),
			     chan_opened, d);
	if (id < 0)
		return (int)id;
	d->req = id;
	return 0;
}

/* A deferred open (ftpdata_command_passed, open_timer_cb) goes now. */
static void open_deferred(struct ftp_data *d, const char *why)
{
	if (!d->open_later)
		return;
	log_debug("%s: opening its channel %s", d->name, why);
	if (open_early(d) < 0)
		finish(d, "cannot open a channel (the SSH session is down or "
			  "at MaxChannels)");
}

void ftpdata_command_passed(struct ftp_data *d)
{
	open_deferred(d, "with the client's command");
}

static void open_timer_cb(struct loop *loop, void *arg)
{
	(void)loop;
	open_deferred(arg, "after its connection (no command came)");
}

/* The listener's one connection is fd; the pump starts as soon as the
 * channel opened early is there too. The listener is not closed yet:
 * connections to it still being set up in the kernel would be lost
 * without a reset, established at the client's end only, that client
 * waiting for ever (t_hostile's 200 at once: one such in some runs on a
 * loaded host). It goes with the pump, refusing. */
static void take(struct ftp_data *d, int fd)
{
	loop_unwatch(d->loop, d->lfd);
	if (loop_watch(d->loop, d->lfd, EPOLLIN, refuse_cb, d) < 0) {
		close(d->lfd);
		d->lfd = -1;
	}
	d->connecting = 1;
	net_nodelay(fd);
	d->fd = fd;
	d->fd_connected = 1;
	if (d->open_later)
		loop_timer_arm(d->open_timer, FTPDATA_OPEN_WAIT_MS);
	maybe_both(d);
}

static const char *here_check(void *arg, const struct sockaddr *peer,
			      const struct sockaddr *local)
{
	return peer_refused(arg, peer, local);
}

static void here_accept_cb(struct loop *loop, int lfd, uint32_t events,
			   void *arg)
{
	struct ftp_data *d = arg;
	int fd;

	(void)events;
	fd = datalisten_accept(loop, lfd, d->name, here_check, d);
	if (fd >= 0)
		take(d, fd);
}

struct ftp_data *
ftpdata_listen_here(struct ssh_sess *s, const struct sockaddr *listen_at,
		    enum ftpdata_check check,
		    const struct sockaddr *expected_peer, const char *chan_host,
		    int chan_port, enum ftpdata_open when,
		    struct sockaddr_storage *bound, const char *name,
		    ftpdata_done_cb done, void *arg, char *err, size_t errlen)
{
	struct ftp_data *d = data_new(s, KIND_LISTEN_HERE, name, done, arg);
	char where[80];

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->check = check;
	memcpy(&d->expected_peer, expected_peer, addr_len(expected_peer));
	snprintf(d->chan_host, sizeof(d->chan_host), "%s", chan_host);
	d->chan_port = chan_port;
	d->lfd = datalisten_open(d->loop, listen_at, check == FTPDATA_CHECK_UID,
				 here_accept_cb, d, bound, name);
	if (d->lfd < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s",
			 addr_format(listen_at, where, sizeof(where)),
			 strerror(-d->lfd));
		d->lfd = -1;
		release(d);
		return NULL;
	}
	memcpy(&d->bound_addr, bound, addr_len((struct sockaddr *)bound));
	if (when == FTPDATA_OPEN_WITH_COMMAND) {
		/* Room is checked now, so the PASV gets the refusal. */
		d->open_timer = loop_timer_new(d->loop, open_timer_cb, d);
		d->open_later =
		    d->open_timer && ssh_sess_room(s) > 0 && !ssh_sess_dead(s);
	}
	if (!d->open_later && open_early(d) < 0) {
		snprintf(err, errlen,
			 "cannot open a channel (the SSH session is down or "
			 "at MaxChannels): try again later");
		release(d);
		return NULL;
	}
	log_debug("%s: data listener on %s -> %s:%d", name,
		  addr_format((struct sockaddr *)bound, where, sizeof(where)),
		  chan_host, chan_port);
	return d;
}

int ftpdata_adopt(struct ftp_data *d, uint16_t port, int fd)
{
	if (d->kind != KIND_LISTEN_HERE ||
	    datalisten_may_adopt(d->lfd,
				 addr_port((struct sockaddr *)&d->bound_addr),
				 d->connecting, port, fd, d->name) < 0)
		return -1;
	take(d, fd);
	return 0;
}

int ftpdata_made(const struct ftp_data *d, struct sockaddr_storage *src,
		 struct sockaddr_storage *dst)
{
	if (d->kind == KIND_LISTEN_HERE || !d->connecting ||
	    d->source.ss_family == AF_UNSPEC)
		return 0;
	*src = d->source;
	*dst = d->local_target;
	return 1;
}

/* --- listen there ----------------------------------------------------- */

static void there_accept(struct ssh_sess *s, LIBSSH2_CHANNEL *ch, void *arg)
{
	struct ftp_data *d = arg;
	int rc;

	if (d->ch || d->connecting) {
		ssh_chan_discard(s, ch); /* one connection only */
		return;
	}
	d->connecting = 1;
	d->ch = ch;
	ssh_unlisten(s, d->rl);
	d->rl = NULL;
	rc = connect_local(d);
	if (rc < 0) {
		char msg[160];

		snprintf(msg, sizeof(msg), "cannot connect locally: %s",
			 strerror(-rc));
		finish(d, msg);
	}
}

static void there_listening(struct ssh_sess *s, LIBSSH2_LISTENER *l,
			    int bound_port, const char *err, void *arg)
{
	struct ftp_data *d = arg;

	(void)s;
	if (!answered(d, l != NULL, err))
		return;
	d->rl = l;
	log_debug("%s: data forward on the server's port %d", d->name,
		  bound_port);
	if (d->bound)
		d->bound(d, bound_port, d->arg);
}

struct ftp_data *ftpdata_listen_there(struct ssh_sess *s,
				      const char *listen_host,
				      const struct sockaddr *local_target,
				      const char *name, ftpdata_bound_cb bound,
				      ftpdata_done_cb done, void *arg)
{
	struct ftp_data *d = data_new(s, KIND_LISTEN_THERE, name, done, arg);

	if (!d)
		return NULL;
	d->bound = bound;
	memcpy(&d->local_target, local_target, addr_len(local_target));
	return requested(
	    d, ssh_listen(s, listen_host, 0, there_listening, there_accept, d));
}

/* --- pair ------------------------------------------------------------- */

struct ftp_data *ftpdata_pair(struct ssh_sess *s, const char *chan_host,
			      int chan_port,
			      const struct sockaddr *local_target,
			      const char *name, ftpdata_done_cb done, void *arg)
{
	struct ftp_data *d = data_new(s, KIND_PAIR, name, done, arg);

	if (!d)
		return NULL;
	d->connecting = 1;
	memcpy(&d->local_target, local_target, addr_len(local_target));
	if (connect_local(d) < 0) {
		release(d);
		return NULL;
	}
	return requested(d, ssh_open_direct(s, chan_host, chan_port,
					    "127.0.0.1", 0, chan_opened, d));
}

/* fsdata.c — local FTP data connections of the SFTP bridge: one
 * passive listener (datalisten.h, shared with ftpdata.c) or one active
 * connect, with the owner and address checks of ftpdata.c's data
 * listeners, and a timeout. */
#include "fsdata.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "datalisten.h"
#include "net.h"
#include "sockowner.h"

struct fsdata {
	struct loop *loop;
	int lfd;	/* passive: the listener */
	int fd;		/* the connection, once there is one */
	int connecting; /* active: connect under way */
	int active;
	struct sockaddr_storage peer; /* passive: who may connect;
				       * active: where to */
	uid_t uid; /* passive, on loopback: whose socket may connect */
	uint16_t bound_port;	     /* passive: the listener's port */
	struct sockaddr_storage src; /* active: our end, once connecting */
	int has_src;
	struct loop_timer *timer;
	char err[160]; /* why it failed before anybody waited */
	fsdata_cb cb;
	void *arg;
	char name[96];
};

static void deliver(struct fsdata *d, const char *err)
{
	fsdata_cb cb = d->cb;
	int fd = d->fd;

	if (!cb) {
		/* Kept until somebody waits. */
		if (err)
			snprintf(d->err, sizeof(d->err), "%s", err);
		return;
	}
	d->cb = NULL;
	d->fd = -1;
	loop_timer_disarm(d->timer);
	if (fd >= 0)
		loop_unwatch(d->loop, fd);
	cb(d, err ? -1 : fd, err, d->arg);
}

/* The listener is done: it took its connection, or none is expected any
 * more. A connection that comes later is refused by the kernel, one the
 * shim hands over by datalisten_may_adopt. */
static void stop_listening(struct fsdata *d)
{
	if (d->lfd < 0)
		return;
	loop_unwatch(d->loop, d->lfd);
	close(d->lfd);
	d->lfd = -1;
}

/* No data connection: after a timeout or a failed connect, nothing more
 * is taken, the passive listener included (as ftpdata.c's timeout
 * releases its own). */
static void fail(struct fsdata *d, const char *err)
{
	stop_listening(d);
	if (d->fd >= 0) {
		loop_unwatch(d->loop, d->fd);
		close(d->fd);
		d->fd = -1;
	}
	deliver(d, err);
}

/* Only the FTP client may take the data: its host, and on loopback a
 * socket of the control connection's user (a stranger on this host could
 * otherwise steal a download or inject an upload). */
static int peer_allowed(struct fsdata *d, const struct sockaddr *peer,
			const struct sockaddr *local)
{
	uid_t uid;

	if (!addr_same_host(peer, (struct sockaddr *)&d->peer))
		return 0;
	if (!addr_is_loopback(peer))
		return 1;
	return sockowner_uid(peer, local, &uid) == 0 && uid == d->uid;
}

/* The listener's one connection is fd: it stops listening. */
static void take(struct fsdata *d, int fd)
{
	net_nodelay(fd);
	stop_listening(d);
	d->fd = fd;
	loop_timer_disarm(d->timer);
	deliver(d, NULL);
}

static const char *accept_check(void *arg, const struct sockaddr *peer,
				const struct sockaddr *local)
{
	return peer_allowed(arg, peer, local) ? NULL : "not the FTP client's";
}

static void accept_cb(struct loop *loop, int lfd, uint32_t events, void *arg)
{
	struct fsdata *d = arg;
	int fd;

	(void)events;
	fd = datalisten_accept(loop, lfd, d->name, accept_check, d);
	/* One connection: the listener's job is done. */
	if (fd >= 0)
		take(d, fd);
}

static void timeout_cb(struct loop *loop, void *arg)
{
	struct fsdata *d = arg;

	(void)loop;
	fail(d, "the data connection did not come in time");
}

static struct fsdata *fsdata_alloc(struct loop *loop, const char *name)
{
	struct fsdata *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->loop = loop;
	d->lfd = d->fd = -1;
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->timer = loop_timer_new(loop, timeout_cb, d);
	if (!d->timer) {
		free(d);
		return NULL;
	}
	return d;
}

struct fsdata *fsdata_listen(struct loop *loop, const struct sockaddr *at,
			     const struct sockaddr *peer, uid_t uid,
			     struct sockaddr_storage *bound, const char *name,
			     char *err, size_t errlen)
{
	struct fsdata *d = fsdata_alloc(loop, name);
	struct sockaddr_storage a;

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	memcpy(&a, at, addr_len(at));
	addr_set_port((struct sockaddr *)&a, 0);
	memcpy(&d->peer, peer, addr_len(peer));
	d->uid = uid;
	/* On loopback the check asks the peer's owner: hold its FIN. */
	d->lfd =
	    datalisten_open(loop, (struct sockaddr *)&a, addr_is_loopback(peer),
			    accept_cb, d, bound, name);
	if (d->lfd < 0) {
		snprintf(err, errlen, "cannot listen for a data connection: %s",
			 strerror(-d->lfd));
		d->lfd = -1;
		fsdata_free(d);
		return NULL;
	}
	d->bound_port = addr_port((struct sockaddr *)bound);
	loop_timer_arm(d->timer, FSDATA_TIMEOUT_MS);
	return d;
}

struct fsdata *fsdata_connect(struct loop *loop, const struct sockaddr *to,
			      const char *name)
{
	struct fsdata *d = fsdata_alloc(loop, name);

	if (!d)
		return NULL;
	d->active = 1;
	memcpy(&d->peer, to, addr_len(to));
	return d;
}

/* The active connect failed with errno err. */
static void connect_failed(struct fsdata *d, int err)
{
	char msg[160], where[80];

	snprintf(msg, sizeof(msg), "cannot connect to %s: %s",
		 addr_format((struct sockaddr *)&d->peer, where, sizeof(where)),
		 strerror(err));
	fail(d, msg);
}

static void connected_cb(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct fsdata *d = arg;
	int soerr = net_connect_result(d->fd);

	(void)loop;
	(void)fd;
	(void)events;
	d->connecting = 0;
	if (soerr) {
		connect_failed(d, soerr);
		return;
	}
	deliver(d, NULL);
}

void fsdata_wait(struct fsdata *d, fsdata_cb cb, void *arg)
{
	d->cb = cb;
	d->arg = arg;
	if (d->err[0]) {
		deliver(d, d->err);
		return;
	}
	if (d->active && d->fd < 0 && !d->connecting) {
		int fd =
		    net_connect_start((struct sockaddr *)&d->peer,
				      addr_len((struct sockaddr *)&d->peer));

		if (fd < 0) {
			connect_failed(d, -fd);
			return;
		}
		d->fd = fd;
		d->connecting = 1;
		/* The port is ours from connect() on: PEER asks for it. */
		{
			socklen_t slen = sizeof(d->src);

			d->has_src = getsockname(fd, (struct sockaddr *)&d->src,
						 &slen) == 0;
		}
		if (loop_watch(d->loop, fd, EPOLLOUT, connected_cb, d) < 0) {
			fail(d, "out of memory");
			return;
		}
		loop_timer_arm(d->timer, FSDATA_TIMEOUT_MS);
		return;
	}
	if (d->fd >= 0 && !d->connecting)
		deliver(d, NULL);
}

int fsdata_adopt(struct fsdata *d, uint16_t port, int fd)
{
	if (d->active || datalisten_may_adopt(d->lfd, d->bound_port, d->fd >= 0,
					      port, fd, d->name) < 0)
		return -1;
	take(d, fd);
	return 0;
}

int fsdata_made(const struct fsdata *d, struct sockaddr_storage *src,
		struct sockaddr_storage *dst)
{
	if (!d->active || !d->has_src)
		return 0;
	*src = d->src;
	*dst = d->peer;
	return 1;
}

void fsdata_free(struct fsdata *d)
{
	if (!d)
		return;
	stop_listening(d);
	if (d->fd >= 0) {
		loop_unwatch(d->loop, d->fd);
		close(d->fd);
	}
	loop_timer_free(d->timer);
	free(d);
}

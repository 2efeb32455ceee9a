/* ipcserve.c — a per-user IPC socket served from an event loop (see
 * ipcserve.h): the accept, the uid check, each request read with a
 * deadline, each reply written with one. */
#include "ipcserve.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "ipcsock.h"
#include "log.h"
#include "net.h"

/* One connection in the server's hands: its request being read, or its
 * reply being written (out set). */
struct ipconn {
	struct ipcserve *s;
	int fd;
	struct ipc_reader rd;
	char *out;
	size_t outlen, sent;
	int wait_ms; /* a reply's: how long the client may read nothing */
	ipcserve_sent_fn done;
	void *arg;
	struct loop_timer *deadline;
	struct ipconn *next, **prevp;
};

struct ipcserve {
	struct loop *loop;
	int lfd;
	const struct ipcserve_ops *ops;
	const struct ipcserve_limits *lim;
	void *arg;
	struct ipconn *conns;
	int nconns;
};

static void deadline_cb(struct loop *loop, void *arg);

/* A connection record for fd, listed and timed; NULL without memory. */
static struct ipconn *conn_new(struct ipcserve *s, int fd)
{
	struct ipconn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->deadline = loop_timer_new(s->loop, deadline_cb, c);
	if (!c->deadline) {
		free(c);
		return NULL;
	}
	c->s = s;
	c->fd = fd;
	c->next = s->conns;
	if (c->next)
		c->next->prevp = &c->next;
	c->prevp = &s->conns;
	s->conns = c;
	s->nconns++;
	return c;
}

/* Forgets c; its descriptor too unless keep. */
static void conn_free(struct ipconn *c, int keep)
{
	struct ipcserve *s = c->s;

	*c->prevp = c->next;
	if (c->next)
		c->next->prevp = c->prevp;
	s->nconns--;
	loop_unwatch(s->loop, c->fd);
	loop_timer_free(c->deadline);
	if (!keep)
		close(c->fd);
	free(c->out);
	free(c);
}

/* A reply ended, whole or not: the owner hears of it after c is gone. */
static void reply_end(struct ipconn *c, int whole)
{
	ipcserve_sent_fn done = c->done;
	void *arg = c->arg;

	conn_free(c, 0);
	if (done)
		done(whole, arg);
}

static void deadline_cb(struct loop *loop, void *arg)
{
	struct ipconn *c = arg;

	(void)loop;
	if (c->out) {
		log_debug("%s: a reply was not read within %d ms",
			  c->s->lim->what, c->wait_ms);
		reply_end(c, 0);
		return;
	}
	log_debug("%s: no whole request within %d ms: closed", c->s->lim->what,
		  c->s->lim->request_ms);
	conn_free(c, 0);
}

/* Writes what the client takes now; ends the reply once all is sent or
 * the client is gone. */
static void write_cb(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct ipconn *c = arg;

	(void)loop;
	(void)events;
	while (c->sent < c->outlen) {
		ssize_t n = send(fd, c->out + c->sent, c->outlen - c->sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* A client that reads has wait_ms more. */
			loop_timer_arm(c->deadline, (uint64_t)c->wait_ms);
			return;
		}
		if (n <= 0) {
			log_debug("%s: a reply was not read (%s)",
				  c->s->lim->what, strerror(errno));
			reply_end(c, 0);
			return;
		}
		c->sent += (size_t)n;
	}
	reply_end(c, 1);
}

int ipcserve_reply(struct ipcserve *s, int fd, char *out, size_t len,
		   int wait_ms, ipcserve_sent_fn sent, void *arg)
{
	struct ipconn *c = conn_new(s, fd);

	if (!c || loop_watch(s->loop, fd, EPOLLOUT, write_cb, c) < 0) {
		if (c)
			conn_free(c, 1);
		close(fd);
		free(out);
		return -ENOMEM;
	}
	c->out = out;
	c->outlen = len;
	c->wait_ms = wait_ms;
	c->done = sent;
	c->arg = arg;
	loop_timer_arm(c->deadline, (uint64_t)wait_ms);
	write_cb(s->loop, fd, EPOLLOUT, c);
	return 0;
}

/* Reads what the client sent so far, without waiting; a whole request
 * goes to the owner, with the connection. */
static void read_cb(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct ipconn *c = arg;
	struct ipcserve *s = c->s;
	struct ipc_msg req;
	int rc;

	(void)loop;
	(void)events;
	rc = ipc_recv_step(fd, &c->rd, &req);
	if (rc == 0)
		return; /* the rest later */
	conn_free(c, rc > 0);
	if (rc > 0)
		s->ops->request(fd, &req, s->arg);
}

/* A new client of our own uid, within the limit: its request is read as
 * it comes. */
static void take(struct ipcserve *s, int fd)
{
	struct ipconn *c;

	if (s->lim->blocking_ms > 0) {
		/* The owner writes its small replies at once; the timeouts
		 * bound a peer that reads nothing. */
		struct timeval tv = {.tv_sec = s->lim->blocking_ms / 1000,
				     .tv_usec =
					 (s->lim->blocking_ms % 1000) * 1000};

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	c = conn_new(s, fd);
	if (!c || loop_watch(s->loop, fd, EPOLLIN, read_cb, c) < 0) {
		log_warn("%s: out of memory: a request is refused",
			 s->lim->what);
		if (c)
			conn_free(c, 0);
		else
			close(fd);
		return;
	}
	loop_timer_arm(c->deadline, (uint64_t)s->lim->request_ms);
	/* The request usually came with the connection. */
	read_cb(s->loop, fd, EPOLLIN, c);
}

static void accept_cb(struct loop *loop, int lfd, uint32_t events, void *arg)
{
	struct ipcserve *s = arg;

	(void)events;
	for (;;) {
		int uid, fd = accept4(
			     lfd, NULL, NULL,
			     SOCK_CLOEXEC |
				 (s->lim->blocking_ms > 0 ? 0 : SOCK_NONBLOCK));

		if (fd < 0) {
			net_accept_failed(loop, lfd, s->lim->what);
			return;
		}
		if (s->ops->accepted)
			s->ops->accepted(s->arg);
		/* Only our own user: another uid gets nothing, not even an
		 * error message. */
		if (!ipcsock_peer_is_us(fd, &uid)) {
			log_warn("%s: refused a connection from uid %d",
				 s->lim->what, uid);
			close(fd);
			continue;
		}
		if (s->nconns >= s->lim->max_conns) {
			log_warn("%s: %d connections in hand already: refusing "
				 "another",
				 s->lim->what, s->nconns);
			close(fd);
			continue;
		}
		take(s, fd);
	}
}

struct ipcserve *ipcserve_new(struct loop *loop, int lfd,
			      const struct ipcserve_ops *ops,
			      const struct ipcserve_limits *limits, void *arg)
{
	struct ipcserve *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->loop = loop;
	s->lfd = lfd;
	s->ops = ops;
	s->lim = limits;
	s->arg = arg;
	if (loop_watch(loop, lfd, EPOLLIN, accept_cb, s) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

void ipcserve_free(struct ipcserve *s)
{
	if (!s)
		return;
	loop_unwatch(s->loop, s->lfd);
	while (s->conns)
		conn_free(s->conns, 0);
	free(s);
}

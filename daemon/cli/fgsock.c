/* fgsock.c — a foreground ftp-tunnel's status socket (see fgsock.h). The
 * socket is made like the daemon's (ipc_dir_open, ipcsock_listen) and
 * serves only our uid; every client connection is non-blocking with a
 * deadline, and a reply is built whole in memory and written as the
 * client reads it: a client that stops reading costs a buffer until the
 * deadline, never a stalled transfer. */
#include "fgsock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc.h"
#include "ipcsock.h"
#include "log.h"
#include "net.h"
#include "version.h"

/* Clients at once (more are closed at once) and how long each may take
 * from connect to the last byte of its reply. */
#define FGSOCK_MAX_CONNS 16
#define FGSOCK_DEADLINE_MS 10000

struct fgconn {
	struct fgsock *f;
	int fd;
	struct ipc_reader rd; /* the request, as it comes */
	char *out;	      /* the reply's frames, owned */
	size_t outlen, outoff;
	int stop_after; /* a STOP: stop the process once it is sent */
	struct loop_timer *deadline;
	struct fgconn *next, **prevp;
};

struct fgsock {
	struct loop *loop;
	const struct fgsock_ops *ops;
	void *arg;
	char name[256];
	char path[128];
	char sockname[64];
	int dfd; /* the checked directory: the socket is removed through it */
	int lfd;
	int nconns;
	struct fgconn *conns;
};

int fgsock_path(pid_t pid, char *out, size_t outlen)
{
	char daemon[128], *slash;
	int n;

	if (ipc_socket_path(getuid(), daemon, sizeof(daemon)) < 0)
		return -1;
	slash = strrchr(daemon, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	n = snprintf(out, outlen, "%s/%s%ld%s", daemon, FGSOCK_PREFIX,
		     (long)pid, FGSOCK_SUFFIX);
	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

pid_t fgsock_name_pid(const char *name)
{
	size_t pl = strlen(FGSOCK_PREFIX), sl = strlen(FGSOCK_SUFFIX);
	size_t n = strlen(name), digits;
	long pid;

	if (n <= pl + sl || strncmp(name, FGSOCK_PREFIX, pl) ||
	    strcmp(name + n - sl, FGSOCK_SUFFIX))
		return 0;
	digits = strspn(name + pl, "0123456789");
	if (digits != n - pl - sl || digits > 9 || name[pl] == '0')
		return 0;
	pid = strtol(name + pl, NULL, 10);
	return pid > 0 ? (pid_t)pid : 0;
}

static void conn_free(struct fgconn *c)
{
	struct fgsock *f = c->f;
	int stop = c->stop_after && c->outoff == c->outlen && c->outlen;

	*c->prevp = c->next;
	if (c->next)
		c->next->prevp = c->prevp;
	f->nconns--;
	loop_unwatch(f->loop, c->fd);
	close(c->fd);
	loop_timer_free(c->deadline);
	free(c->out);
	free(c);
	if (stop)
		f->ops->stop(f->arg);
}

static void deadline_cb(struct loop *loop, void *arg)
{
	struct fgconn *c = arg;

	(void)loop;
	log_debug("status socket: a client took too long; closed");
	conn_free(c);
}

/* m as the reply's one frame. 0 or -ENOMEM. */
static int reply_one(struct fgconn *c, const struct ipc_msg *m)
{
	uint32_t len = htonl((uint32_t)m->len);

	c->out = malloc(sizeof(len) + m->len);
	if (!c->out)
		return -ENOMEM;
	memcpy(c->out, &len, sizeof(len));
	memcpy(c->out + sizeof(len), m->text, m->len);
	c->outlen = sizeof(len) + m->len;
	return 0;
}

/* The request is in; the reply goes into c->out. 0 or -errno. */
static int answer(struct fgconn *c, const struct ipc_msg *req)
{
	struct fgsock *f = c->f;
	struct statusrep r;
	struct ipc_msg m;
	char word[32], format[8];
	int rc;

	if (ipc_word(req, word, sizeof(word)) < 0)
		return -EPROTO;
	if (!strcmp(word, "STATUS") &&
	    ipc_get(req, "format", 0, format, sizeof(format)) == 0 &&
	    atoi(format) >= 2) {
		statusrep_init_buf(&r);
		f->ops->report(&r, f->arg);
		rc = statusrep_finish(&r);
		if (rc < 0) {
			statusrep_release(&r);
			return rc;
		}
		c->out = r.out; /* taken over */
		c->outlen = r.outlen;
		return 0;
	}
	ipc_init(&m, "OK");
	if (!strcmp(word, "PING")) {
		ipc_add(&m, "version", "1");
		ipc_add(&m, "revision", "2");
		ipc_addf(&m, "pid", "%d", (int)getpid());
		ipc_add(&m, "kind", "foreground");
		ipc_add(&m, "name", f->name);
	} else if (!strcmp(word, "STATUS")) {
		/* Format 1: what a client that asks for nothing else gets. */
		ipc_addf(&m, "pid", "%d", (int)getpid());
		ipc_add(&m, "kind", "foreground");
		ipc_add(&m, "name", f->name);
	} else if (!strcmp(word, "STOP")) {
		ipc_addf(&m, "pid", "%d", (int)getpid());
		c->stop_after = 1;
		log_info("stopping on request (ftp-tunnel stop)");
	} else {
		ipc_init(&m, "ERR");
		ipc_addf(&m, "errno", "%d", EOPNOTSUPP);
		ipc_add(&m, "message", "unknown request");
	}
	return reply_one(c, &m);
}

static void conn_cb(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct fgconn *c = arg;
	ssize_t n;

	(void)loop;
	(void)events;
	/* Reading the request (common/ipc.c, as the daemon reads its). */
	if (!c->out) {
		struct ipc_msg req;
		int rc = ipc_recv_step(fd, &c->rd, &req);

		if (rc == 0)
			return; /* the rest later */
		if (rc < 0 || answer(c, &req) < 0 ||
		    loop_set_events(c->f->loop, fd, EPOLLOUT) < 0)
			goto drop;
	}
	while (c->outoff < c->outlen) {
		n = send(fd, c->out + c->outoff, c->outlen - c->outoff,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return; /* the client reads slowly: EPOLLOUT again */
		if (n <= 0)
			goto drop;
		c->outoff += (size_t)n;
	}
	/* Sent whole: one request per connection (docs/IPC.txt). */
drop:
	conn_free(c);
}

static void accept_cb(struct loop *loop, int lfd, uint32_t events, void *arg)
{
	struct fgsock *f = arg;

	(void)events;
	for (;;) {
		struct fgconn *c;
		int uid,
		    fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			net_accept_failed(loop, lfd, "status socket");
			return;
		}
		/* Only our own user: another uid gets nothing, not even an
		 * error message. */
		if (!ipcsock_peer_is_us(fd, &uid)) {
			log_warn("status socket: refused a connection from "
				 "uid %d",
				 uid);
			close(fd);
			continue;
		}
		if (f->nconns >= FGSOCK_MAX_CONNS) {
			log_debug("status socket: %d clients already",
				  f->nconns);
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c) {
			c->f = f;
			c->fd = fd;
			c->deadline = loop_timer_new(loop, deadline_cb, c);
		}
		if (!c || !c->deadline ||
		    loop_watch(loop, fd, EPOLLIN, conn_cb, c) < 0) {
			if (c)
				loop_timer_free(c->deadline);
			free(c);
			close(fd);
			continue;
		}
		c->next = f->conns;
		if (c->next)
			c->next->prevp = &c->next;
		c->prevp = &f->conns;
		f->conns = c;
		f->nconns++;
		loop_timer_arm(c->deadline, FGSOCK_DEADLINE_MS);
	}
}

struct fgsock *fgsock_new(struct loop *loop, const char *name,
			  const struct fgsock_ops *ops, void *arg)
{
	struct fgsock *f = calloc(1, sizeof(*f));
	char why[512];

	if (!f) {
		log_warn("out of memory: ftp-tunnel status will not list "
			 "this process");
		return NULL;
	}
	f->loop = loop;
	f->ops = ops;
	f->arg = arg;
	f->dfd = f->lfd = -1;
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->sockname, sizeof(f->sockname), "%s%ld%s", FGSOCK_PREFIX,
		 (long)getpid(), FGSOCK_SUFFIX);
	if (fgsock_path(getpid(), f->path, sizeof(f->path)) < 0) {
		log_warn("the status socket's path is too long: ftp-tunnel "
			 "status will not list this process (set "
			 "XDG_RUNTIME_DIR to a shorter path)");
		goto fail;
	}
	/* The daemon's directory, checked and made the same way. */
	f->dfd = ipc_dir_open(f->path, getuid(), 1, why, sizeof(why));
	if (f->dfd < 0) {
		log_warn("%s; until then ftp-tunnel status will not list this "
			 "process",
			 why);
		goto fail;
	}
	f->lfd = ipcsock_listen(f->dfd, f->path, f->sockname);
	if (f->lfd < 0 || loop_watch(loop, f->lfd, EPOLLIN, accept_cb, f) < 0) {
		log_warn("ftp-tunnel status will not list this process");
		goto fail;
	}
	log_debug("status socket %s", f->path);
	return f;
fail:
	fgsock_free(f);
	return NULL;
}

void fgsock_free(struct fgsock *f)
{
	if (!f)
		return;
	while (f->conns) {
		f->conns->stop_after = 0;
		conn_free(f->conns);
	}
	if (f->lfd >= 0) {
		loop_unwatch(f->loop, f->lfd);
		close(f->lfd);
		/* Ours by its pid while we run: nobody else made this name. */
		unlinkat(f->dfd, f->sockname, 0);
	}
	if (f->dfd >= 0)
		close(f->dfd);
	free(f);
}

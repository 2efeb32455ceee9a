/* sftp_tunnel.c — the FTP sessions of a `-L sftp/` listener, with the
 * owner check that SftpLogin=tunnel needs. */
#include "sftp_tunnel.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "ftpsrv.h"
#include "log.h"
#include "sockowner.h"

struct sess_node {
	struct ftpsrv *f;
	struct sftp_tunnel *st;
	void (*done)(void *arg);
	void *arg;
	struct sess_node *next, **prevp;
};

struct sftp_tunnel {
	struct loop *loop;
	struct ssh_sess *s;
	const struct ssh_opts *login_opts; /* SftpLogin=ftp */
	char start_dir[1024];
	char name[600];
	struct sess_node *sessions;
	int nsessions;
};

int sftp_tunnel_check_bind(const char *bind, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE};
	struct addrinfo *res = NULL, *ai;
	int ok = 1;

	if (!bind[0] || !strcmp(bind, "localhost"))
		return 0;
	if (strcmp(bind, "*") && getaddrinfo(bind, "0", &hints, &res) == 0) {
		for (ai = res; ai; ai = ai->ai_next)
			if (!addr_is_loopback(ai->ai_addr))
				ok = 0;
		freeaddrinfo(res);
	} else {
		ok = 0;
	}
	if (ok)
		return 0;
	snprintf(err, errlen,
		 "-L sftp/ listens on loopback only with SftpLogin=tunnel "
		 "(the SSH login is ftp-tunnel's own, so any FTP login is "
		 "accepted): drop the bind address '%s', or let each FTP "
		 "login be its own SSH login (SftpLogin=ftp, the default "
		 "without an SSH user)",
		 bind);
	return -1;
}

struct sftp_tunnel *sftp_tunnel_new(struct loop *loop, struct ssh_sess *s,
				    const char *start_dir,
				    const struct ssh_opts *login_opts,
				    const char *name)
{
	struct sftp_tunnel *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->loop = loop;
	st->s = s;
	st->login_opts = login_opts;
	snprintf(st->start_dir, sizeof(st->start_dir), "%s", start_dir);
	snprintf(st->name, sizeof(st->name), "%s", name);
	return st;
}

static void node_free(struct sess_node *n)
{
	*n->prevp = n->next;
	if (n->next)
		n->next->prevp = n->prevp;
	n->st->nsessions--;
	free(n);
}

static void session_done(struct ftpsrv *f, void *arg)
{
	struct sess_node *n = arg;

	(void)f;
	n->done(n->arg);
	node_free(n);
}

/* The uid of the socket at the other end of fd: a loopback peer's, else
 * (uid_t)-1. */
static uid_t peer_uid(int fd)
{
	struct sockaddr_storage peer, local;
	socklen_t plen = sizeof(peer), llen = sizeof(local);
	uid_t uid;

	if (getpeername(fd, (struct sockaddr *)&peer, &plen) < 0 ||
	    getsockname(fd, (struct sockaddr *)&local, &llen) < 0 ||
	    sockowner_uid((struct sockaddr *)&peer, (struct sockaddr *)&local,
			  &uid) < 0)
		return (uid_t)-1;
	return uid;
}

/* Any FTP login is accepted and served with ftp-tunnel's own SSH login:
 * a connection from another local user would get this user's files. */
static int own_user(int fd, const char *name)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	char who[80];

	if (peer_uid(fd) == getuid())
		return 1;
	getpeername(fd, (struct sockaddr *)&peer, &plen);
	log_warn("%s: refused a connection from %s: not a socket of this "
		 "user's",
		 name, addr_format((struct sockaddr *)&peer, who, sizeof(who)));
	return 0;
}

int sftp_tunnel_admit(struct sftp_tunnel *st, int fd, const char *name,
		      uid_t *uid)
{
	static const char refused[] =
	    "421 ftp-tunnel: this FTP server serves only the user who "
	    "started it.\r\n";

	*uid = peer_uid(fd);
	/* SftpLogin=ftp: each login is the SSH server's to accept. */
	if (!st->login_opts && !own_user(fd, name)) {
		if (send(fd, refused, sizeof(refused) - 1,
			 MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			log_debug("%s: refused", name);
		close(fd);
		return -1;
	}
	return 0;
}

/* A session on a worker: its done callback and argument. */
struct served {
	void (*done)(void *arg);
	void *arg;
};

static void served_done(struct ftpsrv *f, void *arg)
{
	struct served *sv = arg;

	(void)f;
	sv->done(sv->arg);
	free(sv);
}

int sftp_tunnel_serve(struct loop *loop, struct ssh_sess *s, int fd,
		      const char *start_dir, uid_t uid, const char *name,
		      void (*done)(void *arg), void *arg)
{
	struct ftpsrv_opts o = {.start_dir = start_dir, .peer_uid = uid};
	struct served *sv = calloc(1, sizeof(*sv));

	if (!sv) {
		close(fd);
		return -1;
	}
	sv->done = done;
	sv->arg = arg;
	if (!ftpsrv_new(loop, s, fd, &o, name, served_done, sv)) {
		free(sv);
		return -1;
	}
	return 0;
}

int sftp_tunnel_adopt(struct sftp_tunnel *st, int fd, uid_t uid,
		      const char *name, void (*done)(void *arg), void *arg)
{
	struct ftpsrv_opts o = {.start_dir = st->start_dir,
				.login_opts = st->login_opts};
	struct sess_node *n;

	o.peer_uid = uid;
	n = calloc(1, sizeof(*n));
	if (!n) {
		close(fd);
		return -1;
	}
	n->st = st;
	n->done = done;
	n->arg = arg;
	n->f = ftpsrv_new(st->loop, st->s, fd, &o, name, session_done, n);
	if (!n->f) {
		log_warn("%s: cannot start the FTP session", name);
		free(n);
		return -1;
	}
	n->next = st->sessions;
	if (n->next)
		n->next->prevp = &n->next;
	n->prevp = &st->sessions;
	st->sessions = n;
	st->nsessions++;
	return 0;
}

const char *sftp_tunnel_start_dir(const struct sftp_tunnel *st)
{
	return st->start_dir;
}

int sftp_tunnel_has_own_login(const struct sftp_tunnel *st)
{
	return st->login_opts != NULL;
}

int sftp_tunnel_sessions(const struct sftp_tunnel *st)
{
	return st->nsessions;
}

void sftp_tunnel_free(struct sftp_tunnel *st)
{
	if (!st)
		return;
	while (st->sessions) {
		struct sess_node *n = st->sessions;

		ftpsrv_free(n->f);
		node_free(n);
	}
	free(st);
}

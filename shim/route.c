/* route.c — what the hooks do with a connection: route an FTP control
 * connect() through ftp-tunneld, take a data connect()'s socket from the
 * daemon too, and say which address getpeername()/accept() report. */
#define _GNU_SOURCE
#include "shim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "addr.h"

/* The longest a routed connect() waits for the daemon: a little more than
 * Linux takes to give up on a direct connect (tcp_syn_retries 6: 127 s),
 * so the daemon's own ETIMEDOUT normally comes first. */
#define CONNECT_TIMEOUT_S 135
/* The longest a data connect() waits for the daemon, which answers from
 * what it has (its listener waits or not). */
#define DATA_TIMEOUT_S 30

static int sockopt_is(int fd, int name, int want)
{
	int v = 0;
	socklen_t l = sizeof(v);

	return getsockopt(fd, SOL_SOCKET, name, &v, &l) == 0 && v == want;
}

/* Whether fd is a TCP socket of family: the only sockets the shim routes,
 * and what the daemon must hand back. */
static int is_stream(int fd, int family)
{
	return sockopt_is(fd, SO_TYPE, SOCK_STREAM) &&
	       sockopt_is(fd, SO_PROTOCOL, IPPROTO_TCP) &&
	       sockopt_is(fd, SO_DOMAIN, family);
}

/* Fails a routed connect() without any packet to dst: one line for the
 * user, errno e. */
static int refuse(const struct sockaddr_storage *dst, int e, const char *why)
{
	char where[INET6_ADDRSTRLEN + 16];

	shim_say(
	    "%s (connection to %s not made in clear text)", why,
	    addr_format((const struct sockaddr *)dst, where, sizeof(where)));
	errno = e;
	return -1;
}

/* Socket options a program may set before connect(), copied to the socket
 * that replaces its own. An option is copied only when the program's
 * socket differs from a fresh one: the program set it. */
static const struct {
	int level, name;
} int_opts[] = {
    {SOL_SOCKET, SO_KEEPALIVE},	 {SOL_SOCKET, SO_OOBINLINE},
    {SOL_SOCKET, SO_PRIORITY},	 {SOL_SOCKET, SO_RCVLOWAT},
    {SOL_SOCKET, SO_MARK},	 {IPPROTO_TCP, TCP_NODELAY},
    {IPPROTO_TCP, TCP_KEEPIDLE}, {IPPROTO_TCP, TCP_KEEPINTVL},
    {IPPROTO_TCP, TCP_KEEPCNT},	 {IPPROTO_TCP, TCP_USER_TIMEOUT},
    {IPPROTO_TCP, TCP_CORK},	 {IPPROTO_IP, IP_TOS},
    {IPPROTO_IPV6, IPV6_TCLASS},
};

static const struct {
	int level, name;
	socklen_t len;
} blob_opts[] = {
    {SOL_SOCKET, SO_LINGER, sizeof(struct linger)},
    {SOL_SOCKET, SO_RCVTIMEO, sizeof(struct timeval)},
    {SOL_SOCKET, SO_SNDTIMEO, sizeof(struct timeval)},
};

static void copy_options(int from, int to, int family)
{
	int fresh = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t i;

	if (fresh < 0)
		return;
	for (i = 0; i < sizeof(int_opts) / sizeof(int_opts[0]); i++) {
		int v = 0, d = 0;
		socklen_t l = sizeof(v), m = sizeof(d);

		if ((int_opts[i].level == IPPROTO_IP && family != AF_INET) ||
		    (int_opts[i].level == IPPROTO_IPV6 && family != AF_INET6))
			continue;
		if (getsockopt(from, int_opts[i].level, int_opts[i].name, &v,
			       &l) < 0 ||
		    getsockopt(fresh, int_opts[i].level, int_opts[i].name, &d,
			       &m) < 0 ||
		    v == d)
			continue;
		setsockopt(to, int_opts[i].level, int_opts[i].name, &v,
			   sizeof(v));
	}
	/* The kernel doubles what is set and reports the double: set half
	 * of what the program's socket reports. An untouched size is not
	 * copied, so the connected socket keeps autotuning. */
	for (i = 0; i < 2; i++) {
		int name = i ? SO_SNDBUF : SO_RCVBUF, v = 0, d = 0;
		socklen_t l = sizeof(v), m = sizeof(d);

		if (getsockopt(from, SOL_SOCKET, name, &v, &l) == 0 &&
		    getsockopt(fresh, SOL_SOCKET, name, &d, &m) == 0 &&
		    v != d) {
			v /= 2;
			setsockopt(to, SOL_SOCKET, name, &v, sizeof(v));
		}
	}
	for (i = 0; i < sizeof(blob_opts) / sizeof(blob_opts[0]); i++) {
		char v[32], d[32];
		socklen_t l = blob_opts[i].len, m = blob_opts[i].len;

		if (getsockopt(from, blob_opts[i].level, blob_opts[i].name, v,
			       &l) == 0 &&
		    getsockopt(fresh, blob_opts[i].level, blob_opts[i].name, d,
			       &m) == 0 &&
		    l == m && memcmp(v, d, l))
			setsockopt(to, blob_opts[i].level, blob_opts[i].name, v,
				   l);
	}
	shim_real.close(fresh);
}

/* Gives sock the program's file status flags (O_NONBLOCK, O_ASYNC and its
 * owner and signal) before it replaces the program's descriptor. */
static void copy_flags(int from, int to, int fl)
{
	int cur = fcntl(to, F_GETFL);
	const int mask = O_NONBLOCK | O_ASYNC;

	if (fl & O_ASYNC) {
		struct f_owner_ex own;
		int sig = fcntl(from, F_GETSIG);

		if (fcntl(from, F_GETOWN_EX, &own) == 0)
			fcntl(to, F_SETOWN_EX, &own);
		if (sig > 0)
			fcntl(to, F_SETSIG, sig);
	}
	if (cur >= 0)
		fcntl(to, F_SETFL, (cur & ~mask) | (fl & mask));
}

/* Where a routed control connection goes: FTP_TUNNEL_VIA's settings or a
 * route's from the configuration file. */
struct target {
	const char *via;     /* [user@]host[:port] ("" for a bad
				FTP_TUNNEL_VIA) */
	const char *ftphost; /* the route's FtpHost, or NULL */
	const char *name;    /* the host name matched, or NULL */
	const char *options; /* "Key=Value" lines */
	char origin[300];    /* "FTP_TUNNEL_VIA" or "file:line" */
	int sftp;	     /* answered by the daemon from SFTP */
};

/* The CONNECT request for dst (docs/IPC.txt). 0 or -1 (too long). */
static int build_request(struct ipc_msg *req,
			 const struct sockaddr_storage *dst,
			 const struct target *t)
{
	const struct sockaddr *sa = (const struct sockaddr *)dst;
	char host[INET6_ADDRSTRLEN];
	const char *o = t->options;
	int rc = 0;

	ipc_init(req, "CONNECT");
	rc |=
	    ipc_add(req, "family", sa->sa_family == AF_INET ? "inet" : "inet6");
	rc |= ipc_add(req, "dst", addr_host(sa, host, sizeof(host)));
	rc |= ipc_addf(req, "port", "%u", addr_port(sa));
	rc |= ipc_add(req, "via", t->via);
	if (t->sftp)
		rc |= ipc_add(req, "sftp", "1");
	if (t->name)
		rc |= ipc_add(req, "name", t->name);
	if (t->ftphost && t->ftphost[0]) {
		rc |= ipc_add(req, "ftphost", t->ftphost);
	} else if (sa->sa_family == AF_INET6 &&
		   IN6_IS_ADDR_V4MAPPED(
		       &((const struct sockaddr_in6 *)sa)->sin6_addr)) {
		/* ::ffff:a.b.c.d from an IPv6 socket: the SSH server is asked
		 * for a.b.c.d, the address it can surely reach. */
		const unsigned char *a6 =
		    ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;

		snprintf(host, sizeof(host), "%u.%u.%u.%u", a6[12], a6[13],
			 a6[14], a6[15]);
		rc |= ipc_add(req, "ftphost", host);
	}
	while (*o) {
		char line[IPC_MAX];
		size_t n = strcspn(o, "\n");

		if (n && n < sizeof(line)) {
			memcpy(line, o, n);
			line[n] = '\0';
			rc |= ipc_add(req, "option", line);
		}
		o += n;
		if (*o)
			o++;
	}
	return rc ? -1 : 0;
}

/* sock (from the daemon, of dst's family) takes the place of the
 * program's fd, with its options and flags (dup3 keeps the number and
 * FD_CLOEXEC), registered as kind with dst for getpeername(). 0, or -1
 * and errno after a line for the user; sock is closed either way. */
static int install(int fd, int sock, const struct sockaddr_storage *dst, int fl,
		   int fdfl, enum shim_reg_kind kind)
{
	int rc, e;

	copy_options(fd, sock, dst->ss_family);
	copy_flags(fd, sock, fl);
	do
		rc = dup3(sock, fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0);
	while (rc < 0 && (errno == EINTR || errno == EBUSY));
	e = errno;
	shim_reg_del(sock);
	shim_real.close(sock);
	if (rc < 0)
		return refuse(dst, e, "cannot install the tunneled socket");
	rc = shim_reg_add(fd, kind, (const struct sockaddr *)dst,
			  addr_len((const struct sockaddr *)dst));
	if (rc < 0) {
		/* Unregistered, a control connection's data connections would
		 * not be routed and getpeername() would name the daemon:
		 * better no connection at all. */
		shutdown(fd, SHUT_RDWR);
		return refuse(dst, -rc, "too many tunneled sockets");
	}
	return 0;
}

/* The longest a program's connect() timeout (SO_SNDTIMEO) allows, up to
 * limit seconds. */
static int send_timeout(int fd, int limit)
{
	struct timeval tv;
	socklen_t l = sizeof(tv);

	/* Linux bounds a blocking connect() by SO_SNDTIMEO; so do we. */
	if (getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &l) == 0 &&
	    (tv.tv_sec || tv.tv_usec) && tv.tv_sec < limit)
		return (int)tv.tv_sec + (tv.tv_usec > 0);
	return limit;
}

/* The daemon's reply rep to a request that wants a socket: 0 with *sock
 * a TCP socket of dst's family, else -1 and errno after a line for the
 * user (*sock closed). */
static int take_reply(const struct ipc_msg *rep, int *sock,
		      const struct sockaddr_storage *dst, const char *what)
{
	char why[768], word[16] = "", val[512];
	int e;

	if (ipc_word(rep, word, sizeof(word)) == 0 && !strcmp(word, "ERR")) {
		if (*sock >= 0) {
			shim_reg_del(*sock);
			shim_real.close(*sock);
		}
		e = ipc_get(rep, "errno", 0, val, sizeof(val)) == 0 ? atoi(val)
								    : 0;
		if (e <= 0 || e > 4095)
			e = ECONNABORTED;
		if (e == EOPNOTSUPP)
			snprintf(why, sizeof(why),
				 "ftp-tunneld is older than this program's "
				 "ftp-tunnel library and cannot make %s; "
				 "restart it (ftp-tunnel stop)",
				 what);
		else if (ipc_get(rep, "message", 0, why, sizeof(why)) < 0)
			snprintf(why, sizeof(why), "the tunnel failed: %s",
				 strerror(e));
		return refuse(dst, e == EOPNOTSUPP ? ECONNREFUSED : e, why);
	}
	if (strcmp(word, "OK") || *sock < 0 ||
	    !is_stream(*sock, dst->ss_family)) {
		if (*sock >= 0) {
			shim_reg_del(*sock);
			shim_real.close(*sock);
		}
		return refuse(dst, ECONNABORTED,
			      "ftp-tunneld answered without a TCP connection "
			      "of the right family");
	}
	return 0;
}

/* A routed control connection: the daemon's socket takes the place of the
 * program's (dup3 keeps the number and FD_CLOEXEC). */
static int route_control(int fd, const struct sockaddr_storage *dst,
			 const struct target *t)
{
	struct ipc_msg req, rep;
	char why[768];
	int fl, fdfl, sock = -1, rc;

	/* --sftp without --via: the daemon takes the dialed host. */
	if (!t->via[0] && !t->sftp)
		return refuse(dst, EINVAL,
			      "FTP_TUNNEL_VIA is not [user@]host[:port]");
	if (t->options[0] == '\n' || build_request(&req, dst, t) < 0) {
		snprintf(why, sizeof(why),
			 "the SSH options of %s are too long for a request",
			 t->origin);
		return refuse(dst, EINVAL, why);
	}
	fl = fcntl(fd, F_GETFL);
	fdfl = fcntl(fd, F_GETFD);
	if (fl < 0 || fdfl < 0)
		return -1; /* EBADF, as connect() would say */
	rc = shim_daemon_request(&req, &rep, &sock, 1,
				 send_timeout(fd, CONNECT_TIMEOUT_S), why,
				 sizeof(why));
	if (rc < 0)
		return refuse(dst, -rc, why);
	if (take_reply(&rep, &sock, dst, "a control connection") < 0)
		return -1;
	if (install(fd, sock, dst, fl, fdfl, SHIM_REG_CONTROL) < 0)
		return -1;
	if (shim_cfg.debug) {
		char where[INET6_ADDRSTRLEN + 16];

		shim_debug("fd %d: control connection to %s%s%s through %s "
			   "(%s)%s",
			   fd,
			   addr_format((const struct sockaddr *)dst, where,
				       sizeof(where)),
			   t->name ? " = " : "", t->name ? t->name : "",
			   t->via[0] ? t->via : "the host dialed", t->origin,
			   (fl & O_NONBLOCK) ? " (EINPROGRESS)" : "");
	}
	/* A non-blocking connect() to a remote host says EINPROGRESS, and
	 * programs are written for that; the connection is complete, so the
	 * next poll() reports it writable with SO_ERROR 0. */
	if (fl & O_NONBLOCK) {
		errno = EINPROGRESS;
		return -1;
	}
	return 0;
}

/* A data connection to the server of a live control connection: a
 * socket from the daemon whose other end its data listener for dst's
 * port takes (DATA, docs/IPC.txt). Never a connect() to loopback, where
 * another user may listen: when the daemon has no listener there, the
 * connect() fails. */
static int route_data(int fd, const struct sockaddr_storage *dst)
{
	const struct sockaddr *sa = (const struct sockaddr *)dst;
	struct ipc_msg req, rep;
	char why[768], host[INET6_ADDRSTRLEN];
	int fl, fdfl, sock = -1, rc;

	fl = fcntl(fd, F_GETFL);
	fdfl = fcntl(fd, F_GETFD);
	if (fl < 0 || fdfl < 0)
		return -1; /* EBADF, as connect() would say */
	ipc_init(&req, "DATA");
	if (ipc_add(&req, "family",
		    sa->sa_family == AF_INET ? "inet" : "inet6") < 0 ||
	    ipc_add(&req, "dst", addr_host(sa, host, sizeof(host))) < 0 ||
	    ipc_addf(&req, "port", "%u", addr_port(sa)) < 0)
		return refuse(dst, EINVAL, "cannot build the DATA request");
	/* The daemon answers at once; it is not started for this (no daemon,
	 * no data listener). */
	rc = shim_daemon_request(&req, &rep, &sock, 0,
				 send_timeout(fd, DATA_TIMEOUT_S), why,
				 sizeof(why));
	if (rc < 0)
		return refuse(dst, rc == -ETIMEDOUT ? ETIMEDOUT : ECONNREFUSED,
			      why);
	if (take_reply(&rep, &sock, dst, "data connections") < 0 ||
	    install(fd, sock, dst, fl, fdfl, SHIM_REG_DATA) < 0)
		return -1;
	if (shim_cfg.debug) {
		char where[INET6_ADDRSTRLEN + 16];

		shim_debug("fd %d: data connection to %s through ftp-tunneld%s",
			   fd, addr_format(sa, where, sizeof(where)),
			   (fl & O_NONBLOCK) ? " (EINPROGRESS)" : "");
	}
	/* As for a control connection: complete, yet EINPROGRESS. */
	if (fl & O_NONBLOCK) {
		errno = EINPROGRESS;
		return -1;
	}
	return 0;
}

enum how { ROUTE_PASS, ROUTE_CONTROL, ROUTE_DATA, ROUTE_ISCONN, ROUTE_BADCONF };

/* The target of FTP_TUNNEL_VIA. */
static void env_target(struct target *t)
{
	memset(t, 0, sizeof(*t));
	t->via = shim_cfg.via;
	t->options = shim_cfg.options;
	t->sftp = shim_cfg.sftp;
	snprintf(t->origin, sizeof(t->origin), "FTP_TUNNEL_VIA");
}

/* Whether a route of the configuration files takes a connection to sa:
 * 1 and *t. Never the route's own SSH server. */
static int conf_target(const struct sockaddr *sa, struct target *t)
{
	const struct conf *c = shim_conf_get();
	const struct conf_route *r;
	int i, name;

	i = shim_conf_route(sa, &name);
	if (i < 0 || !c)
		return 0;
	r = &c->routes[i];
	if (shim_cfg_is_endpoint(sa, r->via_host, r->via_port))
		return 0;
	memset(t, 0, sizeof(*t));
	t->via = r->via;
	t->ftphost = r->ftphost;
	t->sftp = r->sftp;
	t->name = name >= 0 ? c->names[name] : NULL;
	t->options = r->options;
	snprintf(t->origin, sizeof(t->origin), "%s:%d", c->files[r->file],
		 r->line);
	return 1;
}

/* Whether a connect() to sa is certainly none of the shim's business
 * (classify would say ROUTE_PASS), told from memory alone: no lock, no
 * system call on the descriptor, errno untouched. Not an inet address of
 * the right length, or a port nothing may route (shim_may_route). */
static int surely_pass(const struct sockaddr *sa, socklen_t len)
{
	uint16_t port;

	if (!sa || len < sizeof(sa_family_t))
		return 1;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in))
		port = ((const struct sockaddr_in *)sa)->sin_port;
	else if (sa->sa_family == AF_INET6 &&
		 len >= sizeof(struct sockaddr_in6))
		port = ((const struct sockaddr_in6 *)sa)->sin6_port;
	else
		return 1;
	return !shim_may_route(ntohs(port));
}

/* What a connect(fd, sa) is to the shim. For ROUTE_CONTROL, *t is where
 * it goes. */
static enum how classify(int fd, const struct sockaddr *sa, socklen_t len,
			 struct target *t)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	const struct conf *c;
	uint16_t port;
	int kind, family;

	if (surely_pass(sa, len))
		return ROUTE_PASS;
	port = addr_port(sa);
	if (!is_stream(fd, sa->sa_family))
		return ROUTE_PASS;
	kind = shim_reg_get(fd, NULL, NULL);
	if (kind == SHIM_REG_DATA &&
	    shim_real.getpeername(fd, (struct sockaddr *)&peer, &plen) == 0)
		return ROUTE_ISCONN; /* a data connection we made */
	if (kind == SHIM_REG_CONTROL) {
		/* Connected already (by us): EISCONN, as for any connected
		 * socket. If that connection is gone, route again rather
		 * than let the kernel connect it in clear. */
		if (shim_real.getpeername(fd, (struct sockaddr *)&peer,
					  &plen) == 0)
			return ROUTE_ISCONN;
		shim_reg_del(fd);
	}
	if (shim_cfg.enabled) {
		/* FTP_TUNNEL_VIA (the wrapper) comes first. */
		if (shim_cfg_is_ssh_server(sa))
			return ROUTE_PASS;
		if (shim_cfg_routed_port(port)) {
			env_target(t);
			return ROUTE_CONTROL;
		}
	}
	/* The first TCP connect() reads the files (NULL: the shim's own
	 * connection). */
	c = shim_conf_get();
	if (c && c->bad && conf_port_guarded(c, port))
		return ROUTE_BADCONF;
	if (c && conf_target(sa, t))
		return ROUTE_CONTROL;
	if (shim_reg_control_host(sa, &family))
		return ROUTE_DATA;
	if (kind == SHIM_REG_DATA)
		return ROUTE_DATA; /* its control is gone: never in clear */
	return ROUTE_PASS;
}

/* A bad configuration file: no route can be trusted, so a connection to
 * an FTP port is refused rather than made in clear. Said once. */
static int refuse_badconf(const struct sockaddr_storage *dst)
{
	static atomic_int said;
	const struct conf *c = shim_conf_get();
	char where[INET6_ADDRSTRLEN + 16];

	if (!atomic_exchange(&said, 1))
		shim_say("%s; no route of the configuration can be trusted "
			 "(connection to %s not made in clear text)",
			 c ? c->err : "bad configuration",
			 addr_format((const struct sockaddr *)dst, where,
				     sizeof(where)));
	else
		shim_debug("bad configuration: connection to %s refused",
			   addr_format((const struct sockaddr *)dst, where,
				       sizeof(where)));
	errno = EINVAL;
	return -1;
}

/* Connects fd the shim's way (how is not ROUTE_PASS). */
static int route(int fd, const struct sockaddr *sa, enum how how,
		 const struct target *t)
{
	struct sockaddr_storage dst;

	memset(&dst, 0, sizeof(dst));
	memcpy(&dst, sa, addr_len(sa));
	switch (how) {
	case ROUTE_CONTROL:
		return route_control(fd, &dst, t);
	case ROUTE_DATA:
		return route_data(fd, &dst);
	case ROUTE_BADCONF:
		return refuse_badconf(&dst);
	default:
		errno = EISCONN;
		return -1;
	}
}

int shim_route_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct target t;
	int saved;
	enum how how;

	/* The common case first: an unrouted connect() costs a few loads. */
	if (surely_pass(sa, len))
		return shim_real.connect(fd, sa, len);
	saved = errno;
	how = classify(fd, sa, len, &t);
	if (how != ROUTE_PASS)
		return route(fd, sa, how, &t);
	errno = saved;
	return shim_real.connect(fd, sa, len);
}

int shim_route_fastopen(int fd, const struct sockaddr *sa, socklen_t len,
			int *rc)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	struct target t;
	int saved = errno;
	enum how how = classify(fd, sa, len, &t);

	errno = saved;
	if (how == ROUTE_PASS)
		return 0;
	*rc = route(fd, sa, how, &t);
	/* A routed connection is complete even when a non-blocking connect()
	 * says EINPROGRESS: the data can go now. */
	if (*rc < 0 && errno == EINPROGRESS &&
	    (how == ROUTE_CONTROL || how == ROUTE_DATA) &&
	    shim_real.getpeername(fd, (struct sockaddr *)&peer, &plen) == 0)
		*rc = 0;
	return 1;
}

/* Asks the daemon whether the connection from peer to local (what the
 * program accepted) is an active-mode data connection it made (PEER,
 * docs/IPC.txt): 1 and, in *server, the FTP server it stands for; else
 * 0. Only then is a loopback peer relabeled: another user can connect to
 * the program's listener from loopback too. */
static int daemon_made(const struct sockaddr_storage *local,
		       const struct sockaddr_storage *peer,
		       struct sockaddr_storage *server)
{
	struct ipc_msg req, rep;
	char host[INET6_ADDRSTRLEN], word[16], why[256];
	int fd = -1, rc = 0;

	ipc_init(&req, "PEER");
	rc |= ipc_add(
	    &req, "local",
	    addr_host((const struct sockaddr *)local, host, sizeof(host)));
	rc |= ipc_addf(&req, "lport", "%u",
		       addr_port((const struct sockaddr *)local));
	rc |= ipc_add(
	    &req, "peer",
	    addr_host((const struct sockaddr *)peer, host, sizeof(host)));
	rc |= ipc_addf(&req, "pport", "%u",
		       addr_port((const struct sockaddr *)peer));
	if (rc || shim_daemon_request(&req, &rep, &fd, 0, DATA_TIMEOUT_S, why,
				      sizeof(why)) < 0)
		return 0;
	if (fd >= 0) {
		shim_reg_del(fd);
		shim_real.close(fd);
	}
	return ipc_word(&rep, word, sizeof(word)) == 0 && !strcmp(word, "OK") &&
	       ipc_get(&rep, "server", 0, host, sizeof(host)) == 0 &&
	       addr_parse(host, 0, server) == 0;
}

void shim_route_accepted(int newfd, struct sockaddr *sa, socklen_t *len)
{
	struct sockaddr_storage peer, local, ctl, rep;
	socklen_t plen = sizeof(peer), llen = sizeof(local), rlen;
	int saved = errno;

	/* Only while a control connection may be registered, and only for
	 * a loopback peer (where the daemon connects from). */
	if (!shim_routing_active() || !shim_reg_any() || newfd < 0 ||
	    shim_real.getpeername(newfd, (struct sockaddr *)&peer, &plen) < 0 ||
	    !addr_is_loopback((struct sockaddr *)&peer) ||
	    getsockname(newfd, (struct sockaddr *)&local, &llen) < 0 ||
	    !daemon_made(&local, &peer, &ctl))
		goto out;
	memset(&rep, 0, sizeof(rep));
	if (peer.ss_family == ctl.ss_family) {
		rep = ctl;
	} else if (peer.ss_family == AF_INET6) {
		/* An IPv6 listener, an IPv4 server: ::ffff:a.b.c.d. */
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&rep;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr.s6_addr[10] = 0xff;
		s6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(s6->sin6_addr.s6_addr + 12,
		       &((struct sockaddr_in *)&ctl)->sin_addr, 4);
	} else if (IN6_IS_ADDR_V4MAPPED(
		       &((struct sockaddr_in6 *)&ctl)->sin6_addr)) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&rep;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr,
		       ((struct sockaddr_in6 *)&ctl)->sin6_addr.s6_addr + 12,
		       4);
	} else {
		goto out;
	}
	/* The server's address with the port the connection came from. */
	addr_set_port((struct sockaddr *)&rep,
		      addr_port((struct sockaddr *)&peer));
	rlen = addr_len((struct sockaddr *)&rep);
	if (shim_reg_add(newfd, SHIM_REG_DATA, (struct sockaddr *)&rep, rlen) <
	    0)
		goto out;
	if (sa && len) {
		memcpy(sa, &rep, *len < rlen ? *len : rlen);
		*len = rlen;
	}
	if (shim_cfg.debug) {
		char a[INET6_ADDRSTRLEN + 16];

		shim_debug("fd %d: accepted data connection reported from %s",
			   newfd,
			   addr_format((struct sockaddr *)&rep, a, sizeof(a)));
	}
out:
	errno = saved;
}

void shim_route_peer(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct sockaddr_storage peer;
	socklen_t plen = 0;
	int kind;

	if (!shim_reg_maybe(fd))
		return;
	kind = shim_reg_get(fd, &peer, &plen);
	if (kind != SHIM_REG_CONTROL && kind != SHIM_REG_DATA)
		return;
	memcpy(sa, &peer, *len < plen ? *len : plen);
	*len = plen;
}

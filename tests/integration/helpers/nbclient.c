/* nbclient.c — a tiny FTP client for the shim's tests: a passive RETR with
 * non-blocking sockets and epoll, as event-driven programs do it; N
 * threads doing it at once (-t N), or a session shared across fork() (-f).
 * It checks what the shim must keep true: connect() says 0 or EINPROGRESS,
 * then epoll says writable with SO_ERROR 0, and getpeername() names the
 * address that was connected to.
 *
 *   nbclient [-m epsv|pasv] [-A] [-E] [-t N | -f] [-u USER] [-p PASS]
 *            HOST PORT REMOTE OUT
 *
 * -m   the data command (epsv)
 * -A   connect to the address in the 227 reply (default: the control
 *      connection's peer, as curl does)
 * -E   add each socket to epoll before connect() (and never again)
 *      instead of after
 * -t N N sessions in N threads, into OUT.0 ... OUT.N-1
 * -f   log in, fork: the child fetches REMOTE into OUT.child over the
 *      inherited control connection, then the parent into OUT.parent
 * Without -t/-f: one session into OUT. Prints one line per transfer
 * ("nbclient: OUT: N bytes (connect: EINPROGRESS)") and exits 0, or a
 * line saying what went wrong and exits 1. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define TIMEOUT_MS 30000

static const char *opt_mode = "epsv", *opt_user = "anonymous",
		  *opt_pass = "nbclient@";
static int opt_addr227, opt_early;
static struct sockaddr_storage server;
static socklen_t server_len;

struct sess {
	int ep, ctl;
	char buf[8192]; /* control bytes read, not yet consumed */
	size_t len;
	char err[512];
};

static int fail(struct sess *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct sess *s, const char *fmt, ...)
{
	va_list ap;

	if (s->err[0])
		return -1;
	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	return -1;
}

static const char *fmt_addr(const struct sockaddr_storage *a, char *out,
			    size_t n)
{
	char h[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)a;

		inet_ntop(AF_INET, &s4->sin_addr, h, sizeof(h));
		port = ntohs(s4->sin_port);
		snprintf(out, n, "%s:%u", h, port);
	} else if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)a;

		inet_ntop(AF_INET6, &s6->sin6_addr, h, sizeof(h));
		port = ntohs(s6->sin6_port);
		snprintf(out, n, "[%s]:%u", h, port);
	} else {
		snprintf(out, n, "(family %d)", a->ss_family);
	}
	return out;
}

static int same_addr(const struct sockaddr_storage *a,
		     const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)a;
		const struct sockaddr_in *y = (const struct sockaddr_in *)b;

		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
		const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;

		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, 16);
	}
	return 0;
}

static void set_port(struct sockaddr_storage *a, unsigned port)
{
	if (a->ss_family == AF_INET)
		((struct sockaddr_in *)a)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)a)->sin6_port = htons((uint16_t)port);
}

/* Waits (level-triggered) until fd has one of events. 0 or -1. */
static int wait_fd(struct sess *s, int fd, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};

	if (epoll_ctl(s->ep, EPOLL_CTL_MOD, fd, &ev) < 0) {
		/* With -E every socket was added before connect(): it must
		 * still be there. */
		if (errno != ENOENT || opt_early ||
		    epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			return fail(s, "epoll_ctl fd %d: %s", fd,
				    strerror(errno));
	}
	for (;;) {
		struct epoll_event got[4];
		int n = epoll_wait(s->ep, got, 4, TIMEOUT_MS), i;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(s, "epoll_wait: %s", strerror(errno));
		if (n == 0)
			return fail(s, "timed out waiting on fd %d", fd);
		for (i = 0; i < n; i++)
			if (got[i].data.fd == fd)
				return 0;
	}
}

/* A non-blocking TCP connection to a; *how says what connect() said. */
static int nb_connect(struct sess *s, const struct sockaddr_storage *a,
		      socklen_t alen, const char **how)
{
	int fd =
	    socket(a->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err = 0;
	socklen_t l = sizeof(err);
	char w[80];

	if (fd < 0)
		return fail(s, "socket: %s", strerror(errno));
	if (opt_early) {
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

		epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev);
	}
	if (connect(fd, (const struct sockaddr *)a, alen) == 0) {
		*how = "0";
	} else if (errno == EINPROGRESS) {
		*how = "EINPROGRESS";
		if (wait_fd(s, fd, EPOLLOUT) < 0)
			goto bad;
	} else {
		fail(s, "connect %s: %s", fmt_addr(a, w, sizeof(w)),
		     strerror(errno));
		goto bad;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0 || err) {
		fail(s, "connect %s: SO_ERROR %s", fmt_addr(a, w, sizeof(w)),
		     strerror(err));
		goto bad;
	}
	return fd;
bad:
	close(fd);
	return -1;
}

/* getpeername(fd) must name want. */
static int check_peer(struct sess *s, int fd,
		      const struct sockaddr_storage *want, const char *what)
{
	struct sockaddr_storage got;
	socklen_t l = sizeof(got);
	char a[80], b[80];

	memset(&got, 0, sizeof(got));
	if (getpeername(fd, (struct sockaddr *)&got, &l) < 0)
		return fail(s, "getpeername (%s): %s", what, strerror(errno));
	if (!same_addr(&got, want))
		return fail(s, "getpeername (%s) says %s, connected to %s",
			    what, fmt_addr(&got, a, sizeof(a)),
			    fmt_addr(want, b, sizeof(b)));
	return 0;
}

static int send_all(struct sess *s, int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EAGAIN) {
			if (wait_fd(s, fd, EPOLLOUT) < 0)
				return -1;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return fail(s, "send: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int cmd(struct sess *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int cmd(struct sess *s, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	memcpy(line + n, "\r\n", 2);
	return send_all(s, s->ctl, line, (size_t)n + 2);
}

/* The next complete reply (RFC 959 4.2: "ddd-" lines up to "ddd "); its
 * last line into line. Returns the code or -1. */
static int reply(struct sess *s, char *line, size_t size)
{
	for (;;) {
		char *nl;

		while ((nl = memchr(s->buf, '\n', s->len))) {
			size_t ll = (size_t)(nl - s->buf) + 1;
			int final = ll >= 4 && s->buf[0] >= '1' &&
				    s->buf[0] <= '5' && s->buf[3] == ' ';
			int code = final ? atoi(s->buf) : 0;

			if (final) {
				size_t c = ll < size ? ll : size - 1;

				memcpy(line, s->buf, c);
				line[c] = '\0';
			}
			memmove(s->buf, s->buf + ll, s->len - ll);
			s->len -= ll;
			if (final)
				return code;
		}
		if (s->len == sizeof(s->buf))
			return fail(s, "control line too long");
		ssize_t n =
		    recv(s->ctl, s->buf + s->len, sizeof(s->buf) - s->len, 0);
		if (n < 0 && errno == EAGAIN) {
			if (wait_fd(s, s->ctl, EPOLLIN) < 0)
				return -1;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail(s, "control connection: %s",
				    n ? strerror(errno) : "closed");
		s->len += (size_t)n;
	}
}

static int expect(struct sess *s, int lo, int hi, const char *what)
{
	char line[512];
	int code = reply(s, line, sizeof(line));

	if (code < 0)
		return -1;
	if (code < lo || code > hi)
		return fail(s, "%s: %s", what, line);
	return code;
}

static int login(struct sess *s)
{
	const char *how;
	int code;

	s->ep = epoll_create1(EPOLL_CLOEXEC);
	s->ctl = nb_connect(s, &server, server_len, &how);
	if (s->ctl < 0)
		return -1;
	if (check_peer(s, s->ctl, &server, "control") < 0 ||
	    expect(s, 220, 220, "greeting") < 0 ||
	    cmd(s, "USER %s", opt_user) < 0 ||
	    (code = expect(s, 230, 331, "USER")) < 0 ||
	    (code == 331 && (cmd(s, "PASS %s", opt_pass) < 0 ||
			     expect(s, 230, 230, "PASS") < 0)) ||
	    cmd(s, "TYPE I") < 0 || expect(s, 200, 200, "TYPE") < 0)
		return -1;
	return 0;
}

/* The data address of a 227 or 229 reply (RFC 959 4.1.2, RFC 2428 3). */
static int data_addr(struct sess *s, const char *line,
		     struct sockaddr_storage *out)
{
	socklen_t l = sizeof(*out);
	unsigned h[4], p[2], port;
	const char *q;

	if (getpeername(s->ctl, (struct sockaddr *)out, &l) < 0)
		return fail(s, "getpeername: %s", strerror(errno));
	if (!strncmp(line, "229", 3)) {
		q = strstr(line, "(|||");
		if (!q || sscanf(q, "(|||%u|)", &port) != 1)
			return fail(s, "bad 229: %s", line);
	} else {
		q = strchr(line + 4, '(');
		if (!q || sscanf(q, "(%u,%u,%u,%u,%u,%u)", &h[0], &h[1], &h[2],
				 &h[3], &p[0], &p[1]) != 6)
			return fail(s, "bad 227: %s", line);
		port = p[0] * 256 + p[1];
		if (opt_addr227) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)out;

			memset(out, 0, sizeof(*out));
			s4->sin_family = AF_INET;
			s4->sin_addr.s_addr =
			    htonl(h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3]);
		}
	}
	set_port(out, port);
	return 0;
}

static int retr(struct sess *s, const char *remote, const char *out)
{
	struct sockaddr_storage da;
	char line[512], buf[65536];
	const char *how;
	long long total = 0;
	int d, f, code;

	if (cmd(s, "%s", strcmp(opt_mode, "pasv") ? "EPSV" : "PASV") < 0 ||
	    (code = reply(s, line, sizeof(line))) < 0)
		return -1;
	if (code != 227 && code != 229)
		return fail(s, "%s refused: %s", opt_mode, line);
	if (data_addr(s, line, &da) < 0)
		return -1;
	d = nb_connect(s, &da,
		       da.ss_family == AF_INET ? sizeof(struct sockaddr_in)
					       : sizeof(struct sockaddr_in6),
		       &how);
	if (d < 0)
		return -1;
	if (check_peer(s, d, &da, "data") < 0 ||
	    cmd(s, "RETR %s", remote) < 0 || expect(s, 125, 150, "RETR") < 0) {
		close(d);
		return -1;
	}
	f = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (f < 0) {
		close(d);
		return fail(s, "%s: %s", out, strerror(errno));
	}
	for (;;) {
		ssize_t n = recv(d, buf, sizeof(buf), 0);

		if (n < 0 && errno == EAGAIN) {
			if (wait_fd(s, d, EPOLLIN) < 0)
				break;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail(s, "data: %s", strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (write(f, buf, (size_t)n) != n) {
			fail(s, "%s: write: %s", out, strerror(errno));
			break;
		}
		total += n;
	}
	close(f);
	close(d);
	if (s->err[0] || expect(s, 226, 226, "transfer") < 0)
		return -1;
	printf("nbclient: %s: %lld bytes (connect: %s)\n", out, total, how);
	fflush(stdout);
	return 0;
}

static void finish(struct sess *s)
{
	if (s->ctl >= 0 && !s->err[0] && cmd(s, "QUIT") == 0)
		expect(s, 221, 221, "QUIT");
	if (s->ctl >= 0)
		close(s->ctl);
	if (s->ep >= 0)
		close(s->ep);
}

struct job {
	pthread_t t;
	struct sess s;
	const char *remote;
	char out[4096];
	int rc;
};

static void *run(void *arg)
{
	struct job *j = arg;

	j->rc = login(&j->s) < 0 || retr(&j->s, j->remote, j->out) < 0;
	finish(&j->s);
	if (j->s.err[0])
		j->rc = 1;
	return NULL;
}

static int usage(void)
{
	fprintf(stderr, "usage: nbclient [-m epsv|pasv] [-A] [-E] [-t N | -f] "
			"[-u USER] [-p PASS] HOST PORT REMOTE OUT\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct addrinfo hints, *ai;
	int c, threads = 0, forked = 0, i, rc = 0;
	const char *remote, *out;
	struct job *jobs;

	while ((c = getopt(argc, argv, "m:AEt:fu:p:")) != -1) {
		switch (c) {
		case 'm':
			opt_mode = optarg;
			break;
		case 'A':
			opt_addr227 = 1;
			break;
		case 'E':
			opt_early = 1;
			break;
		case 't':
			threads = atoi(optarg);
			break;
		case 'f':
			forked = 1;
			break;
		case 'u':
			opt_user = optarg;
			break;
		case 'p':
			opt_pass = optarg;
			break;
		default:
			return usage();
		}
	}
	if (argc - optind != 4 || threads < 0 || threads > 64 ||
	    (threads && forked) ||
	    (strcmp(opt_mode, "epsv") && strcmp(opt_mode, "pasv")))
		return usage();
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(argv[optind], argv[optind + 1], &hints, &ai) != 0) {
		fprintf(stderr, "nbclient: cannot resolve %s\n", argv[optind]);
		return 1;
	}
	memcpy(&server, ai->ai_addr, ai->ai_addrlen);
	server_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	remote = argv[optind + 2];
	out = argv[optind + 3];

	if (forked) {
		struct sess s = {.ep = -1, .ctl = -1};
		char o[4096];
		pid_t pid;
		int st;

		if (login(&s) < 0)
			goto sess_fail;
		fflush(stdout);
		pid = fork();
		if (pid < 0) {
			fail(&s, "fork: %s", strerror(errno));
			goto sess_fail;
		}
		if (pid == 0) {
			snprintf(o, sizeof(o), "%s.child", out);
			if (retr(&s, remote, o) < 0) {
				fprintf(stderr, "nbclient: child: %s\n", s.err);
				_exit(1);
			}
			_exit(0);
		}
		if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) ||
		    WEXITSTATUS(st)) {
			fail(&s, "the child failed");
			goto sess_fail;
		}
		snprintf(o, sizeof(o), "%s.parent", out);
		if (retr(&s, remote, o) < 0)
			goto sess_fail;
		finish(&s);
		if (!s.err[0])
			return 0;
	sess_fail:
		fprintf(stderr, "nbclient: %s\n", s.err);
		return 1;
	}

	jobs = calloc(threads ? (size_t)threads : 1, sizeof(*jobs));
	if (!jobs)
		return 1;
	for (i = 0; i < (threads ? threads : 1); i++) {
		jobs[i].s.ep = jobs[i].s.ctl = -1;
		jobs[i].remote = remote;
		if (threads)
			snprintf(jobs[i].out, sizeof(jobs[i].out), "%s.%d", out,
				 i);
		else
			snprintf(jobs[i].out, sizeof(jobs[i].out), "%s", out);
	}
	if (!threads) {
		run(&jobs[0]);
	} else {
		for (i = 0; i < threads; i++)
			if (pthread_create(&jobs[i].t, NULL, run, &jobs[i])) {
				fprintf(stderr, "nbclient: pthread_create\n");
				return 1;
			}
		for (i = 0; i < threads; i++)
			pthread_join(jobs[i].t, NULL);
	}
	for (i = 0; i < (threads ? threads : 1); i++) {
		if (jobs[i].rc) {
			fprintf(stderr, "nbclient: %s: %s\n", jobs[i].out,
				jobs[i].s.err[0] ? jobs[i].s.err : "failed");
			rc = 1;
		}
	}
	free(jobs);
	return rc;
}

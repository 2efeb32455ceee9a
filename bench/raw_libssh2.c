/* raw_libssh2.c — the bench's ceiling: the smallest blocking libssh2 client
 * that carries one TCP connection through one direct-tcpip channel, one
 * direction at a time, so `make bench` can compare ftp-tunnel with what
 * libssh2 itself costs.
 *
 * usage: raw_libssh2 -d|-u -i KEY -l LPORT SSHHOST SSHPORT USER HOST PORT
 *
 * Logs in (aes128-ctr + hmac-sha2-256 only, no host key check: loopback
 * bench only), listens on 127.0.0.1:LPORT, prints "READY", accepts one
 * connection, opens a direct-tcpip channel to HOST:PORT and copies
 * channel -> socket (-d, a download) or socket -> channel (-u, an upload)
 * until EOF, in blocking mode. Last line on stdout: "bytes N cpu S" (S =
 * user + system seconds of this process, handshake included). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <libssh2.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* Read size; writes to the channel are cut into packets by libssh2 (32 KiB
 * each in 1.10), and 8 × 32 700 B did slightly better than 256 KiB. */
#define BUF_SIZE (8 * 32700)

static void die(const char *what, LIBSSH2_SESSION *s)
{
	char *msg = NULL;

	if (s)
		libssh2_session_last_error(s, &msg, NULL, 0);
	fprintf(stderr, "raw_libssh2: %s%s%s\n", what, msg ? ": " : "",
		msg ? msg : "");
	exit(1);
}

static int tcp_connect(const char *host, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect to the SSH server", NULL);
	return fd;
}

static int tcp_listen(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1) < 0)
		die("listen", NULL);
	return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int chan_write_all(LIBSSH2_CHANNEL *ch, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = libssh2_channel_write(ch, p, n);

		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char buf[BUF_SIZE];
	const char *key = NULL;
	char pub[4096];
	int down = -1, lport = 0, o, one = 1;
	long long total = 0;
	struct rusage ru;

	while ((o = getopt(argc, argv, "dui:l:")) != -1) {
		switch (o) {
		case 'd':
			down = 1;
			break;
		case 'u':
			down = 0;
			break;
		case 'i':
			key = optarg;
			break;
		case 'l':
			lport = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (down < 0 || !key || lport <= 0 || argc - optind != 5) {
		fprintf(stderr, "usage: raw_libssh2 -d|-u -i KEY -l LPORT "
				"SSHHOST SSHPORT USER HOST PORT\n");
		return 2;
	}
	const char *sshhost = argv[optind], *user = argv[optind + 2],
		   *host = argv[optind + 3];
	int sshport = atoi(argv[optind + 1]), port = atoi(argv[optind + 4]);
	snprintf(pub, sizeof(pub), "%s.pub", key);

	if (libssh2_init(0) != 0)
		die("libssh2_init", NULL);
	int sfd = tcp_connect(sshhost, sshport);
	setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	LIBSSH2_SESSION *s = libssh2_session_init();
	if (!s)
		die("session_init", NULL);
	/* The same algorithms as every other SSH path of the bench. */
	if (libssh2_session_method_pref(s, LIBSSH2_METHOD_CRYPT_CS,
					"aes128-ctr") ||
	    libssh2_session_method_pref(s, LIBSSH2_METHOD_CRYPT_SC,
					"aes128-ctr") ||
	    libssh2_session_method_pref(s, LIBSSH2_METHOD_MAC_CS,
					"hmac-sha2-256") ||
	    libssh2_session_method_pref(s, LIBSSH2_METHOD_MAC_SC,
					"hmac-sha2-256"))
		die("method_pref", s);
	libssh2_session_set_blocking(s, 1);
	if (libssh2_session_handshake(s, sfd))
		die("handshake", s);
	if (libssh2_userauth_publickey_fromfile(s, user, pub, key, ""))
		die("publickey auth", s);

	int lfd = tcp_listen(lport);
	printf("READY %s %s\n",
	       libssh2_session_methods(s, LIBSSH2_METHOD_CRYPT_SC),
	       libssh2_session_methods(s, LIBSSH2_METHOD_MAC_SC));
	fflush(stdout);
	/* A client that never comes (its control connection failed) must not
	 * leave us waiting: SIGALRM's default action ends the process. */
	alarm(120);
	int cfd = accept(lfd, NULL, NULL);
	if (cfd < 0)
		die("accept", NULL);
	alarm(0);
	close(lfd);
	LIBSSH2_CHANNEL *ch =
	    libssh2_channel_direct_tcpip_ex(s, host, port, "127.0.0.1", lport);
	if (!ch)
		die("direct-tcpip", s);

	for (;;) {
		ssize_t n;

		if (down) {
			n = libssh2_channel_read(ch, buf, sizeof(buf));
			if (n < 0)
				die("channel read", s);
			if (n == 0)
				break;
			if (write_all(cfd, buf, (size_t)n) < 0)
				die("socket write", NULL);
		} else {
			n = read(cfd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				die("socket read", NULL);
			if (n == 0)
				break;
			if (chan_write_all(ch, buf, (size_t)n) < 0)
				die("channel write", s);
		}
		total += n;
	}
	if (!down) {
		libssh2_channel_send_eof(ch);
		libssh2_channel_wait_eof(ch);
	}
	close(cfd);
	libssh2_channel_close(ch);
	libssh2_channel_wait_closed(ch);
	libssh2_channel_free(ch);
	libssh2_session_disconnect(s, "done");
	libssh2_session_free(s);
	close(sfd);
	libssh2_exit();

	getrusage(RUSAGE_SELF, &ru);
	printf("bytes %lld cpu %.3f\n", total,
	       ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
		   (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	return 0;
}

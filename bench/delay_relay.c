/* delay_relay — a wide-area link's latency on loopback (this kernel has no
 * netem): relays TCP connections and holds every byte a fixed time in each
 * direction, passing back-pressure and half-close on. For bench/run.sh.
 *
 *   delay_relay [-d MS] [-q BYTES] [-n] [-t FILE] LADDR:LPORT:HOST:PORT ...
 *
 * -d: one-way delay in milliseconds (20). -q: the most bytes held in one
 * direction of one connection (64 MiB; above it the relay stops reading,
 * so the sender's TCP window closes: the link's capacity is q / delay).
 * -n: connect to the target at once instead of modelling the handshake.
 * -t FILE: a line per chunk ("us conn dir op len held": c/s for client to
 * server or back, r when read and queued, w when written; held is what the
 * direction holds after the read), to see how much is in flight when.
 * Prints "READY" on stdout once every listener is up; runs until killed.
 *
 * Each direction of a connection is a reader thread, which stamps each
 * chunk it reads with its due time (now + delay) and queues it, and a
 * writer thread, which sleeps until a chunk is due and writes it. EOF is
 * queued like data, so the far side's shutdown(SHUT_WR) comes a delay
 * later. A write error or reset ends the whole connection at once.
 *
 * The client's connect() to the relay completes on loopback at once; on a
 * real link the server would see the connection only when the client's
 * ACK of its SYN-ACK arrives, three one-way delays after the client's
 * SYN. So the relay connects to the target 3 x delay after the accept, and
 * bytes the client sent at once arrive then, as they would on the link
 * (the client sends them after its connect returns, 2 x delay, plus one
 * delay on the way). Every data connection of plain FTP over the relay
 * thus costs the round trip it costs on a real link. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

static long delay_ns = 20L * 1000 * 1000;
static size_t queue_max = 64u * 1024 * 1024;
static int model_handshake = 1;
static FILE *trace;
static atomic_int conn_seq;

struct chunk {
	struct chunk *next;
	int64_t due; /* CLOCK_MONOTONIC ns */
	size_t len;  /* 0: EOF */
	char data[];
};

/* One direction: from -> to. */
struct dir {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct chunk *head, *tail;
	size_t held;
	int dead; /* the connection ends: both threads stop */
	int from, to;
	char name; /* 'c' client to server, 's' server to client */
	struct conn *conn;
};

struct conn {
	struct dir c2s, s2c;
	int id; /* for the trace */
	int cfd, sfd;
	int64_t accepted;
	const struct sockaddr_storage *target;
	socklen_t target_len;
	atomic_int threads; /* the last one to finish closes and frees */
};

struct listener {
	int fd;
	struct sockaddr_storage target;
	socklen_t target_len;
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_until(int64_t t)
{
	struct timespec ts = {.tv_sec = t / 1000000000,
			      .tv_nsec = t % 1000000000};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

static void trace_chunk(struct dir *d, char op, size_t len, size_t held)
{
	if (trace)
		fprintf(trace, "%lld %d %c %c %zu %zu\n",
			(long long)(now_ns() / 1000), d->conn->id, d->name, op,
			len, held);
}

static void dir_init(struct dir *d, struct conn *c, char name)
{
	d->name = name;
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	d->head = d->tail = NULL;
	d->held = 0;
	d->dead = 0;
	d->conn = c;
}

/* Ends the connection: both directions stop, and shutdown() wakes any
 * thread blocked in read or write on either socket. */
static void conn_kill(struct conn *c)
{
	struct dir *ds[2] = {&c->c2s, &c->s2c};
	int sfd = -1;

	for (int i = 0; i < 2; i++) {
		pthread_mutex_lock(&ds[i]->mu);
		ds[i]->dead = 1;
		if (i == 0)
			sfd = c->sfd; /* set under this lock (c2s_writer) */
		pthread_cond_broadcast(&ds[i]->cv);
		pthread_mutex_unlock(&ds[i]->mu);
	}
	shutdown(c->cfd, SHUT_RDWR);
	if (sfd >= 0)
		shutdown(sfd, SHUT_RDWR);
}

static void conn_put(struct conn *c)
{
	if (atomic_fetch_sub(&c->threads, 1) != 1)
		return;
	struct dir *ds[2] = {&c->c2s, &c->s2c};
	for (int i = 0; i < 2; i++) {
		struct chunk *k = ds[i]->head;
		while (k) {
			struct chunk *n = k->next;
			free(k);
			k = n;
		}
		pthread_mutex_destroy(&ds[i]->mu);
		pthread_cond_destroy(&ds[i]->cv);
	}
	close(c->cfd);
	if (c->sfd >= 0)
		close(c->sfd);
	free(c);
}

/* Queues k, waiting while the direction holds queue_max bytes (that wait
 * is the back-pressure). Returns -1 when the connection ended. */
static int dir_push(struct dir *d, struct chunk *k)
{
	pthread_mutex_lock(&d->mu);
	while (!d->dead && d->held + k->len > queue_max && d->held > 0)
		pthread_cond_wait(&d->cv, &d->mu);
	if (d->dead) {
		pthread_mutex_unlock(&d->mu);
		free(k);
		return -1;
	}
	k->next = NULL;
	if (d->tail)
		d->tail->next = k;
	else
		d->head = k;
	d->tail = k;
	d->held += k->len;
	trace_chunk(d, 'r', k->len, d->held);
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	return 0;
}

/* The next chunk, or NULL when the connection ended. */
static struct chunk *dir_pop(struct dir *d)
{
	pthread_mutex_lock(&d->mu);
	while (!d->dead && !d->head)
		pthread_cond_wait(&d->cv, &d->mu);
	struct chunk *k = d->dead ? NULL : d->head;
	if (k) {
		d->head = k->next;
		if (!d->head)
			d->tail = NULL;
		d->held -= k->len;
		pthread_cond_broadcast(&d->cv);
	}
	pthread_mutex_unlock(&d->mu);
	return k;
}

static void *reader(void *arg)
{
	struct dir *d = arg;
	for (;;) {
		struct chunk *k = malloc(sizeof(*k) + CHUNK);
		if (!k) {
			conn_kill(d->conn);
			break;
		}
		ssize_t n = read(d->from, k->data, CHUNK);
		if (n < 0 && errno == EINTR) {
			free(k);
			continue;
		}
		if (n < 0) {
			free(k);
			conn_kill(d->conn);
			break;
		}
		k->len = (size_t)n;
		k->due = now_ns() + delay_ns;
		if (n > 0 && n < CHUNK / 2) {
			/* Keep small reads small in memory. */
			struct chunk *s = realloc(k, sizeof(*k) + (size_t)n);
			if (s)
				k = s;
		}
		if (dir_push(d, k) < 0 || n == 0)
			break;
	}
	conn_put(d->conn);
	return NULL;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void *writer(void *arg)
{
	struct dir *d = arg;
	struct chunk *k;
	while ((k = dir_pop(d)) != NULL) {
		sleep_until(k->due);
		if (k->len == 0) {
			shutdown(d->to, SHUT_WR);
			free(k);
			break;
		}
		int rc = write_all(d->to, k->data, k->len);
		trace_chunk(d, 'w', k->len, 0);
		free(k);
		if (rc < 0) {
			conn_kill(d->conn);
			break;
		}
	}
	conn_put(d->conn);
	return NULL;
}

static int spawn(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, 256 * 1024);
	int rc = pthread_create(&t, &a, fn, arg);
	pthread_attr_destroy(&a);
	return rc;
}

static void nodelay(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* The client-to-server writer: connects to the target when the handshake
 * would have reached it, starts the other direction, then writes. */
static void *c2s_writer(void *arg)
{
	struct conn *c = arg;
	if (model_handshake)
		sleep_until(c->accepted + 3 * delay_ns);
	int fd = socket(c->target->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)c->target,
			      c->target_len) < 0) {
		if (fd >= 0)
			close(fd);
		/* Refused: the client sees a reset, as it would. */
		struct linger l = {.l_onoff = 1, .l_linger = 0};
		setsockopt(c->cfd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		conn_kill(c);
		atomic_fetch_sub(&c->threads, 2); /* s2c never starts */
		conn_put(c);
		return NULL;
	}
	nodelay(fd);
	/* The client may have gone while we connected: then nobody would
	 * ever shut this socket down, and its reader would wait forever. */
	pthread_mutex_lock(&c->c2s.mu);
	int dead = c->c2s.dead;
	if (!dead)
		c->sfd = fd;
	pthread_mutex_unlock(&c->c2s.mu);
	if (dead) {
		close(fd);
		atomic_fetch_sub(&c->threads, 2); /* s2c never starts */
		conn_put(c);
		return NULL;
	}
	c->s2c.from = fd;
	c->s2c.to = c->cfd;
	c->c2s.to = fd;
	if (spawn(reader, &c->s2c) != 0 || spawn(writer, &c->s2c) != 0) {
		fprintf(stderr, "delay_relay: cannot start a thread\n");
		exit(1);
	}
	return writer(&c->c2s);
}

static void *acceptor(void *arg)
{
	struct listener *l = arg;
	for (;;) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EMFILE)
				continue;
			perror("delay_relay: accept");
			exit(1);
		}
		nodelay(fd);
		struct conn *c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->cfd = fd;
		c->sfd = -1;
		c->accepted = now_ns();
		c->target = &l->target;
		c->target_len = l->target_len;
		c->id = atomic_fetch_add(&conn_seq, 1);
		dir_init(&c->c2s, c, 'c');
		dir_init(&c->s2c, c, 's');
		c->c2s.from = fd;
		atomic_init(&c->threads, 4);
		if (spawn(reader, &c->c2s) != 0 || spawn(c2s_writer, c) != 0) {
			fprintf(stderr, "delay_relay: cannot start a thread\n");
			exit(1);
		}
	}
	return NULL;
}

/* Parses LADDR:LPORT:HOST:PORT (IPv4 or names) and listens. */
static int setup(const char *spec, struct listener *l)
{
	char buf[512], *f[4];
	snprintf(buf, sizeof(buf), "%s", spec);
	char *p = buf;
	for (int i = 0; i < 4; i++) {
		f[i] = strsep(&p, ":");
		if (!f[i] || !*f[i])
			return -1;
	}
	if (p)
		return -1;
	struct addrinfo hints = {.ai_family = AF_INET,
				 .ai_socktype = SOCK_STREAM},
			*ai;
	if (getaddrinfo(f[2], f[3], &hints, &ai) != 0)
		return -1;
	memcpy(&l->target, ai->ai_addr, ai->ai_addrlen);
	l->target_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	hints.ai_flags = AI_PASSIVE;
	if (getaddrinfo(f[0], f[1], &hints, &ai) != 0)
		return -1;
	l->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	int rc = bind(l->fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (rc < 0 || listen(l->fd, 128) < 0) {
		perror("delay_relay: bind/listen");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int opt;
	while ((opt = getopt(argc, argv, "d:q:nt:")) != -1) {
		switch (opt) {
		case 'd':
			delay_ns = strtol(optarg, NULL, 10) * 1000000L;
			break;
		case 'q':
			queue_max = strtoul(optarg, NULL, 10);
			break;
		case 'n':
			model_handshake = 0;
			break;
		case 't':
			trace = fopen(optarg, "w");
			if (!trace) {
				perror("delay_relay: trace");
				return 1;
			}
			setvbuf(trace, NULL, _IOLBF, 0);
			break;
		default:
			goto usage;
		}
	}
	if (optind >= argc || delay_ns < 0 || queue_max < CHUNK)
		goto usage;
	signal(SIGPIPE, SIG_IGN);
	int n = argc - optind;
	struct listener *ls = calloc((size_t)n, sizeof(*ls));
	if (!ls)
		return 1;
	for (int i = 0; i < n; i++) {
		if (setup(argv[optind + i], &ls[i]) < 0) {
			fprintf(
			    stderr,
			    "delay_relay: cannot relay %s: give "
			    "LADDR:LPORT:HOST:PORT with a free local port\n",
			    argv[optind + i]);
			return 1;
		}
	}
	for (int i = 1; i < n; i++)
		if (spawn(acceptor, &ls[i]) != 0)
			return 1;
	printf("READY\n");
	fflush(stdout);
	acceptor(&ls[0]);
	return 0;
usage:
	fprintf(stderr, "usage: delay_relay [-d MS] [-q BYTES] [-n] [-t FILE] "
			"LADDR:LPORT:HOST:PORT ...\n");
	return 2;
}

/* ssh.c — a non-blocking libssh2 session on an event loop: connect, host
 * key, authentication, keepalive, and the service loop that drives the
 * request queue (ssh_req.c) and the channels (ssh_chan.c) through the
 * libssh2 gate (ssh_gate.c). */
#include "ssh_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth.h"
#include "hostkey.h"
#include "log.h"
#include "net.h"
#include "ssh_cipher.h"
#include "transport.h"

static const char *const sess_state_names[] = {
    "connecting", "handshake", "authenticating", "ready", "dead"};

static void sess_service(struct ssh_sess *s);
static int wants_input(struct ssh_sess *s);

const char *ssh_sess_name(const struct ssh_sess *s)
{
	return s->name;
}

LIBSSH2_SESSION *ssh_sess_raw(struct ssh_sess *s)
{
	return s->raw;
}

const struct ssh_opts *ssh_sess_opts(const struct ssh_sess *s)
{
	return &s->opts;
}

static void no_event(struct ssh_sess *s, enum ssh_event ev, const char *msg,
		     void *arg)
{
	(void)s;
	(void)ev;
	(void)msg;
	(void)arg;
}

void ssh_sess_set_cb(struct ssh_sess *s, ssh_event_cb cb, void *arg)
{
	s->cb = cb ? cb : no_event;
	s->cb_arg = arg;
}

struct loop *ssh_sess_loop(struct ssh_sess *s)
{
	return s->loop;
}

int ssh_sess_ready(const struct ssh_sess *s)
{
	return s->state == SESS_READY;
}

static const char *method(const struct ssh_sess *s, int which)
{
	const char *m = NULL;

	/* Before the handshake libssh2 has nothing to say. */
	if (s->raw && s->state >= SESS_AUTH && s->state != SESS_DEAD)
		m = libssh2_session_methods(s->raw, which);
	return m ? m : "";
}

void ssh_sess_info(const struct ssh_sess *s, struct ssh_sess_info *out)
{
	/* Users think of the SSH handshake as part of connecting. */
	static const char *const shown[] = {"connecting", "connecting",
					    "authenticating", "ready", "dead"};
	const struct ssh_chan *c;

	memset(out, 0, sizeof(*out));
	out->host = s->opts.host;
	out->port = s->opts.port;
	out->via = transport_path(s->tr);
	out->user = s->opts.user;
	out->state = shown[s->state];
	out->started_ms = s->started_ms;
	out->kex = method(s, LIBSSH2_METHOD_KEX);
	out->hostkey = method(s, LIBSSH2_METHOD_HOSTKEY);
	out->cipher_cs = method(s, LIBSSH2_METHOD_CRYPT_CS);
	out->cipher_sc = method(s, LIBSSH2_METHOD_CRYPT_SC);
	out->mac_cs = method(s, LIBSSH2_METHOD_MAC_CS);
	out->mac_sc = method(s, LIBSSH2_METHOD_MAC_SC);
	for (c = s->chans; c; c = c->next)
		out->nchannels++;
	out->rx_bytes = s->rx_bytes;
	out->tx_bytes = s->tx_bytes;
}

const char *ssh_last_error(struct ssh_sess *s)
{
	char *msg = NULL;

	if (!s->raw)
		return "no session";
	libssh2_session_last_error(s->raw, &msg, NULL, 0);
	return msg && *msg ? msg : "unknown error";
}

/* Linux clears TCP_QUICKACK; without it delayed ACKs cost tens of
 * milliseconds per channel (TESTBED.md). It is re-armed once the socket
 * is drained (a short read, or EAGAIN after full ones), which is when
 * the ACK of what came is due: a bulk stream's full reads do not each
 * cost a system call (8 500 per 128 MiB before). Through a transport
 * the socket is one end of a socket pair: no TCP, and the call would
 * fail. */
static void quickack_rearm(struct ssh_sess *s, libssh2_socket_t fd, int drained)
{
	int one = 1;

	if (s->tr)
		return;
	if (!drained) {
		s->quickack_owed = 1;
		return;
	}
	s->quickack_owed = 0;
	setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

/* libssh2 reads through this: re-arms TCP_QUICKACK and counts
 * liveness. */
static ssize_t sess_recv(libssh2_socket_t fd, void *buf, size_t len, int flags,
			 void **abstract)
{
	struct ssh_sess *s = *abstract;
	ssize_t n = recv(fd, buf, len, flags);

	if (n < 0) {
		int err = errno;

		if (err == EAGAIN && s->quickack_owed)
			quickack_rearm(s, fd, 1);
		return -err;
	}
	if (n > 0) {
		s->rx_bytes += (unsigned long long)n;
		s->last_rx_ms = loop_now_ms(s->loop);
		s->rx_pending_seen = 0;
		quickack_rearm(s, fd, (size_t)n < len);
	}
	return n;
}

static ssize_t sess_send(libssh2_socket_t fd, const void *buf, size_t len,
			 int flags, void **abstract)
{
	struct ssh_sess *s = *abstract;
	ssize_t n = send(fd, buf, len, flags | MSG_NOSIGNAL);

	if (n < 0)
		return -errno;
	s->tx_bytes += (unsigned long long)n;
	if (!s->poking) {
		s->rx_at_send = s->rx_bytes;
		s->pokes = 0;
	}
	return n;
}

/* --- lifecycle -------------------------------------------------------- */

static void drop_connection(struct ssh_sess *s)
{
	struct ssh_listener *l;

	if (s->fd >= 0)
		loop_unwatch(s->loop, s->fd);
	/* libssh2_session_free frees the channels and listeners too. */
	for (l = s->listeners; l;) {
		struct ssh_listener *next = l->next;
		free(l);
		l = next;
	}
	s->listeners = NULL;
	ssh_chan_free_list(s->closing);
	s->closing = NULL;
	/* Before the session: libssh2's agent frees its identities with the
	 * session's allocator. */
	auth_free(s->auth);
	s->auth = NULL;
	if (s->raw) {
		if (s->state == SESS_READY) {
			libssh2_session_set_blocking(s->raw, 0);
			libssh2_session_disconnect(s->raw, "ftp-tunnel exit");
		}
		/* Non-blocking, libssh2_session_free() sends a close for
		 * each channel still open and returns EAGAIN, having freed
		 * nothing, when the socket cannot take it: a server that
		 * stopped reading (link down) leaked the whole session,
		 * buffers and all. Nothing more will be read or sent on
		 * this connection, so make its sends fail at once and
		 * free again: libssh2 then closes its channels anyway. */
		if (libssh2_session_free(s->raw) == LIBSSH2_ERROR_EAGAIN) {
			if (s->fd >= 0)
				shutdown(s->fd, SHUT_RDWR);
			if (libssh2_session_free(s->raw) != 0)
				log_warn("sess %s: libssh2 could not free the "
					 "session",
					 s->name);
		}
		s->raw = NULL;
	}
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	transport_free(s->tr);
	s->tr = NULL;
	s->owner = NULL;
	loop_timer_disarm(s->alive_timer);
	loop_timer_disarm(s->connect_timer);
	loop_timer_disarm(s->kick_timer);
}

static void sess_die(struct ssh_sess *s, const char *msg)
{
	enum sess_state was = s->state;
	char copy[1024];

	if (was == SESS_DEAD)
		return;
	/* The socket closed because a jump host failed: say which. */
	if (transport_why(s->tr))
		msg = transport_why(s->tr);
	snprintf(copy, sizeof(copy), "%s", msg);
	snprintf(s->why, sizeof(s->why), "%s", copy);
	log_debug("sess %s: %s -> dead (%s)", s->name, sess_state_names[was],
		  copy);
	if (was == SESS_READY)
		ssh_chan_dying_all(s, 1);
	s->state = SESS_DEAD;
	drop_connection(s);
	ssh_req_fail_all(s, copy);
	ssh_chan_lose_all(s);
	s->cb(s, was == SESS_READY ? SSH_EV_CLOSED : SSH_EV_FAILED, copy,
	      s->cb_arg);
}

int ssh_sess_dead(const struct ssh_sess *s)
{
	return s->state == SESS_DEAD;
}

const char *ssh_sess_why(const struct ssh_sess *s)
{
	return s->why;
}

int ssh_sess_failed_early(const struct ssh_sess *s)
{
	return s->state == SESS_DEAD && !s->was_ready;
}

int ssh_sess_login_typed(const struct ssh_sess *s)
{
	return s->login_typed;
}

int ssh_sess_busy(const struct ssh_sess *s)
{
	return s->chans || s->reqs || s->listeners;
}

static void set_state(struct ssh_sess *s, enum sess_state st)
{
	log_debug("sess %s: %s -> %s", s->name, sess_state_names[s->state],
		  sess_state_names[st]);
	s->state = st;
}

/* --- connecting ------------------------------------------------------- */

static void sess_io_cb(struct loop *loop, int fd, uint32_t events, void *arg);

static void try_next_addr(struct ssh_sess *s, const char *last_err)
{
	char msg[1400];
	for (; s->addr_cur; s->addr_cur = s->addr_cur->ai_next) {
		struct addrinfo *ai = s->addr_cur;
		int fd = net_connect_start(ai->ai_addr, ai->ai_addrlen);

		if (fd < 0) {
			last_err = strerror(-fd);
			continue;
		}
		s->fd = fd;
		if (loop_watch(s->loop, fd, EPOLLOUT, sess_io_cb, s) < 0) {
			close(fd);
			s->fd = -1;
			continue;
		}
		return;
	}
	snprintf(msg, sizeof(msg), "cannot connect to %s port %u%s%s%s: %s",
		 s->opts.host, s->opts.port, s->opts.alias[0] ? " (" : "",
		 s->opts.alias, s->opts.alias[0] ? ")" : "",
		 last_err ? last_err : "failed");
	sess_die(s, msg);
}

/* The jump host's channel or the command is there: fd is our end. From
 * here on it is a connection like a TCP one (on_connected). */
static void transport_ready(int fd, const char *err, void *arg)
{
	struct ssh_sess *s = arg;

	if (fd < 0) {
		sess_die(s, err);
		return;
	}
	s->fd = fd;
	if (loop_watch(s->loop, fd, EPOLLOUT, sess_io_cb, s) < 0) {
		close(fd);
		s->fd = -1;
		sess_die(s, "cannot watch the proxy's socket");
	}
}

static void connect_timeout_cb(struct loop *loop, void *arg)
{
	struct ssh_sess *s = arg;
	char msg[1400];

	(void)loop;
	snprintf(msg, sizeof(msg),
		 "cannot connect to %s port %u%s%s%s: timed out after %d s",
		 s->opts.host, s->opts.port, s->opts.alias[0] ? " (" : "",
		 s->opts.alias, s->opts.alias[0] ? ")" : "",
		 s->opts.connect_timeout);
	sess_die(s, msg);
}

/* libssh2's own trace lines (-vvv), each naming the session. */
static void libssh2_trace_cb(LIBSSH2_SESSION *raw, void *context,
			     const char *data, size_t length)
{
	struct ssh_sess *s = context;

	(void)raw;
	while (length && (data[length - 1] == '\n' || data[length - 1] == '\r'))
		length--;
	log_trace("sess %s: libssh2: %.*s", s->name, (int)length, data);
}

static int start_handshake(struct ssh_sess *s)
{
	s->raw = libssh2_session_init_ex(NULL, NULL, NULL, s);
	if (!s->raw)
		return -1;
	libssh2_session_set_blocking(s->raw, 0);
	hostkey_prefer(s->raw, &s->opts);
	ssh_cipher_prefer(s->raw, s->name);
	if (log_get_level() >= LOG_LVL_TRACE) {
		/* Only a libssh2 built with debugging traces anything; the
		 * socket-level trace (every packet) is left out. */
		libssh2_trace_sethandler(s->raw, s, libssh2_trace_cb);
		libssh2_trace(
		    s->raw, LIBSSH2_TRACE_TRANS | LIBSSH2_TRACE_KEX |
				LIBSSH2_TRACE_AUTH | LIBSSH2_TRACE_CONN |
				LIBSSH2_TRACE_PUBLICKEY | LIBSSH2_TRACE_ERROR);
	}
#if LIBSSH2_VERSION_NUM >= 0x010b01
	/* 1.11.1 deprecates the void * form. */
	libssh2_session_callback_set2(s->raw, LIBSSH2_CALLBACK_RECV,
				      (libssh2_cb_generic *)sess_recv);
	libssh2_session_callback_set2(s->raw, LIBSSH2_CALLBACK_SEND,
				      (libssh2_cb_generic *)sess_send);
#else
	libssh2_session_callback_set(s->raw, LIBSSH2_CALLBACK_RECV,
				     (void *)sess_recv);
	libssh2_session_callback_set(s->raw, LIBSSH2_CALLBACK_SEND,
				     (void *)sess_send);
#endif
	set_state(s, SESS_HANDSHAKE);
	return 0;
}

static void on_connected(struct ssh_sess *s)
{
	int err = net_connect_result(s->fd);

	if (err) {
		loop_unwatch(s->loop, s->fd);
		close(s->fd);
		s->fd = -1;
		s->addr_cur = s->addr_cur->ai_next;
		try_next_addr(s, strerror(err));
		return;
	}
	loop_timer_disarm(s->connect_timer);
	freeaddrinfo(s->addrs);
	s->addrs = s->addr_cur = NULL;
	if (start_handshake(s) < 0) {
		sess_die(s, "out of memory");
		return;
	}
	sess_service(s);
}

static void step_handshake(struct ssh_sess *s)
{
	char err[2048];
	int rc = libssh2_session_handshake(s->raw, s->fd);

	if (rc == LIBSSH2_ERROR_EAGAIN)
		return;
	if (rc) {
		snprintf(err, sizeof(err), "SSH handshake with %s failed: %s",
			 s->name, ssh_last_error(s));
		sess_die(s, err);
		return;
	}
	log_debug("sess %s: kex %s, host key %s, cipher %s, mac %s", s->name,
		  libssh2_session_methods(s->raw, LIBSSH2_METHOD_KEX),
		  libssh2_session_methods(s->raw, LIBSSH2_METHOD_HOSTKEY),
		  libssh2_session_methods(s->raw, LIBSSH2_METHOD_CRYPT_CS),
		  libssh2_session_methods(s->raw, LIBSSH2_METHOD_MAC_CS));
	if (hostkey_check(s->raw, &s->opts, err, sizeof(err)) < 0) {
		sess_die(s, err);
		return;
	}
	s->auth = auth_new(s->raw, &s->opts, s->name);
	if (!s->auth) {
		sess_die(s, "out of memory");
		return;
	}
	set_state(s, SESS_AUTH);
}

static void alive_cb(struct loop *loop, void *arg);

static void step_auth(struct ssh_sess *s)
{
	int rc = auth_step(s->auth);

	if (rc == LIBSSH2_ERROR_EAGAIN)
		return;
	if (rc < 0) {
		char msg[2100];

		snprintf(msg, sizeof(msg), "%s", auth_error(s->auth));
		sess_die(s, msg);
		return;
	}
	s->login_typed = auth_typed(s->auth);
	auth_free(s->auth);
	s->auth = NULL;
	s->was_ready = 1;
	set_state(s, SESS_READY);
	s->last_rx_ms = loop_now_ms(s->loop);
	if (s->opts.alive_interval > 0) {
		libssh2_keepalive_config(s->raw, 1,
					 (unsigned)s->opts.alive_interval);
		loop_timer_arm(s->alive_timer,
			       (uint64_t)s->opts.alive_interval * 1000);
	}
	log_info("sess %s: connected", s->name);
	s->cb(s, SSH_EV_READY, NULL, s->cb_arg);
}

void ssh_sess_dump(struct ssh_sess *s)
{
	struct ssh_chan *c;

	log_warn("sess %s: state %s, owner %p, fd %d, block %d, rx %llu tx "
		 "%llu, kick %d, reader %d",
		 s->name, sess_state_names[s->state], s->owner, s->fd,
		 s->raw ? libssh2_session_block_directions(s->raw) : -1,
		 s->rx_bytes, s->tx_bytes, loop_timer_armed(s->kick_timer),
		 wants_input(s));
	for (c = s->chans; c; c = c->next) {
		unsigned long avail = 0, initial = 0;
		unsigned long win =
		    libssh2_channel_window_read_ex(c->raw, &avail, &initial);

		log_warn("  chan %s: wants %d pending %d window in %lu (queued "
			 "%lu) out %lu eof %d",
			 c->name, c->wants_io, c->pending_op, win, avail,
			 libssh2_channel_window_write(c->raw),
			 libssh2_channel_eof(c->raw));
		if (c->ops && c->ops->dump)
			c->ops->dump(c, c->arg);
	}
	for (c = s->closing; c; c = c->next)
		log_warn("  closing chan %s: pending %d", c->name,
			 c->pending_op);
}

/* --- the service loop ------------------------------------------------- */

static void kick_cb(struct loop *loop, void *arg)
{
	(void)loop;
	sess_service(arg);
}

void ssh_sess_kick(struct ssh_sess *s)
{
	if (s->state != SESS_DEAD && !loop_timer_armed(s->kick_timer))
		loop_timer_arm(s->kick_timer, 0);
}

#define SERVICE_PASSES 16

static void service_ready(struct ssh_sess *s)
{
	int pass, progress = 1;

	for (pass = 0; pass < SERVICE_PASSES && progress && !s->io_error;
	     pass++) {
		struct ssh_chan *c, *next;
		unsigned long long rx_before = s->rx_bytes;

		progress = 0;
		if (s->owner == &s->alive_timer) {
			int secs;

			ssh_ungate(s, &s->alive_timer,
				   libssh2_keepalive_send(s->raw, &secs));
		}
		progress |= ssh_req_service(s);
		progress |= ssh_req_service_listeners(s);
		for (c = s->chans; c; c = next) {
			next = c->next; /* service may close c, and only c */
			if (c->closing)
				break;
			progress |= c->ops->service(c, c->arg);
			if (s->state != SESS_READY)
				return;
		}
		progress |= ssh_chan_service_closing(s);
		if (s->again) {
			s->again = 0;
			progress = 1;
		}
		/* Whoever read the socket may have queued data for channels
		 * serviced earlier in this pass: they must look again. */
		if (s->rx_bytes != rx_before)
			progress = 1;
	}
	if (progress && !s->io_error)
		ssh_sess_kick(s); /* more to do: let other fds run first */
}

/* Through a jump host, sshd on the server sends its small packets with
 * Nagle's algorithm, and the jump host's kernel delays its ACK for each
 * (up to 40 ms), so the next small packet waits: tens of milliseconds per
 * FTP command or data channel, and for a small file's EOF after its data.
 * Whatever we send the server makes the jump host write to it, and the
 * ACK goes along. So after a service that read and sent nothing, one
 * byte more of receive window on a channel (SSH's only no-op that
 * libssh2 1.10 sends on request) goes out, up to POKE_MAX times and while
 * less than POKE_MAX_RX came in since we last sent anything else: a reply,
 * or a file's data and then its EOF after a RETR, are not held, while a
 * bulk download pokes a few times at most per window adjust. */
#define POKE_MAX 4
#define POKE_MAX_RX (256 * 1024)
static void poke_jump_host(struct ssh_sess *s, unsigned long long rx0,
			   unsigned long long tx0)
{
	if (!s->tr || s->state != SESS_READY || s->owner || s->io_error ||
	    s->rx_bytes == rx0 || s->tx_bytes != tx0 || s->pokes >= POKE_MAX ||
	    s->rx_bytes - s->rx_at_send > POKE_MAX_RX)
		return;
	s->pokes++;
	s->poking = 1;
	ssh_chan_poke(s);
	s->poking = 0;
}

static void sess_service(struct ssh_sess *s)
{
	unsigned long long rx0 = s->rx_bytes, tx0 = s->tx_bytes;

	if (s->in_service) {
		ssh_sess_kick(s);
		return;
	}
	s->in_service = 1;
	switch (s->state) {
	case SESS_HANDSHAKE:
		step_handshake(s);
		if (s->state != SESS_AUTH)
			break;
		/* fall through */
	case SESS_AUTH:
		step_auth(s);
		if (s->state != SESS_READY)
			break;
		/* fall through */
	case SESS_READY:
		service_ready(s);
		poke_jump_host(s, rx0, tx0);
		if (s->io_error) {
			char msg[1400];

			snprintf(msg, sizeof(msg), "connection to %s lost: %s",
				 s->name, ssh_last_error(s));
			sess_die(s, msg);
		}
		break;
	default:
		break;
	}
	s->in_service = 0;
	ssh_sess_update_events(s);
}

/* Somebody will read the socket on EPOLLIN: a channel with room for data
 * or data to send, a request, a listener or a closing channel. Without a
 * reader, a readable socket would wake the loop forever. */
static int wants_input(struct ssh_sess *s)
{
	struct ssh_chan *c;

	if (s->state != SESS_READY || s->reqs || s->listeners || s->closing)
		return 1;
	for (c = s->chans; c; c = c->next)
		if (c->wants_io)
			return 1;
	return 0;
}

void ssh_sess_update_events(struct ssh_sess *s)
{
	uint32_t ev = EPOLLRDHUP;
	int dirs;

	if (s->state == SESS_DEAD || s->fd < 0)
		return;
	if (s->state == SESS_CONNECTING) {
		loop_set_events(s->loop, s->fd, EPOLLOUT);
		return;
	}
	dirs = libssh2_session_block_directions(s->raw);
	if (s->owner) {
		ev |= EPOLLOUT; /* only the holder may go on */
	} else {
		if (wants_input(s))
			ev |= EPOLLIN;
		if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND)
			ev |= EPOLLOUT;
	}
	loop_set_events(s->loop, s->fd, ev);
}

static void sess_io_cb(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct ssh_sess *s = arg;

	(void)loop;
	(void)fd;
	if (s->state == SESS_CONNECTING) {
		on_connected(s);
		return;
	}
	if ((events & (EPOLLRDHUP | EPOLLHUP)) && !wants_input(s)) {
		char msg[1400];

		snprintf(msg, sizeof(msg),
			 "connection to %s closed by the "
			 "server",
			 s->name);
		sess_die(s, msg);
		return;
	}
	sess_service(s);
}

/* libssh2_keepalive_send() swallows EAGAIN, yet leaves its packet
 * pending in the session with a pointer into its own stack frame: every
 * other send is then refused (BAD_USE) until a later keepalive happens to
 * pass the same pointer. So a keepalive goes out only when the socket
 * takes it whole (POLLOUT: at least a third of the send buffer free); a
 * server that reads nothing is timed by last_rx_ms alone. */
static int socket_has_room(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};

	return poll(&p, 1, 0) == 1 && (p.revents & POLLOUT);
}

/* ServerAliveInterval: probe when quiet, give up after CountMax probes.
 * An idle session has no reader, so the reply is noticed as bytes waiting
 * in the socket (FIONREAD) rather than as bytes libssh2 read. */
static void alive_cb(struct loop *loop, void *arg)
{
	struct ssh_sess *s = arg;
	uint64_t now = loop_now_ms(loop);
	uint64_t interval = (uint64_t)s->opts.alive_interval * 1000;
	int waiting = 0, next = 0;

	if (s->state != SESS_READY)
		return;
	if (ioctl(s->fd, FIONREAD, &waiting) == 0 &&
	    waiting > s->rx_pending_seen) {
		s->rx_pending_seen = waiting;
		s->last_rx_ms = now;
	}
	if (s->opts.alive_count_max > 0 &&
	    now - s->last_rx_ms >=
		interval * (uint64_t)(s->opts.alive_count_max + 1) - 500) {
		char msg[1400];

		snprintf(msg, sizeof(msg),
			 "Timeout, server %s not responding (%d keepalives "
			 "unanswered)",
			 s->name, s->opts.alive_count_max);
		sess_die(s, msg);
		return;
	}
	if (now - s->last_rx_ms >= interval - 500 &&
	    ssh_gate(s, &s->alive_timer) && socket_has_room(s->fd))
		ssh_ungate(s, &s->alive_timer,
			   libssh2_keepalive_send(s->raw, &next));
	loop_timer_arm(s->alive_timer, interval);
	ssh_sess_update_events(s);
}

struct ssh_sess *ssh_sess_new(struct loop *loop, const struct ssh_opts *opts,
			      ssh_event_cb cb, void *arg)
{
	struct ssh_sess *s = calloc(1, sizeof(*s));
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
	char port[8];
	int rc, i;

	if (!s)
		return NULL;
	s->loop = loop;
	s->opts = *opts;
	/* Deep-copy the owned strings. */
	for (i = 0; i < opts->nidentities; i++)
		s->opts.identities[i] = strdup(opts->identities[i]);
	for (i = 0; i < opts->nknown_hosts; i++)
		s->opts.known_hosts[i] = strdup(opts->known_hosts[i]);
	s->cb = cb;
	s->cb_arg = arg;
	s->fd = -1;
	s->reqs_tail = &s->reqs;
	snprintf(s->name, sizeof(s->name),
		 strchr(opts->host, ':') ? "%s@[%s]:%u" : "%s@%s:%u",
		 opts->user, opts->host, opts->port);
	if (opts->alias[0]) {
		/* The name the user knows it by, then what it is. */
		char real[sizeof(s->name)];

		snprintf(real, sizeof(real), "%s", s->name);
		snprintf(s->name, sizeof(s->name), "%.250s (%.250s)",
			 opts->alias, real);
	}
	s->kick_timer = loop_timer_new(loop, kick_cb, s);
	s->alive_timer = loop_timer_new(loop, alive_cb, s);
	s->connect_timer = loop_timer_new(loop, connect_timeout_cb, s);
	if (!s->kick_timer || !s->alive_timer || !s->connect_timer) {
		ssh_sess_free(s);
		errno = ENOMEM;
		return NULL;
	}
	s->state = SESS_CONNECTING;
	s->started_ms = loop_now_ms(loop);
	if (transport_wanted(opts)) {
		s->tr = transport_new(loop, &s->opts, transport_ready, s);
		if (!s->tr) {
			ssh_sess_free(s);
			errno = ENOMEM;
			return NULL;
		}
		/* ConnectTimeout covers the way there too: a jump host that
		 * cannot reach the server may take minutes to say so. */
		if (opts->connect_timeout > 0)
			loop_timer_arm(s->connect_timer,
				       (uint64_t)opts->connect_timeout * 1000);
		return s;
	}
	snprintf(port, sizeof(port), "%u", opts->port);
	/* Name resolution blocks; it happens once per connection. */
	rc = getaddrinfo(opts->host, port, &hints, &s->addrs);
	if (rc) {
		char msg[1400];

		snprintf(msg, sizeof(msg), "cannot resolve %s%s%s%s: %s",
			 opts->host, opts->alias[0] ? " (HostName of " : "",
			 opts->alias, opts->alias[0] ? ")" : "",
			 gai_strerror(rc));
		s->addrs = NULL;
		/* Report from the loop, so the caller sees a uniform path. */
		sess_die(s, msg);
		return s;
	}
	s->addr_cur = s->addrs;
	if (opts->connect_timeout > 0)
		loop_timer_arm(s->connect_timer,
			       (uint64_t)opts->connect_timeout * 1000);
	try_next_addr(s, NULL);
	return s;
}

void ssh_sess_free(struct ssh_sess *s)
{
	if (!s)
		return;
	if (s->state != SESS_DEAD) {
		if (s->state == SESS_READY)
			ssh_chan_dying_all(s, 0);
		s->state = SESS_DEAD;
		drop_connection(s);
		/* Owners are going away too: drop requests silently. */
		while (s->reqs)
			ssh_req_pop(s);
	}
	ssh_chan_lose_all(s);
	if (s->addrs)
		freeaddrinfo(s->addrs);
	loop_timer_free(s->kick_timer);
	loop_timer_free(s->alive_timer);
	loop_timer_free(s->connect_timer);
	ssh_opts_release(&s->opts);
	free(s);
}

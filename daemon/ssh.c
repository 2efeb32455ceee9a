/* ssh.c — a non-blocking libssh2 session on an event loop: connect, host
 * key, authentication, queued channel opens and remote forwards, and the
 * servicing of the channels that ride on the session. */
#include "ssh.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth.h"
#include "hostkey.h"
#include "log.h"
#include "mem.h"
#include "net.h"

enum sess_state {
	SESS_CONNECTING,
	SESS_HANDSHAKE,
	SESS_AUTH,
	SESS_READY,
	SESS_DEAD,
};

static const char *const sess_state_names[] = {
    "connecting", "handshake", "authenticating", "ready", "dead"};

enum req_kind { REQ_DIRECT, REQ_LISTEN, REQ_SFTP };

struct ssh_req {
	long id;
	enum req_kind kind;
	char host[256];
	int port;
	char orig_host[64];
	int orig_port;
	/* The direct-tcpip open's payload (RFC 4254 §7.2): libssh2 sends it
	 * from here, again after EAGAIN, so it lives as long as the request. */
	unsigned char msg[4 + 255 + 4 + 4 + 63 + 4];
	unsigned int msg_len;
	ssh_open_cb open_cb;
	ssh_listen_cb listen_cb;
	ssh_accept_cb accept_cb;
	ssh_sftp_cb sftp_cb;
	void *arg;
	int cancelled;
	struct ssh_req *next;
};

struct ssh_listener {
	LIBSSH2_LISTENER *raw;
	ssh_accept_cb accept_cb;
	void *arg;
	int cancelling;
	struct ssh_listener *next;
};

struct ssh_chan {
	struct ssh_sess *s;
	LIBSSH2_CHANNEL *raw;
	const struct ssh_chan_ops *ops;
	void *arg;
	char name[96];
	int closing;
	int close_sent;	     /* our CLOSE is out: now draining */
	uint64_t closing_ms; /* when it was sent */
	int wants_io; /* its owner will read or write it when serviced */
	enum ssh_op pending_op; /* holds the session's partly sent packet */
	size_t read_retry_len;  /* length of a read that stopped short */
	uint32_t adjust_len;    /* our last window adjust's amount */
	int adjust_pending;     /* libssh2 holds it unsent (EAGAIN) */
	struct ssh_chan *next;
};

struct ssh_sess {
	struct loop *loop;
	struct ssh_opts opts;
	ssh_event_cb cb;
	void *cb_arg;
	char name[512];
	enum sess_state state;
	int fd;
	LIBSSH2_SESSION *raw;
	struct addrinfo *addrs, *addr_cur;
	struct auth *auth;
	/* Who holds libssh2's partly sent packet (see ssh.h), or NULL. */
	const void *owner;
	struct ssh_req *reqs, **reqs_tail;
	long next_id;
	struct ssh_listener *listeners;
	struct ssh_chan *chans;   /* attached */
	struct ssh_chan *closing; /* being closed in the background */
	struct loop_timer *kick_timer, *alive_timer, *connect_timer;
	int in_service;
	int again; /* a channel call stopped short: service once more */
	int io_error; /* a libssh2 call failed at the socket level */
	/* Liveness (ServerAliveInterval): when bytes last came in. */
	uint64_t last_rx_ms;
	int rx_pending_seen;
	unsigned long long rx_bytes, tx_bytes;
	uint64_t started_ms;
	int was_ready;	 /* reached READY once */
	int login_typed; /* auth_typed() of the login */
};

static void sess_service(struct ssh_sess *s);
static void sess_update_events(struct ssh_sess *s);
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

static int is_socket_error(int rc)
{
	return rc == LIBSSH2_ERROR_SOCKET_SEND ||
	       rc == LIBSSH2_ERROR_SOCKET_RECV ||
	       rc == LIBSSH2_ERROR_SOCKET_DISCONNECT ||
	       rc == LIBSSH2_ERROR_SOCKET_TIMEOUT ||
	       rc == LIBSSH2_ERROR_DECRYPT || rc == LIBSSH2_ERROR_INVALID_MAC ||
	       rc == LIBSSH2_ERROR_KEX_FAILURE ||
	       rc == LIBSSH2_ERROR_TIMEOUT;
}

int ssh_gate(struct ssh_sess *s, const void *who)
{
	return s->state == SESS_READY && (!s->owner || s->owner == who);
}

int ssh_ungate(struct ssh_sess *s, const void *who, int rc)
{
	if (rc == LIBSSH2_ERROR_EAGAIN) {
		if (libssh2_session_block_directions(s->raw) &
		    LIBSSH2_SESSION_BLOCK_OUTBOUND)
			s->owner = who;
		else if (s->owner == who)
			s->owner = NULL;
		return rc;
	}
	if (rc == LIBSSH2_ERROR_BAD_USE) {
		/* Another call holds the pending packet: retry later. If
		 * the holder itself is refused, the session can't go on. */
		if (s->owner == who) {
			log_err("sess %s: libssh2 lost its pending packet; "
				"closing the connection",
				s->name);
			s->io_error = 1;
		}
		return LIBSSH2_ERROR_EAGAIN;
	}
	if (s->owner == who)
		s->owner = NULL;
	if (rc < 0 && is_socket_error(rc))
		s->io_error = 1;
	return rc;
}

int ssh_chan_gate(struct ssh_chan *c)
{
	return ssh_gate(c->s, c);
}

int ssh_chan_ungate(struct ssh_chan *c, enum ssh_op op, int rc)
{
	rc = ssh_ungate(c->s, c, rc);
	c->pending_op = c->s->owner == c ? op : SSH_OP_NONE;
	return rc;
}

/* Receive windows. libssh2 1.10 opens direct-tcpip channels with a 2 MiB
 * window and tops it up to that on every read: with the session socket
 * drained into its packet queue on any channel's read, every busy channel
 * then holds up to 2 MiB of decrypted packets, whatever its reader's pace
 * (64 downloads: 150 MiB). Our channels open with a small window and the
 * process shares a budget among the channels attached to all its sessions
 * (the daemon and ftp-tunnel -L spread FTP sessions over several SSH
 * connections, on threads of their own): one transfer still
 * gets 2 MiB (the bandwidth-delay product of a WAN link), many get what
 * the budget allows each. libssh2's own top-up keeps a window near the
 * initial one plus the read length, so the small initial window also
 * bounds what it grants. */
#define WINDOW_OPEN (64 * 1024)
#define WINDOW_MAX (2 * 1024 * 1024)
#define WINDOW_MIN (128 * 1024)
#define WINDOW_BUDGET (16 * 1024 * 1024)

/* Channels attached to any session of the process. */
static atomic_int process_chans;

static unsigned long window_share(void)
{
	int n = atomic_load(&process_chans);
	unsigned long share = WINDOW_BUDGET / (unsigned long)(n > 0 ? n : 1);

	if (share > WINDOW_MAX)
		return WINDOW_MAX;
	return share < WINDOW_MIN ? WINDOW_MIN : share;
}

/* Sends the window adjust of c->adjust_len bytes, or resumes it when
 * libssh2 holds it half sent. A resumed adjust must pass the same
 * amount: libssh2 1.10 resends the packet it built the first time, then
 * adds the amount of the call that completed it to its count of the
 * window. Any other amount sets that count apart from the server's, and
 * libssh2 then cuts the data it takes for more than the window allows (a
 * download short by a megabyte in t_rekey). An adjust is pending from its
 * EAGAIN on, whether or not the socket blocked: during a key re-exchange
 * libssh2 returns EAGAIN before the packet is even encrypted, and the
 * session's partly-sent-packet owner (ssh_gate) never hears of it. */
static int adjust_again(struct ssh_chan *c)
{
	int rc = libssh2_channel_receive_window_adjust2(c->raw, c->adjust_len,
							1, NULL);

	c->adjust_pending = rc == LIBSSH2_ERROR_EAGAIN;
	return rc;
}

/* Tops the channel's receive window up to its share once half of it is
 * used, as OpenSSH does, or repeats an adjust libssh2 holds half sent. 0,
 * EAGAIN, or a libssh2 error. Only when no other call holds a partly sent
 * packet: libssh2 sends the adjust at once. */
static int widen_window(struct ssh_chan *c)
{
	unsigned long win, share;

	if (c->adjust_pending)
		return ssh_chan_ungate(c, SSH_OP_ADJUST, adjust_again(c));
	if (c->s->owner)
		return 0;
	win = libssh2_channel_window_read_ex(c->raw, NULL, NULL);
	share = window_share();
	if (win >= share / 2)
		return 0;
	c->adjust_len = (uint32_t)(share - win);
	return ssh_chan_ungate(c, SSH_OP_ADJUST, adjust_again(c));
}

/* Finishes an adjust libssh2 holds half sent before the channel's next
 * call: EAGAIN while it is still pending. */
static int finish_adjust(struct ssh_chan *c)
{
	int rc;

	if (!c->adjust_pending)
		return 0;
	rc = widen_window(c);
	return rc == LIBSSH2_ERROR_EAGAIN ? rc : 0;
}

ssize_t ssh_chan_read(struct ssh_chan *c, char *buf, size_t len)
{
	ssize_t n;

	if (!ssh_chan_gate(c) || finish_adjust(c) == LIBSSH2_ERROR_EAGAIN)
		return LIBSSH2_ERROR_EAGAIN;
	/* libssh2 1.10 sends the window adjust before reading, sized from
	 * len; when that send stops short it resumes the same packet on the
	 * next read but credits the window with the amount computed from
	 * that read's len. A different len would leave libssh2's window
	 * count apart from the server's: too low, and libssh2 drops data
	 * ("window exceeded"); too high, and it never adjusts again (a
	 * stall). So a read that stopped short is repeated with the same
	 * len (the caller's room only grows meanwhile). */
	if (c->read_retry_len && len > c->read_retry_len)
		len = c->read_retry_len;
	n = ssh_chan_ungate(c, SSH_OP_READ,
			    (int)libssh2_channel_read(c->raw, buf, len));
	c->read_retry_len = n == LIBSSH2_ERROR_EAGAIN ? len : 0;
	if (n >= 0 || n == LIBSSH2_ERROR_EAGAIN) {
		int rc = widen_window(c);

		if (rc < 0 && rc != LIBSSH2_ERROR_EAGAIN && n <= 0)
			n = rc;
	}
	if (n == 0 && !libssh2_channel_eof(c->raw)) {
		/* The transport read ended on a key re-exchange: not the
		 * end of the data. */
		c->s->again = 1;
		return LIBSSH2_ERROR_EAGAIN;
	}
	return n;
}

ssize_t ssh_chan_write(struct ssh_chan *c, const char *buf, size_t len)
{
	ssize_t n;

	if (!ssh_chan_gate(c) || finish_adjust(c) == LIBSSH2_ERROR_EAGAIN)
		return LIBSSH2_ERROR_EAGAIN;
	n = ssh_chan_ungate(c, SSH_OP_WRITE,
			    (int)libssh2_channel_write(c->raw, buf, len));
	if (n == 0) {
		/* No window, or the transport read ended on a key
		 * re-exchange: a window adjust may already be in. */
		if (libssh2_channel_window_write(c->raw) > 0)
			c->s->again = 1;
		return LIBSSH2_ERROR_EAGAIN;
	}
	return n;
}

int ssh_chan_send_eof(struct ssh_chan *c)
{
	if (!ssh_chan_gate(c) || finish_adjust(c) == LIBSSH2_ERROR_EAGAIN)
		return LIBSSH2_ERROR_EAGAIN;
	return ssh_chan_ungate(c, SSH_OP_EOF, libssh2_channel_send_eof(c->raw));
}

/* Repeats the call a closed channel left half done (see ssh.h). The data
 * is already encrypted in libssh2's buffer: only the call is needed. */
static int resume_pending(struct ssh_chan *c)
{
	char scratch[1024] = {0};
	int rc = 0;

	switch (c->pending_op) {
	case SSH_OP_READ:
		rc = (int)libssh2_channel_read(c->raw, scratch,
					       sizeof(scratch));
		break;
	case SSH_OP_WRITE:
		rc = (int)libssh2_channel_write(c->raw, scratch, 1);
		break;
	case SSH_OP_EOF:
		rc = libssh2_channel_send_eof(c->raw);
		break;
	case SSH_OP_ADJUST:
		rc = adjust_again(c);
		break;
	case SSH_OP_NONE:
		return 0;
	}
	rc = ssh_chan_ungate(c, c->pending_op, rc);
	return rc == LIBSSH2_ERROR_EAGAIN ? rc : 0;
}

/* libssh2 reads through this, so every read of the SSH socket re-arms
 * TCP_QUICKACK (Linux clears it) and counts liveness: without QUICKACK,
 * delayed ACKs cost tens of milliseconds per channel (TESTBED.md). */
static ssize_t sess_recv(libssh2_socket_t fd, void *buf, size_t len,
			 int flags, void **abstract)
{
	struct ssh_sess *s = *abstract;
	ssize_t n = recv(fd, buf, len, flags);
	int one = 1;

	if (n < 0)
		return -errno;
	if (n > 0) {
		s->rx_bytes += (unsigned long long)n;
		s->last_rx_ms = loop_now_ms(s->loop);
		s->rx_pending_seen = 0;
		setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
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
	return n;
}

/* --- lifecycle -------------------------------------------------------- */

static void free_chan_list(struct ssh_chan *c)
{
	while (c) {
		struct ssh_chan *next = c->next;
		free(c);
		c = next;
	}
}

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
	free_chan_list(s->closing);
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
	s->owner = NULL;
	loop_timer_disarm(s->alive_timer);
	loop_timer_disarm(s->connect_timer);
	loop_timer_disarm(s->kick_timer);
}

/* Fails every queued request; their owners learn through their callbacks. */
static void fail_requests(struct ssh_sess *s, const char *why)
{
	while (s->reqs) {
		struct ssh_req *r = s->reqs;

		s->reqs = r->next;
		if (!r->cancelled) {
			if (r->kind == REQ_DIRECT)
				r->open_cb(s, NULL, why, r->arg);
			else if (r->kind == REQ_SFTP)
				r->sftp_cb(s, NULL, why, r->arg);
			else
				r->listen_cb(s, NULL, 0, why, r->arg);
		}
		free(r);
	}
	s->reqs_tail = &s->reqs;
}

/* Every channel's owner learns that the connection is gone (and frees
 * what it holds), so no socket waits on a channel that will never move
 * again. Call once the session is dead. */
static void lose_channels(struct ssh_sess *s)
{
	while (s->chans) {
		struct ssh_chan *c = s->chans;

		if (c->ops && c->ops->lost) {
			c->ops->lost(c, c->arg); /* calls ssh_chan_close(c) */
		} else {
			s->chans = c->next;
			atomic_fetch_sub(&process_chans, 1);
			free(c);
		}
	}
}

/* The session is about to be freed: channel owners free what libssh2
 * keeps for their channels (ssh.h). */
static void chans_dying(struct ssh_sess *s, int lost)
{
	struct ssh_chan *c;

	for (c = s->chans; c; c = c->next)
		if (c->ops && c->ops->dying)
			c->ops->dying(c, lost, c->arg);
}

static void sess_die(struct ssh_sess *s, const char *msg)
{
	enum sess_state was = s->state;
	char copy[1024];

	if (was == SESS_DEAD)
		return;
	snprintf(copy, sizeof(copy), "%s", msg);
	log_debug("sess %s: %s -> dead (%s)", s->name,
		  sess_state_names[was], copy);
	if (was == SESS_READY)
		chans_dying(s, 1);
	s->state = SESS_DEAD;
	drop_connection(s);
	fail_requests(s, copy);
	lose_channels(s);
	s->cb(s, was == SESS_READY ? SSH_EV_CLOSED : SSH_EV_FAILED, copy,
	      s->cb_arg);
}

int ssh_sess_dead(const struct ssh_sess *s)
{
	return s->state == SESS_DEAD;
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
	if (log_get_level() >= LOG_LVL_TRACE) {
		/* Only a libssh2 built with debugging traces anything; the
		 * socket-level trace (every packet) is left out. */
		libssh2_trace_sethandler(s->raw, s, libssh2_trace_cb);
		libssh2_trace(s->raw, LIBSSH2_TRACE_TRANS | LIBSSH2_TRACE_KEX |
					  LIBSSH2_TRACE_AUTH |
					  LIBSSH2_TRACE_CONN |
					  LIBSSH2_TRACE_PUBLICKEY |
					  LIBSSH2_TRACE_ERROR);
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
	int err = 0;
	socklen_t len = sizeof(err);

	getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
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

/* --- requests: channel opens and remote forwards, one at a time -------- */

static struct ssh_req *new_req(struct ssh_sess *s, enum req_kind kind,
			       const char *host, int port, void *arg)
{
	struct ssh_req *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->id = ++s->next_id;
	r->kind = kind;
	snprintf(r->host, sizeof(r->host), "%s", host);
	r->port = port;
	r->arg = arg;
	*s->reqs_tail = r;
	s->reqs_tail = &r->next;
	return r;
}

int ssh_sess_room(const struct ssh_sess *s)
{
	const struct ssh_chan *c;
	const struct ssh_req *r;
	int n = 0;

	if (s->opts.max_channels <= 0)
		return INT_MAX;
	for (c = s->chans; c; c = c->next)
		n++;
	for (c = s->closing; c; c = c->next)
		n++;
	for (r = s->reqs; r; r = r->next)
		n += r->kind == REQ_DIRECT || r->kind == REQ_SFTP;
	return n < s->opts.max_channels ? s->opts.max_channels - n : 0;
}

static unsigned char *put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
	return p + 4;
}

static unsigned char *put_str(unsigned char *p, const char *str)
{
	size_t n = strlen(str);

	p = put_u32(p, (uint32_t)n);
	memcpy(p, str, n);
	return p + n;
}

/* Fills r->msg: host and port to connect to, originator address and port
 * (RFC 4254 §7.2). Returns its length. host and orig_host are bounded by
 * their arrays, so it fits. */
static unsigned int direct_msg(struct ssh_req *r)
{
	unsigned char *p = r->msg;

	p = put_str(p, r->host);
	p = put_u32(p, (uint32_t)r->port);
	p = put_str(p, r->orig_host);
	p = put_u32(p, (uint32_t)r->orig_port);
	return (unsigned int)(p - r->msg);
}

long ssh_open_direct(struct ssh_sess *s, const char *host, int port,
		     const char *orig_host, int orig_port, ssh_open_cb cb,
		     void *arg)
{
	struct ssh_req *r;

	if (s->state == SESS_DEAD)
		return -ENOTCONN;
	if (ssh_sess_room(s) == 0) {
		log_warn("sess %s: %d channels open, the most MaxChannels "
			 "allows: a new one is refused",
			 s->name, s->opts.max_channels);
		return -EMFILE;
	}
	r = new_req(s, REQ_DIRECT, host, port, arg);
	if (!r)
		return -ENOMEM;
	snprintf(r->orig_host, sizeof(r->orig_host), "%s",
		 orig_host ? orig_host : "127.0.0.1");
	r->orig_port = orig_port;
	r->msg_len = direct_msg(r);
	r->open_cb = cb;
	ssh_sess_kick(s);
	return r->id;
}

long ssh_listen(struct ssh_sess *s, const char *host, int port,
		ssh_listen_cb lcb, ssh_accept_cb acb, void *arg)
{
	struct ssh_req *r;

	if (s->state == SESS_DEAD)
		return -ENOTCONN;
	r = new_req(s, REQ_LISTEN, host, port, arg);
	if (!r)
		return -ENOMEM;
	r->listen_cb = lcb;
	r->accept_cb = acb;
	ssh_sess_kick(s);
	return r->id;
}

long ssh_open_sftp(struct ssh_sess *s, ssh_sftp_cb cb, void *arg)
{
	struct ssh_req *r;

	if (s->state == SESS_DEAD)
		return -ENOTCONN;
	if (ssh_sess_room(s) == 0)
		return -EMFILE;
	r = new_req(s, REQ_SFTP, "sftp", 0, arg);
	if (!r)
		return -ENOMEM;
	r->sftp_cb = cb;
	ssh_sess_kick(s);
	return r->id;
}

void ssh_open_cancel(struct ssh_sess *s, long id)
{
	struct ssh_req *r;

	for (r = s->reqs; r; r = r->next)
		if (r->id == id)
			r->cancelled = 1;
}

static void pop_req(struct ssh_sess *s)
{
	struct ssh_req *r = s->reqs;

	s->reqs = r->next;
	if (!s->reqs)
		s->reqs_tail = &s->reqs;
	free(r);
}

void ssh_chan_discard(struct ssh_sess *s, LIBSSH2_CHANNEL *raw)
{
	struct ssh_chan *c = calloc(1, sizeof(*c));

	if (!c) {
		return; /* freed with the session */
	}
	c->s = s;
	c->raw = raw;
	c->closing = 1;
	snprintf(c->name, sizeof(c->name), "(cancelled)");
	c->next = s->closing;
	s->closing = c;
}

static int service_requests(struct ssh_sess *s)
{
	int progress = 0;

	while (s->reqs && ssh_gate(s, s->reqs)) {
		struct ssh_req *r = s->reqs;
		char msg[1400];

		if (r->kind == REQ_SFTP) {
			/* libssh2_sftp_init opens a "session" channel and
			 * keeps its resume state in the session, as channel
			 * opens do: it waits its turn in the same queue. */
			LIBSSH2_SFTP *sftp = libssh2_sftp_init(s->raw);
			int rc = sftp ? 0 : libssh2_session_last_errno(s->raw);

			if (ssh_ungate(s, r, rc) == LIBSSH2_ERROR_EAGAIN)
				break;
			progress = 1;
			if (sftp && r->cancelled) {
				/* Closing the channel frees the SFTP state
				 * too (libssh2's close callback). */
				ssh_chan_discard(
				    s, libssh2_sftp_get_channel(sftp));
			} else if (!r->cancelled) {
				if (!sftp)
					snprintf(msg, sizeof(msg),
						 "%s refused the sftp "
						 "subsystem: %s",
						 s->name, ssh_last_error(s));
				r->sftp_cb(s, sftp, sftp ? NULL : msg, r->arg);
			}
		} else if (r->kind == REQ_DIRECT) {
			LIBSSH2_CHANNEL *ch = libssh2_channel_open_ex(
			    s->raw, "direct-tcpip", sizeof("direct-tcpip") - 1,
			    WINDOW_OPEN, LIBSSH2_CHANNEL_PACKET_DEFAULT,
			    (const char *)r->msg, r->msg_len);
			int rc = ch ? 0 : libssh2_session_last_errno(s->raw);

			if (ssh_ungate(s, r, rc) == LIBSSH2_ERROR_EAGAIN)
				break;
			progress = 1;
			if (ch && r->cancelled) {
				ssh_chan_discard(s, ch);
			} else if (!r->cancelled) {
				if (!ch)
					snprintf(msg, sizeof(msg),
						 "%s refused to open a "
						 "channel to %s port %d: %s",
						 s->name, r->host, r->port,
						 ssh_last_error(s));
				r->open_cb(s, ch, ch ? NULL : msg, r->arg);
			}
		} else {
			int bound = 0;
			LIBSSH2_LISTENER *l = libssh2_channel_forward_listen_ex(
			    s->raw, r->host, r->port, &bound, 16);
			int rc = l ? 0 : libssh2_session_last_errno(s->raw);

			if (ssh_ungate(s, r, rc) == LIBSSH2_ERROR_EAGAIN)
				break;
			progress = 1;
			if (l) {
				struct ssh_listener *sl =
				    calloc(1, sizeof(*sl));

				if (sl) {
					sl->raw = l;
					sl->accept_cb = r->accept_cb;
					sl->arg = r->arg;
					sl->next = s->listeners;
					s->listeners = sl;
				}
				if (r->cancelled && sl)
					sl->cancelling = 1;
			}
			if (!r->cancelled) {
				if (!l)
					snprintf(msg, sizeof(msg),
						 "%s refused the remote "
						 "forward of %s port %d: %s",
						 s->name, r->host, r->port,
						 ssh_last_error(s));
				r->listen_cb(s, l, bound, l ? NULL : msg,
					     r->arg);
			}
		}
		pop_req(s);
	}
	return progress;
}

void ssh_unlisten(struct ssh_sess *s, LIBSSH2_LISTENER *l)
{
	struct ssh_listener *sl;

	for (sl = s->listeners; sl; sl = sl->next)
		if (sl->raw == l)
			sl->cancelling = 1;
	ssh_sess_kick(s);
}

static int service_listeners(struct ssh_sess *s)
{
	struct ssh_listener **pp = &s->listeners;
	int progress = 0;

	while (*pp) {
		struct ssh_listener *l = *pp;
		int rc;

		/* Not break: the holder of the pending packet may be a
		 * listener further down the list, and only it can go on. */
		if (!ssh_gate(s, l)) {
			pp = &l->next;
			continue;
		}
		if (l->cancelling) {
			rc = ssh_ungate(s, l,
					libssh2_channel_forward_cancel(l->raw));
			if (rc == LIBSSH2_ERROR_EAGAIN) {
				pp = &l->next;
				continue;
			}
			*pp = l->next;
			free(l);
			progress = 1;
			continue;
		}
		for (;;) {
			LIBSSH2_CHANNEL *ch =
			    libssh2_channel_forward_accept(l->raw);

			rc = ch ? 0 : libssh2_session_last_errno(s->raw);
			rc = ssh_ungate(s, l, rc);
			if (!ch)
				break;
			progress = 1;
			l->accept_cb(s, ch, l->arg);
		}
		pp = &l->next;
	}
	return progress;
}

int ssh_sess_accept_queued(struct ssh_sess *s)
{
	if (s->state != SESS_READY || !s->in_service)
		return 0;
	return service_listeners(s);
}

/* --- channels --------------------------------------------------------- */

struct ssh_chan *ssh_chan_attach(struct ssh_sess *s, LIBSSH2_CHANNEL *raw,
				 const struct ssh_chan_ops *ops, void *arg,
				 const char *name)
{
	struct ssh_chan *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->s = s;
	c->raw = raw;
	c->ops = ops;
	c->arg = arg;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->next = s->chans;
	s->chans = c;
	atomic_fetch_add(&process_chans, 1);
	ssh_sess_kick(s);
	return c;
}

void ssh_chan_close(struct ssh_chan *c)
{
	struct ssh_sess *s = c->s;
	struct ssh_chan **pp;

	for (pp = &s->chans; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			atomic_fetch_sub(&process_chans, 1);
			break;
		}
	}
	c->closing = 1;
	c->ops = NULL;
	if (s->state != SESS_READY) {
		free(c); /* libssh2_session_free frees the channel */
		return;
	}
	c->next = s->closing;
	s->closing = c;
	ssh_sess_kick(s);
}

void ssh_chan_detach(struct ssh_chan *c)
{
	struct ssh_sess *s = c->s;
	struct ssh_chan **pp;

	for (pp = &s->chans; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			atomic_fetch_sub(&process_chans, 1);
			break;
		}
	}
	if (s->owner == c)
		s->owner = NULL;
	free(c);
	if (!s->chans && !s->closing)
		mem_trim();
}

void ssh_chan_set_wants(struct ssh_chan *c, int wants_io)
{
	if (c->wants_io != wants_io) {
		c->wants_io = wants_io;
		if (!c->s->in_service)
			sess_update_events(c->s);
	}
}

LIBSSH2_CHANNEL *ssh_chan_raw(struct ssh_chan *c)
{
	return c->raw;
}

struct ssh_sess *ssh_chan_sess(struct ssh_chan *c)
{
	return c->s;
}

const char *ssh_chan_name(const struct ssh_chan *c)
{
	return c->name;
}

/* How long a closed channel is drained at most, for a peer that never
 * answers our CLOSE. */
#define CLOSE_DRAIN_MS 10000

/* After our CLOSE, reads and drops what the peer still sends on the
 * channel until its EOF or CLOSE: libssh2 1.10's close returns after the
 * first packet it reads, and data still in flight for a freed channel
 * would sit in the socket with nothing left to read it (the last channel
 * of a session, its client gone mid-transfer): the server then stalls on
 * a full socket, keepalive replies stop behind the data, and a healthy
 * session dies as "not responding". 0 when done, else EAGAIN. */
static int drain_closed(struct ssh_sess *s, struct ssh_chan *c)
{
	char sink[16384];
	ssize_t n;

	while (libssh2_channel_eof(c->raw) != 1) {
		if (loop_now_ms(s->loop) - c->closing_ms > CLOSE_DRAIN_MS ||
		    !ssh_gate(s, c))
			return loop_now_ms(s->loop) - c->closing_ms >
				       CLOSE_DRAIN_MS
				   ? 0
				   : LIBSSH2_ERROR_EAGAIN;
		n = ssh_ungate(s, c,
			       (int)libssh2_channel_read(c->raw, sink,
							 sizeof(sink)));
		if (n == LIBSSH2_ERROR_EAGAIN || n == 0)
			return LIBSSH2_ERROR_EAGAIN; /* more when it comes */
		if (n < 0)
			return 0; /* broken: free it */
	}
	return 0;
}

static int service_closing(struct ssh_sess *s)
{
	struct ssh_chan **pp = &s->closing;
	int progress = 0;

	while (*pp) {
		struct ssh_chan *c = *pp;
		int rc;

		if (!ssh_gate(s, c) || resume_pending(c) < 0) {
			pp = &c->next;
			continue;
		}
		if (!c->close_sent) {
			rc = ssh_ungate(s, c, libssh2_channel_close(c->raw));
			if (rc == LIBSSH2_ERROR_EAGAIN) {
				pp = &c->next;
				continue;
			}
			c->close_sent = 1; /* (or it failed: free it) */
			c->closing_ms = loop_now_ms(s->loop);
			progress = 1;
		}
		if (drain_closed(s, c) == LIBSSH2_ERROR_EAGAIN ||
		    !ssh_gate(s, c)) {
			pp = &c->next;
			continue;
		}
		rc = ssh_ungate(s, c, libssh2_channel_free(c->raw));
		if (rc == LIBSSH2_ERROR_EAGAIN) {
			pp = &c->next;
			continue;
		}
		log_trace("chan %s: freed", c->name);
		*pp = c->next;
		free(c);
		progress = 1;
	}
	/* The last channel is gone: what libssh2's packet queue and the
	 * pumps took at the peak goes back to the system, not only the top
	 * of the heap (idle RSS). */
	if (progress && !s->chans && !s->closing)
		mem_trim();
	return progress;
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
		unsigned long win = libssh2_channel_window_read_ex(
		    c->raw, &avail, &initial);

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
		progress |= service_requests(s);
		progress |= service_listeners(s);
		for (c = s->chans; c; c = next) {
			next = c->next; /* service may close c, and only c */
			if (c->closing)
				break;
			progress |= c->ops->service(c, c->arg);
			if (s->state != SESS_READY)
				return;
		}
		progress |= service_closing(s);
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

static void sess_service(struct ssh_sess *s)
{
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
		if (s->io_error) {
			char msg[1400];

			snprintf(msg, sizeof(msg),
				 "connection to %s lost: %s", s->name,
				 ssh_last_error(s));
			sess_die(s, msg);
		}
		break;
	default:
		break;
	}
	s->in_service = 0;
	sess_update_events(s);
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

static void sess_update_events(struct ssh_sess *s)
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

		snprintf(msg, sizeof(msg), "connection to %s closed by the "
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
	sess_update_events(s);
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
			chans_dying(s, 0);
		s->state = SESS_DEAD;
		drop_connection(s);
		/* Owners are going away too: drop requests silently. */
		while (s->reqs)
			pop_req(s);
	}
	lose_channels(s);
	if (s->addrs)
		freeaddrinfo(s->addrs);
	loop_timer_free(s->kick_timer);
	loop_timer_free(s->alive_timer);
	loop_timer_free(s->connect_timer);
	ssh_opts_release(&s->opts);
	free(s);
}

/* ssh_int.h — what the SSH session's modules share (ssh.c the session,
 * ssh_gate.c the libssh2 gate, ssh_chan.c channel I/O and receive windows,
 * ssh_req.c the request queue): the session's internals. Only daemon/ssh's
 * ssh*.c include it; everyone else uses ssh.h. */
#ifndef SSH_INT_H
#define SSH_INT_H

#include <netdb.h>
#include <stdint.h>

#include "ssh.h"

enum sess_state {
	SESS_CONNECTING,
	SESS_HANDSHAKE,
	SESS_AUTH,
	SESS_READY,
	SESS_DEAD,
};

enum req_kind { REQ_DIRECT, REQ_LISTEN, REQ_SFTP, REQ_SUBSYS };

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
	/* libssh2 holds this request's state from its first call on: only
	 * a request not started yet can leave the queue early. */
	int started;
	uint64_t started_ms; /* when the open was first sent */
	/* REQ_SUBSYS: the session channel, once open, while the subsystem
	 * request (host names it) is under way. */
	LIBSSH2_CHANNEL *subsys_ch;
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
	int wants_io;	     /* its owner will read or write it when serviced */
	enum ssh_op pending_op; /* holds the session's partly sent packet */
	size_t read_retry_len;	/* length of a read that stopped short */
	uint32_t adjust_len;	/* our last window adjust's amount */
	int adjust_pending;	/* libssh2 holds it unsent (EAGAIN) */
	/* The receive window it keeps, and what came in since the round
	 * trip being measured began (ssh_chan.c: window_target). */
	unsigned long win_target;
	uint64_t rtt_start_ms;
	unsigned long rtt_bytes;
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
	struct ssh_chan *chans;	  /* attached */
	struct ssh_chan *closing; /* being closed in the background */
	struct loop_timer *kick_timer, *alive_timer, *connect_timer;
	int in_service;
	int again;    /* a channel call stopped short: service once more */
	int io_error; /* a libssh2 call failed at the socket level */
	/* Liveness (ServerAliveInterval): when bytes last came in. */
	uint64_t last_rx_ms;
	int rx_pending_seen;
	int quickack_owed; /* full reads since TCP_QUICKACK was re-armed */
	unsigned long long rx_bytes, tx_bytes;
	/* Through a jump host (ssh.c, poke_jump_host): rx_bytes when we
	 * last sent anything but a poke, the pokes since, and whether one
	 * is being sent. */
	unsigned long long rx_at_send;
	int pokes, poking;
	uint64_t started_ms;
	/* The shortest round trip seen: a channel open's, from the request
	 * to the server's answer (0: none yet). The receive windows size
	 * themselves by it (ssh_chan.c). */
	uint64_t rtt_ms;
	int rtt_known;
	struct transport *tr; /* ProxyJump/ProxyCommand, or NULL */
	char why[1024];	      /* why it died, "" while alive */
	int was_ready;	      /* reached READY once */
	int login_typed;      /* auth_typed() of the login */
};

/* The receive window a channel opens with: small, so that libssh2's own
 * top-ups stay small too; ssh_chan.c's window budget says why. */
#define WINDOW_OPEN (64 * 1024)

/* ssh.c: recomputes the session socket's epoll interest. */
void ssh_sess_update_events(struct ssh_sess *s);

/* ssh_chan.c: closes, drains and frees the channels on s->closing as far
 * as the gate lets them go. Nonzero if any moved. */
int ssh_chan_service_closing(struct ssh_sess *s);
/* ssh_chan.c: every attached channel's owner with a dying() hook frees
 * what libssh2 keeps for it beyond the channel (SFTP handles); call
 * before libssh2's session is freed, lost when the connection is gone
 * (0: ssh_sess_free closes a session the server still answers). */
void ssh_chan_dying_all(struct ssh_sess *s, int lost);
/* ssh_chan.c: every attached channel's owner hears the connection is
 * gone (ops->lost); call once the session is dead or being freed. */
void ssh_chan_lose_all(struct ssh_sess *s);
/* ssh_chan.c: one byte more of receive window on the first channel that
 * can take it, sent now: a no-op message to the server (ssh.c's
 * poke_jump_host says why). */
void ssh_chan_poke(struct ssh_sess *s);
/* ssh_chan.c: frees a list of channel records (not their libssh2
 * channels: libssh2_session_free does that). */
void ssh_chan_free_list(struct ssh_chan *c);

/* ssh_req.c: starts or resumes the queued channel opens, sftp subsystem
 * starts and remote forwards, one at a time. Nonzero if any finished. */
int ssh_req_service(struct ssh_sess *s);
/* ssh_req.c: accepts on and cancels the remote-forward listeners. Nonzero
 * if any moved. */
int ssh_req_service_listeners(struct ssh_sess *s);
/* ssh_req.c: fails every queued request through its callback with why. */
void ssh_req_fail_all(struct ssh_sess *s, const char *why);
/* ssh_req.c: frees the request at the head of the queue, silently. */
void ssh_req_pop(struct ssh_sess *s);

#endif

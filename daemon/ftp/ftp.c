/* ftp.c — the FTP control-channel rewriter: finds data-channel addresses in
 * replies (227/229) and commands (PORT/EPRT) and swaps in the tunnel's. This
 * is its state machine and its output; ftp_parse.c recognises the syntaxes. */
#include "ftp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "ftp_parse.h"

/* The tail of each output buffer kept free for the final 421. */
#define OUT_RESERVE 512
#define OUT_SOFT (FTP_OUT_MAX - OUT_RESERVE)
/* Longest line written in answer to a request (425 with its reason). */
#define ANSWER_MAX 320
/* Room a line needs in the output it may go to before it is taken: the
 * line itself plus the answer to a request it may raise. */
#define LINE_ROOM (FTP_LINE_MAX + ANSWER_MAX)
/* Commands sent and not yet answered; more stops reading the client. */
#define FIFO_MAX 64
/* A multi-line 227/229 reply collected before it is replaced. */
#define BLOCK_MAX (2 * FTP_LINE_MAX)
#define LOCAL_MAX 256
#define WHY_MAX 160

enum cmd_kind {
	CMD_OTHER,
	CMD_PASV,
	CMD_EPSV,
	CMD_FEAT,
	CMD_AUTH,
	CMD_CONV,  /* PASV/EPSV sent by us in place of the client's PORT */
	CMD_LOCAL, /* answered here: text goes out when its turn comes */
	CMD_AHEAD, /* PASV/EPSV sent ahead by us: its reply is kept */
	CMD_CLAIM, /* the client's PASV/EPSV/converted PORT, answered from
		      the PASV sent ahead in its turn (claim says which) */
};

struct cmd {
	enum cmd_kind kind;
	enum cmd_kind claim; /* CMD_CLAIM: CMD_PASV, CMD_EPSV or CMD_CONV */
	int data_cmd;	     /* a transfer command (RETR, STOR, LIST...) */
	int epsv; /* CMD_CONV, CMD_AHEAD, CMD_CLAIM: EPSV sent (or due) */
	int eprt; /* CMD_CONV: the client used EPRT */
	struct sockaddr_storage client_ep; /* CMD_CONV: the client's listener */
	char text[LOCAL_MAX]; /* CMD_LOCAL: the reply, CRLF ended */
};

/* The line held back while a request is pending. */
enum held {
	HELD_NONE,
	HELD_PASV,   /* the server's 227 to the client's PASV */
	HELD_EPSV,   /* the server's 229 to the client's EPSV */
	HELD_ACTIVE, /* the client's PORT/EPRT (forward mode) */
	HELD_CONV,   /* the 200 the client gets for a converted PORT/EPRT */
};

/* Where the rewriter is in the conversation. Changed only by set_state(),
 * which refuses a transition not listed in state_next[] (the session then
 * ends, as on any internal error). Whether the server's greeting has come
 * is kept apart (greeted): a multi-line greeting is RW_MULTI too. */
enum rw_state {
	RW_LINES,   /* each line taken as a command or a reply of its own */
	RW_MULTI,   /* a server's multi-line reply, passed line by line */
	RW_COLLECT, /* a multi-line 227/229, collected to be replaced */
	RW_OPAQUE,  /* AUTH accepted: the rest is TLS, passed unread */
	RW_FAILED,  /* the closing 421 is queued: nothing more is taken */
};

/* The PASV sent ahead (ftp_rw_config.passive_ahead). */
enum ahead {
	AHEAD_NONE,  /* none, or dropped (its reply is still swallowed) */
	AHEAD_SENT,  /* sent, its reply not here yet */
	AHEAD_READY, /* the server's data address is in ahead_target */
};

static const char *const rw_state_names[] = {"lines", "multi", "collect",
					     "opaque", "failed"};

/* The states each state may go to (bit per state); any may fail. */
#define RW_BIT(st) (1u << (st))
static const unsigned state_next[] = {
    [RW_LINES] = RW_BIT(RW_MULTI) | RW_BIT(RW_COLLECT) | RW_BIT(RW_OPAQUE),
    [RW_MULTI] = RW_BIT(RW_LINES),
    [RW_COLLECT] = RW_BIT(RW_LINES),
    [RW_OPAQUE] = 0,
    [RW_FAILED] = 0,
};

struct obuf {
	size_t off, len;
	uint8_t data[FTP_OUT_MAX];
};

struct lbuf {
	size_t len;
	uint8_t data[FTP_LINE_MAX];
};

struct ftp_rw {
	struct ftp_rw_config cfg;
	struct ftp_req req;
	enum held held;
	int held_eprt;
	enum rw_state state;
	int greeted;		 /* the server's greeting has been seen */
	int epsv_all;		 /* the client sent EPSV ALL (RFC 2428 §4) */
	unsigned long downloads; /* RETR, LIST, NLST, MLSD passed on */
	int not_stream;		 /* the client asked for a MODE other than S */
	/* RW_MULTI: the FEAT reply's AUTH, PBSZ and PROT lines are dropped. */
	int feat_filter;
	/* RW_MULTI: the multi-line refusal in progress is swallowed
	 * (active_fallback): the client gets the forwarded PORT's reply. */
	int multi_drop;
	int fell_back; /* active mode fell back to FORWARD */
	/* PASV sent ahead: its state; whether a CMD_CLAIM waits for it;
	 * the verb the server last took for a passive data connection (0:
	 * none, or the last one was PORT/EPRT); its reply's address. */
	enum ahead ahead;
	int ahead_due; /* the client's next command may take one along */
	int ahead_claimed;
	int ahead_verb;
	struct sockaddr_storage ahead_target;
	/* RW_MULTI: the multi-line reply to a PASV sent ahead, swallowed. */
	int multi_ahead;
	unsigned long ahead_used;
	/* The reply in progress answers the oldest command; 0 when nothing
	 * was outstanding as it began (a later command is not its). */
	int multi_answers;
	uint8_t multi_code[3];
	struct cmd fifo[FIFO_MAX];
	size_t fifo_head, fifo_len;
	struct lbuf line[2];
	uint8_t clean[FTP_LINE_MAX];
	size_t block_len;
	uint8_t block[BLOCK_MAX];
	struct obuf out[2];
};

/* --- output --------------------------------------------------------- */

static size_t ob_room(const struct obuf *b)
{
	return b->len < OUT_SOFT ? OUT_SOFT - b->len : 0;
}

/* Appends up to the hard size; callers check ob_room() first, so only the
 * final 421 ever reaches into the reserve. */
static void ob_put(struct obuf *b, const void *p, size_t n)
{
	if (n > sizeof(b->data) - b->len)
		n = sizeof(b->data) - b->len;
	if (b->off + b->len + n > sizeof(b->data)) {
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
	}
	memcpy(b->data + b->off + b->len, p, n);
	b->len += n;
}

static int set_state(struct ftp_rw *rw, enum rw_state st);

static ssize_t fatal(struct ftp_rw *rw, const char *reason)
{
	char msg[OUT_RESERVE];
	int n;

	if (rw->state == RW_FAILED)
		return FTP_RW_FATAL;
	set_state(rw, RW_FAILED);
	rw->req.kind = FTP_REQ_NONE;
	rw->held = HELD_NONE;
	n = snprintf(msg, sizeof(msg),
		     "421 ftp-tunnel closed the session: %s.\r\n", reason);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	ob_put(&rw->out[FTP_CLIENT], msg, (size_t)n);
	return FTP_RW_FATAL;
}

/* The one place rw->state changes. A transition state_next[] does not list
 * is a bug here: the session ends with a 421 naming it rather than go on
 * in a state nobody planned for. Returns 0, or -1 once the session ended. */
static int set_state(struct ftp_rw *rw, enum rw_state st)
{
	char why[80];

	if (rw->state == RW_FAILED)
		return -1;
	if (st == RW_FAILED || (state_next[rw->state] & RW_BIT(st))) {
		rw->state = st;
		return st == RW_FAILED ? -1 : 0;
	}
	snprintf(why, sizeof(why), "internal error: rewriter state %s -> %s",
		 rw_state_names[rw->state], rw_state_names[st]);
	return (int)fatal(rw, why);
}

/* Queues n bytes for side `to`; running out of room here is a bug in the
 * room checks, and it ends the session rather than drop bytes. */
static int emit(struct ftp_rw *rw, enum ftp_side to, const void *p, size_t n)
{
	if (ob_room(&rw->out[to]) < n)
		return (int)fatal(rw, "internal error: output overflow");
	ob_put(&rw->out[to], p, n);
	return 0;
}

static int emit_str(struct ftp_rw *rw, enum ftp_side to, const char *s)
{
	return emit(rw, to, s, strlen(s));
}

/* --- the command FIFO ----------------------------------------------- */

static struct cmd *fifo_front(struct ftp_rw *rw)
{
	return rw->fifo_len ? &rw->fifo[rw->fifo_head] : NULL;
}

/* Callers check fifo_len < FIFO_MAX before taking the line that pushes. */
static struct cmd *fifo_push(struct ftp_rw *rw, enum cmd_kind kind)
{
	struct cmd *c;

	c = &rw->fifo[(rw->fifo_head + rw->fifo_len) % FIFO_MAX];
	rw->fifo_len++;
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	return c;
}

static void fifo_pop(struct ftp_rw *rw)
{
	rw->fifo_head = (rw->fifo_head + 1) % FIFO_MAX;
	rw->fifo_len--;
}

/* --- PASV sent ahead ------------------------------------------------ */

/* Over a long round trip, every PASV a client waits for costs one. After
 * a passive transfer the next one will want a PASV too (lftp's mget:
 * SIZE, MDTM, PASV, RETR per file), so the rewriter asks the server
 * with the client's next command, keeps the 227/229, and answers the
 * client's PASV from it. The server sees the same commands in the same
 * order as if the client had sent PASV at once; a PORT, USER, REIN or
 * QUIT in between drops it.
 *
 * Sent with the next command, not at the 226: an SSH server without
 * TCP_NODELAY (OpenSSH on a connection without a pty) holds a small
 * packet until the one before is acknowledged, a round trip. Replies
 * to two commands that reach the FTP server together tend to leave in
 * one packet; sent alone, the 227 would hold back the reply the client
 * waits for and take the round trip it saved. */
#define VERB_PASV 1
#define VERB_EPSV 2

/* A transfer command whose 2xx may send a PASV ahead. */
static int is_data_command(const uint8_t *verb, size_t vlen)
{
	static const char *const words[] = {"RETR", "STOR", "STOU", "APPE",
					    "LIST", "NLST", "MLSD"};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (ftp_word_is(verb, vlen, words[i]))
			return 1;
	return 0;
}

/* After the 2xx of a transfer, with nothing else outstanding (a client
 * that pipelined its next command decided already): the next command
 * may take a PASV ahead with it (ahead_send). Not in a MODE other than
 * stream: its data connection may be kept for the next transfer. */
static void ahead_arm(struct ftp_rw *rw)
{
	rw->ahead_due = rw->cfg.passive_ahead && rw->ahead_verb &&
			!rw->not_stream && rw->ahead == AHEAD_NONE &&
			!rw->fifo_len;
}

/* Whether a PASV ahead is worth sending before the client's command
 * verb: not before what would use it at once (PASV, EPSV, PORT, EPRT:
 * the server is asked now anyway), drop it (USER, REIN, QUIT, AUTH,
 * MODE) or find no PASV since the last transfer. */
static int ahead_before(const uint8_t *verb, size_t vlen)
{
	static const char *const words[] = {
	    "PASV", "EPSV", "PORT", "EPRT", "LPSV", "LPRT", "LPASV",
	    "SPSV", "USER", "REIN", "QUIT", "AUTH", "MODE", "ABOR"};
	size_t i;

	if (!vlen || is_data_command(verb, vlen))
		return 0;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (ftp_word_is(verb, vlen, words[i]))
			return 0;
	return 1;
}

/* Sends the PASV ahead, just before the client's command (the caller
 * checked the room for both). */
static void ahead_send(struct ftp_rw *rw)
{
	struct cmd *c;
	int epsv = rw->ahead_verb == VERB_EPSV || rw->epsv_all;

	rw->ahead_due = 0;
	if (!rw->cfg.passive_ahead || !rw->ahead_verb || rw->not_stream ||
	    rw->ahead != AHEAD_NONE || rw->fifo_len ||
	    rw->req.kind != FTP_REQ_NONE || rw->state != RW_LINES ||
	    ob_room(&rw->out[FTP_SERVER]) < 8)
		return;
	ob_put(&rw->out[FTP_SERVER], epsv ? "EPSV\r\n" : "PASV\r\n", 6);
	c = fifo_push(rw, CMD_AHEAD);
	c->epsv = epsv;
	rw->ahead = AHEAD_SENT;
}

/* The client did something after which the server's passive listener is
 * not the one its next transfer uses. A claimed one stays: the client
 * asked for it, as if its PASV had gone to the server. */
static void ahead_drop(struct ftp_rw *rw)
{
	if (!rw->ahead_claimed)
		rw->ahead = AHEAD_NONE;
}

/* The client's PASV/EPSV (kind) or converted PORT/EPRT (kind CMD_CONV,
 * conv its fields) takes the PASV sent ahead: 1, or 0 when there is
 * none to take. Answered when its turn comes (pump). */
static int ahead_claim(struct ftp_rw *rw, enum cmd_kind kind,
		       const struct cmd *conv)
{
	struct cmd *c;

	if (rw->ahead == AHEAD_NONE || rw->ahead_claimed)
		return 0;
	c = fifo_push(rw, CMD_CLAIM);
	if (conv)
		*c = *conv;
	c->kind = CMD_CLAIM;
	c->claim = kind;
	rw->ahead_claimed = 1;
	return 1;
}

/* The server's data address for the client's kind of command (PASV,
 * EPSV, or a PORT/EPRT converted to passive, c's): the request for a
 * data channel, and the reply held until the channel is there. */
static void raise_passive(struct ftp_rw *rw, enum cmd_kind kind,
			  const struct cmd *c,
			  const struct sockaddr_storage *target)
{
	memset(&rw->req, 0, sizeof(rw->req));
	rw->req.target = *target;
	if (kind == CMD_CONV) {
		rw->req.kind = FTP_REQ_CONVERTED;
		rw->req.client_target = c->client_ep;
		rw->held = HELD_CONV;
		rw->held_eprt = c->eprt;
	} else {
		rw->req.kind = FTP_REQ_PASSIVE;
		rw->held = kind == CMD_PASV ? HELD_PASV : HELD_EPSV;
	}
}

/* The claim c is the oldest command and the address is here: raise the
 * request the server's reply would have raised. */
static void ahead_use(struct ftp_rw *rw, const struct cmd *c)
{
	if (rw->ahead != AHEAD_READY) {
		fatal(rw, "internal error: PASV ahead not ready");
		return;
	}
	raise_passive(rw, c->claim, c, &rw->ahead_target);
	rw->ahead = AHEAD_NONE;
	rw->ahead_claimed = 0;
	rw->ahead_used++;
	fifo_pop(rw);
}

/* The server refused the PASV sent ahead (its reply, swallowed, was not
 * 227/229): a claim waiting for it goes to the server as the client's
 * own command would have. Client lines wait while a claim does, so the
 * claim is the newest command. */
static int ahead_refused(struct ftp_rw *rw)
{
	struct cmd *c;
	int epsv;

	fifo_pop(rw);
	rw->ahead = AHEAD_NONE;
	rw->ahead_verb = 0;
	if (!rw->ahead_claimed)
		return 0;
	rw->ahead_claimed = 0;
	c = rw->fifo_len
		? &rw->fifo[(rw->fifo_head + rw->fifo_len - 1) % FIFO_MAX]
		: NULL;
	if (!c || c->kind != CMD_CLAIM)
		return (int)fatal(rw, "internal error: no claim");
	epsv = c->claim == CMD_CONV ? c->epsv : c->claim == CMD_EPSV;
	c->kind = c->claim;
	return emit_str(rw, FTP_SERVER, epsv ? "EPSV\r\n" : "PASV\r\n");
}

/* Sends the replies made here once every earlier command is answered, so
 * a pipelining client reads them in order; a claim of the PASV sent
 * ahead raises its request in the same turn. */
static void pump(struct ftp_rw *rw)
{
	struct cmd *c;
	size_t n;

	while (rw->state == RW_LINES && rw->greeted &&
	       rw->req.kind == FTP_REQ_NONE) {
		c = fifo_front(rw);
		if (c && c->kind == CMD_CLAIM) {
			ahead_use(rw, c);
			break;
		}
		if (!c || c->kind != CMD_LOCAL)
			break;
		n = strlen(c->text);
		if (ob_room(&rw->out[FTP_CLIENT]) < n)
			break;
		ob_put(&rw->out[FTP_CLIENT], c->text, n);
		fifo_pop(rw);
	}
}

static int fifo_front_local(struct ftp_rw *rw)
{
	const struct cmd *c = fifo_front(rw);

	return c && (c->kind == CMD_LOCAL || c->kind == CMD_CLAIM);
}

/* A reply made here, in its turn. */
static void local_reply(struct ftp_rw *rw, const char *text)
{
	struct cmd *c = fifo_push(rw, CMD_LOCAL);

	snprintf(c->text, sizeof(c->text), "%s", text);
	pump(rw);
}

/* --- client lines --------------------------------------------------- */

static int client_active(struct ftp_rw *rw, const uint8_t *arg, size_t alen,
			 int eprt)
{
	struct sockaddr_storage ep;
	struct cmd *c;
	int r;

	memset(&ep, 0, sizeof(ep));
	r = eprt ? ftp_parse_eprt(arg, alen, &ep)
		 : ftp_parse_port(arg, alen, &ep);
	if (r < 0)
		return (int)fatal(rw, eprt ? "malformed EPRT command"
					   : "malformed PORT command");
	if (r > 0) {
		local_reply(rw, "522 Network protocol not supported, use "
				"(1,2).\r\n");
		return 0;
	}
	/* An unspecified address means "my own": lftp 4.9 on an IPv6
	 * control connection sends "EPRT |2|::|40123|". Read it as the
	 * client's address, the only one it may name anyway. */
	if (addr_is_unspecified((struct sockaddr *)&ep)) {
		uint16_t port = addr_port((struct sockaddr *)&ep);

		ep = rw->cfg.client_addr;
		addr_set_port((struct sockaddr *)&ep, port);
	}
	/* Bounce protection as in nf_conntrack_ftp and vsftpd: the data
	 * connection may only go back to the client itself, to an
	 * unprivileged port. */
	if (!addr_same_host((struct sockaddr *)&ep,
			    (struct sockaddr *)&rw->cfg.client_addr)) {
		local_reply(rw, "500 Illegal PORT command (the address is not "
				"the client's).\r\n");
		return 0;
	}
	if (addr_port((struct sockaddr *)&ep) < 1024) {
		local_reply(rw,
			    "500 Illegal PORT command (port below 1024).\r\n");
		return 0;
	}
	if (rw->cfg.active_mode == FTP_ACTIVE_FORWARD) {
		ahead_drop(rw);
		rw->ahead_verb = 0;
		memset(&rw->req, 0, sizeof(rw->req));
		rw->req.kind = FTP_REQ_ACTIVE;
		rw->req.target = ep;
		rw->held = HELD_ACTIVE;
		rw->held_eprt = eprt;
		return 0;
	}
	/* After EPSV ALL the server refuses PASV (RFC 2428 §4). */
	r = rw->cfg.server_family == AF_INET6 || rw->epsv_all;
	if (rw->ahead != AHEAD_NONE && !rw->ahead_claimed) {
		struct cmd conv;

		memset(&conv, 0, sizeof(conv));
		conv.epsv = r;
		conv.eprt = eprt;
		conv.client_ep = ep;
		ahead_claim(rw, CMD_CONV, &conv);
		pump(rw);
		return 0;
	}
	if (emit_str(rw, FTP_SERVER, r ? "EPSV\r\n" : "PASV\r\n") < 0)
		return -1;
	c = fifo_push(rw, CMD_CONV);
	c->epsv = r;
	c->eprt = eprt;
	c->client_ep = ep;
	return 0;
}

static int client_line(struct ftp_rw *rw, const uint8_t *line, size_t len)
{
	uint8_t *t = rw->clean;
	size_t n, i, vb, vlen, ab, aend;
	const uint8_t *verb;
	enum cmd_kind kind = CMD_OTHER;

	n = ftp_strip_telnet(line, ftp_text_len(line, len), t);
	/* The verb is the letters after any blanks (RFC 959 §4.1: command
	 * codes are alphabetic), so "PORT?1,2" or " PORT" are checked as
	 * PORT: no server, however lenient, gets a PORT not checked here. */
	for (i = 0; i < n && ftp_is_blank(t[i]); i++)
		;
	for (vb = i; i < n && ftp_is_alpha(t[i]); i++)
		;
	verb = t + vb;
	vlen = i - vb;
	for (; i < n && ftp_is_blank(t[i]); i++)
		;
	ab = i;
	for (aend = n; aend > ab && ftp_is_blank(t[aend - 1]); aend--)
		;

	if (rw->ahead_due) {
		if (ahead_before(verb, vlen))
			ahead_send(rw);
		rw->ahead_due = 0;
	}
	if (vb == n) {
		/* Servers differ on whether a blank line gets a reply;
		 * answering it here keeps replies and commands paired. */
		local_reply(rw, "500 Empty command.\r\n");
		return 0;
	}
	if (ftp_word_is(verb, vlen, "PORT"))
		return client_active(rw, t + ab, aend - ab, 0);
	if (ftp_word_is(verb, vlen, "EPRT"))
		return client_active(rw, t + ab, aend - ab, 1);
	/* RFC 1639 long forms, and SPSV: their replies carry addresses this
	 * rewriter does not translate. */
	if (ftp_word_is(verb, vlen, "LPSV") ||
	    ftp_word_is(verb, vlen, "LPRT") ||
	    ftp_word_is(verb, vlen, "LPASV") ||
	    ftp_word_is(verb, vlen, "SPSV")) {
		local_reply(rw, "502 Command not implemented (use PASV or "
				"EPSV).\r\n");
		return 0;
	}
	if (rw->ahead != AHEAD_NONE && !rw->ahead_claimed &&
	    is_data_command(verb, vlen)) {
		/* No PASV or PORT since the last transfer: the server would
		 * say so, but with the PASV sent ahead it would wait for a
		 * data connection the client never makes. */
		local_reply(rw, "425 Use PORT or PASV first.\r\n");
		return 0;
	}
	if (aend == ab &&
	    (ftp_word_is(verb, vlen, "PASV") ||
	     ftp_word_is(verb, vlen, "EPSV")) &&
	    ahead_claim(rw,
			ftp_word_is(verb, vlen, "PASV") ? CMD_PASV : CMD_EPSV,
			NULL)) {
		pump(rw);
		return 0;
	}
	/* Any other PASV/EPSV, and these, leave the server's passive
	 * listener unused or gone. */
	if (ftp_word_is(verb, vlen, "PASV") ||
	    ftp_word_is(verb, vlen, "EPSV") ||
	    ftp_word_is(verb, vlen, "USER") ||
	    ftp_word_is(verb, vlen, "REIN") ||
	    ftp_word_is(verb, vlen, "QUIT") || ftp_word_is(verb, vlen, "AUTH"))
		ahead_drop(rw);
	if (ftp_word_is(verb, vlen, "AUTH")) {
		if (!rw->cfg.allow_auth) {
			/* RFC 2228 §4: 534, refused for policy reasons. */
			local_reply(rw, "534 AUTH not available through "
					"ftp-tunnel: the SSH tunnel already "
					"encrypts the session.\r\n");
			return 0;
		}
		kind = CMD_AUTH;
	} else if (ftp_word_is(verb, vlen, "PASV")) {
		kind = CMD_PASV;
	} else if (ftp_word_is(verb, vlen, "EPSV")) {
		if (ftp_word_is(t + ab, aend - ab, "ALL")) {
			rw->epsv_all = 1;
		} else if (aend > ab) {
			/* "EPSV 2" names the client side's family (RFC 2428
			 * §3); the server may be on the other one. A bare
			 * EPSV lets it answer for its own control
			 * connection, and the 229 carries no address. */
			if (emit_str(rw, FTP_SERVER, "EPSV\r\n") < 0)
				return -1;
			fifo_push(rw, CMD_EPSV);
			return 0;
		} else {
			kind = CMD_EPSV;
		}
	} else if (ftp_word_is(verb, vlen, "FEAT")) {
		kind = CMD_FEAT;
	} else if (ftp_word_is(verb, vlen, "MODE")) {
		/* RFC 959 §3.4: block and compressed modes may keep a data
		 * connection for the next transfer, either way; asked once,
		 * refused or not, no download counts as one-way again. */
		if (aend - ab != 1 || (t[ab] != 'S' && t[ab] != 's'))
			rw->not_stream = 1;
	} else if (!rw->not_stream && (ftp_word_is(verb, vlen, "RETR") ||
				       ftp_word_is(verb, vlen, "LIST") ||
				       ftp_word_is(verb, vlen, "NLST") ||
				       ftp_word_is(verb, vlen, "MLSD"))) {
		rw->downloads++;
	}
	if (emit(rw, FTP_SERVER, line, len) < 0)
		return -1;
	fifo_push(rw, kind)->data_cmd = is_data_command(verb, vlen);
	return 0;
}

/* --- server lines --------------------------------------------------- */

/* A final reply completes the oldest command; RFC 959 §4.2: 1yz replies
 * are preliminary and another reply follows. */
static void reply_done(struct ftp_rw *rw, int code, int answers)
{
	struct cmd *c;
	int data_cmd;

	if (code / 100 == 1)
		return;
	if (!rw->greeted) {
		/* The greeting (RFC 959 §5.4: 120 then 220, or 220, or 421)
		 * answers the connection, even if commands were pipelined. */
		rw->greeted = 1;
	} else if (answers && (c = fifo_front(rw)) != NULL) {
		if (c->kind == CMD_AUTH && code == 234) {
			/* RFC 4217 §4: TLS starts after 234; nothing more
			 * here is readable. Only with allow_auth. */
			rw->fifo_len = 0;
			set_state(rw, RW_OPAQUE);
			return;
		}
		data_cmd = c->data_cmd;
		fifo_pop(rw);
		if (data_cmd && code / 100 == 2)
			ahead_arm(rw);
	}
	pump(rw);
}

/* Whether a 227 (or 229) answers command c: PASV (or EPSV), sent by the
 * client or by us in place of its PORT. */
static int answers_passive(const struct cmd *c, int code)
{
	if (!c)
		return 0;
	if (c->kind == CMD_CONV || c->kind == CMD_AHEAD)
		return c->epsv == (code == 229);
	return c->kind == (code == 227 ? CMD_PASV : CMD_EPSV);
}

/* The whole 227/229 reply is in block: hold it and raise the request. */
static int address_reply(struct ftp_rw *rw, int code)
{
	struct sockaddr_storage target;
	struct cmd *c = fifo_front(rw);
	const uint8_t *text;
	size_t n;

	if (!c || rw->block_len < 4)
		return (int)fatal(rw, "internal error: no command");
	/* Skip "227 " so the code is not read as a number. */
	text = rw->block + 4;
	n = rw->block_len - 4;
	if ((code == 227 ? ftp_parse_227(text, n, &target)
			 : ftp_parse_229(text, n, &target)) < 0)
		return (int)fatal(rw, code == 227 ? "malformed 227 reply"
						  : "malformed 229 reply");
	if (c->kind == CMD_AHEAD) {
		/* Kept for the client's next PASV, unless dropped since. */
		if (rw->ahead == AHEAD_SENT) {
			rw->ahead_target = target;
			rw->ahead = AHEAD_READY;
		}
		fifo_pop(rw);
		pump(rw);
		return 0;
	}
	/* The server's side of the next transfer will be passive too. */
	rw->ahead_verb = code == 229 ? VERB_EPSV : VERB_PASV;
	raise_passive(rw, c->kind, c, &target);
	fifo_pop(rw);
	return 0;
}

static int block_add(struct ftp_rw *rw, const uint8_t *t, size_t n)
{
	if (n + 1 > sizeof(rw->block) - rw->block_len)
		return (int)fatal(rw, "overlong multi-line passive reply");
	memcpy(rw->block + rw->block_len, t, n);
	rw->block_len += n;
	rw->block[rw->block_len++] = '\n';
	return 0;
}

/* RFC 959 §4.2: a multi-line reply ends at a line starting with its code
 * and a space; like ftplib, any byte but '-' is taken. */
static int ends_reply(const struct ftp_rw *rw, int code, uint8_t sep)
{
	return code >= 0 && sep != '-' &&
	       memcmp(rw->clean, rw->multi_code, 3) == 0;
}

/* Whether the server's refusal of the PASV/EPSV we sent for the client's
 * PORT/EPRT makes active mode fall back to FORWARD: only when asked, and
 * only when no command was sent after it (the forwarded PORT must come
 * before the client's next command, as the client sent them). */
static int falls_back(const struct ftp_rw *rw, const struct cmd *c, int code)
{
	return rw->cfg.active_fallback && c && c->kind == CMD_CONV &&
	       code / 100 == 5 && rw->fifo_len == 1;
}

/* The refused conversion becomes a forwarded PORT/EPRT, and so does every
 * later one. */
static int fall_back(struct ftp_rw *rw)
{
	struct cmd *c = fifo_front(rw);

	rw->cfg.active_mode = FTP_ACTIVE_FORWARD;
	rw->cfg.active_fallback = 0;
	rw->fell_back = 1;
	memset(&rw->req, 0, sizeof(rw->req));
	rw->req.kind = FTP_REQ_ACTIVE;
	rw->req.target = c->client_ep;
	rw->held = HELD_ACTIVE;
	rw->held_eprt = c->eprt;
	fifo_pop(rw);
	return 0;
}

/* RW_COLLECT: a line of a multi-line 227/229, its text n bytes in
 * rw->clean, with its reply code and the byte after it. */
static int collect_line(struct ftp_rw *rw, size_t n, int code, uint8_t sep)
{
	if (block_add(rw, rw->clean, n) < 0)
		return -1;
	if (!ends_reply(rw, code, sep))
		return 0;
	if (set_state(rw, RW_LINES) < 0)
		return -1;
	return address_reply(rw, code);
}

/* RW_MULTI: a line of a multi-line reply passing through. */
static int multi_line(struct ftp_rw *rw, const uint8_t *line, size_t len,
		      size_t n, int code, uint8_t sep)
{
	if (ends_reply(rw, code, sep) && rw->multi_ahead) {
		if (set_state(rw, RW_LINES) < 0)
			return -1;
		rw->multi_ahead = 0;
		if (ahead_refused(rw) < 0)
			return -1;
		pump(rw);
		return 0;
	}
	if (ends_reply(rw, code, sep) && rw->multi_drop) {
		if (set_state(rw, RW_LINES) < 0)
			return -1;
		rw->multi_drop = 0;
		return fall_back(rw);
	}
	if (ends_reply(rw, code, sep)) {
		if (set_state(rw, RW_LINES) < 0)
			return -1;
		rw->feat_filter = 0;
		if (emit(rw, FTP_CLIENT, line, len) < 0)
			return -1;
		reply_done(rw, code, rw->multi_answers);
		return 0;
	}
	/* RFC 959 §4.2 has servers pad a continuation line that starts with
	 * digits; a client that frames replies otherwise (ftplib opens one on
	 * any "xyz-") could read this as one. */
	if (code == 227 || code == 229)
		return (int)fatal(rw, "227/229 line inside another reply");
	if (rw->multi_drop || rw->multi_ahead ||
	    (rw->feat_filter && ftp_hidden_feature(rw->clean, n)))
		return 0;
	return emit(rw, FTP_CLIENT, line, len);
}

/* RW_LINES: a line that starts a reply, or is none. */
static int reply_line(struct ftp_rw *rw, const uint8_t *line, size_t len,
		      size_t n, int code, uint8_t sep)
{
	uint8_t *t = rw->clean;
	struct cmd *c;

	if (code < 0) /* not a reply: passed, completes nothing */
		return emit(rw, FTP_CLIENT, line, len);
	c = rw->greeted ? fifo_front(rw) : NULL;
	if (code == 227 || code == 229) {
		/* Only the answer to the PASV/EPSV it belongs to is
		 * rewritten; any other would pass an address on untouched. */
		if (!answers_passive(c, code))
			return (int)fatal(
			    rw, code == 227 ? "227 reply not answering PASV"
					    : "229 reply not answering EPSV");
		rw->block_len = 0;
		if (block_add(rw, t, n) < 0)
			return -1;
		if (sep != '-')
			return address_reply(rw, code);
		memcpy(rw->multi_code, t, 3);
		return set_state(rw, RW_COLLECT);
	}
	if (c && c->kind == CMD_CONV && code / 100 != 1 && code / 100 != 4 &&
	    code / 100 != 5)
		return (int)fatal(rw, "unexpected reply to PASV/EPSV");
	if (c && c->kind == CMD_AHEAD) {
		/* Not a 227/229: the PASV sent ahead was refused; the reply
		 * answers nothing the client sent. */
		if (sep == '-') {
			rw->multi_ahead = 1;
			rw->multi_answers = 1;
			memcpy(rw->multi_code, t, 3);
			return set_state(rw, RW_MULTI);
		}
		if (code / 100 == 1)
			return 0;
		if (ahead_refused(rw) < 0)
			return -1;
		pump(rw);
		return 0;
	}
	if (falls_back(rw, c, code)) {
		if (sep != '-')
			return fall_back(rw);
		rw->multi_drop = 1;
		rw->multi_answers = 1;
		memcpy(rw->multi_code, t, 3);
		return set_state(rw, RW_MULTI);
	}
	if (emit(rw, FTP_CLIENT, line, len) < 0)
		return -1;
	if (sep == '-') {
		rw->multi_answers = c != NULL;
		memcpy(rw->multi_code, t, 3);
		rw->feat_filter = c && c->kind == CMD_FEAT && code == 211 &&
				  !rw->cfg.allow_auth;
		return set_state(rw, RW_MULTI);
	}
	reply_done(rw, code, c != NULL);
	return 0;
}

/* A line from the server, LF included: handled by the state it comes in. */
static int server_line(struct ftp_rw *rw, const uint8_t *line, size_t len)
{
	uint8_t sep = 0;
	size_t n;
	int code;

	/* Clients disagree on a Telnet command before the code: inetutils
	 * ftp skips it, ftplib reads the line as junk. Either could then
	 * take a 227 the other way than here. */
	if (memchr(line, TN_IAC, len < 4 ? len : 4))
		return (int)fatal(rw, "Telnet command before a reply code");
	n = ftp_strip_telnet(line, ftp_text_len(line, len), rw->clean);
	code = ftp_reply_code(rw->clean, n, &sep);
	switch (rw->state) {
	case RW_COLLECT:
		return collect_line(rw, n, code, sep);
	case RW_MULTI:
		return multi_line(rw, line, len, n, code, sep);
	default:
		return reply_line(rw, line, len, n, code, sep);
	}
}

/* --- feeding -------------------------------------------------------- */

/* Whether a complete line from `from` can be taken now. */
static int can_take_line(struct ftp_rw *rw, enum ftp_side from)
{
	if (from == FTP_CLIENT)
		/* A claim waiting for the PASV sent ahead may still have to
		 * go to the server (ahead_refused): nothing may pass it. */
		return rw->fifo_len < FIFO_MAX &&
		       ob_room(&rw->out[FTP_SERVER]) >= LINE_ROOM &&
		       !(rw->ahead_claimed && rw->ahead == AHEAD_SENT);
	if (ob_room(&rw->out[FTP_CLIENT]) < LINE_ROOM)
		return 0;
	/* A refused PASV sent ahead may send the claim's own. */
	if (rw->ahead_claimed && ob_room(&rw->out[FTP_SERVER]) < 8)
		return 0;
	/* A reply made here must go out before the server's next one. */
	return !(rw->greeted && rw->state == RW_LINES && fifo_front_local(rw));
}

/* After AUTH was accepted: bytes pass unread, a partial line first. */
static ssize_t feed_opaque(struct ftp_rw *rw, enum ftp_side from,
			   const uint8_t *data, size_t len)
{
	enum ftp_side to = from == FTP_CLIENT ? FTP_SERVER : FTP_CLIENT;
	struct lbuf *lb = &rw->line[from];
	struct obuf *ob = &rw->out[to];
	size_t n;

	if (lb->len) {
		n = lb->len < ob_room(ob) ? lb->len : ob_room(ob);
		ob_put(ob, lb->data, n);
		memmove(lb->data, lb->data + n, lb->len - n);
		lb->len -= n;
		if (lb->len)
			return 0;
	}
	n = len < ob_room(ob) ? len : ob_room(ob);
	ob_put(ob, data, n);
	return (ssize_t)n;
}

ssize_t ftp_rw_feed(struct ftp_rw *rw, enum ftp_side from, const uint8_t *data,
		    size_t len)
{
	struct lbuf *lb;
	size_t n;
	uint8_t ch;
	int r;

	if (rw->state == RW_FAILED)
		return FTP_RW_FATAL;
	if (from != FTP_CLIENT && from != FTP_SERVER)
		return fatal(rw, "internal error: bad side");
	if (rw->state == RW_OPAQUE)
		return feed_opaque(rw, from, data, len);
	pump(rw);
	lb = &rw->line[from];
	for (n = 0; n < len && rw->req.kind == FTP_REQ_NONE; n++) {
		ch = data[n];
		/* curl treats NUL in a control line as an error too. */
		if (ch == '\0')
			return fatal(rw, "NUL byte in a control line");
		if (ch != '\n') {
			/* FTP_LINE_MAX counts the LF still to come. */
			if (lb->len >= FTP_LINE_MAX - 1)
				return fatal(rw, "control line too long");
			lb->data[lb->len++] = ch;
			continue;
		}
		if (!can_take_line(rw, from))
			break;
		lb->data[lb->len++] = ch;
		r = from == FTP_CLIENT ? client_line(rw, lb->data, lb->len)
				       : server_line(rw, lb->data, lb->len);
		lb->len = 0;
		if (r < 0 || rw->state == RW_FAILED)
			return FTP_RW_FATAL;
		if (rw->state == RW_OPAQUE) {
			n++;
			return (ssize_t)n +
			       feed_opaque(rw, from, data + n, len - n);
		}
	}
	return (ssize_t)n;
}

/* --- answers -------------------------------------------------------- */

static void request_done(struct ftp_rw *rw)
{
	rw->req.kind = FTP_REQ_NONE;
	rw->held = HELD_NONE;
	pump(rw);
}

/* Printable ASCII only, so `why` cannot end the line or inject one. */
static void clean_why(const char *why, char *out, size_t size)
{
	size_t o = 0;

	if (!why || !*why)
		why = "unknown error";
	for (; *why && o + 1 < size; why++)
		if ((unsigned char)*why >= 32 && (unsigned char)*why < 127)
			out[o++] = *why;
	while (o > 0 && (out[o - 1] == '.' || out[o - 1] == ' '))
		o--;
	out[o] = '\0';
}

void ftp_rw_request_failed(struct ftp_rw *rw, const char *why)
{
	char w[WHY_MAX], msg[ANSWER_MAX];

	if (!rw || rw->state == RW_FAILED || rw->req.kind == FTP_REQ_NONE)
		return;
	clean_why(why, w, sizeof(w));
	snprintf(msg, sizeof(msg), "425 Can't open data connection: %s.\r\n",
		 w);
	if (rw->held == HELD_ACTIVE) {
		/* The PORT was never sent: the client's reply waits its
		 * turn behind the commands before it. */
		rw->req.kind = FTP_REQ_NONE;
		rw->held = HELD_NONE;
		local_reply(rw, msg);
		return;
	}
	if (emit_str(rw, FTP_CLIENT, msg) < 0)
		return;
	request_done(rw);
}

void ftp_rw_passive_ready(struct ftp_rw *rw,
			  const struct sockaddr *client_visible)
{
	char msg[ANSWER_MAX];
	struct in_addr in;
	uint8_t a[4];
	uint16_t port;

	if (!rw || rw->state == RW_FAILED || rw->req.kind == FTP_REQ_NONE)
		return;
	if (rw->req.kind != FTP_REQ_PASSIVE || !client_visible) {
		ftp_rw_request_failed(rw, "internal error");
		return;
	}
	port = addr_port(client_visible);
	if (port == 0) {
		ftp_rw_request_failed(rw, "no data port");
		return;
	}
	if (rw->held == HELD_EPSV) {
		snprintf(msg, sizeof(msg),
			 "229 Entering Extended Passive Mode (|||%u|)\r\n",
			 (unsigned)port);
	} else if (addr_v4(client_visible, &in)) {
		memcpy(a, &in.s_addr, 4);
		snprintf(msg, sizeof(msg),
			 "227 Entering Passive Mode (%u,%u,%u,%u,%u,%u).\r\n",
			 a[0], a[1], a[2], a[3], (unsigned)(port >> 8),
			 (unsigned)(port & 0xff));
	} else {
		/* A 227 can only name IPv4 (RFC 2428 §1). */
		ftp_rw_request_failed(rw, "the tunnel's data listener is IPv6, "
					  "use EPSV");
		return;
	}
	if (emit_str(rw, FTP_CLIENT, msg) < 0)
		return;
	request_done(rw);
}

void ftp_rw_active_ready(struct ftp_rw *rw, const struct sockaddr *server_side)
{
	char msg[ANSWER_MAX], host[INET6_ADDRSTRLEN];
	struct in_addr in;
	uint8_t a[4];
	uint16_t port;

	if (!rw || rw->state == RW_FAILED || rw->req.kind == FTP_REQ_NONE)
		return;
	if (rw->req.kind == FTP_REQ_CONVERTED) {
		if (emit_str(rw, FTP_CLIENT,
			     rw->held_eprt
				 ? "200 EPRT command successful.\r\n"
				 : "200 PORT command successful.\r\n") < 0)
			return;
		request_done(rw);
		return;
	}
	if (rw->req.kind != FTP_REQ_ACTIVE || !server_side ||
	    (port = addr_port(server_side)) == 0) {
		ftp_rw_request_failed(rw, "internal error");
		return;
	}
	/* Commands to the server go in its family (a v4-mapped address is
	 * IPv4): PORT answers PORT, EPRT answers EPRT. */
	if (addr_v4(server_side, &in)) {
		memcpy(a, &in.s_addr, 4);
		if (rw->held_eprt)
			snprintf(msg, sizeof(msg),
				 "EPRT |1|%u.%u.%u.%u|%u|\r\n", a[0], a[1],
				 a[2], a[3], (unsigned)port);
		else
			snprintf(msg, sizeof(msg), "PORT %u,%u,%u,%u,%u,%u\r\n",
				 a[0], a[1], a[2], a[3], (unsigned)(port >> 8),
				 (unsigned)(port & 0xff));
	} else {
		if (server_side->sa_family != AF_INET6) {
			ftp_rw_request_failed(rw, "internal error");
			return;
		}
		addr_host(server_side, host, sizeof(host));
		snprintf(msg, sizeof(msg), "EPRT |2|%s|%u|\r\n", host,
			 (unsigned)port);
	}
	if (emit_str(rw, FTP_SERVER, msg) < 0)
		return;
	fifo_push(rw, CMD_OTHER);
	request_done(rw);
}

/* --- the rest of the API -------------------------------------------- */

struct ftp_rw *ftp_rw_new(const struct ftp_rw_config *cfg)
{
	struct ftp_rw *rw;

	if (!cfg) {
		errno = EINVAL;
		return NULL;
	}
	rw = calloc(1, sizeof(*rw));
	if (!rw)
		return NULL;
	rw->cfg = *cfg;
	return rw;
}

void ftp_rw_free(struct ftp_rw *rw)
{
	free(rw);
}

const uint8_t *ftp_rw_output(struct ftp_rw *rw, enum ftp_side to, size_t *len)
{
	struct obuf *b;

	if (to != FTP_CLIENT && to != FTP_SERVER) {
		*len = 0;
		return NULL;
	}
	pump(rw);
	b = &rw->out[to];
	*len = b->len;
	return b->data + b->off;
}

void ftp_rw_consume(struct ftp_rw *rw, enum ftp_side to, size_t n)
{
	struct obuf *b;

	if (to != FTP_CLIENT && to != FTP_SERVER)
		return;
	b = &rw->out[to];
	if (n > b->len)
		n = b->len;
	b->off += n;
	b->len -= n;
	if (b->len == 0)
		b->off = 0;
	pump(rw);
}

const struct ftp_req *ftp_rw_request(const struct ftp_rw *rw)
{
	return rw->req.kind != FTP_REQ_NONE ? &rw->req : NULL;
}

int ftp_rw_failed(const struct ftp_rw *rw)
{
	return rw->state == RW_FAILED;
}

const char *ftp_rw_state_name(const struct ftp_rw *rw)
{
	return rw_state_names[rw->state];
}

unsigned long ftp_rw_downloads(const struct ftp_rw *rw)
{
	return rw->downloads;
}

unsigned long ftp_rw_passive_ahead_used(const struct ftp_rw *rw)
{
	return rw->ahead_used;
}

int ftp_rw_fell_back(const struct ftp_rw *rw)
{
	return rw->fell_back;
}

/* ftp.c — the FTP control-channel rewriter: finds data-channel addresses in
 * replies (227/229) and commands (PORT/EPRT) and swaps in the tunnel's. */
#include "ftp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* RFC 854 Telnet commands that may appear on the control connection. */
#define TN_IAC 255
#define TN_WILL 251
#define TN_DONT 254

enum cmd_kind {
	CMD_OTHER,
	CMD_PASV,
	CMD_EPSV,
	CMD_FEAT,
	CMD_AUTH,
	CMD_CONV,  /* PASV/EPSV sent by us in place of the client's PORT */
	CMD_LOCAL, /* answered here: text goes out when its turn comes */
};

struct cmd {
	enum cmd_kind kind;
	int epsv;			   /* CMD_CONV: EPSV sent, 229 due */
	int eprt;			   /* CMD_CONV: the client used EPRT */
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
	int failed;
	int opaque;   /* AUTH accepted: the rest is TLS, passed unread */
	int greeted;  /* the server's greeting has been seen */
	int epsv_all; /* the client sent EPSV ALL (RFC 2428 §4) */
	/* The server's multi-line reply in progress: passed line by line
	 * (multi) or collected to be replaced (collect, 227/229). */
	int multi, collect, feat_filter;
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

static int is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_blank(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static uint8_t to_upper(uint8_t c)
{
	return c >= 'a' && c <= 'z' ? (uint8_t)(c - 'a' + 'A') : c;
}

/* Case-insensitive: RFC 959 §5.3 lets commands come in either case. */
static int word_is(const uint8_t *p, size_t n, const char *w)
{
	size_t i;

	if (n != strlen(w))
		return 0;
	for (i = 0; i < n; i++)
		if (to_upper(p[i]) != (uint8_t)w[i])
			return 0;
	return 1;
}

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

static ssize_t fatal(struct ftp_rw *rw, const char *reason)
{
	char msg[OUT_RESERVE];
	int n;

	if (rw->failed)
		return FTP_RW_FATAL;
	rw->failed = 1;
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

/* Sends the replies made here once every earlier command is answered, so
 * a pipelining client reads them in order. */
static void pump(struct ftp_rw *rw)
{
	struct cmd *c;
	size_t n;

	while (!rw->failed && !rw->opaque && rw->greeted && !rw->multi &&
	       !rw->collect && rw->req.kind == FTP_REQ_NONE) {
		c = fifo_front(rw);
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

	return c && c->kind == CMD_LOCAL;
}

/* A reply made here, in its turn. */
static void local_reply(struct ftp_rw *rw, const char *text)
{
	struct cmd *c = fifo_push(rw, CMD_LOCAL);

	snprintf(c->text, sizeof(c->text), "%s", text);
	pump(rw);
}

/* --- parsing -------------------------------------------------------- */

/* Copies a line's text without its Telnet commands: RFC 959 §4.1.3 has
 * clients send IAC IP, IAC DM before ABOR, e.g. "\xff\xf4\xff\xf2ABOR". */
static size_t strip_telnet(const uint8_t *in, size_t n, uint8_t *out)
{
	size_t i = 0, o = 0;

	while (i < n) {
		if (in[i] != TN_IAC) {
			out[o++] = in[i++];
			continue;
		}
		if (i + 1 >= n)
			break;
		if (in[i + 1] == TN_IAC) {
			out[o++] = TN_IAC;
			i += 2;
		} else if (in[i + 1] >= TN_WILL && in[i + 1] <= TN_DONT) {
			i += 3;
		} else {
			i += 2;
		}
	}
	return o;
}

/* Text length of a line that ends in LF: CRLF or a bare LF is cut. */
static size_t text_len(const uint8_t *line, size_t len)
{
	return len >= 2 && line[len - 2] == '\r' ? len - 2 : len - 1;
}

/* Reads numbers separated by commas from p[i]: how many (at most max + 1,
 * so a longer run shows), their values (a number of more than three digits
 * reads as 1000) and where the run ends. */
static int num_run(const uint8_t *p, size_t n, size_t i, unsigned *v, int max,
		   size_t *end)
{
	int k = 0;
	size_t d;
	unsigned x;

	for (;;) {
		x = 0;
		for (d = 0; i < n && is_digit(p[i]); d++, i++)
			if (d < 3)
				x = x * 10 + (unsigned)(p[i] - '0');
		if (k < max)
			v[k] = d > 3 ? 1000 : x;
		k++;
		if (k > max || i + 1 >= n || p[i] != ',' || !is_digit(p[i + 1]))
			break;
		i++;
	}
	*end = i;
	return k;
}

/* Socket addresses go in and out by memcpy: reading a sockaddr_storage
 * through a struct sockaddr_in pointer breaks C's aliasing rules, and gcc
 * -O2 acts on it. */
static int sa_family(const void *sa)
{
	sa_family_t f;

	memcpy(&f, (const char *)sa + offsetof(struct sockaddr, sa_family),
	       sizeof(f));
	return f;
}

static void put_v4(struct sockaddr_storage *ss, const void *addr, uint16_t port)
{
	struct sockaddr_in sin;

	memset(ss, 0, sizeof(*ss));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	memcpy(&sin.sin_addr, addr, 4);
	sin.sin_port = htons(port);
	memcpy(ss, &sin, sizeof(sin));
}

/* family is AF_INET6, or AF_UNSPEC for a 229's port-only target. */
static void put_v6(struct sockaddr_storage *ss, int family,
		   const struct in6_addr *addr, uint16_t port)
{
	struct sockaddr_in6 sin6;

	memset(ss, 0, sizeof(*ss));
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = (sa_family_t)family;
	if (addr)
		sin6.sin6_addr = *addr;
	sin6.sin6_port = htons(port);
	memcpy(ss, &sin6, sizeof(sin6));
}

/* Six numbers h1..h4,p1,p2 as an AF_INET address; returns the port, or -1
 * when a number is above 255. */
static int fill_v4(const unsigned *v, struct sockaddr_storage *ss)
{
	uint8_t a[4];
	int k;

	for (k = 0; k < 6; k++)
		if (v[k] > 255)
			return -1;
	for (k = 0; k < 4; k++)
		a[k] = (uint8_t)v[k];
	put_v4(ss, a, (uint16_t)(v[4] << 8 | v[5]));
	return (int)(v[4] << 8 | v[5]);
}

/* A 227's address: RFC 959 §4.2 shows "227 Entering Passive Mode
 * (h1,h2,h3,h4,p1,p2)." and servers vary around it — vsftpd "227 Entering
 * Passive Mode (127,0,0,1,117,49).", pure-ftpd without the final dot, some
 * without parentheses ("227 Entering Passive Mode 10,1,60,99,6,12") or as
 * "227 =10,1,60,99,6,12". Like curl and nf_conntrack_ftp, take the first
 * run of exactly six comma-separated numbers anywhere in the text. */
static int parse_227(const uint8_t *p, size_t n, struct sockaddr_storage *ss)
{
	unsigned v[6];
	size_t i, end;
	int k;

	for (i = 0; i < n; i++) {
		if (!is_digit(p[i]) || (i > 0 && is_digit(p[i - 1])))
			continue;
		k = num_run(p, n, i, v, 6, &end);
		if (k > 6)
			return -1;
		if (k == 6)
			return fill_v4(v, ss) > 0 ? 0 : -1;
		i = end;
	}
	return -1;
}

/* Up to five digits, 0..65535, then p[*i] is at the first non-digit. */
static int parse_port(const uint8_t *p, size_t n, size_t *i)
{
	unsigned x = 0;
	size_t d;

	for (d = 0; *i < n && is_digit(p[*i]); d++, (*i)++) {
		if (d >= 5)
			return -1;
		x = x * 10 + (unsigned)(p[*i] - '0');
	}
	return d && x <= 65535 ? (int)x : -1;
}

static int is_delim(uint8_t c)
{
	/* RFC 2428 §2: any of ASCII 33-126; a digit could not frame a port. */
	return c >= 33 && c <= 126 && !is_digit(c);
}

/* A 229's port: RFC 2428 §3 "229 Entering Extended Passive Mode
 * (|||6446|)" with any delimiter; vsftpd and proftpd use '|'. The first
 * "(ddd" decides; the closing parenthesis is not required. */
static int parse_229(const uint8_t *p, size_t n)
{
	size_t i, j;
	uint8_t d;
	int port;

	for (i = 0; i + 3 < n; i++) {
		d = p[i + 1];
		if (p[i] != '(' || !is_delim(d) || p[i + 2] != d ||
		    p[i + 3] != d)
			continue;
		j = i + 4;
		port = parse_port(p, n, &j);
		if (port <= 0 || j >= n || p[j] != d)
			return -1;
		return port;
	}
	return -1;
}

/* PORT's argument, exactly "h1,h2,h3,h4,p1,p2" (RFC 959 §4.1.2). */
static int parse_port_cmd(const uint8_t *p, size_t n,
			  struct sockaddr_storage *ss)
{
	unsigned v[6];
	size_t end;

	if (n == 0 || !is_digit(p[0]))
		return -1;
	if (num_run(p, n, 0, v, 6, &end) != 6 || end != n)
		return -1;
	return fill_v4(v, ss) < 0 ? -1 : 0;
}

/* EPRT's argument, RFC 2428 §2: <d><net-prt><d><net-addr><d><tcp-port><d>
 * with any delimiter, e.g. "|1|132.235.1.2|6275|" or "|2|::1|6275|".
 * Returns 0, -1 when malformed, 1 for a protocol other than 1 and 2. */
static int parse_eprt_cmd(const uint8_t *p, size_t n,
			  struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN];
	struct in6_addr a6;
	size_t i, a, alen;
	uint8_t d;
	int af, port;

	if (n < 2 || !is_delim(p[0]))
		return -1;
	d = p[0];
	i = 1;
	if (!is_digit(p[i]))
		return -1;
	while (i < n && is_digit(p[i]))
		i++;
	af = AF_UNSPEC;
	if (i == 2 && p[1] == '1')
		af = AF_INET;
	else if (i == 2 && p[1] == '2')
		af = AF_INET6;
	if (i >= n || p[i] != d)
		return -1;
	a = ++i;
	while (i < n && p[i] != d)
		i++;
	alen = i - a;
	if (i >= n)
		return -1;
	i++;
	port = parse_port(p, n, &i);
	if (port < 0 || i + 1 != n || p[i] != d)
		return -1;
	if (af == AF_UNSPEC)
		return 1;
	if (alen == 0 || alen >= sizeof(host))
		return -1;
	memcpy(host, p + a, alen);
	host[alen] = '\0';
	if (inet_pton(af, host, &a6) != 1)
		return -1;
	if (af == AF_INET)
		put_v4(ss, &a6, (uint16_t)port);
	else
		put_v6(ss, AF_INET6, &a6, (uint16_t)port);
	return 0;
}

/* --- addresses ------------------------------------------------------ */

/* The host as an IPv6 address, IPv4 mapped (::ffff:a.b.c.d). */
static int sa_host6(const void *sa, struct in6_addr *a)
{
	struct sockaddr_in6 sin6;
	struct sockaddr_in sin;

	switch (sa_family(sa)) {
	case AF_INET6:
		memcpy(&sin6, sa, sizeof(sin6));
		*a = sin6.sin6_addr;
		return 0;
	case AF_INET:
		memcpy(&sin, sa, sizeof(sin));
		memset(a, 0, sizeof(*a));
		a->s6_addr[10] = 0xff;
		a->s6_addr[11] = 0xff;
		memcpy(&a->s6_addr[12], &sin.sin_addr, 4);
		return 0;
	}
	return -1;
}

static uint16_t sa_port(const void *sa)
{
	struct sockaddr_in6 sin6;
	struct sockaddr_in sin;

	switch (sa_family(sa)) {
	case AF_INET6:
		memcpy(&sin6, sa, sizeof(sin6));
		return ntohs(sin6.sin6_port);
	case AF_INET:
		memcpy(&sin, sa, sizeof(sin));
		return ntohs(sin.sin_port);
	}
	return 0;
}

/* The IPv4 host of an AF_INET or v4-mapped AF_INET6 address. */
static int sa_v4(const void *sa, uint8_t v4[4])
{
	struct in6_addr a;

	if (sa_host6(sa, &a) < 0 || !IN6_IS_ADDR_V4MAPPED(&a))
		return -1;
	memcpy(v4, &a.s6_addr[12], 4);
	return 0;
}

static int is_unspecified(const struct sockaddr_storage *ss)
{
	struct in6_addr a;

	return sa_host6(ss, &a) == 0 &&
	       (IN6_IS_ADDR_UNSPECIFIED(&a) ||
		(IN6_IS_ADDR_V4MAPPED(&a) && !a.s6_addr[12] && !a.s6_addr[13] &&
		 !a.s6_addr[14] && !a.s6_addr[15]));
}

static void set_sa_port(struct sockaddr_storage *ss, uint16_t port)
{
	struct in6_addr a;
	uint8_t v4[4];

	/* Rebuilt rather than poked through a cast (see sa_family()). */
	if (sa_family(ss) == AF_INET && sa_v4(ss, v4) == 0)
		put_v4(ss, v4, port);
	else if (sa_family(ss) == AF_INET6 && sa_host6(ss, &a) == 0)
		put_v6(ss, AF_INET6, &a, port);
}

static int same_host(const void *x, const void *y)
{
	struct in6_addr a, b;

	if (sa_host6(x, &a) < 0 || sa_host6(y, &b) < 0)
		return 0;
	return memcmp(&a, &b, sizeof(a)) == 0;
}

/* --- client lines --------------------------------------------------- */

static int client_active(struct ftp_rw *rw, const uint8_t *arg, size_t alen,
			 int eprt)
{
	struct sockaddr_storage ep;
	struct cmd *c;
	int r;

	memset(&ep, 0, sizeof(ep));
	r = eprt ? parse_eprt_cmd(arg, alen, &ep)
		 : parse_port_cmd(arg, alen, &ep);
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
	if (is_unspecified(&ep)) {
		uint16_t port = sa_port(&ep);

		ep = rw->cfg.client_addr;
		set_sa_port(&ep, port);
	}
	/* Bounce protection as in nf_conntrack_ftp and vsftpd: the data
	 * connection may only go back to the client itself, to an
	 * unprivileged port. */
	if (!same_host(&ep, &rw->cfg.client_addr)) {
		local_reply(rw, "500 Illegal PORT command (the address is not "
				"the client's).\r\n");
		return 0;
	}
	if (sa_port(&ep) < 1024) {
		local_reply(rw,
			    "500 Illegal PORT command (port below 1024).\r\n");
		return 0;
	}
	if (rw->cfg.active_mode == FTP_ACTIVE_FORWARD) {
		memset(&rw->req, 0, sizeof(rw->req));
		rw->req.kind = FTP_REQ_ACTIVE;
		rw->req.target = ep;
		rw->held = HELD_ACTIVE;
		rw->held_eprt = eprt;
		return 0;
	}
	/* After EPSV ALL the server refuses PASV (RFC 2428 §4). */
	r = rw->cfg.server_family == AF_INET6 || rw->epsv_all;
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

	n = strip_telnet(line, text_len(line, len), t);
	/* The verb is the letters after any blanks (RFC 959 §4.1: command
	 * codes are alphabetic), so "PORT?1,2" or " PORT" are checked as
	 * PORT: no server, however lenient, gets a PORT not checked here. */
	for (i = 0; i < n && is_blank(t[i]); i++)
		;
	for (vb = i; i < n && is_alpha(t[i]); i++)
		;
	verb = t + vb;
	vlen = i - vb;
	for (; i < n && is_blank(t[i]); i++)
		;
	ab = i;
	for (aend = n; aend > ab && is_blank(t[aend - 1]); aend--)
		;

	if (vb == n) {
		/* Servers differ on whether a blank line gets a reply;
		 * answering it here keeps replies and commands paired. */
		local_reply(rw, "500 Empty command.\r\n");
		return 0;
	}
	if (word_is(verb, vlen, "PORT"))
		return client_active(rw, t + ab, aend - ab, 0);
	if (word_is(verb, vlen, "EPRT"))
		return client_active(rw, t + ab, aend - ab, 1);
	/* RFC 1639 long forms, and SPSV: their replies carry addresses this
	 * rewriter does not translate. */
	if (word_is(verb, vlen, "LPSV") || word_is(verb, vlen, "LPRT") ||
	    word_is(verb, vlen, "LPASV") || word_is(verb, vlen, "SPSV")) {
		local_reply(rw, "502 Command not implemented (use PASV or "
				"EPSV).\r\n");
		return 0;
	}
	if (word_is(verb, vlen, "AUTH")) {
		if (!rw->cfg.allow_auth) {
			/* RFC 2228 §4: 534, refused for policy reasons. */
			local_reply(rw, "534 AUTH not available through "
					"ftp-tunnel: the SSH tunnel already "
					"encrypts the session.\r\n");
			return 0;
		}
		kind = CMD_AUTH;
	} else if (word_is(verb, vlen, "PASV")) {
		kind = CMD_PASV;
	} else if (word_is(verb, vlen, "EPSV")) {
		if (word_is(t + ab, aend - ab, "ALL")) {
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
	} else if (word_is(verb, vlen, "FEAT")) {
		kind = CMD_FEAT;
	}
	if (emit(rw, FTP_SERVER, line, len) < 0)
		return -1;
	fifo_push(rw, kind);
	return 0;
}

/* --- server lines --------------------------------------------------- */

/* A reply starts "ddd" and then ' ' or '-' (RFC 959 §4.2), but clients
 * are looser: Python's ftplib takes any line starting with three digits,
 * and "227\t(10,1,60,99,6,12)" would send it to that address. So any
 * three digits start a reply here too; sep gets the next byte (0 at the
 * end), '-' opening a multi-line reply. Returns the code or -1. */
static int reply_code(const uint8_t *t, size_t n, uint8_t *sep)
{
	if (n < 3 || !is_digit(t[0]) || !is_digit(t[1]) || !is_digit(t[2]))
		return -1;
	*sep = n > 3 ? t[3] : 0;
	return (t[0] - '0') * 100 + (t[1] - '0') * 10 + (t[2] - '0');
}

/* A FEAT line naming AUTH, PBSZ or PROT (RFC 2389 §3.2: " AUTH TLS"). */
static int hidden_feature(const uint8_t *t, size_t n)
{
	size_t i = 0, b;
	uint8_t sep;

	if (reply_code(t, n, &sep) >= 0 && sep == '-')
		i = 4;
	while (i < n && is_blank(t[i]))
		i++;
	for (b = i; i < n && !is_blank(t[i]); i++)
		;
	return word_is(t + b, i - b, "AUTH") || word_is(t + b, i - b, "PBSZ") ||
	       word_is(t + b, i - b, "PROT");
}

/* A final reply completes the oldest command; RFC 959 §4.2: 1yz replies
 * are preliminary and another reply follows. */
static void reply_done(struct ftp_rw *rw, int code, int answers)
{
	struct cmd *c;

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
			rw->opaque = 1;
			rw->fifo_len = 0;
			return;
		}
		fifo_pop(rw);
	}
	pump(rw);
}

/* Whether a 227 (or 229) answers command c: PASV (or EPSV), sent by the
 * client or by us in place of its PORT. */
static int answers_passive(const struct cmd *c, int code)
{
	if (!c)
		return 0;
	if (c->kind == CMD_CONV)
		return c->epsv == (code == 229);
	return c->kind == (code == 227 ? CMD_PASV : CMD_EPSV);
}

/* The whole 227/229 reply is in block: hold it and raise the request. */
static int address_reply(struct ftp_rw *rw, int code)
{
	struct sockaddr_storage target;
	struct cmd *c = fifo_front(rw);
	int port;

	if (!c || rw->block_len < 4)
		return (int)fatal(rw, "internal error: no command");
	/* Skip "227 " so the code is not read as a number. */
	if (code == 227) {
		if (parse_227(rw->block + 4, rw->block_len - 4, &target) < 0)
			return (int)fatal(rw, "malformed 227 reply");
	} else {
		port = parse_229(rw->block + 4, rw->block_len - 4);
		if (port <= 0)
			return (int)fatal(rw, "malformed 229 reply");
		put_v6(&target, AF_UNSPEC, NULL, (uint16_t)port);
	}
	memset(&rw->req, 0, sizeof(rw->req));
	rw->req.target = target;
	if (c->kind == CMD_CONV) {
		rw->req.kind = FTP_REQ_CONVERTED;
		rw->req.client_target = c->client_ep;
		rw->held = HELD_CONV;
		rw->held_eprt = c->eprt;
	} else {
		rw->req.kind = FTP_REQ_PASSIVE;
		rw->held = c->kind == CMD_PASV ? HELD_PASV : HELD_EPSV;
	}
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

static int server_line(struct ftp_rw *rw, const uint8_t *line, size_t len)
{
	uint8_t *t = rw->clean;
	uint8_t sep = 0;
	size_t n;
	int code, ends;
	struct cmd *c;

	/* Clients disagree on a Telnet command before the code: inetutils
	 * ftp skips it, ftplib reads the line as junk. Either could then
	 * take a 227 the other way than here. */
	if (memchr(line, TN_IAC, len < 4 ? len : 4))
		return (int)fatal(rw, "Telnet command before a reply code");
	n = strip_telnet(line, text_len(line, len), t);
	code = reply_code(t, n, &sep);
	/* RFC 959 §4.2: a multi-line reply ends at a line starting with its
	 * code and a space; like ftplib, any byte but '-' is taken. */
	ends = (rw->multi || rw->collect) && code >= 0 && sep != '-' &&
	       memcmp(t, rw->multi_code, 3) == 0;
	if (rw->collect) {
		if (block_add(rw, t, n) < 0)
			return -1;
		if (!ends)
			return 0;
		rw->collect = 0;
		return address_reply(rw, code);
	}
	if (rw->multi) {
		if (ends) {
			rw->multi = 0;
			rw->feat_filter = 0;
			if (emit(rw, FTP_CLIENT, line, len) < 0)
				return -1;
			reply_done(rw, code, rw->multi_answers);
			return 0;
		}
		/* RFC 959 §4.2 has servers pad a continuation line that
		 * starts with digits; a client that frames replies otherwise
		 * (ftplib opens one on any "xyz-") could read this as one. */
		if (code == 227 || code == 229)
			return (int)fatal(rw,
					  "227/229 line inside another reply");
		if (rw->feat_filter && hidden_feature(t, n))
			return 0;
		return emit(rw, FTP_CLIENT, line, len);
	}
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
		rw->collect = 1;
		memcpy(rw->multi_code, t, 3);
		return 0;
	}
	if (c && c->kind == CMD_CONV && code / 100 != 1 && code / 100 != 4 &&
	    code / 100 != 5)
		return (int)fatal(rw, "unexpected reply to PASV/EPSV");
	if (emit(rw, FTP_CLIENT, line, len) < 0)
		return -1;
	if (sep == '-') {
		rw->multi = 1;
		rw->multi_answers = c != NULL;
		memcpy(rw->multi_code, t, 3);
		rw->feat_filter = c && c->kind == CMD_FEAT && code == 211 &&
				  !rw->cfg.allow_auth;
		return 0;
	}
	reply_done(rw, code, c != NULL);
	return 0;
}

/* --- feeding -------------------------------------------------------- */

/* Whether a complete line from `from` can be taken now. */
static int can_take_line(struct ftp_rw *rw, enum ftp_side from)
{
	if (from == FTP_CLIENT)
		return rw->fifo_len < FIFO_MAX &&
		       ob_room(&rw->out[FTP_SERVER]) >= LINE_ROOM;
	if (ob_room(&rw->out[FTP_CLIENT]) < LINE_ROOM)
		return 0;
	/* A reply made here must go out before the server's next one. */
	return !(rw->greeted && !rw->multi && !rw->collect &&
		 fifo_front_local(rw));
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

	if (rw->failed)
		return FTP_RW_FATAL;
	if (from != FTP_CLIENT && from != FTP_SERVER)
		return fatal(rw, "internal error: bad side");
	if (rw->opaque)
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
		if (r < 0 || rw->failed)
			return FTP_RW_FATAL;
		if (rw->opaque) {
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

	if (!rw || rw->failed || rw->req.kind == FTP_REQ_NONE)
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
	uint8_t a[4];
	uint16_t port;

	if (!rw || rw->failed || rw->req.kind == FTP_REQ_NONE)
		return;
	if (rw->req.kind != FTP_REQ_PASSIVE || !client_visible) {
		ftp_rw_request_failed(rw, "internal error");
		return;
	}
	port = sa_port(client_visible);
	if (port == 0) {
		ftp_rw_request_failed(rw, "no data port");
		return;
	}
	if (rw->held == HELD_EPSV) {
		snprintf(msg, sizeof(msg),
			 "229 Entering Extended Passive Mode (|||%u|)\r\n",
			 (unsigned)port);
	} else if (sa_v4(client_visible, a) == 0) {
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
	struct in6_addr a6;
	uint8_t a[4];
	uint16_t port;

	if (!rw || rw->failed || rw->req.kind == FTP_REQ_NONE)
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
	    (port = sa_port(server_side)) == 0) {
		ftp_rw_request_failed(rw, "internal error");
		return;
	}
	/* Commands to the server go in its family (a v4-mapped address is
	 * IPv4): PORT answers PORT, EPRT answers EPRT. */
	if (sa_v4(server_side, a) == 0) {
		if (rw->held_eprt)
			snprintf(msg, sizeof(msg),
				 "EPRT |1|%u.%u.%u.%u|%u|\r\n", a[0], a[1],
				 a[2], a[3], (unsigned)port);
		else
			snprintf(msg, sizeof(msg), "PORT %u,%u,%u,%u,%u,%u\r\n",
				 a[0], a[1], a[2], a[3], (unsigned)(port >> 8),
				 (unsigned)(port & 0xff));
	} else {
		if (sa_host6(server_side, &a6) < 0 ||
		    !inet_ntop(AF_INET6, &a6, host, sizeof(host))) {
			ftp_rw_request_failed(rw, "internal error");
			return;
		}
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
	return rw->failed;
}

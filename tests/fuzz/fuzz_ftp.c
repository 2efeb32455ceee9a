/* fuzz_ftp.c — libFuzzer target for the FTP rewriter: a whole session
 * driven by the input, checked for its invariants and against itself fed
 * one byte at a time.
 *
 * Input: byte 0 picks the configuration (bit 0 convert mode, bit 1 IPv6
 * server, bit 2 allow AUTH, bits 3-4 the client address, bit 5 PASV sent
 * ahead). Then data bytes
 * for the current side; 0x01 switches to the client, 0x02 to the server
 * (each starts a new segment), 0x03 cuts a feed call, 0x04 toggles slow
 * draining of the output. Bytes 0x01-0x04 are never fed; NUL is. Requests are
 * answered from the input itself, by request number, so both runs answer alike.
 */
#include "ftp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MARK_CLIENT 0x01
#define MARK_SERVER 0x02
#define MARK_SPLIT 0x03
#define MARK_SLOW 0x04

struct sess {
	struct ftp_rw *rw;
	struct ftp_rw_config cfg;
	const uint8_t *tape;
	size_t tape_len;
	unsigned nreq;
	int slow, fatal, stalled;
	unsigned drains;
	uint8_t *got[2];
	size_t glen[2], gcap[2];
};

static void die(const char *what)
{
	fprintf(stderr, "fuzz_ftp: %s\n", what);
	abort();
}

static size_t pending(struct sess *s, enum ftp_side side)
{
	size_t n;

	ftp_rw_output(s->rw, side, &n);
	if (n > FTP_OUT_MAX)
		die("output above FTP_OUT_MAX");
	return n;
}

/* Takes up to max bytes of side's output into got[side]. */
static void take(struct sess *s, enum ftp_side side, size_t max)
{
	const uint8_t *p;
	size_t n;

	p = ftp_rw_output(s->rw, side, &n);
	if (n > FTP_OUT_MAX)
		die("output above FTP_OUT_MAX");
	if (n > max)
		n = max;
	if (s->glen[side] + n > s->gcap[side]) {
		size_t cap = (s->gcap[side] + n) * 2;
		uint8_t *g = realloc(s->got[side], cap);

		if (!g)
			die("out of memory");
		s->got[side] = g;
		s->gcap[side] = cap;
	}
	if (n)
		memcpy(s->got[side] + s->glen[side], p, n);
	s->glen[side] += n;
	ftp_rw_consume(s->rw, side, n);
}

static void drain_all(struct sess *s)
{
	take(s, FTP_CLIENT, (size_t)-1);
	take(s, FTP_SERVER, (size_t)-1);
}

static void drain(struct sess *s)
{
	if (!s->slow) {
		drain_all(s);
		return;
	}
	s->drains++;
	take(s, FTP_CLIENT, 1 + s->drains * 37 % 200);
	take(s, FTP_SERVER, 1 + s->drains * 53 % 200);
}

/* Addresses are copied, never cast (aliasing). */
static int host6(const struct sockaddr_storage *ss, struct in6_addr *a)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	if (ss->ss_family == AF_INET6) {
		memcpy(&sin6, ss, sizeof(sin6));
		*a = sin6.sin6_addr;
		return 0;
	}
	if (ss->ss_family == AF_INET) {
		memcpy(&sin, ss, sizeof(sin));
		memset(a, 0, sizeof(*a));
		a->s6_addr[10] = a->s6_addr[11] = 0xff;
		memcpy(&a->s6_addr[12], &sin.sin_addr, 4);
		return 0;
	}
	return -1;
}

static unsigned port_of(const struct sockaddr_storage *ss)
{
	struct sockaddr_in6 sin6;

	/* sin_port and sin6_port share an offset; AF_UNSPEC uses sin6. */
	memcpy(&sin6, ss, sizeof(sin6));
	return ntohs(sin6.sin6_port);
}

/* A data endpoint on the client's side must be the client, unprivileged
 * (no FTP bounce). */
static void check_client_ep(struct sess *s, const struct sockaddr_storage *ep)
{
	struct in6_addr a, b;

	if (host6(ep, &a) < 0 || host6(&s->cfg.client_addr, &b) < 0 ||
	    memcmp(&a, &b, sizeof(a)) != 0)
		die("active request for a host that is not the client");
	if (port_of(ep) < 1024)
		die("active request for a privileged port");
}

static void check_server_ep(const struct sockaddr_storage *ep)
{
	if (ep->ss_family != AF_INET && ep->ss_family != AF_UNSPEC)
		die("passive target of a bad family");
	if (port_of(ep) == 0)
		die("passive target port 0");
}

static void set_addr(struct sockaddr_storage *ss, int v6, int mapped,
		     unsigned port)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	memset(ss, 0, sizeof(*ss));
	if (!v6 && !mapped) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin.sin_port = htons((uint16_t)port);
		memcpy(ss, &sin, sizeof(sin));
		return;
	}
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, mapped ? "::ffff:127.0.0.1" : "::1",
		  &sin6.sin6_addr);
	sin6.sin6_port = htons((uint16_t)port);
	memcpy(ss, &sin6, sizeof(sin6));
}

/* The first line of side's output from offset `from`, NUL-terminated. */
static void first_line(struct sess *s, enum ftp_side side, size_t from,
		       char *buf, size_t size)
{
	const uint8_t *p;
	size_t n, i;

	p = ftp_rw_output(s->rw, side, &n);
	for (i = 0; from + i < n && i + 1 < size; i++) {
		buf[i] = (char)p[from + i];
		if (p[from + i] == '\n') {
			i++;
			break;
		}
	}
	buf[i] = '\0';
}

static int is_425(const char *line, const char *why)
{
	char want[200];

	snprintf(want, sizeof(want), "425 Can't open data connection: %s.\r\n",
		 why);
	return strcmp(line, want) == 0;
}

/* The rewritten reply to the client must name exactly what was given. */
static void check_passive_line(const char *l, int v6, unsigned port)
{
	unsigned h[6];
	char tail[8];

	if (port == 0) {
		if (!is_425(l, "no data port"))
			die("port 0 listener not refused");
		return;
	}
	if (sscanf(l, "229 Entering Extended Passive Mode (|||%u|)%7s", &h[0],
		   tail) == 1) {
		if (h[0] != port || strcmp(l + strcspn(l, ")"), ")\r\n") != 0)
			die("229 written does not name the listener");
		return;
	}
	if (v6) {
		if (!is_425(l, "the tunnel's data listener is IPv6, use EPSV"))
			die("PASV answered with an IPv6 listener");
		return;
	}
	if (sscanf(l, "227 Entering Passive Mode (%u,%u,%u,%u,%u,%u).%7s",
		   &h[0], &h[1], &h[2], &h[3], &h[4], &h[5], tail) != 6 ||
	    strcmp(l + strcspn(l, ")"), ").\r\n") != 0)
		die("bad passive answer line");
	if (h[0] != 127 || h[1] != 0 || h[2] != 0 || h[3] != 1 ||
	    h[4] * 256 + h[5] != port)
		die("227 written does not name the listener");
}

static void check_active_line(const char *l, int v6, unsigned port)
{
	unsigned h[6];
	char host[64], tail[8];

	if (sscanf(l, "PORT %u,%u,%u,%u,%u,%u%7s", &h[0], &h[1], &h[2], &h[3],
		   &h[4], &h[5], tail) == 6) {
		if (v6 || h[0] != 127 || h[1] != 0 || h[2] != 0 || h[3] != 1 ||
		    h[4] > 255 || h[5] > 255 || h[4] * 256 + h[5] != port ||
		    strcmp(l + strcspn(l, "\r"), "\r\n") != 0)
			die("PORT written does not name the forward");
		return;
	}
	if (sscanf(l, "EPRT |1|%63[^|]|%u|", host, &h[0]) == 2) {
		if (v6 || strcmp(host, "127.0.0.1") != 0 || h[0] != port)
			die("EPRT |1| written does not name the forward");
		return;
	}
	if (sscanf(l, "EPRT |2|%63[^|]|%u|", host, &h[0]) == 2) {
		if (!v6 || strcmp(host, "::1") != 0 || h[0] != port)
			die("EPRT |2| written does not name the forward");
		return;
	}
	die("bad active answer line");
}

static void answer(struct sess *s)
{
	const struct ftp_req *rq = ftp_rw_request(s->rw);
	struct ftp_req req;
	struct sockaddr_storage ss;
	char line[256];
	size_t c0, s0;
	unsigned t, choice, port;
	int v6, mapped;

	req = *rq;
	t = s->tape[s->nreq % s->tape_len];
	choice = (t + s->nreq) % 7;
	port = 1024 + (t * 251u + s->nreq * 131u) % 64000u;
	if (t % 23 == 0)
		port = 0;
	s->nreq++;
	v6 = choice == 2;
	mapped = choice == 3;
	set_addr(&ss, v6, mapped, port);
	c0 = pending(s, FTP_CLIENT);
	s0 = pending(s, FTP_SERVER);

	switch (req.kind) {
	case FTP_REQ_PASSIVE:
		check_server_ep(&req.target);
		if (choice <= 3) {
			ftp_rw_passive_ready(s->rw, (struct sockaddr *)&ss);
			first_line(s, FTP_CLIENT, c0, line, sizeof(line));
			check_passive_line(line, v6, port);
		} else if (choice <= 5) {
			ftp_rw_request_failed(s->rw, "fuzz\r\n");
			first_line(s, FTP_CLIENT, c0, line, sizeof(line));
			if (!is_425(line, "fuzz"))
				die("failed passive request: no 425");
		} else {
			ftp_rw_active_ready(s->rw, (struct sockaddr *)&ss);
			first_line(s, FTP_CLIENT, c0, line, sizeof(line));
			if (!is_425(line, "internal error"))
				die("wrong answer to passive: no 425");
		}
		break;
	case FTP_REQ_ACTIVE:
		check_client_ep(s, &req.target);
		if (choice <= 3) {
			ftp_rw_active_ready(s->rw, (struct sockaddr *)&ss);
			if (port == 0) {
				if (pending(s, FTP_SERVER) != s0)
					die("PORT sent for port 0");
				break;
			}
			first_line(s, FTP_SERVER, s0, line, sizeof(line));
			check_active_line(line, v6, port);
		} else if (choice <= 5) {
			ftp_rw_request_failed(s->rw, "fuzz");
		} else {
			ftp_rw_passive_ready(s->rw, (struct sockaddr *)&ss);
		}
		if (choice > 3 && pending(s, FTP_SERVER) != s0)
			die("PORT sent after a failed active request");
		break;
	case FTP_REQ_CONVERTED:
		check_server_ep(&req.target);
		check_client_ep(s, &req.client_target);
		if (choice <= 3) {
			ftp_rw_active_ready(s->rw, NULL);
			first_line(s, FTP_CLIENT, c0, line, sizeof(line));
			if (strcmp(line, "200 PORT command successful.\r\n") &&
			    strcmp(line, "200 EPRT command successful.\r\n"))
				die("converted PORT: no 200");
		} else if (choice <= 5) {
			ftp_rw_request_failed(s->rw, "fuzz");
			first_line(s, FTP_CLIENT, c0, line, sizeof(line));
			if (!is_425(line, "fuzz"))
				die("failed converted request: no 425");
		} else {
			ftp_rw_passive_ready(s->rw, (struct sockaddr *)&ss);
			first_line(s, FTP_CLIENT, c0, line, sizeof(line));
			if (!is_425(line, "internal error"))
				die("wrong answer to converted: no 425");
		}
		if (pending(s, FTP_SERVER) != s0)
			die("bytes to the server on a converted answer");
		break;
	default:
		die("bad request kind");
	}
	if (ftp_rw_request(s->rw))
		die("request still pending after its answer");
}

/* Feeds one chunk as the glue would; a chunk that stalls with nothing
 * left to drain (the FIFO waits for replies) drops its segment's rest. */
static void feed(struct sess *s, enum ftp_side side, const uint8_t *p, size_t n)
{
	ssize_t k;
	uint8_t x = 'x';

	while (n > 0 && !s->fatal && !s->stalled) {
		k = ftp_rw_feed(s->rw, side, p, n);
		if (k == FTP_RW_FATAL) {
			s->fatal = 1;
			if (!ftp_rw_failed(s->rw) ||
			    ftp_rw_feed(s->rw, FTP_SERVER, &x, 1) !=
				FTP_RW_FATAL ||
			    ftp_rw_request(s->rw))
				die("fatal not sticky");
			break;
		}
		if (k < 0 || (size_t)k > n)
			die("bad feed count");
		p += k;
		n -= (size_t)k;
		if (ftp_rw_request(s->rw)) {
			if (ftp_rw_feed(s->rw, FTP_CLIENT, &x, 1) != 0 ||
			    ftp_rw_feed(s->rw, FTP_SERVER, &x, 1) != 0)
				die("fed while a request is pending");
			answer(s);
		}
		if (k == 0 && !ftp_rw_request(s->rw)) {
			size_t c = pending(s, FTP_CLIENT);
			size_t v = pending(s, FTP_SERVER);

			if (c == 0 && v == 0)
				s->stalled = 1;
			/* Slow: free a third at a time, so the output
			 * buffers wrap and compact while they stay full. */
			if (s->slow) {
				take(s, FTP_CLIENT, c / 3 + 1);
				take(s, FTP_SERVER, v / 3 + 1);
			} else {
				drain_all(s);
			}
			continue;
		}
		drain(s);
	}
}

static int letter(uint8_t c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

/* Every line the server gets naming a data address must be one written
 * here: the client's own PORT/EPRT never passes. The verb is the letters
 * after Telnet commands and blanks; a lenient server could read no more. */
static void check_server_lines(const struct sess *s)
{
	const uint8_t *p = s->got[FTP_SERVER], *e, *nl;
	uint8_t t[FTP_LINE_MAX];
	char v[5];
	size_t i, n, tn, vn;

	if (!p)
		return;
	e = p + s->glen[FTP_SERVER];
	for (; p < e; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(e - p));
		if (!nl)
			nl = e - 1;
		n = (size_t)(nl - p);
		for (i = tn = 0; i < n && tn < sizeof(t);) {
			if (p[i] != 255)
				t[tn++] = p[i++];
			else if (i + 1 < n && p[i + 1] == 255)
				t[tn++] = p[i], i += 2;
			else if (i + 1 < n && p[i + 1] >= 251 &&
				 p[i + 1] <= 254)
				i += 3;
			else
				i += 2;
		}
		for (i = 0;
		     i < tn && (t[i] == ' ' || t[i] == '\t' || t[i] == '\r');
		     i++)
			;
		for (vn = 0; i < tn && letter(t[i]) && vn < 5; i++)
			v[vn++] = (char)(t[i] & ~0x20);
		if (vn != 4)
			continue;
		v[4] = '\0';
		if (strcmp(v, "PORT") && strcmp(v, "EPRT"))
			continue;
		if (strncmp((const char *)p, "PORT 127,0,0,1,", 15) &&
		    strncmp((const char *)p, "EPRT |1|127.0.0.1|", 18) &&
		    strncmp((const char *)p, "EPRT |2|::1|", 12))
			die("a PORT/EPRT reached the server unrewritten");
	}
}

/* One line of out at *pos, its ending cut as ftplib cuts it. */
static size_t next_line(const uint8_t *g, size_t n, size_t *pos,
			const uint8_t **line)
{
	const uint8_t *nl;
	size_t len;

	*line = g + *pos;
	nl = memchr(*line, '\n', n - *pos);
	len = nl ? (size_t)(nl - *line) + 1 : n - *pos;
	*pos += len;
	if (len >= 2 && (*line)[len - 2] == '\r' && (*line)[len - 1] == '\n')
		return len - 2;
	if (len >= 1 && ((*line)[len - 1] == '\n' || (*line)[len - 1] == '\r'))
		return len - 1;
	return len;
}

/* No line starting 227 or 229 reaches the client unless written here:
 * then no client, however it frames replies (ftplib opens a multi-line
 * reply on any "xyz-"), can read an address that was not rewritten. */
static void check_client_replies(const struct sess *s)
{
	const uint8_t *g = s->got[FTP_CLIENT], *first;
	size_t n = s->glen[FTP_CLIENT], pos = 0, flen;
	char buf[128], tail[4];
	unsigned h[6];

	while (pos < n) {
		flen = next_line(g, n, &pos, &first);
		if (flen < 3 || (memcmp(first, "227", 3) != 0 &&
				 memcmp(first, "229", 3) != 0))
			continue;
		if (flen >= sizeof(buf))
			die("a long 227/229 reached the client");
		memcpy(buf, first, flen);
		buf[flen] = '\0';
		if (sscanf(buf, "229 Entering Extended Passive Mode (|||%u|%3s",
			   &h[0], tail) == 2 &&
		    strcmp(tail, ")") == 0)
			continue;
		if (sscanf(buf, "227 Entering Passive Mode (127,0,0,1,%u,%u%3s",
			   &h[4], &h[5], tail) == 3 &&
		    strcmp(tail, ").") == 0 && h[4] < 256 && h[5] < 256)
			continue;
		die("a 227/229 reached the client unrewritten");
	}
}

/* A session that ended says why in a last 421 line, and never that it
 * was an internal error (an output room check that failed). */
static void check_last_421(const struct sess *s)
{
	static const char want[] = "421 ftp-tunnel closed the session: ";
	const uint8_t *g = s->got[FTP_CLIENT];
	size_t n = s->glen[FTP_CLIENT], b;

	if (!g || n < 2 || g[n - 1] != '\n')
		die("session ended without a 421");
	for (b = n - 1; b > 0 && g[b - 1] != '\n'; b--)
		;
	if (n - b < sizeof(want) - 1 ||
	    memcmp(g + b, want, sizeof(want) - 1) != 0)
		die("session ended without a 421");
	if (memmem(g + b, n - b, "internal error", 14))
		die("session ended on an internal error");
}

static void run(const uint8_t *data, size_t size, int bytewise, struct sess *s)
{
	uint8_t *chunk;
	size_t i, n = 0;
	enum ftp_side side = FTP_SERVER;
	uint8_t c = data[0];

	memset(s, 0, sizeof(*s));
	s->cfg.active_mode = c & 1 ? FTP_ACTIVE_CONVERT : FTP_ACTIVE_FORWARD;
	s->cfg.server_family = c & 2 ? AF_INET6 : AF_INET;
	s->cfg.allow_auth = (c & 4) != 0;
	s->cfg.passive_ahead = (c & 32) != 0;
	switch ((c >> 3) & 3) {
	case 0:
		set_addr(&s->cfg.client_addr, 0, 0, 0);
		break;
	case 1:
		set_addr(&s->cfg.client_addr, 0, 1, 0);
		break;
	case 2:
		set_addr(&s->cfg.client_addr, 1, 0, 0);
		break;
	default:
		memset(&s->cfg.client_addr, 0, sizeof(s->cfg.client_addr));
		break;
	}
	s->tape = data;
	s->tape_len = size;
	s->rw = ftp_rw_new(&s->cfg);
	chunk = malloc(size);
	if (!s->rw || !chunk)
		die("out of memory");

	for (i = 1; i <= size; i++) {
		c = i < size ? data[i] : MARK_CLIENT;
		if (c == 0 || c > MARK_SLOW) {
			if (bytewise)
				feed(s, side, &c, 1);
			else
				chunk[n++] = c;
			continue;
		}
		if (n)
			feed(s, side, chunk, n);
		n = 0;
		if (c == MARK_CLIENT || c == MARK_SERVER) {
			side = c == MARK_CLIENT ? FTP_CLIENT : FTP_SERVER;
			s->stalled = 0;
		} else if (c == MARK_SLOW && !bytewise) {
			s->slow = !s->slow;
		}
	}
	drain_all(s);
	free(chunk);
	if (s->fatal)
		check_last_421(s);
	if (!s->cfg.allow_auth) {
		check_server_lines(s);
		check_client_replies(s);
	}
	ftp_rw_free(s->rw);
	s->rw = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sess a, b;
	int side;

	if (size < 1)
		return 0;
	run(data, size, 0, &a);
	run(data, size, 1, &b);
	if (a.fatal != b.fatal)
		die("byte-at-a-time run ended differently");
	for (side = 0; side < 2; side++)
		if (a.glen[side] != b.glen[side] ||
		    (a.glen[side] &&
		     memcmp(a.got[side], b.got[side], a.glen[side]) != 0))
			die("byte-at-a-time run gave other bytes");
	for (side = 0; side < 2; side++) {
		free(a.got[side]);
		free(b.got[side]);
	}
	return 0;
}

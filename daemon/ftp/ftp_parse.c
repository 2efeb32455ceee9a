/* ftp_parse.c — the FTP rewriter's recognisers (see ftp_parse.h): what
 * each syntax looks like on the wire, from the RFCs and the servers and
 * clients that bend them. */
#include "ftp_parse.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>

int ftp_is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

int ftp_is_alpha(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int ftp_is_blank(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static uint8_t to_upper(uint8_t c)
{
	return c >= 'a' && c <= 'z' ? (uint8_t)(c - 'a' + 'A') : c;
}

/* Case-insensitive: RFC 959 §5.3 lets commands come in either case. */
int ftp_word_is(const uint8_t *p, size_t n, const char *w)
{
	size_t i;

	if (n != strlen(w))
		return 0;
	for (i = 0; i < n; i++)
		if (to_upper(p[i]) != (uint8_t)w[i])
			return 0;
	return 1;
}

/* Copies a line's text without its Telnet commands: RFC 959 §4.1.3 has
 * clients send IAC IP, IAC DM before ABOR, e.g. "\xff\xf4\xff\xf2ABOR". */
size_t ftp_strip_telnet(const uint8_t *in, size_t n, uint8_t *out)
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
size_t ftp_text_len(const uint8_t *line, size_t len)
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
		for (d = 0; i < n && ftp_is_digit(p[i]); d++, i++)
			if (d < 3)
				x = x * 10 + (unsigned)(p[i] - '0');
		if (k < max)
			v[k] = d > 3 ? 1000 : x;
		k++;
		if (k > max || i + 1 >= n || p[i] != ',' ||
		    !ftp_is_digit(p[i + 1]))
			break;
		i++;
	}
	*end = i;
	return k;
}

/* Addresses go out by memcpy: writing a sockaddr_storage through a struct
 * sockaddr_in pointer breaks C's aliasing rules, and gcc -O2 acts on it
 * wherever -fno-strict-aliasing is left out. */
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
int ftp_parse_227(const uint8_t *p, size_t n, struct sockaddr_storage *ss)
{
	unsigned v[6];
	size_t i, end;
	int k;

	for (i = 0; i < n; i++) {
		if (!ftp_is_digit(p[i]) || (i > 0 && ftp_is_digit(p[i - 1])))
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
static int port_number(const uint8_t *p, size_t n, size_t *i)
{
	unsigned x = 0;
	size_t d;

	for (d = 0; *i < n && ftp_is_digit(p[*i]); d++, (*i)++) {
		if (d >= 5)
			return -1;
		x = x * 10 + (unsigned)(p[*i] - '0');
	}
	return d && x <= 65535 ? (int)x : -1;
}

static int is_delim(uint8_t c)
{
	/* RFC 2428 §2: any of ASCII 33-126; a digit could not frame a port. */
	return c >= 33 && c <= 126 && !ftp_is_digit(c);
}

/* A 229's port: RFC 2428 §3 "229 Entering Extended Passive Mode
 * (|||6446|)" with any delimiter; vsftpd and proftpd use '|'. The first
 * "(ddd" decides; the closing parenthesis is not required. */
int ftp_parse_229(const uint8_t *p, size_t n, struct sockaddr_storage *ss)
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
		port = port_number(p, n, &j);
		if (port <= 0 || j >= n || p[j] != d)
			return -1;
		put_v6(ss, AF_UNSPEC, NULL, (uint16_t)port);
		return 0;
	}
	return -1;
}

/* PORT's argument, exactly "h1,h2,h3,h4,p1,p2" (RFC 959 §4.1.2). */
int ftp_parse_port(const uint8_t *p, size_t n, struct sockaddr_storage *ss)
{
	unsigned v[6];
	size_t end;

	if (n == 0 || !ftp_is_digit(p[0]))
		return -1;
	if (num_run(p, n, 0, v, 6, &end) != 6 || end != n)
		return -1;
	return fill_v4(v, ss) < 0 ? -1 : 0;
}

/* EPRT's argument, RFC 2428 §2: <d><net-prt><d><net-addr><d><tcp-port><d>
 * with any delimiter, e.g. "|1|132.235.1.2|6275|" or "|2|::1|6275|".
 * Returns 0, -1 when malformed, 1 for a protocol other than 1 and 2. */
int ftp_parse_eprt(const uint8_t *p, size_t n, struct sockaddr_storage *ss)
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
	if (!ftp_is_digit(p[i]))
		return -1;
	while (i < n && ftp_is_digit(p[i]))
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
	port = port_number(p, n, &i);
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

/* A reply starts "ddd" and then ' ' or '-' (RFC 959 §4.2), but clients
 * are looser: Python's ftplib takes any line starting with three digits,
 * and "227\t(10,1,60,99,6,12)" would send it to that address. So any
 * three digits start a reply here too; sep gets the next byte (0 at the
 * end), '-' opening a multi-line reply. Returns the code or -1. */
int ftp_reply_code(const uint8_t *t, size_t n, uint8_t *sep)
{
	if (n < 3 || !ftp_is_digit(t[0]) || !ftp_is_digit(t[1]) ||
	    !ftp_is_digit(t[2]))
		return -1;
	*sep = n > 3 ? t[3] : 0;
	return (t[0] - '0') * 100 + (t[1] - '0') * 10 + (t[2] - '0');
}

/* A FEAT line naming AUTH, PBSZ or PROT (RFC 2389 §3.2: " AUTH TLS"). */
int ftp_hidden_feature(const uint8_t *t, size_t n)
{
	size_t i = 0, b;
	uint8_t sep;

	if (ftp_reply_code(t, n, &sep) >= 0 && sep == '-')
		i = 4;
	while (i < n && ftp_is_blank(t[i]))
		i++;
	for (b = i; i < n && !ftp_is_blank(t[i]); i++)
		;
	return ftp_word_is(t + b, i - b, "AUTH") ||
	       ftp_word_is(t + b, i - b, "PBSZ") ||
	       ftp_word_is(t + b, i - b, "PROT");
}

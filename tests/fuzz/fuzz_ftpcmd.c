/* fuzz_ftpcmd.c — libFuzzer target for the SFTP bridge's pure modules
 * (daemon/sftp/): each line of the input through ftpcmd_parse and the
 * argument helpers, ftppath_join/base/quote, and as a file name through
 * the LIST/NLST/MLSx formatters with attributes taken from the input's
 * first bytes, and through HELP; the whole input through TYPE A
 * conversion both ways, split at a point the input picks and with little
 * output room; the FEAT reply and the OPTS MLST texts for the facts the
 * input picks. Each result is checked against what the
 * headers promise; every buffer is allocated at its exact size so ASan
 * sees a byte read or written past it.
 *
 * Input: lines separated by LF (a CR stays in its line). The first
 * ATTR_BYTES bytes (zero-padded) also give the attributes, `now`, the
 * MLST facts, an output buffer size and a split point. */
#include "feat.h"
#include "ftpcmd.h"
#include "ftppath.h"
#include "ftpreply.h"
#include "listing.h"
#include "textmode.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ATTR_BYTES 64
/* Per input, so an input of many short lines stays fast. */
#define MAX_LINES 64

struct knobs {
	struct listing_attrs a;
	int64_t now;
	unsigned facts;
	size_t outlen; /* a buffer size to try, 0-255 */
	size_t split;
	unsigned long fx;
};

static void die(const char *what)
{
	fprintf(stderr, "fuzz_ftpcmd: %s\n", what);
	abort();
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		die("out of memory");
	return p;
}

static uint64_t take(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return v;
}

static void read_knobs(const uint8_t *data, size_t size, struct knobs *k)
{
	uint8_t b[ATTR_BYTES] = {0};

	memcpy(b, data, size < ATTR_BYTES ? size : ATTR_BYTES);
	k->a.flags = (unsigned long)take(b, 1);
	k->a.size = take(b + 1, 8);
	k->a.uid = (unsigned long)take(b + 9, 8);
	k->a.gid = (unsigned long)take(b + 17, 8);
	k->a.permissions = (unsigned long)take(b + 25, 4);
	k->a.atime = (unsigned long)take(b + 29, 4);
	k->a.mtime = (unsigned long)take(b + 33, 8);
	k->now = (int64_t)take(b + 41, 8);
	k->facts = (unsigned)take(b + 49, 1);
	k->outlen = (size_t)take(b + 50, 1);
	k->split = (size_t)take(b + 51, 4);
	k->fx = (unsigned long)take(b + 55, 1);
}

/* A NUL-terminated copy in a buffer of exactly its size. */
static char *exact(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = xmalloc(n);

	memcpy(p, s, n);
	return p;
}

static int is_upper(int c)
{
	return c >= 'A' && c <= 'Z';
}

static void check_parse(const uint8_t *line, size_t len)
{
	struct ftpcmd *c = xmalloc(sizeof(*c)), *c2 = xmalloc(sizeof(*c2));
	char *copy = xmalloc(len);
	size_t wl, k;

	memcpy(copy, line, len);
	if (ftpcmd_parse(copy, len, c) < 0) {
		if (len < FTPCMD_LINE_MAX && !memchr(line, '\0', len) &&
		    !memchr(line, '\r', len) && len >= 3 && is_upper(line[0]) &&
		    is_upper(line[1]) && is_upper(line[2]) &&
		    (len == 3 || line[3] == ' '))
			die("a plain 3-letter command was refused");
		goto out;
	}
	if (len >= FTPCMD_LINE_MAX || memchr(line, '\0', len) ||
	    memchr(line, '\r', len))
		die("a line with NUL or CR, or too long, was taken");
	wl = strlen(c->word);
	if (wl < 3 || wl > 4)
		die("word length");
	for (k = 0; k < wl; k++)
		if (!is_upper(c->word[k]))
			die("word not upper-case letters");
	if (strlen(c->arg) >= FTPCMD_LINE_MAX || strchr(c->arg, '\r'))
		die("arg too long or with CR");
	if (!c->has_arg && c->arg[0] != '\0')
		die("arg without has_arg");
	/* The argument holds only bytes of the line: it is never longer
	 * than what follows the verb and its space. */
	if (c->has_arg && strlen(c->arg) + wl + 1 > len)
		die("arg longer than the line");
	/* The word alone parses to the same verb. */
	if (ftpcmd_parse(c->word, wl, c2) < 0 || c2->verb != c->verb ||
	    c2->has_arg)
		die("the word alone parses differently");
	/* A clean line (no Telnet bytes) parses to itself. */
	if (!memchr(line, 0xff, len) && (len == 0 || line[0] != 0xf2)) {
		if (len < wl || strncasecmp((const char *)line, c->word, wl))
			die("word not from the line's start");
		if (c->has_arg && memcmp(line + wl + 1, c->arg, len - wl - 1))
			die("arg not the line's rest");
	}
out:
	free(copy);
	free(c2);
	free(c);
}

static void check_helpers(const char *arg)
{
	char *a = exact(arg);
	const char *p;
	uint64_t off;
	unsigned mode;
	int64_t t;
	char *buf = xmalloc(32);

	p = ftpcmd_list_path(a);
	if (p < a || p > a + strlen(a))
		die("list_path outside arg");
	if (ftpcmd_type(a) != 0 && ftpcmd_type(a) != 'A' &&
	    ftpcmd_type(a) != 'I')
		die("type");
	if (ftpcmd_rest(a, &off) == 0) {
		if (off > INT64_MAX)
			die("rest above 2^63-1");
		snprintf(buf, 32, "%" PRIu64, off);
		if (strlen(a) > 20 && strspn(a, "0") + strlen(buf) != strlen(a))
			die("rest value");
		if (strlen(a) <= 20 && strtoull(a, NULL, 10) != off)
			die("rest value");
	}
	if (ftpcmd_site_chmod(a, &mode, &p) == 0) {
		if (mode > 07777 || p <= a || p >= a + strlen(a))
			die("site chmod");
	}
	if (ftpcmd_mfmt(a, &t, &p) == 0) {
		if (p < a + 15 || p > a + strlen(a) || *p == '\0')
			die("mfmt path");
		/* The time formats back to the digits given (a leap second
		 * is the next minute's start). */
		if (memcmp(a + 12, "60", 2) != 0) {
			if (listing_time(t, buf, 32) != 14 ||
			    memcmp(buf, a, 14) != 0)
				die("mfmt time does not format back");
		}
	}
	free(buf);
	free(a);
}

/* ftppath_join and ftppath_quote into a buffer of exactly small bytes
 * agree with their result given room: the same text when it fits, -1
 * when not. */
static void check_path_small(const char *cwd, const char *arg, const char *want,
			     int quote_rc, size_t small)
{
	char *buf = xmalloc(small);
	int rc = ftppath_join(cwd, arg, buf, small);
	const char *p;
	size_t q;

	if (rc != (strlen(want) < small ? 0 : -1) ||
	    (rc == 0 && strcmp(buf, want) != 0))
		die("join in a small buffer");
	free(buf);
	buf = xmalloc(small);
	rc = ftppath_quote(arg, buf, small);
	for (q = 0, p = arg; *p != '\0'; p++)
		q += *p == '"';
	/* Two quotes, each '"' doubled, and the NUL. */
	if (rc != (quote_rc < 0 || strlen(arg) + q + 3 > small ? -1 : 0))
		die("quote in a small buffer");
	free(buf);
}

static void check_path(const char *arg, size_t small)
{
	static const char *cwds[] = {"/", "/home/alice", "/a/../b//c/."};
	size_t outlen = strlen(arg) + 64, k;
	char *out = xmalloc(outlen), *again = xmalloc(outlen);
	char *q = xmalloc(2 * strlen(arg) + 3);
	const char *b;

	for (k = 0; k < sizeof(cwds) / sizeof(cwds[0]); k++) {
		size_t n;

		if (ftppath_join(cwds[k], arg, out, outlen) < 0)
			die("join failed with room");
		n = strlen(out);
		if (out[0] != '/' || (n > 1 && out[n - 1] == '/') ||
		    strstr(out, "//") || strstr(out, "/./") ||
		    strstr(out, "/../") ||
		    (n >= 2 && strcmp(out + n - 2, "/.") == 0) ||
		    (n >= 3 && strcmp(out + n - 3, "/..") == 0))
			die("join result not clean");
		/* Joining a clean path again changes nothing, in a buffer
		 * just big enough; one byte less is too small. */
		if (ftppath_join("/", out, again, n + 1) < 0 ||
		    strcmp(again, out) != 0)
			die("join not idempotent");
		if (ftppath_join("/", out, again, n) != -1)
			die("join wrote past its buffer size");
		b = ftppath_base(out);
		if (b < out || b > out + n || (n > 1 && strchr(b, '/')))
			die("base");
		check_path_small(
		    cwds[k], arg, out,
		    strchr(arg, '\r') || strchr(arg, '\n') ? -1 : 0, small);
	}
	b = ftppath_base(arg);
	if (b < arg || b > arg + strlen(arg) ||
	    (strchr(b, '/') && strspn(arg, "/") != strlen(arg)))
		die("base of the raw name");
	if (ftppath_quote(arg, q, 2 * strlen(arg) + 3) == 0) {
		const char *s = q + 1;
		size_t o = 0;

		if (strchr(arg, '\r') || strchr(arg, '\n'))
			die("quote took CR or LF");
		/* Unquoting gives the path back. */
		while (*s != '\0') {
			if (*s == '"' && s[1] == '"')
				s++;
			else if (*s == '"')
				break;
			if (arg[o++] != *s++)
				die("quote changed the path");
		}
		if (arg[o] != '\0' || strcmp(s, "\"") != 0)
			die("quote not closed at the end");
	} else if (!strchr(arg, '\r') && !strchr(arg, '\n')) {
		die("quote failed with room");
	}
	free(q);
	free(again);
	free(out);
}

/* A formatted line: n == its length, CRLF at the end and nowhere else. */
static void check_line(const char *buf, int n, const char *what)
{
	if (n < 2 || (size_t)n != strlen(buf) || buf[n - 2] != '\r' ||
	    buf[n - 1] != '\n')
		die(what);
	if (strchr(buf, '\r') != buf + n - 2 ||
	    strchr(buf, '\n') != buf + n - 1)
		die(what);
}

enum fmt { F_LIST, F_LINK, F_NLST, F_MLSX };

/* One formatter into a buffer of exactly len bytes: the result checked
 * as a line when it is one; the length, or -1. */
static int format(enum fmt f, const char *name, const struct knobs *k,
		  size_t len, char **keep)
{
	char *buf = xmalloc(len);
	int n = -1;

	switch (f) {
	case F_LIST:
		n = listing_list_line(name, &k->a, k->now, buf, len);
		break;
	case F_LINK:
		n = listing_list_line_link(name, name, &k->a, k->now, buf, len);
		break;
	case F_NLST:
		n = listing_nlst_line(name, buf, len);
		break;
	case F_MLSX:
		n = listing_mlsx_line(name, &k->a, k->facts, buf, len);
		break;
	}
	if (n >= 0) {
		if ((size_t)n >= len)
			die("a line as long as its buffer");
		check_line(buf, n, "a formatted line");
	}
	if (keep != NULL)
		*keep = buf;
	else
		free(buf);
	return n;
}

static void check_listing(const char *name, const struct knobs *k)
{
	size_t big = strlen(name) * 2 + 256, nl = strlen(name), i;
	enum fmt f;
	char *buf;
	const char *sp;

	for (f = F_LIST; f <= F_MLSX; f++) {
		int n = format(f, name, k, big, NULL), m;

		if (n < 0)
			die("a formatter failed with room");
		/* Below the line's size it fails, from it on it works. */
		m = format(f, name, k, k->outlen, NULL);
		if ((m < 0) != (k->outlen <= (size_t)n) || (m >= 0 && m != n))
			die("wrong verdict on a buffer's size");
		if (format(f, name, k, (size_t)n, NULL) != -1 ||
		    format(f, name, k, (size_t)n + 1, NULL) != n)
			die("wrong verdict at the line's size");
	}
	if (format(F_NLST, name, k, big, NULL) != (int)nl + 2)
		die("nlst length");
	/* The MLSx name follows the first space, whole. */
	format(F_MLSX, name, k, big, &buf);
	sp = strchr(buf, ' ');
	if (sp == NULL || strlen(sp + 1) != nl + 2)
		die("mlsx name");
	for (i = 0; i < nl; i++)
		if (sp[1 + i] != name[i] &&
		    !(sp[1 + i] == '?' && (name[i] == '\r' || name[i] == '\n')))
			die("mlsx name changed");
	free(buf);
	(void)listing_mlst_opts(name);
}

static void check_text(const uint8_t *data, size_t size, size_t split,
		       size_t cap)
{
	char *whole = xmalloc(2 * size + 1), *parts = xmalloc(2 * size + 1);
	char *back = xmalloc(2 * size + 1);
	struct textmode t = {0}, u = {0};
	size_t used, n, m, o, cut = size ? split % (size + 1) : 0;
	int has_cr = memchr(data, '\r', size) != NULL;

	/* To the network whole, and in two parts: the same bytes. */
	n = textmode_to_net(&t, (const char *)data, size, &used, whole,
			    2 * size + 1);
	if (used != size)
		die("to_net did not take all with room");
	o = textmode_to_net(&u, (const char *)data, cut, &used, parts,
			    2 * size + 1);
	o += textmode_to_net(&u, (const char *)data + cut, size - cut, &used,
			     parts + o, 2 * size + 1 - o);
	if (o != n || memcmp(whole, parts, n) != 0)
		die("to_net differs when split");
	/* Without a CR in the file, back from the network it is the same. */
	memset(&t, 0, sizeof(t));
	m = textmode_from_net(&t, whole, n, &used, back, 2 * size + 1);
	m += textmode_from_net_end(&t, back + m, 2 * size + 1 - m);
	if (!has_cr && (m != size || memcmp(back, data, size) != 0))
		die("from_net(to_net(x)) != x");
	/* From the network whole, and in two parts. */
	memset(&t, 0, sizeof(t));
	memset(&u, 0, sizeof(u));
	n = textmode_from_net(&t, (const char *)data, size, &used, whole, size);
	n += textmode_from_net_end(&t, whole + n, size - n);
	o = textmode_from_net(&u, (const char *)data, cut, &used, parts, size);
	o += textmode_from_net(&u, (const char *)data + cut, size - cut, &used,
			       parts + o, size - o);
	o += textmode_from_net_end(&u, parts + o, size - o);
	if (o != n || memcmp(whole, parts, n) != 0)
		die("from_net differs when split");
	/* With at most cap bytes of room per call: the same bytes. */
	memset(&u, 0, sizeof(u));
	o = 0;
	for (m = 0; m < size;) {
		size_t room = 2 * size + 1 - o < cap ? 2 * size + 1 - o : cap;
		size_t w = textmode_to_net(&u, (const char *)data + m, size - m,
					   &used, back + o, room);

		if (w == 0 && used == 0)
			die("to_net made no progress");
		o += w;
		m += used;
	}
	memset(&t, 0, sizeof(t));
	n = textmode_to_net(&t, (const char *)data, size, &used, whole,
			    2 * size + 1);
	if (o != n || memcmp(whole, back, n) != 0)
		die("to_net differs with little room");
	memset(&u, 0, sizeof(u));
	o = 0;
	for (m = 0; m < size;) {
		size_t room = size - o < cap - 1 ? size - o : cap - 1;
		size_t w = textmode_from_net(&u, (const char *)data + m,
					     size - m, &used, back + o, room);

		if (w == 0 && used == 0)
			die("from_net made no progress");
		o += w;
		m += used;
	}
	o += textmode_from_net_end(&u, back + o, size - o);
	memset(&t, 0, sizeof(t));
	n = textmode_from_net(&t, (const char *)data, size, &used, whole, size);
	n += textmode_from_net_end(&t, whole + n, size - n);
	if (o != n || memcmp(whole, back, n) != 0)
		die("from_net differs with little room");
	free(back);
	free(parts);
	free(whole);
}

/* The FEAT reply and OPTS MLST's texts for the input's facts. */
static void check_feat(const struct knobs *k)
{
	char *buf = xmalloc(512), *small = xmalloc(k->outlen);
	int n = feat_reply(k->facts, buf, 512), m;

	if (n <= 0 || (size_t)n != strlen(buf))
		die("feat_reply");
	m = feat_reply(k->facts, small, k->outlen);
	if (m != ((size_t)n < k->outlen ? n : -1))
		die("feat_reply in a small buffer");
	n = listing_mlst_feat(k->facts, buf, 512);
	m = listing_mlst_feat(k->facts, small, k->outlen);
	if (n <= 0 || m != ((size_t)n < k->outlen ? n : -1))
		die("listing_mlst_feat");
	n = listing_mlst_facts(k->facts, buf, 512);
	m = listing_mlst_facts(k->facts, small, k->outlen);
	if (n < 0 || m != ((size_t)n < k->outlen ? n : -1))
		die("listing_mlst_facts");
	/* The facts written are read back as the same set. */
	if (listing_mlst_opts(buf) != (k->facts & LISTING_FACT_ALL))
		die("listing_mlst_opts(listing_mlst_facts(f)) != f");
	free(small);
	free(buf);
}

/* HELP for a word: a reply ending in CRLF, the same verdict in a small
 * buffer. */
static void check_help(const char *name, size_t outlen)
{
	char *buf = xmalloc(1024), *small = xmalloc(outlen);
	int n = feat_help(name, buf, 1024), m;

	if (n <= 0 || (size_t)n != strlen(buf) || strcmp(buf + n - 2, "\r\n"))
		die("feat_help");
	m = feat_help(name, small, outlen);
	if (m != ((size_t)n < outlen ? n : -1))
		die("feat_help in a small buffer");
	free(small);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int codes[] = {226, 250, 450, 451, 452,
				    502, 550, 552, 553};
	struct knobs k;
	struct ftpcmd *c = xmalloc(sizeof(*c));
	const uint8_t *p = data, *end = data + size;
	char *name;
	const char *text;
	int lines = 0, code;
	size_t i, j;

	read_knobs(data, size, &k);
	for (i = 0; i < 4; i++) {
		code = ftpreply_for_status(k.fx, (enum ftpreply_op)i, &text);
		if (text == NULL || strchr(text, '\r') || strchr(text, '\n'))
			die("ftpreply text");
		for (j = 0; j < sizeof(codes) / sizeof(codes[0]); j++)
			if (codes[j] == code)
				break;
		if (j == sizeof(codes) / sizeof(codes[0]))
			die("ftpreply code");
	}
	check_text(data, size, k.split, 2 + k.outlen % 7);
	check_feat(&k);
	while (p < end && lines++ < MAX_LINES) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		check_parse(p, len);
		if (ftpcmd_parse((const char *)p, len, c) == 0)
			check_helpers(c->arg);
		/* As a name or path, the line's bytes up to a NUL, CR
		 * included. */
		name = xmalloc(len + 1);
		memcpy(name, p, len);
		name[len] = '\0';
		check_path(name, k.outlen);
		check_listing(name, &k);
		check_help(name, k.outlen);
		free(name);
		p += len + (nl != NULL);
	}
	free(c);
	return 0;
}

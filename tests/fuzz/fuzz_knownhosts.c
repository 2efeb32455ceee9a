/* fuzz_knownhosts.c — libFuzzer target for the known_hosts reader
 * (daemon/ssh/knownhosts.c): every line through kh_parse_line and the verdict,
 * checked against what the header promises, and the known types through
 * kh_order_algs.
 *
 * Input: byte 0 is flags (bit 0: offer the key of the first entry rather
 * than only collect types; bits 1-2 pick the port: 22, 2222, 65535, 1),
 * then the host name up to the first newline, then the file's text, split
 * into lines at '\n' as hostkey.c reads it. */
#include "knownhosts.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libssh2 1.10's host key algorithms, certificates included. */
static const char supported[] =
    "ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"
    "ecdsa-sha2-nistp256-cert-v01@openssh.com,"
    "ecdsa-sha2-nistp384-cert-v01@openssh.com,"
    "ecdsa-sha2-nistp521-cert-v01@openssh.com,ssh-ed25519,ssh-rsa,ssh-dss,"
    "rsa-sha2-512,rsa-sha2-256";

static void die(const char *what)
{
	fprintf(stderr, "fuzz_knownhosts: %s\n", what);
	abort();
}

static void check_entry(const struct kh_line *l, const char *line, size_t len)
{
	size_t tlen = strnlen(l->type, sizeof(l->type));
	const unsigned char *k = l->key;

	if (!l->hostslen || l->hosts < line ||
	    l->hosts + l->hostslen > line + len)
		die("hosts outside the line");
	if (!tlen || tlen == sizeof(l->type))
		die("an empty or unterminated key type");
	if (l->keylen < 4 || l->keylen > sizeof(l->key))
		die("a key blob of impossible length");
	if (((size_t)k[0] << 24 | (size_t)k[1] << 16 | (size_t)k[2] << 8 |
	     k[3]) != tlen ||
	    memcmp(k + 4, l->type, tlen))
		die("a key blob of another type than the line");
	if (l->marker != KH_MARK_NONE && l->marker != KH_MARK_REVOKED &&
	    l->marker != KH_MARK_CA)
		die("a bad marker");
}

static void check_order(const struct kh_verdict *v)
{
	char out[512], copy[sizeof(supported)], *alg, *save = NULL;
	int n, commas = 0, i;

	n = kh_order_algs(v->types, v->ntypes, supported, out, sizeof(out));
	if (n <= 0)
		die("kh_order_algs gave nothing");
	for (i = 0; out[i]; i++)
		commas += out[i] == ',';
	if (commas + 1 != n)
		die("kh_order_algs miscounted");
	/* Every non-certificate algorithm exactly once. */
	memcpy(copy, supported, sizeof(supported));
	for (alg = strtok_r(copy, ",", &save); alg;
	     alg = strtok_r(NULL, ",", &save)) {
		const char *hit = strstr(out, alg);
		size_t alen = strlen(alg);
		int is_cert = strstr(alg, "-cert-") != NULL, count = 0;

		while (hit) {
			if ((hit == out || hit[-1] == ',') &&
			    (hit[alen] == ',' || !hit[alen]))
				count++;
			hit = strstr(hit + 1, alg);
		}
		if (count != !is_cert)
			die("kh_order_algs lost or repeated an algorithm");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned ports[4] = {22, 2222, 65535, 1};
	static struct kh_line l, offered;
	struct kh_verdict v;
	const char *text, *end, *p, *nl, *why;
	char host[256], name[300];
	size_t hlen;
	long lineno, nlines = 0, offered_line = 0;
	int rc, m, have = 0;
	uint8_t flags;

	if (size < 1)
		return 0;
	flags = data[0];
	text = (const char *)data + 1;
	end = (const char *)data + size;
	nl = memchr(text, '\n', (size_t)(end - text));
	if (!nl)
		return 0;
	hlen = (size_t)(nl - text);
	if (hlen >= sizeof(host) || memchr(text, '\0', hlen))
		return 0;
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	kh_name(host, ports[(flags >> 1) & 3], name, sizeof(name));
	text = nl + 1;

	/* The offered key: the first entry's, when asked. */
	for (p = text, lineno = 0; p < end && (flags & 1); p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		lineno++;
		if (kh_parse_line(p, (size_t)(nl - p), &offered, &why) == 1) {
			have = 1;
			offered_line = lineno;
			break;
		}
	}
	if (have)
		kh_verdict_init(&v, name, offered.type, offered.key,
				offered.keylen);
	else
		kh_verdict_init(&v, name, NULL, NULL, 0);

	for (p = text, lineno = 0; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		lineno++;
		why = NULL;
		rc = kh_parse_line(p, (size_t)(nl - p), &l, &why);
		if (rc < -1 || rc > 1)
			die("kh_parse_line out of range");
		if (rc == -1 && (!why || !why[0]))
			die("a bad line without a reason");
		if (rc != 1)
			continue;
		check_entry(&l, p, (size_t)(nl - p));
		m = kh_match_host(&l, name);
		if (m < -1 || m > 1)
			die("kh_match_host out of range");
		if (kh_verdict_add(&v, &l, (struct kh_where){0, lineno}) !=
		    (m == 1))
			die("kh_verdict_add disagrees with kh_match_host");
	}
	nlines = lineno;

	if (v.ntypes < 0 || v.ntypes > KH_TYPES_MAX)
		die("too many types");
	switch (v.status) {
	case KH_UNKNOWN:
		break;
	case KH_MATCH:
		if (!have || v.match.line < 1 || v.match.line > nlines)
			die("a match from nowhere");
		break;
	case KH_REVOKED:
		if (!have || v.revoked.line < 1 || v.revoked.line > nlines)
			die("a revocation from nowhere");
		break;
	case KH_CHANGED:
		if (!have || v.changed.line < 1 || v.changed.line > nlines ||
		    !v.changed_type[0])
			die("a change from nowhere");
		break;
	default:
		die("a bad status");
	}
	/* The offered key came from a plain entry for this host: it is
	 * known, unless a @revoked line lists it. */
	if (have && offered.marker == KH_MARK_NONE &&
	    kh_match_host(&offered, name) == 1 &&
	    (v.status != KH_MATCH || v.match.line > offered_line) &&
	    v.status != KH_REVOKED)
		die("the offered key's own entry did not match");
	check_order(&v);
	return 0;
}

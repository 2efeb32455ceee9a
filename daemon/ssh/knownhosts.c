/* knownhosts.c — OpenSSH known_hosts lines parsed and matched without I/O:
 * markers, host patterns, hashed names, key blobs, and the verdict on one
 * offered key; also the host key algorithm order that prefers known keys.
 * The format is sshd(8)'s "SSH_KNOWN_HOSTS FILE FORMAT"; where OpenSSH
 * (hostfile.c, match.c) is lenient or strict, this reader is the same. */
#include "knownhosts.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* A hashed name: "|1|" base64(20-byte salt) "|" base64(HMAC-SHA1). */
#define HASH_MAGIC "|1|"
#define SHA1_LEN 20

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The next blank-separated word of [*p, end): start and length, or 0. */
static size_t next_word(const char **p, const char *end, const char **word)
{
	const char *s = *p, *e;

	while (s < end && is_blank(*s))
		s++;
	for (e = s; e < end && !is_blank(*e); e++)
		;
	*word = s;
	*p = e;
	return (size_t)(e - s);
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict base64 (padding optional, only at the end). Returns the decoded
 * length, or -1 when malformed or longer than cap. */
static long b64_decode(const char *in, size_t len, unsigned char *out,
		       size_t cap)
{
	size_t i, n = 0, pad = 0;
	uint32_t acc = 0;
	int bits = 0, v;

	while (pad < 2 && len > 0 && in[len - 1] == '=') {
		len--;
		pad++;
	}
	if (len % 4 == 1 || (pad && (len + pad) % 4))
		return -1;
	for (i = 0; i < len; i++) {
		v = b64_value((unsigned char)in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == cap)
				return -1;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return (long)n;
}

/* The key type a blob names: its first SSH string. */
static int blob_type_is(const unsigned char *b, size_t len, const char *type)
{
	size_t tlen = strlen(type), n;

	if (len < 4)
		return 0;
	n = (size_t)b[0] << 24 | (size_t)b[1] << 16 | (size_t)b[2] << 8 | b[3];
	return n == tlen && n <= len - 4 && !memcmp(b + 4, type, n);
}

/* Splits "|1|salt|hash" into its decoded halves; -1 when malformed. */
static int parse_hashed(const char *h, size_t len, unsigned char *salt,
			unsigned char *hash)
{
	const char *s, *bar, *end = h + len;

	if (len < strlen(HASH_MAGIC) || memcmp(h, HASH_MAGIC, 3))
		return -1;
	s = h + strlen(HASH_MAGIC);
	bar = memchr(s, '|', (size_t)(end - s));
	if (!bar)
		return -1;
	if (b64_decode(s, (size_t)(bar - s), salt, SHA1_LEN) != SHA1_LEN ||
	    b64_decode(bar + 1, (size_t)(end - bar - 1), hash, SHA1_LEN) !=
		SHA1_LEN)
		return -1;
	return 0;
}

int kh_parse_line(const char *line, size_t len, struct kh_line *out,
		  const char **why)
{
	const char *p = line, *end = line + len, *w;
	unsigned char salt[SHA1_LEN], hash[SHA1_LEN];
	size_t n;
	long keylen;

	if (memchr(line, '\0', len)) {
		*why = "a NUL byte in the line";
		return -1;
	}
	while (end > p && (end[-1] == '\n' || is_blank(end[-1])))
		end--;
	while (p < end && is_blank(*p))
		p++;
	if (p == end || *p == '#')
		return 0;
	out->marker = KH_MARK_NONE;
	if (*p == '@') {
		n = next_word(&p, end, &w);
		if (n == 8 && !memcmp(w, "@revoked", 8)) {
			out->marker = KH_MARK_REVOKED;
		} else if (n == 15 && !memcmp(w, "@cert-authority", 15)) {
			out->marker = KH_MARK_CA;
		} else {
			*why = "an unknown marker (only @revoked and "
			       "@cert-authority exist)";
			return -1;
		}
	}
	out->hostslen = next_word(&p, end, &out->hosts);
	if (!out->hostslen) {
		*why = "no host names after the marker";
		return -1;
	}
	if (out->hosts[0] == '|' &&
	    parse_hashed(out->hosts, out->hostslen, salt, hash) < 0) {
		*why = "a hashed host name not of the form |1|salt|hash";
		return -1;
	}
	n = next_word(&p, end, &w);
	if (!n) {
		*why = "no key after the host names";
		return -1;
	}
	if (isdigit((unsigned char)w[0])) {
		/* "bits exponent modulus": SSH protocol 1, which OpenSSH
		 * has not read since 7.4. */
		*why = "an SSH protocol 1 key, which nothing reads any more";
		return -1;
	}
	if (n >= KH_TYPE_MAX) {
		*why = "a key type name too long";
		return -1;
	}
	memcpy(out->type, w, n);
	out->type[n] = '\0';
	n = next_word(&p, end, &w);
	if (!n) {
		*why = "no key after the key type";
		return -1;
	}
	keylen = b64_decode(w, n, out->key, sizeof(out->key));
	if (keylen < 0) {
		*why = "a key that is not base64 or too long";
		return -1;
	}
	out->keylen = (size_t)keylen;
	if (!blob_type_is(out->key, out->keylen, out->type)) {
		*why = "a key that is not of the type the line names";
		return -1;
	}
	/* What follows is a comment. */
	return 1;
}

void kh_name(const char *host, unsigned port, char *out, size_t outlen)
{
	size_t i;
	int n;

	if (port == 22)
		n = snprintf(out, outlen, "%s", host);
	else
		n = snprintf(out, outlen, "[%s]:%u", host, port);
	if (n < 0)
		return;
	/* OpenSSH looks names up (and hashes them) in lower case. */
	for (i = 0; i < outlen && out[i]; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
}

/* '*' and '?' glob, case-insensitive as OpenSSH's match_hostname. Going
 * back only to the last '*' keeps it O(len(s) * len(p)) on any input. */
static int glob_match(const char *s, size_t slen, const char *p, size_t plen)
{
	size_t si = 0, pi = 0, star = SIZE_MAX, mark = 0;

	while (si < slen) {
		if (pi < plen && p[pi] == '*') {
			star = pi++;
			mark = si;
		} else if (pi < plen && (p[pi] == '?' ||
					 tolower((unsigned char)p[pi]) ==
					     tolower((unsigned char)s[si]))) {
			si++;
			pi++;
		} else if (star != SIZE_MAX) {
			pi = star + 1;
			si = ++mark;
		} else {
			return 0;
		}
	}
	while (pi < plen && p[pi] == '*')
		pi++;
	return pi == plen;
}

static int match_hashed(const struct kh_line *l, const char *name)
{
	unsigned char salt[SHA1_LEN], hash[SHA1_LEN], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (parse_hashed(l->hosts, l->hostslen, salt, hash) < 0)
		return 0;
	if (!HMAC(EVP_sha1(), salt, SHA1_LEN, (const unsigned char *)name,
		  strlen(name), md, &mdlen) ||
	    mdlen != SHA1_LEN)
		return 0;
	return !memcmp(md, hash, SHA1_LEN);
}

int kh_match_host(const struct kh_line *l, const char *name)
{
	const char *p = l->hosts, *end = l->hosts + l->hostslen, *comma;
	size_t nlen = strlen(name);
	int neg, found = 0;

	if (l->hostslen && l->hosts[0] == '|')
		return match_hashed(l, name);
	for (;;) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (!comma)
			comma = end;
		neg = p < comma && *p == '!';
		if (glob_match(name, nlen, p + neg,
			       (size_t)(comma - p - neg))) {
			if (neg)
				return -1;
			found = 1;
		}
		if (comma == end)
			break;
		p = comma + 1;
	}
	return found;
}

void kh_verdict_init(struct kh_verdict *v, const char *name, const char *type,
		     const unsigned char *key, size_t keylen)
{
	memset(v, 0, sizeof(*v));
	v->name = name;
	v->type = type;
	v->key = key;
	v->keylen = keylen;
}

static void add_type(struct kh_verdict *v, const char *type)
{
	int i;

	for (i = 0; i < v->ntypes; i++)
		if (!strcmp(v->types[i], type))
			return;
	if (v->ntypes < KH_TYPES_MAX)
		snprintf(v->types[v->ntypes++], KH_TYPE_MAX, "%s", type);
}

int kh_verdict_add(struct kh_verdict *v, const struct kh_line *l,
		   struct kh_where where)
{
	int same_type, same_key;

	if (kh_match_host(l, v->name) != 1)
		return 0;
	if (l->marker == KH_MARK_CA)
		return 1;
	same_type = v->type && !strcmp(l->type, v->type);
	same_key = same_type && l->keylen == v->keylen &&
		   !memcmp(l->key, v->key, v->keylen);
	if (l->marker == KH_MARK_REVOKED) {
		if (same_key && v->status != KH_REVOKED) {
			v->status = KH_REVOKED;
			v->revoked = where;
		}
		return 1;
	}
	add_type(v, l->type);
	if (!v->type)
		return 1;
	if (same_key) {
		if (v->status != KH_REVOKED && v->status != KH_MATCH) {
			v->status = KH_MATCH;
			v->match = where;
		}
		return 1;
	}
	/* Another key: remember the first, or the first of the offered
	 * type, which says more about what changed. */
	if (!v->changed.line || (same_type && !v->changed_same_type)) {
		v->changed = where;
		v->changed_same_type = same_type;
		snprintf(v->changed_type, sizeof(v->changed_type), "%s",
			 l->type);
	}
	if (v->status == KH_UNKNOWN)
		v->status = KH_CHANGED;
	return 1;
}

/* OpenSSH's default HostKeyAlgorithms order (ssh_config(5)) without the
 * certificates, then the two it no longer enables by default but libssh2
 * may need for old servers. */
static const char *const openssh_order[] = {
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "rsa-sha2-512",
    "rsa-sha2-256",
    "ssh-rsa",
    "ssh-dss",
};
#define NORDER (sizeof(openssh_order) / sizeof(openssh_order[0]))

/* Whether host key algorithm alg signs with keys of this type. */
static int alg_is_type(const char *alg, size_t alen, const char *type)
{
	if ((alen == 12 && !memcmp(alg, "rsa-sha2-256", 12)) ||
	    (alen == 12 && !memcmp(alg, "rsa-sha2-512", 12)))
		return !strcmp(type, "ssh-rsa");
	return alen == strlen(type) && !memcmp(alg, type, alen);
}

static int is_cert_alg(const char *alg, size_t alen)
{
	static const char tail[] = "-cert-v01@openssh.com";
	size_t tlen = sizeof(tail) - 1;

	return alen >= tlen && !memcmp(alg + alen - tlen, tail, tlen);
}

/* Position of [alg, alg+alen) in openssh_order, or NORDER. */
static size_t order_of(const char *alg, size_t alen)
{
	size_t i;

	for (i = 0; i < NORDER; i++)
		if (strlen(openssh_order[i]) == alen &&
		    !memcmp(openssh_order[i], alg, alen))
			break;
	return i;
}

int kh_order_algs(const char (*known)[KH_TYPE_MAX], int nknown,
		  const char *supported, char *out, size_t outlen)
{
	const char *p, *comma;
	size_t alen, rank, used = 0;
	int pass, k, is_known, count = 0;

	if (!outlen)
		return -1;
	out[0] = '\0';
	/* Pass 0: the known types; pass 1: the rest. Within each, ranks
	 * 0..NORDER-1 follow OpenSSH, rank NORDER keeps libssh2's order for
	 * algorithms OpenSSH's list does not name. */
	for (pass = 0; pass < 2; pass++) {
		for (rank = 0; rank <= NORDER; rank++) {
			for (p = supported; *p;
			     p = *comma ? comma + 1 : comma) {
				comma = strchr(p, ',');
				if (!comma)
					comma = p + strlen(p);
				alen = (size_t)(comma - p);
				if (!alen || is_cert_alg(p, alen) ||
				    order_of(p, alen) != rank)
					continue;
				is_known = 0;
				for (k = 0; k < nknown; k++)
					is_known |=
					    alg_is_type(p, alen, known[k]);
				if (is_known != (pass == 0))
					continue;
				if (used + alen + (used ? 1 : 0) >= outlen)
					return -1;
				if (used)
					out[used++] = ',';
				memcpy(out + used, p, alen);
				used += alen;
				out[used] = '\0';
				count++;
			}
		}
	}
	return count;
}

/* knownhosts.h — a pure reader of OpenSSH known_hosts lines (sshd(8),
 * "SSH_KNOWN_HOSTS FILE FORMAT") and the verdict they give on a host's key:
 * no files, no libssh2, no logging, so it can be fuzzed. hostkey.c reads
 * the files, logs and decides what to do with the verdict.
 *
 * A line is one of: blank or a comment (ignored); an entry
 * "[@revoked|@cert-authority] hosts keytype base64-key [comment]", where
 * hosts is a comma-separated list of patterns ('*', '?', a leading '!'
 * negates, "[host]:port" for ports other than 22) or one hashed name
 * "|1|base64-salt|base64-HMAC-SHA1"; or a bad line, which the caller
 * reports and skips — it never hides the lines after it. */
#ifndef KNOWNHOSTS_H
#define KNOWNHOSTS_H

#include <stddef.h>

/* Longest line read (a 16384-bit RSA key takes under 3 KiB of base64;
 * the rest is room for long host lists). */
#define KH_LINE_MAX 65536
/* Largest decoded key blob, and longest key type name. */
#define KH_KEY_MAX 8192
#define KH_TYPE_MAX 64
/* Distinct key types remembered for one host. */
#define KH_TYPES_MAX 16

enum kh_marker { KH_MARK_NONE, KH_MARK_REVOKED, KH_MARK_CA };

/* One entry; hosts is borrowed from the line given to kh_parse_line. */
struct kh_line {
	enum kh_marker marker;
	const char *hosts;
	size_t hostslen;
	char type[KH_TYPE_MAX];
	unsigned char key[KH_KEY_MAX]; /* the key blob, as sent in SSH */
	size_t keylen;
};

/* Parses one line of len bytes (a trailing "\n" or "\r\n" is allowed, a
 * NUL byte is not). Returns 1 with *out filled for an entry, 0 for a blank
 * or comment line, or -1 with a static reason in *why for a bad line. */
int kh_parse_line(const char *line, size_t len, struct kh_line *out,
		  const char **why);

/* Writes to out the name known_hosts records for host and port: the
 * lower-cased host, or "[host]:port" when port is not 22. */
void kh_name(const char *host, unsigned port, char *out, size_t outlen);

/* Whether entry l is for name (as kh_name writes it): 1 when a pattern
 * (or the hashed name) matches, 0 when none does, -1 when a negated
 * pattern matches, which excludes the host whatever else matches. */
int kh_match_host(const struct kh_line *l, const char *name);

/* Where an entry was: the caller's file index and 1-based line. */
struct kh_where {
	int file;
	long line;
};

enum kh_status {
	KH_UNKNOWN, /* no entry for the host */
	KH_MATCH,   /* the offered key is listed for the host */
	KH_CHANGED, /* the host has other keys (of this or another type) */
	KH_REVOKED, /* the offered key is listed under @revoked */
};

/* The verdict over every line of every file, fed one entry at a time. The
 * offered key (type and blob) is borrowed; with type NULL only the known
 * types are collected (to order the host key algorithms). */
struct kh_verdict {
	const char *name;
	const char *type;
	const unsigned char *key;
	size_t keylen;
	enum kh_status status;
	struct kh_where match, revoked;
	/* The first known key that is not the offered one: one of the
	 * offered type when there is one, else of another type. */
	struct kh_where changed;
	char changed_type[KH_TYPE_MAX];
	int changed_same_type;
	/* Types of the host's keys (not revoked, not CA), in file order. */
	char types[KH_TYPES_MAX][KH_TYPE_MAX];
	int ntypes;
};

void kh_verdict_init(struct kh_verdict *v, const char *name, const char *type,
		     const unsigned char *key, size_t keylen);
/* Adds entry l, found at where. Returns 1 when the entry is for the host
 * (a @cert-authority one too, which adds nothing), else 0. */
int kh_verdict_add(struct kh_verdict *v, const struct kh_line *l,
		   struct kh_where where);

/* Writes to out the host key algorithms of supported (a comma-separated
 * list) in OpenSSH's order, those whose key type is among known[0..n-1]
 * first; certificate algorithms are left out (no host certificates are
 * checked). Returns the number of algorithms written, or -1 when out is too
 * small. */
int kh_order_algs(const char (*known)[KH_TYPE_MAX], int nknown,
		  const char *supported, char *out, size_t outlen);

#endif

/* hostkey.c — the host key policy: known_hosts files read line by line
 * (knownhosts.c parses and matches), the known key types preferred in the
 * handshake, and the StrictHostKeyChecking policies (yes, accept-new, no,
 * ask) for unknown hosts. A changed key — another key, or a key of another
 * type than the known ones — and a revoked key are always refused: a
 * tunnel must not run over a connection that may be intercepted. */
#include "hostkey.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "home.h"
#include "knownhosts.h"
#include "log.h"
#include "tty.h"

#define GLOBAL_KNOWN_HOSTS "/etc/ssh/ssh_known_hosts"

/* ~/ at the start of a path is the user's home, as in ssh_config(5). */
static void expand_path(const char *p, char *out, size_t outlen)
{
	if (p[0] == '~' && p[1] == '/')
		snprintf(out, outlen, "%s/%s", user_home(), p + 2);
	else
		snprintf(out, outlen, "%s", p);
}

void hostkey_user_file(const struct ssh_opts *o, char *out, size_t outlen)
{
	if (o->nknown_hosts)
		expand_path(o->known_hosts[0], out, outlen);
	else
		snprintf(out, outlen, "%s/.ssh/known_hosts", user_home());
}

/* The files read, in order: the user's (UserKnownHostsFile, every one),
 * then the system's. */
#define KH_FILES (SSH_MAX_KNOWN_HOSTS + 1)
static int known_files(const struct ssh_opts *o, char (*paths)[4096])
{
	int i, n = 0;

	hostkey_user_file(o, paths[n++], sizeof(paths[0]));
	for (i = 1; i < o->nknown_hosts; i++)
		expand_path(o->known_hosts[i], paths[n++], sizeof(paths[0]));
	snprintf(paths[n++], sizeof(paths[0]), "%s", GLOBAL_KNOWN_HOSTS);
	return n;
}

/* Reads one line of f into buf (at most cap bytes kept). Returns its
 * length, -2 when it was longer than cap (the rest is skipped), or -1 at
 * the end of the file. */
static long read_line(FILE *f, char *buf, size_t cap)
{
	size_t n = 0;
	int c, over = 0;

	while ((c = getc(f)) != EOF) {
		if (c == '\n')
			return over ? -2 : (long)n;
		if (n < cap)
			buf[n++] = (char)c;
		else
			over = 1;
	}
	if (!n && !over)
		return -1;
	return over ? -2 : (long)n;
}

/* Feeds every entry of one file to v. With loud, a bad line is a warning
 * naming file:line, and a @cert-authority line for the host a debug
 * message; a missing file is no error (nothing is known from it). */
static void read_known(const char *path, int file, struct kh_verdict *v,
		       int loud, char *buf, struct kh_line *l)
{
	struct kh_where where = {file, 0};
	const char *why = NULL;
	FILE *f = fopen(path, "re");
	long len;
	int rc;

	if (!f) {
		if (errno != ENOENT && loud)
			log_warn("cannot read %s: %s; its host keys are not "
				 "known",
				 path, strerror(errno));
		return;
	}
	while ((len = read_line(f, buf, KH_LINE_MAX)) != -1) {
		where.line++;
		if (len == -2) {
			rc = -1;
			why = "a line longer than 64 KiB";
		} else {
			rc = kh_parse_line(buf, (size_t)len, l, &why);
		}
		if (rc < 0 && loud)
			log_warn("%s:%ld: %s; the line is skipped (fix or "
				 "remove it)",
				 path, where.line, why);
		if (rc > 0 && kh_verdict_add(v, l, where) &&
		    l->marker == KH_MARK_CA && loud)
			log_debug("%s:%ld: @cert-authority for %s ignored: "
				  "host certificates are not supported",
				  path, where.line, v->name);
	}
	if (ferror(f) && loud)
		log_warn("cannot read %s after line %ld: %s; the rest of it is "
			 "not known",
			 path, where.line, strerror(errno));
	fclose(f);
}

/* Reads every known_hosts file into v; paths gets their names. */
static int read_all(const struct ssh_opts *o, struct kh_verdict *v, int loud,
		    char (*paths)[4096])
{
	struct kh_line *l = malloc(sizeof(*l));
	char *buf = malloc(KH_LINE_MAX);
	int i, n = known_files(o, paths);

	if (!l || !buf) {
		free(l);
		free(buf);
		return -1;
	}
	for (i = 0; i < n; i++)
		read_known(paths[i], i, v, loud, buf, l);
	free(l);
	free(buf);
	return 0;
}

void hostkey_prefer(LIBSSH2_SESSION *raw, const struct ssh_opts *o)
{
	char(*paths)[4096] = malloc(KH_FILES * sizeof(*paths));
	struct kh_verdict v;
	const char **algs = NULL;
	char name[300], supported[1024], pref[1024];
	size_t used = 0;
	int i, n;

	kh_name(o->host, o->port, name, sizeof(name));
	kh_verdict_init(&v, name, NULL, NULL, 0);
	/* Quiet: hostkey_check reads the files again and reports. */
	n = paths ? read_all(o, &v, 0, paths) : -1;
	free(paths);
	if (n < 0)
		return;
	n = libssh2_session_supported_algs(raw, LIBSSH2_METHOD_HOSTKEY, &algs);
	if (n <= 0)
		return;
	supported[0] = '\0';
	for (i = 0; i < n; i++)
		used += (size_t)snprintf(
		    supported + used,
		    used < sizeof(supported) ? sizeof(supported) - used : 0,
		    "%s%s", i ? "," : "", algs[i]);
	libssh2_free(raw, algs);
	if (used >= sizeof(supported) ||
	    kh_order_algs(v.types, v.ntypes, supported, pref, sizeof(pref)) <=
		0)
		return;
	if (libssh2_session_method_pref(raw, LIBSSH2_METHOD_HOSTKEY, pref))
		log_debug("sess %s: cannot set the host key algorithms %s",
			  name, pref);
	else
		log_debug("sess %s: host key algorithms %s", name, pref);
}

/* The name OpenSSH shows for a key type ("No ED25519 host key..."). */
static const char *type_display(const char *type)
{
	if (!strcmp(type, "ssh-ed25519"))
		return "ED25519";
	if (!strncmp(type, "ecdsa-sha2-", 11))
		return "ECDSA";
	if (!strcmp(type, "ssh-rsa"))
		return "RSA";
	if (!strcmp(type, "ssh-dss"))
		return "DSA";
	return type;
}

/* "SHA256:base64-without-padding", as OpenSSH prints fingerprints. */
static void fingerprint(LIBSSH2_SESSION *raw, char *out, size_t outlen)
{
	const unsigned char *h = (const unsigned char *)libssh2_hostkey_hash(
	    raw, LIBSSH2_HOSTKEY_HASH_SHA256);
	unsigned char b64[64];
	int n;

	if (!h) {
		snprintf(out, outlen, "(unavailable)");
		return;
	}
	n = EVP_EncodeBlock(b64, h, 32);
	while (n > 0 && b64[n - 1] == '=')
		n--;
	b64[n] = '\0';
	snprintf(out, outlen, "SHA256:%s", (char *)b64);
}

/* Appends "name type base64" to the first user file, after a newline if
 * its last line has none (else the entry would end that line). */
static int append_key(const struct ssh_opts *o, const char *name,
		      const char *type, const unsigned char *key, size_t keylen,
		      char *err, size_t errlen)
{
	char path[4096], dir[4096], *slash, *line, last = '\n';
	struct stat st;
	size_t linelen;
	int fd, rc = -1;

	line = malloc(strlen(name) + strlen(type) + 4 * (keylen / 3 + 1) + 8);
	if (!line) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	linelen = (size_t)sprintf(line, "%s %s ", name, type);
	linelen += (size_t)EVP_EncodeBlock((unsigned char *)line + linelen, key,
					   (int)keylen);
	line[linelen++] = '\n';
	hostkey_user_file(o, path, sizeof(path));
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0700); /* ~/.ssh may not exist yet */
	}
	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot record the host key in %s: %s",
			 path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == 0 && st.st_size > 0 &&
	    pread(fd, &last, 1, st.st_size - 1) != 1)
		last = '\n';
	if ((last == '\n' || write(fd, "\n", 1) == 1) &&
	    write(fd, line, linelen) == (ssize_t)linelen)
		rc = 0;
	else
		snprintf(err, errlen, "cannot write %s: %s", path,
			 strerror(errno));
	close(fd);
	if (rc == 0)
		log_warn("Permanently added '%s' (%s) to the list of known "
			 "hosts in %s.",
			 name, type_display(type), path);
out:
	free(line);
	return rc;
}

static int ask_user(const char *name, const char *keytype, const char *fp)
{
	char prompt[1024], answer[128];

	snprintf(prompt, sizeof(prompt),
		 "The authenticity of host '%s' can't be established.\n"
		 "%s key fingerprint is %s.\n"
		 "Are you sure you want to continue connecting "
		 "(yes/no/[fingerprint])? ",
		 name, keytype, fp);
	for (;;) {
		if (tty_ask(prompt, 1, answer, sizeof(answer)) < 0)
			return 0;
		if (!strcasecmp(answer, "yes") || !strcmp(answer, fp))
			return 1;
		if (!strcasecmp(answer, "no"))
			return 0;
		snprintf(prompt, sizeof(prompt),
			 "Please type 'yes', 'no' or the fingerprint: ");
	}
}

int hostkey_check(LIBSSH2_SESSION *raw, const struct ssh_opts *o, char *err,
		  size_t errlen)
{
	char(*paths)[4096] = NULL;
	struct kh_verdict v;
	const unsigned char *key;
	const char *shown;
	char name[300], fp[128], type[KH_TYPE_MAX];
	size_t keylen, tlen;
	int ktype, rc = -1;
	enum ssh_strict strict = o->strict;

	if (!(o->set & SSH_SET_STRICT))
		strict = !o->batch_mode && tty_available() ? SSH_STRICT_ASK
							   : SSH_STRICT_YES;
	key = (const unsigned char *)libssh2_session_hostkey(raw, &keylen,
							     &ktype);
	kh_name(o->host, o->port, name, sizeof(name));
	if (!key) {
		snprintf(err, errlen, "%s sent no host key", name);
		return -1;
	}
	/* The type known_hosts names is the key blob's own first string. */
	tlen = keylen >= 4 ? (size_t)key[0] << 24 | (size_t)key[1] << 16 |
				 (size_t)key[2] << 8 | key[3]
			   : 0;
	if (!tlen || tlen >= sizeof(type) || tlen > keylen - 4) {
		snprintf(err, errlen, "%s sent a host key of unknown type %d",
			 name, ktype);
		return -1;
	}
	memcpy(type, key + 4, tlen);
	type[tlen] = '\0';
	shown = type_display(type);
	fingerprint(raw, fp, sizeof(fp));
	paths = malloc(KH_FILES * sizeof(*paths));
	kh_verdict_init(&v, name, type, key, keylen);
	if (!paths || read_all(o, &v, 1, paths) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	switch (v.status) {
	case KH_MATCH:
		log_debug("sess %s: host key %s %s found in %s:%ld", name, type,
			  fp, paths[v.match.file], v.match.line);
		rc = 0;
		break;
	case KH_REVOKED:
		snprintf(err, errlen,
			 "The host key for %s is revoked: %s %s is listed "
			 "under @revoked in %s:%ld. Ask the server's "
			 "administrator for its current key. Host key "
			 "verification failed.",
			 name, type, fp, paths[v.revoked.file], v.revoked.line);
		break;
	case KH_CHANGED:
		/* Also for another type: OpenSSH would call it new, but a
		 * man in the middle picks the type, and accept-new would
		 * then accept him. Yet the server may simply have a key of
		 * the known type that libssh2 cannot use (RSA with SHA-2
		 * signatures, since OpenSSH 8.8): ssh, which can, checks the
		 * known key and records the others (UpdateHostKeys). */
		snprintf(
		    err, errlen,
		    "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! The "
		    "host key for %s changed: known %s (%s:%ld), offered "
		    "%s %s. Someone could be eavesdropping on you right "
		    "now (man-in-the-middle attack), or the host key has "
		    "just been changed. %sIf the change is expected, "
		    "remove the old key with 'ssh-keygen -R \"%s\" -f %s'. "
		    "Host key verification failed.",
		    name, v.changed_type, paths[v.changed.file], v.changed.line,
		    type, fp,
		    v.changed_same_type
			? ""
			: "If the server still has its known key, connect "
			  "once with ssh -o UpdateHostKeys=yes, which "
			  "checks that key and records the others. ",
		    name, paths[v.changed.file]);
		break;
	case KH_UNKNOWN:
		if (strict == SSH_STRICT_YES) {
			snprintf(err, errlen,
				 "No %s host key is known for %s (%s) and "
				 "StrictHostKeyChecking is yes. Add it to %s "
				 "(e.g. connect once with ssh), or use "
				 "-o StrictHostKeyChecking=accept-new. Host "
				 "key verification failed.",
				 shown, name, fp, paths[0]);
			break;
		}
		if (strict == SSH_STRICT_ASK && !ask_user(name, shown, fp)) {
			snprintf(err, errlen,
				 "Host key verification failed: the %s key %s "
				 "of %s was not accepted.",
				 shown, fp, name);
			break;
		}
		rc = append_key(o, name, type, key, keylen, err, errlen);
		break;
	}
out:
	free(paths);
	return rc;
}

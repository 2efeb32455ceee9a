/* hostkey.c — known_hosts checking as OpenSSH does it: plain and hashed
 * entries, "[host]:port" names for ports other than 22, and the
 * StrictHostKeyChecking policies (yes, accept-new, no, ask). A changed key
 * is always refused: a tunnel must not run over a connection that may be
 * intercepted. */
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
#include "log.h"
#include "tty.h"

#define GLOBAL_KNOWN_HOSTS "/etc/ssh/ssh_known_hosts"

void hostkey_user_file(const struct ssh_opts *o, char *out, size_t outlen)
{
	const char *p = o->nknown_hosts ? o->known_hosts[0] : NULL;

	if (p && p[0] == '~' && p[1] == '/')
		snprintf(out, outlen, "%s/%s", user_home(), p + 2);
	else if (p)
		snprintf(out, outlen, "%s", p);
	else
		snprintf(out, outlen, "%s/.ssh/known_hosts", user_home());
}

static int key_type_mask(int hostkey_type, const char **name)
{
	switch (hostkey_type) {
	case LIBSSH2_HOSTKEY_TYPE_RSA:
		*name = "RSA";
		return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
	case LIBSSH2_HOSTKEY_TYPE_DSS:
		*name = "DSA";
		return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
#ifdef LIBSSH2_HOSTKEY_TYPE_ECDSA_256
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:
		*name = "ECDSA";
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:
		*name = "ECDSA";
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_521:
		*name = "ECDSA";
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
#endif
#ifdef LIBSSH2_HOSTKEY_TYPE_ED25519
	case LIBSSH2_HOSTKEY_TYPE_ED25519:
		*name = "ED25519";
		return LIBSSH2_KNOWNHOST_KEY_ED25519;
#endif
	default:
		*name = "unknown";
		return -1;
	}
}

/* "SHA256:base64-without-padding", as OpenSSH prints fingerprints. */
static void fingerprint(LIBSSH2_SESSION *raw, char *out, size_t outlen)
{
	const unsigned char *h =
	    (const unsigned char *)libssh2_hostkey_hash(
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

/* The name under which OpenSSH records the host. */
static void known_name(const struct ssh_opts *o, char *out, size_t outlen)
{
	if (o->port == 22)
		snprintf(out, outlen, "%s", o->host);
	else
		snprintf(out, outlen, "[%s]:%u", o->host, o->port);
}

static int append_key(LIBSSH2_KNOWNHOSTS *kh, const struct ssh_opts *o,
		      const char *key, size_t keylen, int typemask,
		      const char *keytype, char *err, size_t errlen)
{
	struct libssh2_knownhost *entry = NULL;
	char name[300], path[4096], line[8192], dir[4096], *slash;
	size_t linelen = 0;
	int fd, rc = -1;

	known_name(o, name, sizeof(name));
	if (libssh2_knownhost_addc(kh, name, NULL, key, keylen, NULL, 0,
				   LIBSSH2_KNOWNHOST_TYPE_PLAIN |
				       LIBSSH2_KNOWNHOST_KEYENC_RAW | typemask,
				   &entry) ||
	    libssh2_knownhost_writeline(kh, entry, line, sizeof(line) - 1,
					&linelen,
					LIBSSH2_KNOWNHOST_FILE_OPENSSH)) {
		snprintf(err, errlen, "cannot format the host key of %s",
			 name);
		return -1;
	}
	hostkey_user_file(o, path, sizeof(path));
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0700); /* ~/.ssh may not exist yet */
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot record the host key in %s: %s",
			 path, strerror(errno));
		return -1;
	}
	if (write(fd, line, linelen) == (ssize_t)linelen)
		rc = 0;
	else
		snprintf(err, errlen, "cannot write %s: %s", path,
			 strerror(errno));
	close(fd);
	if (rc == 0)
		log_warn("Permanently added '%s' (%s) to the list of known "
			 "hosts in %s.",
			 name, keytype, path);
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
	LIBSSH2_KNOWNHOSTS *kh = NULL;
	struct libssh2_knownhost *found = NULL;
	const char *key, *keytype;
	char path[4096], name[300], fp[128];
	size_t keylen;
	int type, typemask, check, i, rc = -1;
	enum ssh_strict strict = o->strict;

	if (!(o->set & SSH_SET_STRICT))
		strict = !o->batch_mode && tty_available() ? SSH_STRICT_ASK
							   : SSH_STRICT_YES;
	key = libssh2_session_hostkey(raw, &keylen, &type);
	known_name(o, name, sizeof(name));
	if (!key) {
		snprintf(err, errlen, "%s sent no host key", name);
		return -1;
	}
	typemask = key_type_mask(type, &keytype);
	if (typemask < 0) {
		snprintf(err, errlen, "%s sent a host key of unknown type %d",
			 name, type);
		return -1;
	}
	fingerprint(raw, fp, sizeof(fp));
	kh = libssh2_knownhost_init(raw);
	if (!kh) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Missing files are fine: nothing is known yet. */
	hostkey_user_file(o, path, sizeof(path));
	libssh2_knownhost_readfile(kh, path, LIBSSH2_KNOWNHOST_FILE_OPENSSH);
	for (i = 1; i < o->nknown_hosts; i++)
		libssh2_knownhost_readfile(kh, o->known_hosts[i],
					   LIBSSH2_KNOWNHOST_FILE_OPENSSH);
	libssh2_knownhost_readfile(kh, GLOBAL_KNOWN_HOSTS,
				   LIBSSH2_KNOWNHOST_FILE_OPENSSH);

	check = libssh2_knownhost_checkp(
	    kh, o->host, o->port == 22 ? -1 : o->port, key, keylen,
	    LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW |
		typemask,
	    &found);
	switch (check) {
	case LIBSSH2_KNOWNHOST_CHECK_MATCH:
		log_debug("sess %s: host key %s %s found in known_hosts", name,
			  keytype, fp);
		rc = 0;
		break;
	case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
		snprintf(err, errlen,
			 "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED for "
			 "%s! Someone could be eavesdropping on you right now "
			 "(man-in-the-middle attack), or the host key has just "
			 "been changed. The %s key sent is %s. If the change "
			 "is expected, remove the old key with "
			 "'ssh-keygen -R \"%s\" -f %s'. Host key verification "
			 "failed.",
			 name, keytype, fp, name, path);
		break;
	case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
		if (strict == SSH_STRICT_YES) {
			snprintf(err, errlen,
				 "No %s host key is known for %s (%s) and "
				 "StrictHostKeyChecking is yes. Add it to %s "
				 "(e.g. connect once with ssh), or use "
				 "-o StrictHostKeyChecking=accept-new. Host "
				 "key verification failed.",
				 keytype, name, fp, path);
			break;
		}
		if (strict == SSH_STRICT_ASK && !ask_user(name, keytype, fp)) {
			snprintf(err, errlen,
				 "Host key verification failed: the %s key %s "
				 "of %s was not accepted.",
				 keytype, fp, name);
			break;
		}
		rc = append_key(kh, o, key, keylen, typemask, keytype, err,
				errlen);
		break;
	default:
		snprintf(err, errlen, "cannot check the host key of %s", name);
		break;
	}
	libssh2_knownhost_free(kh);
	return rc;
}

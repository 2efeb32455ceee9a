/* ssh_cipher.c — the session's cipher order. Where the CPU limits a
 * transfer, the cipher decides its speed: with libssh2 (1.10, and 1.11.1
 * measured the same), chacha20-poly1305 is the fastest it has, its
 * aes-ctr next, and its AES-GCM (1.11) slower than aes-ctr (bench/README.md
 * "libssh2's own limit"). libssh2 1.10 has neither chacha20 nor GCM, and
 * then the order is its own. */
#include "ssh_cipher.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

static const char *const preferred[] = {
    "chacha20-poly1305@openssh.com",
    "aes128-ctr",
    "aes192-ctr",
    "aes256-ctr",
    "aes256-gcm@openssh.com",
    "aes128-gcm@openssh.com",
};
#define NPREFERRED (sizeof(preferred) / sizeof(preferred[0]))

/* Whether the comma list has the name (whole items only). */
static int in_list(const char *list, const char *name, size_t len)
{
	const char *p = list;

	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == len && !memcmp(p, name, len))
			return 1;
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

/* Appends name[0..len) to out (comma first unless empty). -1 if full. */
static int append(char *out, size_t outlen, size_t *used, const char *name,
		  size_t len)
{
	size_t need = len + (*used ? 1 : 0);

	if (*used + need + 1 > outlen)
		return -1;
	if (*used)
		out[(*used)++] = ',';
	memcpy(out + *used, name, len);
	*used += len;
	out[*used] = '\0';
	return 0;
}

int ssh_cipher_order(const char *supported, char *out, size_t outlen)
{
	char tmp[1024];
	size_t used = 0, i;
	const char *p = supported;

	if (!supported || !*supported || outlen == 0)
		return -1;
	tmp[0] = '\0';
	for (i = 0; i < NPREFERRED; i++) {
		size_t n = strlen(preferred[i]);

		if (in_list(supported, preferred[i], n) &&
		    append(tmp, sizeof(tmp), &used, preferred[i], n) < 0)
			return -1;
	}
	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n && !in_list(tmp, p, n) &&
		    append(tmp, sizeof(tmp), &used, p, n) < 0)
			return -1;
		if (!e)
			break;
		p = e + 1;
	}
	if (used + 1 > outlen)
		return -1;
	memcpy(out, tmp, used + 1);
	return (int)used;
}

void ssh_cipher_prefer(LIBSSH2_SESSION *raw, const char *sess_name)
{
	const char **algs = NULL;
	char supported[1024], pref[1024];
	size_t used = 0;
	int i, n;

	n = libssh2_session_supported_algs(raw, LIBSSH2_METHOD_CRYPT_CS, &algs);
	if (n <= 0)
		return;
	supported[0] = '\0';
	for (i = 0; i < n && used < sizeof(supported); i++)
		used +=
		    (size_t)snprintf(supported + used, sizeof(supported) - used,
				     "%s%s", i ? "," : "", algs[i]);
	libssh2_free(raw, algs);
	if (used >= sizeof(supported) ||
	    ssh_cipher_order(supported, pref, sizeof(pref)) < 0)
		return;
	if (libssh2_session_method_pref(raw, LIBSSH2_METHOD_CRYPT_CS, pref) ||
	    libssh2_session_method_pref(raw, LIBSSH2_METHOD_CRYPT_SC, pref))
		log_debug("sess %s: cannot set the ciphers %s", sess_name,
			  pref);
	else
		log_debug("sess %s: ciphers %s", sess_name, pref);
}

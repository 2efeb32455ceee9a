/* ipc.c — IPC framing (docs/IPC.txt): u32 length + "FTPT1 WORD\n" +
 * "key=value\n" lines, descriptors by SCM_RIGHTS. */
#include "ipc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

void ipc_init(struct ipc_msg *m, const char *word)
{
	int n = snprintf(m->text, sizeof(m->text), "%s %s\n", IPC_MAGIC, word);

	m->len = n > 0 && (size_t)n < sizeof(m->text) ? (size_t)n : 0;
}

int ipc_add(struct ipc_msg *m, const char *key, const char *value)
{
	size_t kl = strlen(key), vl = strlen(value);

	if (strchr(value, '\n') || strchr(key, '=') ||
	    m->len + kl + vl + 2 > IPC_MAX)
		return -1;
	memcpy(m->text + m->len, key, kl);
	m->text[m->len + kl] = '=';
	memcpy(m->text + m->len + kl + 1, value, vl);
	m->len += kl + vl + 2;
	m->text[m->len - 1] = '\n';
	m->text[m->len] = '\0';
	return 0;
}

int ipc_addf(struct ipc_msg *m, const char *key, const char *fmt, ...)
{
	char value[IPC_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	return ipc_add(m, key, value);
}

int ipc_word(const struct ipc_msg *m, char *out, size_t outlen)
{
	size_t ml = strlen(IPC_MAGIC), wl;
	const char *w, *end;

	if (m->len < ml + 3 || memcmp(m->text, IPC_MAGIC, ml) ||
	    m->text[ml] != ' ')
		return -1;
	w = m->text + ml + 1;
	end = memchr(w, '\n', m->len - ml - 1);
	if (!end || (wl = (size_t)(end - w)) == 0 || wl >= outlen)
		return -1;
	memcpy(out, w, wl);
	out[wl] = '\0';
	return 0;
}

int ipc_get(const struct ipc_msg *m, const char *key, int n, char *out,
	    size_t outlen)
{
	const char *p = memchr(m->text, '\n', m->len), *end = m->text + m->len;
	size_t kl = strlen(key);

	while (p && ++p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (ll > kl && !memcmp(p, key, kl) && p[kl] == '=' &&
		    n-- == 0) {
			if (ll - kl - 1 >= outlen)
				return -1;
			memcpy(out, p + kl + 1, ll - kl - 1);
			out[ll - kl - 1] = '\0';
			return 0;
		}
		p = nl;
	}
	return -1;
}

int ipc_send(int sock, const struct ipc_msg *m, int fd)
{
	uint32_t len = htonl((uint32_t)m->len);
	struct iovec iov[2] = {{&len, sizeof(len)},
			       {(void *)m->text, m->len}};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
	size_t total = sizeof(len) + m->len;
	ssize_t n;

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* A message is small: a short write is an error, not a retry. */
	return (size_t)n == total ? 0 : -EIO;
}

/* Reads exactly len bytes. 0 or -errno (-EPROTO on EOF). */
static int read_full(int sock, void *p, size_t len)
{
	while (len) {
		ssize_t n = read(sock, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPROTO;
		p = (char *)p + n;
		len -= (size_t)n;
	}
	return 0;
}

int ipc_decode(const void *buf, size_t len, struct ipc_msg *m)
{
	if (len == 0 || len > IPC_MAX)
		return -EPROTO;
	memmove(m->text, buf, len);
	m->len = len;
	m->text[len] = '\0';
	if (memchr(m->text, '\0', len))
		return -EPROTO;
	return 0;
}

int ipc_recv(int sock, struct ipc_msg *m, int *fd)
{
	uint32_t len;
	struct iovec iov = {&len, sizeof(len)};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c;
	ssize_t n;
	int rc;

	*fd = -1;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	if (n != sizeof(len)) {
		rc = n == 0 ? -EPROTO : read_full(sock, (char *)&len + n,
						  sizeof(len) - (size_t)n);
		if (rc < 0)
			goto fail;
	}
	len = ntohl(len);
	/* Checked before the read too: it bounds the read into m->text. */
	if (len == 0 || len > IPC_MAX) {
		rc = -EPROTO;
		goto fail;
	}
	rc = read_full(sock, m->text, len);
	if (rc == 0)
		rc = ipc_decode(m->text, len, m);
	if (rc < 0)
		goto fail;
	return 0;
fail:
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	return rc;
}

int ipc_connect(const char *path, int timeout_s)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = timeout_s};
	int s, rc;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (timeout_s > 0) {
		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		rc = -errno;
		close(s);
		return rc;
	}
	return s;
}

int ipc_call(const char *path, const struct ipc_msg *req, struct ipc_msg *rep,
	     int *fd, int timeout_s)
{
	int s = ipc_connect(path, timeout_s), rc;

	*fd = -1;
	if (s < 0)
		return s;
	rc = ipc_send(s, req, -1);
	if (rc == 0)
		rc = ipc_recv(s, rep, fd);
	close(s);
	return rc;
}

int ipc_socket_path(uid_t uid, char *out, size_t outlen)
{
	const char *env = secure_getenv("FTP_TUNNEL_SOCKET");
	const char *xdg = secure_getenv("XDG_RUNTIME_DIR");
	int n;

	if (env && *env)
		n = snprintf(out, outlen, "%s", env);
	else if (xdg && *xdg == '/')
		n = snprintf(out, outlen, "%s/ftp-tunnel/daemon.sock", xdg);
	else
		n = snprintf(out, outlen, "/tmp/ftp-tunnel-%u/daemon.sock",
			     (unsigned)uid);
	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

int ipc_check_dir(const char *sock_path, uid_t uid, int create)
{
	char dir[4096];
	char *slash;
	struct stat st;

	if (snprintf(dir, sizeof(dir), "%s", sock_path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return -EINVAL;
	*slash = '\0';
	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(dir, &st) < 0)
		return -errno;
	/* Another user's directory could hold a socket that impersonates
	 * the daemon: refuse it. */
	if (!S_ISDIR(st.st_mode) || st.st_uid != uid ||
	    (st.st_mode & 0077))
		return -EPERM;
	return 0;
}

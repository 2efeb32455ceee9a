/* ipc.c — IPC framing (docs/IPC.txt): u32 length + "FTPT1 WORD\n" +
 * "key=value\n" lines, descriptors by SCM_RIGHTS. */
#include "ipc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
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
	struct iovec iov[2] = {{&len, sizeof(len)}, {(void *)m->text, m->len}};
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

/* recvmsg() of up to len bytes into p with flags, retried on EINTR; *fd
 * gets a descriptor passed along, or stays as it was. The byte count or
 * -errno. */
static ssize_t recv_fd(int sock, void *p, size_t len, int flags, int *fd)
{
	struct iovec iov = {p, len};
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

	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | flags);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	return n;
}

int ipc_recv(int sock, struct ipc_msg *m, int *fd)
{
	uint32_t len;
	ssize_t n;
	int rc;

	*fd = -1;
	n = recv_fd(sock, &len, sizeof(len), MSG_WAITALL, fd);
	if (n < 0)
		return (int)n;
	if (n != sizeof(len)) {
		rc = n == 0 ? -EPROTO
			    : read_full(sock, (char *)&len + n,
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

int ipc_recv_step(int sock, struct ipc_reader *rd, struct ipc_msg *m)
{
	for (;;) {
		size_t want = sizeof(uint32_t);
		int passed = -1;
		ssize_t n;

		if (rd->len >= want) {
			uint32_t len;

			memcpy(&len, rd->buf, sizeof(len));
			len = ntohl(len);
			if (len == 0 || len > IPC_MAX)
				return -EPROTO;
			want += len;
			if (rd->len == want)
				return ipc_decode(rd->buf + sizeof(len), len,
						  m) < 0
					   ? -EPROTO
					   : 1;
		}
		n = recv_fd(sock, rd->buf + rd->len, want - rd->len,
			    MSG_DONTWAIT, &passed);
		if (passed >= 0)
			close(passed); /* no request passes one */
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			return 0;
		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EPROTO;
		rd->len += (size_t)n;
	}
}

int ipc_connect(const char *path, int timeout_s)
{
	struct sockaddr_un sun;
	struct timeval tv = {.tv_sec = timeout_s};
	char why[512];
	int dfd, pin = -1, s, rc;

	dfd = ipc_dir_open(path, getuid(), 0, why, sizeof(why));
	if (dfd < 0)
		return dfd;
	rc = ipc_sock_addr(dfd, path, getuid(), &sun, &pin, why, sizeof(why));
	close(dfd);
	if (rc < 0)
		return rc;
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		rc = -errno;
		goto out;
	}
	if (timeout_s > 0) {
		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		rc = -errno;
		close(s);
		goto out;
	}
	rc = s;
out:
	if (pin >= 0)
		close(pin);
	return rc;
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

/* The variable that moves the socket, for messages saying what to do. */
static const char *path_var(void)
{
	const char *env = secure_getenv("FTP_TUNNEL_SOCKET");

	return env && *env ? "FTP_TUNNEL_SOCKET" : "XDG_RUNTIME_DIR";
}

/* "uid 1001 (bob)" into out. */
static void describe_uid(uid_t uid, char *out, size_t len)
{
	struct passwd pw, *res = NULL;
	char buf[2048];

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res &&
	    res->pw_name)
		snprintf(out, len, "uid %u (%s)", (unsigned)uid, res->pw_name);
	else
		snprintf(out, len, "uid %u", (unsigned)uid);
}

/* Checks the directory dir (fstat of its descriptor in *st): the socket's
 * own one when last, else one on the way to it. 0, or -EACCES with why. */
static int check_component(const char *dir, const struct stat *st, uid_t uid,
			   int last, char *why, size_t whylen)
{
	char who[300];

	if (!S_ISDIR(st->st_mode)) {
		snprintf(why, whylen,
			 "%s is not a directory: remove it or set %s", dir,
			 path_var());
		return -EACCES;
	}
	describe_uid(st->st_uid, who, sizeof(who));
	if (last && st->st_uid != uid) {
		snprintf(why, whylen,
			 "%s is owned by %s, not you: remove it or set %s", dir,
			 who, path_var());
		return -EACCES;
	}
	if (last && (st->st_mode & 077)) {
		snprintf(why, whylen,
			 "%s has mode %04o, open to others: it must be 0700 "
			 "(chmod 700 %s)",
			 dir, (unsigned)(st->st_mode & 07777), dir);
		return -EACCES;
	}
	/* Whoever may rename or replace what a directory on the way holds
	 * decides what the path names: only uid and root may. */
	if (!last && st->st_uid != uid && st->st_uid != 0) {
		snprintf(
		    why, whylen,
		    "%s is owned by %s, who could replace what is in it: "
		    "set %s to a path under directories of yours or root's",
		    dir, who, path_var());
		return -EACCES;
	}
	if (!last && (st->st_mode & 022) && !(st->st_mode & S_ISVTX)) {
		snprintf(why, whylen,
			 "%s is writable by others (mode %04o) and not sticky: "
			 "set %s to a path under directories only you or root "
			 "can change",
			 dir, (unsigned)(st->st_mode & 07777), path_var());
		return -EACCES;
	}
	return 0;
}

int ipc_dir_open(const char *sock_path, uid_t uid, int create, char *why,
		 size_t whylen)
{
	char dir[4096], *slash, *p;
	struct stat st;
	int fd = -1, nfd, rc, last;

	if (snprintf(dir, sizeof(dir), "%s", sock_path) >= (int)sizeof(dir)) {
		snprintf(why, whylen, "%.200s...: path too long", sock_path);
		return -ENAMETOOLONG;
	}
	slash = strrchr(dir, '/');
	if (dir[0] != '/' || !slash || slash == dir || !slash[1]) {
		snprintf(why, whylen,
			 "%s: the daemon's socket must be an absolute path "
			 "below a directory: set %s",
			 sock_path, path_var());
		return -EINVAL;
	}
	*slash = '\0';
	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(why, whylen, "/: %s", strerror(-rc));
		goto fail;
	}
	rc = check_component("/", &st, uid, 0, why, whylen);
	if (rc < 0)
		goto fail;
	/* One component at a time, each opened relative to the one before
	 * and never through a symbolic link: what is checked is what is
	 * used, whatever happens to the path meanwhile. */
	for (p = dir + 1; *p;) {
		size_t n = strcspn(p, "/");
		char name[NAME_MAX + 1], saved;

		if (n == 0) {
			p++;
			continue;
		}
		if (n >= sizeof(name)) {
			snprintf(why, whylen, "%.200s: name too long", dir);
			rc = -ENAMETOOLONG;
			goto fail;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		last = !p[strspn(p, "/")];
		/* dir up to this component, for the messages. */
		saved = *p;
		*p = '\0';
		if (!strcmp(name, ".") || !strcmp(name, "..")) {
			snprintf(why, whylen,
				 "%s: the daemon's socket path must not hold "
				 "\".\" or \"..\": set %s",
				 sock_path, path_var());
			rc = -EINVAL;
			goto fail;
		}
		nfd = openat(fd, name,
			     O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0 && errno == ENOENT && last && create) {
			if (mkdirat(fd, name, 0700) < 0 && errno != EEXIST) {
				rc = -errno;
				snprintf(why, whylen, "cannot make %s: %s", dir,
					 strerror(-rc));
				goto fail;
			}
			nfd = openat(fd, name,
				     O_PATH | O_DIRECTORY | O_NOFOLLOW |
					 O_CLOEXEC);
		}
		if (nfd < 0) {
			rc = -errno;
			if (rc == -ENOTDIR &&
			    fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode)) {
				snprintf(why, whylen,
					 "%s is a symbolic link, which the "
					 "daemon's socket path must not go "
					 "through: set %s to the real path",
					 dir, path_var());
				rc = -EACCES;
			} else {
				snprintf(why, whylen, "%s: %s", dir,
					 strerror(-rc));
			}
			goto fail;
		}
		close(fd);
		fd = nfd;
		if (fstat(fd, &st) < 0) {
			rc = -errno;
			snprintf(why, whylen, "%s: %s", dir, strerror(-rc));
			goto fail;
		}
		rc = check_component(dir, &st, uid, last, why, whylen);
		if (rc < 0)
			goto fail;
		*p = saved;
	}
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return rc;
}

int ipc_sock_addr(int dirfd, const char *sock_path, uid_t uid,
		  struct sockaddr_un *sun, int *pin, char *why, size_t whylen)
{
	const char *name = strrchr(sock_path, '/');
	struct stat st, via;
	char who[300];
	int fd, rc;

	*pin = -1;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (!name || strlen(sock_path) >= sizeof(sun->sun_path)) {
		snprintf(why, whylen, "%.200s: path too long", sock_path);
		return -ENAMETOOLONG;
	}
	name++;
	/* O_PATH with O_NOFOLLOW opens a symbolic link itself, so fstat
	 * sees what the name is. */
	fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(why, whylen, "%s: %s", sock_path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(why, whylen, "%s: %s", sock_path, strerror(-rc));
		goto fail;
	}
	if (S_ISLNK(st.st_mode)) {
		snprintf(why, whylen,
			 "%s is a symbolic link, not ftp-tunneld's socket: "
			 "remove it",
			 sock_path);
		rc = -EACCES;
		goto fail;
	}
	if (!S_ISSOCK(st.st_mode)) {
		/* What connect() says of a file that is not a socket. */
		snprintf(why, whylen, "%s is not a socket", sock_path);
		rc = -ECONNREFUSED;
		goto fail;
	}
	if (st.st_uid != uid && st.st_uid != 0) {
		describe_uid(st.st_uid, who, sizeof(who));
		snprintf(why, whylen, "%s belongs to %s, not you: remove it",
			 sock_path, who);
		rc = -EACCES;
		goto fail;
	}
	/* connect() takes a path, and follows a link at its end: the magic
	 * link /proc/self/fd/N names exactly the inode just checked. Without
	 * /proc, the path itself, which names the same inode unless uid or
	 * root changes it: ipc_dir_open checked that nobody else can. */
	snprintf(sun->sun_path, sizeof(sun->sun_path), "/proc/self/fd/%d", fd);
	if (stat(sun->sun_path, &via) == 0 && via.st_dev == st.st_dev &&
	    via.st_ino == st.st_ino) {
		*pin = fd;
		return 0;
	}
	snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", sock_path);
	close(fd);
	return 0;
fail:
	close(fd);
	return rc;
}

int ipc_check_dir(const char *sock_path, uid_t uid, int create)
{
	char why[512];
	int fd = ipc_dir_open(sock_path, uid, create, why, sizeof(why));

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

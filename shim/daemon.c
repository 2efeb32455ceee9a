/* daemon.c — the client side of docs/IPC.txt for the shim and the wrapper:
 * one request per connection to ftp-tunneld's Unix socket, and starting the
 * daemon (common/launch.c) when it does not run. */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "launch.h"

/* How long a started daemon has to say READY. */
#define START_TIMEOUT_MS 10000

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Closes one of the shim's own descriptors. */
static void close_own(int fd)
{
	shim_reg_del(fd);
	shim_real.close(fd);
}

/* A connected socket to the daemon at path in *out (marked as the shim's
 * own, so the program cannot close it under us). 0, or -errno and why:
 * -ENOENT or -ECONNREFUSED when no daemon runs, -EACCES for a path or a
 * peer that is not uid's. */
static int dial(const char *path, uid_t uid, int timeout_s, int *out, char *why,
		size_t whylen)
{
	struct sockaddr_un ua;
	struct timeval tv = {timeout_s, 0};
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	char reason[512];
	int dfd, pin = -1, s, rc;

	/* Every directory on the way checked, and the socket itself reached
	 * without following a link (common/ipc.c). */
	dfd = ipc_dir_open(path, uid, 0, reason, sizeof(reason));
	if (dfd < 0)
		goto refused;
	shim_reg_add(dfd, SHIM_REG_OWN, NULL, 0);
	rc = ipc_sock_addr(dfd, path, uid, &ua, &pin, reason, sizeof(reason));
	close_own(dfd);
	if (rc < 0) {
		dfd = rc;
		goto refused;
	}
	if (pin >= 0)
		shim_reg_add(pin, SHIM_REG_OWN, NULL, 0);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		rc = -errno;
		goto out;
	}
	shim_reg_add(s, SHIM_REG_OWN, NULL, 0);
	/* The daemon answers a request at once or after the SSH setup it
	 * implies; the timeout bounds a daemon that hangs. */
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	do
		rc = shim_real.connect(s, (struct sockaddr *)&ua, sizeof(ua));
	while (rc < 0 && errno == EINTR);
	if (rc < 0) {
		rc = -errno;
		close_own(s);
		goto out;
	}
	/* The checks make a stranger's socket unlikely; the peer's uid
	 * makes it impossible (as the daemon checks ours). */
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 ||
	    cred.uid != uid) {
		snprintf(why, whylen,
			 "refusing the daemon socket %s: uid %u serves it, not "
			 "you",
			 path, (unsigned)cred.uid);
		close_own(s);
		rc = -EACCES;
		goto out;
	}
	*out = s;
out:
	if (pin >= 0)
		close_own(pin);
	return rc;
refused:
	if (dfd == -EACCES)
		snprintf(why, whylen, "refusing the daemon socket %s: %s", path,
			 reason);
	else
		snprintf(why, whylen, "%s", reason);
	return dfd;
}

/* Threads of one process that find no daemon start it one at a time: the
 * second one finds it running. (The daemon's own lock settles races
 * between processes.) */
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;

void shim_daemon_forked(void)
{
	/* The child has one thread; a start another thread of the parent
	 * was making is not the child's. */
	pthread_mutex_init(&start_lock, NULL);
}

/* Starts the daemon unless another thread just did: then *s is a
 * connection to it. 0 or -errno and why. */
static int start_once(const char *path, int timeout_s, int *s, char *why,
		      size_t whylen)
{
	int rc;

	pthread_mutex_lock(&start_lock);
	if (dial(path, getuid(), timeout_s, s, why, whylen) == 0) {
		pthread_mutex_unlock(&start_lock);
		return 0;
	}
	*s = -1;
	rc = shim_daemon_start(why, whylen);
	pthread_mutex_unlock(&start_lock);
	return rc;
}

int shim_daemon_request(const struct ipc_msg *req, struct ipc_msg *rep, int *fd,
			int start, int timeout_s, char *why, size_t whylen)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 64];
	uid_t uid = getuid();
	int s = -1, rc, started = 0, tries = 0;

	*fd = -1;
	/* Checked first, before any path or socket: nothing the real user
	 * controls may steer a privileged process, and no daemon serves it
	 * (the daemon serves its own uid, the process's effective one is
	 * another). Its routed connections fail, never in clear. */
	if (shim_privileged()) {
		snprintf(why, whylen,
			 "a set-user-ID or set-group-ID program, or one whose "
			 "user or group IDs differ, gets no tunneled "
			 "connection");
		return -EACCES;
	}
	if (ipc_socket_path(uid, path, sizeof(path)) < 0) {
		snprintf(why, whylen, "the daemon's socket path is too long");
		return -ENAMETOOLONG;
	}
	for (;;) {
		rc = dial(path, uid, timeout_s, &s, why, whylen);
		if (rc == 0)
			break;
		if (rc == -EACCES)
			return -EACCES;
		if (rc != -ENOENT && rc != -ECONNREFUSED) {
			snprintf(why, whylen,
				 "cannot reach ftp-tunneld at %s: %s", path,
				 strerror(-rc));
			return rc;
		}
		if (!start) {
			snprintf(why, whylen, "ftp-tunneld is not running (%s)",
				 path);
			return -ECONNREFUSED;
		}
		if (!started) {
			rc = start_once(path, timeout_s, &s, why, whylen);
			if (rc < 0)
				return rc;
			started = 1;
			if (s >= 0)
				break;
			continue;
		}
		/* READY came (from this daemon or, when two raced, from the
		 * one that lost the lock once the winner was up): the socket
		 * should answer now; allow a moment for a slow rename. */
		if (++tries > 20) {
			snprintf(
			    why, whylen,
			    "ftp-tunneld said READY but %s does not answer",
			    path);
			return -ECONNREFUSED;
		}
		sleep_ms(50);
	}
	rc = ipc_send(s, req, -1);
	if (rc == 0)
		rc = ipc_recv(s, rep, fd);
	close_own(s);
	if (rc == -EAGAIN || rc == -EWOULDBLOCK) {
		snprintf(why, whylen, "no answer from ftp-tunneld within %d s",
			 timeout_s);
		return -ETIMEDOUT;
	}
	if (rc < 0) {
		snprintf(why, whylen, "lost ftp-tunneld (%s): %s", path,
			 strerror(-rc));
		return -ECONNABORTED;
	}
	if (*fd >= 0)
		shim_reg_add(*fd, SHIM_REG_OWN, NULL, 0);
	return 0;
}

static void own_fd(int fd)
{
	shim_reg_add(fd, SHIM_REG_OWN, NULL, 0);
}

int shim_daemon_start(char *why, size_t whylen)
{
	static const struct launch_fds fds = {own_fd, close_own};
	char path[PATH_MAX];
	int rc;

	/* $FTP_TUNNELD (ftp-tunnel-wrap sets it to the daemon it found
	 * beside itself), else the built-in path; a privileged process
	 * reads no variable and starts nothing (launch.h). */
	if (launch_daemon_bin_path(0, path, sizeof(path)) < 0) {
		snprintf(why, whylen, "$FTP_TUNNELD is too long");
		return -ENAMETOOLONG;
	}
	shim_debug("starting %s", path);
	rc = launch_daemon(path, START_TIMEOUT_MS, &fds, why, whylen);
	if (rc == 0)
		shim_debug("%s is ready", path);
	return rc;
}

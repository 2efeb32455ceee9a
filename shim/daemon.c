/* daemon.c — the client side of docs/IPC.txt for the shim and the wrapper:
 * one request per connection to ftp-tunneld's Unix socket, and starting the
 * daemon (detached, readiness on a pipe) when it does not run. */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef FTP_TUNNELD_PATH
#define FTP_TUNNELD_PATH "/usr/local/bin/ftp-tunneld"
#endif

/* How long a started daemon has to say READY. */
#define START_TIMEOUT_MS 10000
/* The descriptor the daemon gets for --ready-fd. */
#define READY_FD 3

extern char **environ;

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

/* Whether an LD_PRELOAD entry is this shim. */
static int is_shim(const char *tok, size_t len)
{
	const char *base = tok, *p;
	static const char name[] = "libftptunnel";

	for (p = tok; p < tok + len; p++)
		if (*p == '/')
			base = p + 1;
	return (size_t)(tok + len - base) >= sizeof(name) - 1 &&
	       !memcmp(base, name, sizeof(name) - 1);
}

/* The daemon's environment: ours without the shim in LD_PRELOAD (the
 * daemon makes the tunnels; it must not route itself) and without the
 * routing variables (so a shim in /etc/ld.so.preload stays inert in it).
 * One allocation holding both the array and the new LD_PRELOAD; NULL on
 * ENOMEM. */
static char **daemon_env(void)
{
	static const char *const drop[] = {
	    "FTP_TUNNEL_VIA=", "FTP_TUNNEL_OPTIONS=", "FTP_TUNNEL_PORTS="};
	size_t n = 0, i, k, extra = 0, kept;
	char **env, *pre, *w;

	for (i = 0; environ && environ[i]; i++) {
		n++;
		if (!strncmp(environ[i], "LD_PRELOAD=", 11))
			extra += strlen(environ[i]) + 1;
	}
	env = malloc((n + 1) * sizeof(*env) + extra);
	if (!env)
		return NULL;
	pre = w = (char *)(env + n + 1);
	for (i = 0, k = 0; i < n; i++) {
		const char *e = environ[i], *t;
		size_t d;
		int skip = 0;

		for (d = 0; d < sizeof(drop) / sizeof(drop[0]); d++)
			if (!strncmp(e, drop[d], strlen(drop[d])))
				skip = 1;
		if (skip)
			continue;
		if (strncmp(e, "LD_PRELOAD=", 11)) {
			env[k++] = (char *)e;
			continue;
		}
		/* ld.so splits LD_PRELOAD on spaces and colons. */
		pre = w;
		memcpy(w, e, 11);
		w += 11;
		kept = 0;
		for (t = e + 11; *t;) {
			size_t len = strcspn(t, ": ");

			if (len && !is_shim(t, len)) {
				if (kept++)
					*w++ = ':';
				memcpy(w, t, len);
				w += len;
			}
			t += len;
			if (*t)
				t++;
		}
		*w++ = '\0';
		if (kept)
			env[k++] = pre;
	}
	env[k] = NULL;
	return env;
}

/* In the daemon-to-be (async-signal-safe calls only: the program may have
 * threads holding locks): a clean process, stdio on /dev/null, the pipe's
 * write end on READY_FD, nothing else open. Does not return. */
static void exec_daemon(const char *path, char **env, int wfd)
{
	static const char nl[] = "\n";
	char *argv[] = {(char *)path, "--ready-fd", "3", NULL};
	struct sigaction sa;
	sigset_t none;
	int sig, nul, w, e;
	char msg[16] = "ERR ", *p = msg + 4, digits[12];
	int nd = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (chdir("/") < 0) {
		/* The daemon works with absolute paths only. */
	}
	/* Out of the way of 0..3 first: any of them may be the pipe or
	 * closed (a program run with stdout closed). */
	w = fcntl(wfd, F_DUPFD_CLOEXEC, 10);
	nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul >= 0)
		nul = fcntl(nul, F_DUPFD_CLOEXEC, 10);
	if (w < 0 || nul < 0)
		_exit(127);
	dup2(nul, 0);
	dup2(nul, 1);
	dup2(nul, 2);
	dup2(w, READY_FD);
	if (syscall(SYS_close_range, READY_FD + 1, ~0U, 0) < 0) {
		struct rlimit rl;
		long fd, max = 65536;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		    rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < max)
			max = (long)rl.rlim_cur;
		for (fd = READY_FD + 1; fd < max; fd++)
			close((int)fd);
	}
	execve(path, argv, env);
	e = errno;
	do
		digits[nd++] = (char)('0' + e % 10);
	while ((e /= 10) && nd < (int)sizeof(digits));
	while (nd)
		*p++ = digits[--nd];
	if (write(READY_FD, msg, (size_t)(p - msg)) < 0 ||
	    write(READY_FD, nl, 1) < 0) {
		/* The parent sees EOF instead. */
	}
	_exit(127);
}

/* fork() without running the program's atfork handlers: the children only
 * exec, and the program's handlers may not expect a fork from inside
 * connect(). */
static pid_t fork_quiet(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
	return _Fork();
#else
	return fork();
#endif
}

/* Reads the daemon's readiness line from fd: 0 on "READY", else -errno
 * and why. */
static int wait_ready(int fd, const char *path, char *why, size_t whylen)
{
	char buf[64];
	size_t len = 0;
	long deadline = now_ms() + START_TIMEOUT_MS;

	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		long left = deadline - now_ms();
		char *nl;
		ssize_t n;
		int rc;

		if (left <= 0) {
			snprintf(why, whylen,
				 "%s did not become ready within %d s", path,
				 START_TIMEOUT_MS / 1000);
			return -ETIMEDOUT;
		}
		rc = poll(&p, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			continue;
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(why, whylen,
				 "%s exited before it was ready (its log may "
				 "say why)",
				 path);
			return -ECONNREFUSED;
		}
		len += (size_t)n;
		buf[len] = '\0';
		nl = strchr(buf, '\n');
		if (!nl && len < sizeof(buf) - 1)
			continue;
		if (nl)
			*nl = '\0';
		if (!strcmp(buf, "READY"))
			return 0;
		if (!strncmp(buf, "ERR ", 4)) {
			snprintf(why, whylen, "cannot start the daemon %s: %s",
				 path, strerror(atoi(buf + 4)));
			return -ECONNREFUSED;
		}
		snprintf(why, whylen, "%s said \"%.40s\" instead of READY",
			 path, buf);
		return -EPROTO;
	}
}

int shim_daemon_start(char *why, size_t whylen)
{
	/* shim_getenv: a privileged program must never start a program its
	 * caller names, nor a daemon with its privileges. */
	const char *env_path = shim_getenv("FTP_TUNNELD");
	const char *path = env_path && *env_path ? env_path : FTP_TUNNELD_PATH;
	char **env;
	int p[2], rc, st;
	pid_t pid;

	if (shim_privileged()) {
		snprintf(why, whylen,
			 "a set-user-ID or set-group-ID program does not start "
			 "ftp-tunneld; start it first as yourself");
		return -EACCES;
	}

	env = daemon_env();
	if (!env) {
		snprintf(why, whylen, "cannot start %s: out of memory", path);
		return -ENOMEM;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		rc = -errno;
		free(env);
		snprintf(why, whylen, "cannot start %s: pipe: %s", path,
			 strerror(-rc));
		return rc;
	}
	shim_reg_add(p[0], SHIM_REG_OWN, NULL, 0);
	shim_reg_add(p[1], SHIM_REG_OWN, NULL, 0);
	shim_debug("starting %s", path);
	pid = fork_quiet();
	if (pid == 0) {
		/* A session of its own, and not our child: the program must
		 * never see the daemon in wait() or its signals. */
		setsid();
		pid = fork_quiet();
		if (pid == 0)
			exec_daemon(path, env, p[1]);
		_exit(pid < 0 ? 1 : 0);
	}
	rc = pid < 0 ? -errno : 0;
	free(env);
	close_own(p[1]);
	if (pid > 0) {
		/* ECHILD: the program reaped it first (SIGCHLD handler or
		 * SIG_IGN); that's fine. */
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		rc = wait_ready(p[0], path, why, whylen);
	} else {
		snprintf(why, whylen, "cannot start %s: fork: %s", path,
			 strerror(-rc));
	}
	close_own(p[0]);
	if (rc == 0)
		shim_debug("%s is ready", path);
	return rc;
}

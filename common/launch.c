/* launch.c — starting ftp-tunneld the careful way and finding it (see
 * launch.h): the shim starts it from inside any program (threads holding
 * locks, odd signal dispositions, stdio closed), so the child does only
 * async-signal-safe work between fork and exec. */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The built-in paths, where `make install` puts the programs (mk/shim.mk
 * bakes them from BINDIR and LIBDIR). */
#ifndef FTP_TUNNELD_PATH
#define FTP_TUNNELD_PATH "/usr/local/bin/ftp-tunneld"
#endif
#ifndef FTP_TUNNEL_SHIM_PATH
#define FTP_TUNNEL_SHIM_PATH "/usr/local/lib/libftptunnel.so"
#endif

/* The descriptor the daemon gets for --ready-fd. */
#define READY_FD 3
#define SHIM_NAME "libftptunnel.so"

extern char **environ;

int launch_privileged(void)
{
	int saved = errno, priv;
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	/* AT_SECURE: ld.so's secure-execution mode (set-user-ID,
	 * set-group-ID, file capabilities, an LSM's transition). The IDs:
	 * also a process that changed its own, or may change them back (the
	 * saved IDs), without an exec. */
	if (getauxval(AT_SECURE))
		priv = 1;
	else if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		priv = 1;
	else
		priv = ru != eu || ru != su || rg != eg || rg != sg;
	errno = saved;
	return priv;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void own(const struct launch_fds *fds, int fd)
{
	if (fds && fds->own)
		fds->own(fd);
}

static void drop(const struct launch_fds *fds, int fd)
{
	if (fds && fds->close)
		fds->close(fd);
	else
		close(fd);
}

/* Whether an LD_PRELOAD entry is the shim. */
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
	static const char *const drop_vars[] = {
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

		for (d = 0; d < sizeof(drop_vars) / sizeof(drop_vars[0]); d++)
			if (!strncmp(e, drop_vars[d], strlen(drop_vars[d])))
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
static int wait_ready(int fd, const char *path, int timeout_ms, char *why,
		      size_t whylen)
{
	char buf[64];
	size_t len = 0;
	long deadline = now_ms() + timeout_ms;

	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		long left = deadline - now_ms();
		char *nl;
		ssize_t n;
		int rc;

		if (left <= 0) {
			snprintf(why, whylen,
				 "%s did not become ready within %d s", path,
				 timeout_ms / 1000);
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

int launch_daemon(const char *path, int timeout_ms,
		  const struct launch_fds *fds, char *why, size_t whylen)
{
	char **env;
	int p[2], rc, st;
	pid_t pid;

	/* A privileged program must never start a program its caller
	 * names, nor a daemon with its privileges. */
	if (launch_privileged()) {
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
	own(fds, p[0]);
	own(fds, p[1]);
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
	drop(fds, p[1]);
	if (pid > 0) {
		/* ECHILD: the program reaped it first (SIGCHLD handler or
		 * SIG_IGN); that's fine. */
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		rc = wait_ready(p[0], path, timeout_ms, why, whylen);
	} else {
		snprintf(why, whylen, "cannot start %s: fork: %s", path,
			 strerror(-rc));
	}
	drop(fds, p[0]);
	return rc;
}

int launch_self_dir(char *out, size_t outlen)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return -1;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash || (size_t)(slash - self) >= outlen)
		return -1;
	*slash = '\0';
	snprintf(out, outlen, "%s", self[0] ? self : "/");
	return 0;
}

/* dir/name into out if that is a file we may read (exec: for the
 * daemon). 0 or -1. */
static int beside(const char *dir, const char *name, int mode, char *out,
		  size_t outlen)
{
	int n = snprintf(out, outlen, "%s/%s", dir, name);

	return n > 0 && (size_t)n < outlen && access(out, mode) == 0 ? 0 : -1;
}

int launch_daemon_bin_path(int near_self, char *out, size_t outlen)
{
	const char *env = launch_privileged() ? NULL : getenv("FTP_TUNNELD");
	char dir[PATH_MAX];

	if (env && *env) {
		if (snprintf(out, outlen, "%s", env) >= (int)outlen)
			return -ENAMETOOLONG;
		return 0;
	}
	if (near_self && !launch_privileged() &&
	    launch_self_dir(dir, sizeof(dir)) == 0 &&
	    beside(dir, "ftp-tunneld", X_OK, out, outlen) == 0)
		return 0;
	if (snprintf(out, outlen, "%s", FTP_TUNNELD_PATH) >= (int)outlen)
		return -ENAMETOOLONG;
	return 0;
}

int launch_shim_near_self(char *out, size_t outlen)
{
	static const char *const rel[] = {
	    ".",
#ifdef FTP_TUNNEL_LIB_FROM_BIN
	    FTP_TUNNEL_LIB_FROM_BIN,
#endif
	    "../lib",
#ifdef FTP_TUNNEL_MULTIARCH
	    "../lib/" FTP_TUNNEL_MULTIARCH,
#endif
	};
	char dir[PATH_MAX], sub[PATH_MAX + 64];
	size_t i;

	if (launch_self_dir(dir, sizeof(dir)) < 0)
		return -ENOENT;
	for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(sub, sizeof(sub), "%s/%s", dir, rel[i]);
		if (beside(sub, SHIM_NAME, R_OK, out, outlen) < 0)
			continue;
		/* Without "..": the path goes into LD_PRELOAD and the log. */
		if (outlen >= PATH_MAX && realpath(out, sub))
			snprintf(out, outlen, "%s", sub);
		return 0;
	}
	return -ENOENT;
}

int launch_shim_path(char *out, size_t outlen)
{
	if (launch_shim_near_self(out, outlen) == 0)
		return 0;
	if (access(FTP_TUNNEL_SHIM_PATH, R_OK) == 0 &&
	    (size_t)snprintf(out, outlen, "%s", FTP_TUNNEL_SHIM_PATH) < outlen)
		return 0;
	return -ENOENT;
}

/* main.c — ftp-tunneld: the per-user daemon of the transparent
 * mode. One instance per user (a lock next to its socket); readiness is a
 * "READY" line on --ready-fd, written once the socket accepts. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"
#include "ipcsock.h"
#include "log.h"
#include "loop.h"
#include "mem.h"
#include "tunneld.h"
#include "version.h"

static void ready(int fd)
{
	if (fd < 0)
		return;
	if (write(fd, "READY\n", 6) < 0)
		log_debug("ready fd: %s", strerror(errno));
	close(fd);
}

/* Whether a daemon answers on path. */
static int daemon_answers(const char *path)
{
	struct ipc_msg req, rep;
	int fd;

	ipc_init(&req, "PING");
	/* A daemon that holds the lock but hangs must not hang us too. */
	if (ipc_call(path, &req, &rep, &fd, 2) < 0)
		return 0;
	if (fd >= 0)
		close(fd);
	return 1;
}

/* The lock file lockname in the directory dfd (path is the socket's, for
 * messages): made 0600 if missing, never through a symbolic link, and
 * only a regular file of ours. The descriptor, or -1 after saying why. */
static int open_lock(int dfd, const char *path, const char *lockname)
{
	struct stat st;
	int fd;

	fd = openat(dfd, lockname,
		    O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
	if (fd < 0 && errno == ELOOP) {
		log_err("%s.lock is a symbolic link, not ftp-tunneld's lock: "
			"remove it",
			path);
		return -1;
	}
	if (fd < 0) {
		log_err("cannot open %s.lock: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != getuid()) {
		log_err("%s.lock is not ftp-tunneld's lock (a regular file of "
			"yours): remove it",
			path);
		close(fd);
		return -1;
	}
	return fd;
}

/* The listening socket systemd passes (sd_listen_fds(3): LISTEN_PID is
 * us, LISTEN_FDS=1, the socket is fd 3), or -1. */
static int inherited_socket(void)
{
	const char *pid = getenv("LISTEN_PID"), *n = getenv("LISTEN_FDS");
	int fd = 3;

	if (!pid || !n || atoi(pid) != (int)getpid() || atoi(n) != 1)
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	log_info("using the socket systemd passed");
	return fd;
}

static void signal_cb(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct tunneld **d = arg;
	struct signalfd_siginfo si;

	(void)events;
	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGUSR1) {
		if (*d)
			tunneld_dump(*d); /* its state, into the log */
		return;
	}
	log_info("signal %u: stopping", si.ssi_signo);
	loop_stop(loop);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ftp-tunneld [-v...] [--log-file FILE] [--ready-fd N] "
		"[--idle-exit SECONDS]\n"
		"See ftp-tunneld(8).\n");
}

/* Where the log goes: --log-file, else FTP_TUNNEL_LOG (FILE, syslog or
 * stderr), else stderr when somebody reads it and syslog when it is
 * /dev/null or closed (as when the shim starts us). The level: -v
 * counts, else FTP_TUNNEL_LOG_LEVEL, else info for syslog and files (as
 * sshd) and warnings only on stderr. 0, or -1 after saying why. */
static int setup_log(const char *log_file, int nverbose)
{
	const char *env = getenv("FTP_TUNNEL_LOG");
	const char *lvl = getenv("FTP_TUNNEL_LOG_LEVEL");
	const char *where = log_file;
	int rc, level = -1, to_stderr;

	if (!where)
		where = env && *env	      ? env
			: log_stderr_useful() ? "stderr"
					      : "syslog";
	rc = log_open(where);
	if (rc < 0 && log_file) {
		log_err("cannot open the log file %s: %s", log_file,
			strerror(-rc));
		return -1;
	}
	if (rc < 0) {
		/* A bad variable must not keep the daemon from starting. */
		log_open("syslog");
		log_warn("FTP_TUNNEL_LOG=%s: %s; logging to syslog", where,
			 strerror(-rc));
		where = "syslog";
	}
	to_stderr = !strcmp(where, "stderr");
	if (lvl && *lvl) {
		level = log_parse_level(lvl);
		if (level < 0)
			log_warn("FTP_TUNNEL_LOG_LEVEL=%s: not error, warning, "
				 "info, debug or trace",
				 lvl);
	}
	if (nverbose)
		level = LOG_LVL_WARN + nverbose;
	else if (level < 0)
		level = to_stderr ? LOG_LVL_WARN : LOG_LVL_INFO;
	log_set_level(level);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"ready-fd", required_argument, NULL, 'r'},
	    {"idle-exit", required_argument, NULL, 'x'},
	    {"log-file", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	char path[108], lockname[128], why[512];
	const char *name;
	struct loop *loop;
	struct tunneld *d = NULL;
	int opt, nverbose = 0, ready_fd = -1, idle = 600;
	const char *log_file = NULL;
	int dfd, lock, lfd, sfd, owns_socket = 1;

	mem_setup();
	log_set_prefix("ftp-tunneld");
	while ((opt = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'v':
			nverbose++;
			break;
		case 'l':
			log_file = optarg;
			break;
		case 'r':
			ready_fd = atoi(optarg);
			break;
		case 'x':
			idle = atoi(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (setup_log(log_file, nverbose) < 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	if (ipc_socket_path(getuid(), path, sizeof(path)) < 0) {
		log_err("socket path too long");
		return 1;
	}
	/* Everything below happens in this directory, through its
	 * descriptor: no path is looked up again, no link followed. */
	dfd = ipc_dir_open(path, getuid(), 1, why, sizeof(why));
	if (dfd < 0) {
		log_err("%s", why);
		return 1;
	}
	name = strrchr(path, '/') + 1;
	/* One daemon per user: the lock decides; a loser waits for the
	 * winner to answer, then reports ready too. */
	snprintf(lockname, sizeof(lockname), "%s.lock", name);
	lock = open_lock(dfd, path, lockname);
	if (lock < 0)
		return 1;
	if (flock(lock, LOCK_EX | LOCK_NB) < 0) {
		/* 10 s in all, however long each unanswered PING takes. */
		time_t give_up = time(NULL) + 10;

		while (time(NULL) < give_up) {
			if (daemon_answers(path)) {
				log_info("another ftp-tunneld serves %s", path);
				ready(ready_fd);
				return 0;
			}
			usleep(100000);
		}
		log_err("another ftp-tunneld holds %s.lock but does not answer",
			path);
		return 1;
	}
	lfd = inherited_socket();
	if (lfd < 0) {
		lfd = ipcsock_listen(dfd, path, name);
		if (lfd < 0)
			return 1;
	} else {
		owns_socket = 0;
	}
	loop = loop_new();
	if (!loop) {
		log_err("cannot start: %s", strerror(errno));
		return 1;
	}
	sfd = loop_watch_signals(loop, signal_cb, &d);
	if (sfd < 0) {
		log_err("cannot start: %s", strerror(-sfd));
		return 1;
	}
	d = tunneld_new(loop, lfd, idle);
	if (!d) {
		log_err("cannot start: %s", strerror(errno));
		return 1;
	}
	log_info("ftp-tunneld %s (pid %d) listening on %s", FTP_TUNNEL_VERSION,
		 (int)getpid(), owns_socket ? path : "the inherited socket");
	ready(ready_fd);
	loop_run(loop);
	/* Remove the socket while still holding the lock: a new daemon
	 * can't have made its own yet. */
	if (owns_socket)
		unlinkat(dfd, name, 0);
	tunneld_free(d);
	loop_unwatch(loop, sfd);
	close(sfd);
	loop_free(loop);
	close(lock);
	close(dfd);
	return 0;
}

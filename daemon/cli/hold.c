/* hold.c — `ftp-tunnel -f` and `ftp-tunnel release`: the client side
 * of the daemon's HOLD and RELEASE requests (docs/IPC.txt). */
#include "hold.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

/* The tunnels of a HOLD come up within ConnectTimeout plus the login;
 * past this the daemon is taken to be stuck. */
#define HOLD_WAIT_S 120

/* ftp-tunneld: $FTP_TUNNELD, else the one next to this program. */
static void daemon_path(char *out, size_t outlen)
{
	const char *env = getenv("FTP_TUNNELD");
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if (env && *env) {
		snprintf(out, outlen, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	slash = strrchr(self, '/');
	if (n <= 0 || !slash) {
		snprintf(out, outlen, "ftp-tunneld");
		return;
	}
	snprintf(out, outlen, "%.*s/ftp-tunneld", (int)(slash - self), self);
}

/* Starts ftp-tunneld in a session of its own and waits for its READY
 * line. 0, or -1 with the reason logged. */
static int start_daemon(void)
{
	char path[PATH_MAX], buf[64];
	int p[2], st, nul;
	ssize_t n;
	pid_t pid;
	struct pollfd pf;

	daemon_path(path, sizeof(path));
	if (pipe2(p, O_CLOEXEC) < 0) {
		log_err("cannot start %s: %s", path, strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		setsid();
		if (fork() != 0)
			_exit(0);
		nul = open("/dev/null", O_RDWR);
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		if (p[1] == 3)
			fcntl(3, F_SETFD, 0); /* keep it across exec */
		else
			dup2(p[1], 3); /* dup2 clears close-on-exec */
		execl(path, path, "--ready-fd", "3", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	if (pid < 0) {
		log_err("cannot start %s: %s", path, strerror(errno));
		close(p[0]);
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	pf.fd = p[0];
	pf.events = POLLIN;
	n = poll(&pf, 1, 15000) == 1 ? read(p[0], buf, sizeof(buf) - 1) : -1;
	close(p[0]);
	if (n < 6 || strncmp(buf, "READY", 5)) {
		log_err("%s did not start (run it with -v in a terminal to see "
			"why)",
			path);
		return -1;
	}
	return 0;
}

/* One request; starts the daemon first when start is set and none runs.
 * 0 with the reply in rep, or -errno. */
static int call(struct ipc_msg *req, struct ipc_msg *rep, int start, int wait_s)
{
	char path[108];
	int rc = -ENOENT, fd;

	if (ipc_socket_path(getuid(), path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	if (ipc_check_dir(path, getuid(), 0) == 0)
		rc = ipc_call(path, req, rep, &fd, wait_s);
	if ((rc == -ENOENT || rc == -ECONNREFUSED) && start) {
		if (start_daemon() < 0)
			return -ECHILD;
		if (ipc_check_dir(path, getuid(), 0) < 0)
			return -ENOENT;
		rc = ipc_call(path, req, rep, &fd, wait_s);
	}
	if (rc == 0 && fd >= 0)
		close(fd);
	return rc;
}

static int print_error(const struct ipc_msg *rep, const char *what)
{
	char msg[1200];

	if (ipc_get(rep, "message", 0, msg, sizeof(msg)))
		snprintf(msg, sizeof(msg), "the daemon refused");
	log_err("%s: %s", what, msg);
	return 1;
}

int hold_send(struct ipc_msg *req, const char *name)
{
	struct ipc_msg rep;
	char word[16], port[16];
	int rc, i;

	rc = call(req, &rep, 1, HOLD_WAIT_S);
	if (rc == -ECHILD)
		return 255;
	if (rc < 0) {
		log_err("cannot reach ftp-tunneld: %s", strerror(-rc));
		return 255;
	}
	if (ipc_word(&rep, word, sizeof(word)) < 0 || strcmp(word, "OK"))
		return print_error(&rep, name);
	printf("%s: tunnels up, held by ftp-tunneld (ftp-tunnel release %s "
	       "closes them)\n",
	       name, name);
	for (i = 0; ipc_get(&rep, "port", i, port, sizeof(port)) == 0; i++)
		printf("%s: remote port %s\n", name, port);
	return 0;
}

int hold_release(const char *name)
{
	struct ipc_msg req, rep;
	char word[16];
	int rc;

	ipc_init(&req, "RELEASE");
	ipc_add(&req, "name", name);
	rc = call(&req, &rep, 0, 10);
	if (rc < 0) {
		log_err("no daemon is running (nothing is held)");
		return 1;
	}
	if (ipc_word(&rep, word, sizeof(word)) < 0 || strcmp(word, "OK"))
		return print_error(&rep, name);
	printf("%s: released\n", name);
	return 0;
}

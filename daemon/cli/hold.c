/* hold.c — `ftp-tunnel -f` and `ftp-tunnel release`: the client side
 * of the daemon's HOLD and RELEASE requests (docs/IPC.txt). */
#include "hold.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "launch.h"
#include "log.h"

/* The tunnels of a HOLD come up within ConnectTimeout plus the login;
 * past this the daemon is taken to be stuck. */
#define HOLD_WAIT_S 120
/* How long a started daemon has to say READY. */
#define START_WAIT_MS 15000

/* Starts ftp-tunneld ($FTP_TUNNELD, else the one beside this program,
 * else the installed one) in a session of its own and waits for its READY
 * line. 0, or -1 with the reason logged. */
static int start_daemon(void)
{
	char path[PATH_MAX], why[PATH_MAX + 200];

	if (launch_daemon_bin_path(1, path, sizeof(path)) < 0) {
		log_err("FTP_TUNNELD is too long");
		return -1;
	}
	log_debug("starting %s", path);
	if (launch_daemon(path, START_WAIT_MS, NULL, why, sizeof(why)) < 0) {
		log_err("%s", why);
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

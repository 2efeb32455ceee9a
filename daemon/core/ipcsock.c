/* ipcsock.c — listening IPC sockets in a checked directory, and the peer
 * uid check (see ipcsock.h). */
#include "ipcsock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

int ipcsock_listen(int dfd, const char *path, const char *name)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd, cwd, rc = -1, e = 0;

	if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT) {
		log_err("cannot remove the old %s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", name);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* bind() gives the new file the socket's own mode (less the umask):
	 * set before it exists, never changed later by path. */
	if (fd < 0 || fchmod(fd, 0600) < 0) {
		log_err("cannot listen on %s: %s", path, strerror(errno));
		goto out;
	}
	/* bind() takes a name, not a directory descriptor: a relative one,
	 * from the directory itself as working directory. Single-threaded
	 * here; back to where we were at once. */
	cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fchdir(dfd) < 0) {
		e = errno;
	} else {
		if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
			e = errno;
		if (cwd < 0 || fchdir(cwd) < 0) {
			/* Our paths are absolute; "/" is as good as any. */
			if (chdir("/") < 0)
				e = e ? e : errno;
		}
	}
	if (cwd >= 0)
		close(cwd);
	if (e || listen(fd, 64) < 0) {
		log_err("cannot listen on %s: %s", path,
			strerror(e ? e : errno));
		goto out;
	}
	rc = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int ipcsock_peer_is_us(int fd, int *uid)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);

	*uid = -1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0)
		return 0;
	*uid = (int)cred.uid;
	return cred.uid == getuid();
}

/* conffile.c — reading one configuration file whole, with the checks ssh
 * makes of its own: a regular file, owned by the user or root, writable
 * by nobody else (a configuration decides where passwords go). Shared by
 * the shim (shim/cfg.c) and ftp-tunnel (daemon/config/confload.c). */
#include "conffile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

int conffile_trusted(const struct stat *st)
{
	return (st->st_uid == 0 || st->st_uid == getuid()) &&
	       !(st->st_mode & 022);
}

int conffile_read(const char *path, size_t max, char **text, size_t *len,
		  char *err, size_t errlen)
{
	struct stat st;
	size_t have = 0;
	ssize_t n;
	char *buf = NULL;
	int fd, rc = -1;

	*text = NULL;
	*len = 0;
	/* The usual way to say "no configuration file", as with ssh -F. */
	if (!strcmp(path, "/dev/null") || !strcasecmp(path, "none"))
		return 1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 1;
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		goto out;
	}
	if (!conffile_trusted(&st)) {
		snprintf(err, errlen, "%s", CONFFILE_UNTRUSTED);
		goto out;
	}
	if ((size_t)st.st_size > max) {
		snprintf(err, errlen, "larger than %zu bytes", max);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	while (have < (size_t)st.st_size) {
		n = read(fd, buf + have, (size_t)st.st_size - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "cannot read: %s",
				 strerror(errno));
			free(buf);
			buf = NULL;
			goto out;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	buf[have] = '\0';
	*text = buf;
	*len = have;
	rc = 0;
out:
	close(fd);
	return rc;
}

const char *conffile_home(void)
{
	static char home[PATH_MAX];
	static int done;
	struct passwd pw, *res = NULL;
	size_t blen = 16384;
	char *buf;
	const char *h;

	if (done)
		return home[0] ? home : NULL;
	done = 1;
	buf = malloc(blen);
	if (buf && getpwuid_r(getuid(), &pw, buf, blen, &res) == 0 && res &&
	    res->pw_dir && res->pw_dir[0] == '/' &&
	    strlen(res->pw_dir) < sizeof(home))
		strcpy(home, res->pw_dir);
	free(buf);
	h = getauxval(AT_SECURE) ? NULL : getenv("HOME");
	if (!home[0] && h && h[0] == '/' && strlen(h) < sizeof(home))
		strcpy(home, h);
	return home[0] ? home : NULL;
}

void conffile_search(const char *file, int privileged,
		     void (*fn)(void *arg, const char *path, int named),
		     void *arg)
{
	const char *env = privileged ? NULL : getenv(CONFFILE_ENV);
	const char *home = NULL;
	char *user;

	if (file) {
		fn(arg, file, 1);
		return;
	}
	if (env && *env) {
		fn(arg, env, 1);
		return;
	}
	/* A privileged process reads only the system's file (the shim
	 * refuses its routes rather than making them in clear). */
	if (!privileged)
		home = conffile_home();
	/* On the heap: the shim may run this on a small thread stack. */
	if (home && asprintf(&user, "%s%s", home, CONFFILE_USER + 1) > 0) {
		fn(arg, user, 0);
		free(user);
	}
	fn(arg, CONFFILE_SYSTEM, 0);
}

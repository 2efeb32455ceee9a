/* fgsock.c — a foreground ftp-tunnel's status socket (see fgsock.h). The
 * socket is made like the daemon's (ipc_dir_open, ipcsock_listen) and
 * served like it (ipcserve.h): only our uid, every client connection
 * non-blocking with a deadline, and a reply built whole in memory and
 * written as the client reads it: a client that stops reading costs a
 * buffer until the deadline, never a stalled transfer. */
#include "fgsock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc.h"
#include "ipcserve.h"
#include "ipcsock.h"
#include "log.h"
#include "version.h"

/* Clients at once (more are closed at once), and how long each may take
 * to send its request, and to read its reply. */
#define FGSOCK_MAX_CONNS 16
#define FGSOCK_DEADLINE_MS 10000

struct fgsock {
	struct loop *loop;
	const struct fgsock_ops *ops;
	void *arg;
	char name[256];
	char path[128];
	char sockname[64];
	int dfd; /* the checked directory: the socket is removed through it */
	int lfd;
	struct ipcserve *srv;
};

int fgsock_path(pid_t pid, char *out, size_t outlen)
{
	char daemon[128], *slash;
	int n;

	if (ipc_socket_path(getuid(), daemon, sizeof(daemon)) < 0)
		return -1;
	slash = strrchr(daemon, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	n = snprintf(out, outlen, "%s/%s%ld%s", daemon, FGSOCK_PREFIX,
		     (long)pid, FGSOCK_SUFFIX);
	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

pid_t fgsock_name_pid(const char *name)
{
	size_t pl = strlen(FGSOCK_PREFIX), sl = strlen(FGSOCK_SUFFIX);
	size_t n = strlen(name), digits;
	long pid;

	if (n <= pl + sl || strncmp(name, FGSOCK_PREFIX, pl) ||
	    strcmp(name + n - sl, FGSOCK_SUFFIX))
		return 0;
	digits = strspn(name + pl, "0123456789");
	if (digits != n - pl - sl || digits > 9 || name[pl] == '0')
		return 0;
	pid = strtol(name + pl, NULL, 10);
	return pid > 0 ? (pid_t)pid : 0;
}

/* A STOP's reply is out: the process stops as on SIGTERM. */
static void stop_sent(int whole, void *arg)
{
	struct fgsock *f = arg;

	if (whole)
		f->ops->stop(f->arg);
}

/* m as the reply's one frame, into *out. 0 or -ENOMEM. */
static int one_frame(const struct ipc_msg *m, char **out, size_t *outlen)
{
	uint32_t len = htonl((uint32_t)m->len);

	*out = malloc(sizeof(len) + m->len);
	if (!*out)
		return -ENOMEM;
	memcpy(*out, &len, sizeof(len));
	memcpy(*out + sizeof(len), m->text, m->len);
	*outlen = sizeof(len) + m->len;
	return 0;
}

/* A format-2 STATUS report, gathered whole, into *out. 0 or -errno. */
static int report(struct fgsock *f, char **out, size_t *outlen)
{
	struct statusrep r;
	int rc;

	statusrep_init_buf(&r);
	f->ops->report(&r, f->arg);
	rc = statusrep_finish(&r);
	if (rc < 0) {
		statusrep_release(&r);
		return rc;
	}
	*out = r.out; /* taken over */
	*outlen = r.outlen;
	return 0;
}

/* The reply to req into *out; *stop set for a STOP. 0 or -errno. */
static int answer(struct fgsock *f, const struct ipc_msg *req, char **out,
		  size_t *outlen, int *stop)
{
	struct ipc_msg m;
	char word[32], format[8];

	if (ipc_word(req, word, sizeof(word)) < 0)
		return -EPROTO;
	if (!strcmp(word, "STATUS") &&
	    ipc_get(req, "format", 0, format, sizeof(format)) == 0 &&
	    atoi(format) >= 2)
		return report(f, out, outlen);
	ipc_init(&m, "OK");
	if (!strcmp(word, "PING")) {
		ipc_add(&m, "version", "1");
		ipc_add(&m, "revision", "2");
		ipc_addf(&m, "pid", "%d", (int)getpid());
		ipc_add(&m, "kind", "foreground");
		ipc_add(&m, "name", f->name);
	} else if (!strcmp(word, "STATUS")) {
		/* Format 1: what a client that asks for nothing else gets. */
		ipc_addf(&m, "pid", "%d", (int)getpid());
		ipc_add(&m, "kind", "foreground");
		ipc_add(&m, "name", f->name);
	} else if (!strcmp(word, "STOP")) {
		ipc_addf(&m, "pid", "%d", (int)getpid());
		*stop = 1;
		log_info("stopping on request (ftp-tunnel stop)");
	} else {
		ipc_init(&m, "ERR");
		ipc_addf(&m, "errno", "%d", EOPNOTSUPP);
		ipc_add(&m, "message", "unknown request");
	}
	return one_frame(&m, out, outlen);
}

/* A whole request came: the reply goes out as the client reads it. */
static void request(int fd, const struct ipc_msg *req, void *arg)
{
	struct fgsock *f = arg;
	char *out = NULL;
	size_t outlen = 0;
	int stop = 0;

	if (answer(f, req, &out, &outlen, &stop) < 0) {
		close(fd);
		return;
	}
	ipcserve_reply(f->srv, fd, out, outlen, FGSOCK_DEADLINE_MS,
		       stop ? stop_sent : NULL, f);
}

static const struct ipcserve_ops serve_ops = {.request = request};
static const struct ipcserve_limits serve_limits = {
    .what = "status socket",
    .max_conns = FGSOCK_MAX_CONNS,
    .request_ms = FGSOCK_DEADLINE_MS};

struct fgsock *fgsock_new(struct loop *loop, const char *name,
			  const struct fgsock_ops *ops, void *arg)
{
	struct fgsock *f = calloc(1, sizeof(*f));
	char why[512];

	if (!f) {
		log_warn("out of memory: ftp-tunnel status will not list "
			 "this process");
		return NULL;
	}
	f->loop = loop;
	f->ops = ops;
	f->arg = arg;
	f->dfd = f->lfd = -1;
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->sockname, sizeof(f->sockname), "%s%ld%s", FGSOCK_PREFIX,
		 (long)getpid(), FGSOCK_SUFFIX);
	if (fgsock_path(getpid(), f->path, sizeof(f->path)) < 0) {
		log_warn("the status socket's path is too long: ftp-tunnel "
			 "status will not list this process (set "
			 "XDG_RUNTIME_DIR to a shorter path)");
		goto fail;
	}
	/* The daemon's directory, checked and made the same way. */
	f->dfd = ipc_dir_open(f->path, getuid(), 1, why, sizeof(why));
	if (f->dfd < 0) {
		log_warn("%s; until then ftp-tunnel status will not list this "
			 "process",
			 why);
		goto fail;
	}
	f->lfd = ipcsock_listen(f->dfd, f->path, f->sockname);
	if (f->lfd >= 0)
		f->srv =
		    ipcserve_new(loop, f->lfd, &serve_ops, &serve_limits, f);
	if (!f->srv) {
		log_warn("ftp-tunnel status will not list this process");
		goto fail;
	}
	log_debug("status socket %s", f->path);
	return f;
fail:
	fgsock_free(f);
	return NULL;
}

void fgsock_free(struct fgsock *f)
{
	if (!f)
		return;
	ipcserve_free(f->srv); /* without calling back: no STOP now */
	if (f->lfd >= 0) {
		close(f->lfd);
		/* Ours by its pid while we run: nobody else made this name. */
		unlinkat(f->dfd, f->sockname, 0);
	}
	if (f->dfd >= 0)
		close(f->dfd);
	free(f);
}

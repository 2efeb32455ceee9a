/* logins.c — the daemon's SftpLogin=ftp sessions, on a thread of their
 * own (logins.h). */
#include "logins.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "ftpsrv.h"
#include "log.h"
#include "worker.h"

struct login_sess {
	struct login_set *set;
	struct ssh_opts o; /* what its SSH login is made with */
	struct ftpsrv *f;
	int fd; /* the control connection, until the session has it */
	struct sockaddr_storage dst; /* what the program dialed */
	char name[64];
	struct login_sess *next, **prevp;
};

struct login_set {
	struct worker *w;	     /* started with the first login */
	struct login_sess *sessions; /* the worker's */
	atomic_int count;
};

struct login_set *logins_new(void)
{
	return calloc(1, sizeof(struct login_set));
}

int logins_count(const struct login_set *set)
{
	return atomic_load(&set->count);
}

static void sess_free(struct login_sess *ls)
{
	if (ls->prevp) {
		*ls->prevp = ls->next;
		if (ls->next)
			ls->next->prevp = ls->prevp;
	}
	ssh_opts_release(&ls->o);
	atomic_fetch_sub(&ls->set->count, 1);
	free(ls);
}

/* On the worker. */
static void session_done(struct ftpsrv *f, void *arg)
{
	(void)f;
	sess_free(arg);
}

/* On the worker: the session starts on its loop. */
static void start_task(struct loop *loop, void *arg)
{
	struct login_sess *ls = arg;
	struct login_set *set = ls->set;
	struct ftpsrv_opts fo = {.start_dir = "",
				 .peer_uid = getuid(),
				 .pasv_addr = (struct sockaddr *)&ls->dst,
				 .login_opts = &ls->o};

	ls->f = ftpsrv_new(loop, NULL, ls->fd, &fo, ls->name, session_done, ls);
	if (!ls->f) {
		log_warn("%s: cannot start the FTP session", ls->name);
		sess_free(ls);
		return;
	}
	ls->next = set->sessions;
	if (ls->next)
		ls->next->prevp = &ls->next;
	ls->prevp = &set->sessions;
	set->sessions = ls;
}

static int start_worker(struct login_set *set)
{
	int rc;

	set->w = worker_new();
	if (!set->w)
		return -errno;
	rc = worker_start(set->w);
	if (rc < 0) {
		worker_free(set->w);
		set->w = NULL;
	}
	return rc;
}

int logins_start(struct login_set *set, int fd, struct ssh_opts *o,
		 const struct sockaddr *dst, const char *name)
{
	struct login_sess *ls = calloc(1, sizeof(*ls));
	char where[80];

	if (!ls || (!set->w && start_worker(set) < 0)) {
		log_warn("%s: cannot start the FTP session: %s", name,
			 ls ? "no thread for it" : "out of memory");
		goto fail;
	}
	ls->set = set;
	ls->fd = fd;
	ls->o = *o;
	ssh_opts_init(o); /* its strings are ls's now */
	memcpy(&ls->dst, dst, addr_len(dst));
	snprintf(ls->name, sizeof(ls->name), "%s", name);
	atomic_fetch_add(&set->count, 1);
	log_info("%s: FTP to %s answered from SFTP, the FTP login's own SSH "
		 "login to %s",
		 name, addr_format(dst, where, sizeof(where)), ls->o.host);
	if (worker_post(set->w, start_task, ls) < 0) {
		close(fd);
		sess_free(ls);
		return -1;
	}
	return 0;
fail:
	free(ls);
	close(fd);
	ssh_opts_release(o);
	return -1;
}

int logins_ask(struct login_set *set, taskq_fn fn, void *arg)
{
	if (!set->w)
		return -1;
	return worker_post(set->w, fn, arg);
}

int logins_data_adopt(struct login_set *set, const struct sockaddr *dst,
		      uint16_t port, int fd)
{
	struct login_sess *ls;

	for (ls = set->sessions; ls; ls = ls->next)
		if (addr_same_host((struct sockaddr *)&ls->dst, dst) &&
		    ftpsrv_data_adopt(ls->f, port, fd) == 0)
			return 0;
	return -1;
}

int logins_data_made(struct login_set *set, const struct sockaddr *peer,
		     const struct sockaddr *local,
		     struct sockaddr_storage *server)
{
	struct login_sess *ls;

	for (ls = set->sessions; ls; ls = ls->next) {
		if (ftpsrv_data_made(ls->f, peer, local)) {
			*server = ls->dst;
			return 1;
		}
	}
	return 0;
}

/* On the worker, its last task: the sessions end without their done
 * callbacks. */
static void end_sessions(struct loop *loop, void *arg)
{
	struct login_set *set = arg;

	(void)loop;
	while (set->sessions) {
		struct login_sess *ls = set->sessions;

		ftpsrv_free(ls->f);
		sess_free(ls);
	}
}

void logins_free(struct login_set *set)
{
	if (!set)
		return;
	worker_end(set->w, end_sessions, set);
	free(set);
}

/* sftpc.c — the SFTP client of the SFTP bridge: one sftp subsystem on a
 * non-blocking libssh2 session, one operation at a time, every libssh2
 * call through the channel gate (ssh.h). */
#include "sftpc.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define SFTPC_PATH_MAX 4096
/* Handles a client keeps open at once: a transfer's file, a listing's
 * directory, and a spare. */
#define SFTPC_HANDLES 4

enum op_kind {
	OP_NONE,
	OP_REALPATH,
	OP_READLINK,
	OP_STAT,
	OP_SETSTAT,
	OP_OPEN,
	OP_FSTAT,
	OP_READDIR,
	OP_CLOSE,
	OP_UNLINK,
	OP_MKDIR,
	OP_RMDIR,
	OP_RENAME,
	OP_STATVFS,
};

static const char *const op_names[] = {
    "none",    "realpath", "readlink", "stat",	"setstat", "open",   "fstat",
    "readdir", "close",	   "unlink",   "mkdir", "rmdir",   "rename", "statvfs"};

/* A transfer call libssh2 holds half done (it returned EAGAIN). */
enum xfer_kind { XFER_NONE, XFER_READ, XFER_WRITE };

struct sftpc {
	struct ssh_sess *s;
	struct ssh_chan *ch;
	LIBSSH2_SFTP *sftp;
	long init_req;
	char name[96];
	const struct sftpc_owner *owner; /* NULL once freed by the owner */
	void *arg;
	int owner_wants;
	int in_service;
	int dying; /* sftpc_free was called: tearing down */

	struct {
		enum op_kind kind;
		char path[SFTPC_PATH_MAX], path2[SFTPC_PATH_MAX];
		unsigned long flags;
		long mode;
		int dir;
		LIBSSH2_SFTP_HANDLE *h;
		sftpc_cb cb;
		void *arg;
	} op;
	LIBSSH2_SFTP_ATTRIBUTES attrs;
	LIBSSH2_SFTP_STATVFS vfs;
	char result_name[SFTPC_PATH_MAX];
	LIBSSH2_SFTP_HANDLE *result_h;
	unsigned long status;

	/* The shortest operation seen, request to answer: the SFTP round
	 * trip (0: none yet), which sizes a transfer's write-ahead. */
	uint64_t op_start_us;
	unsigned rtt_ms;
	int rtt_known;

	enum xfer_kind xfer;
	LIBSSH2_SFTP_HANDLE *xfer_h;
	LIBSSH2_SFTP_HANDLE *handles[SFTPC_HANDLES];
};

static void free_now(struct sftpc *c);

const LIBSSH2_SFTP_ATTRIBUTES *sftpc_attrs(const struct sftpc *c)
{
	return &c->attrs;
}

const LIBSSH2_SFTP_STATVFS *sftpc_statvfs_result(const struct sftpc *c)
{
	return &c->vfs;
}

const char *sftpc_name(const struct sftpc *c)
{
	return c->result_name;
}

LIBSSH2_SFTP_HANDLE *sftpc_handle(const struct sftpc *c)
{
	return c->result_h;
}

unsigned long sftpc_status(const struct sftpc *c)
{
	return c->status;
}

unsigned sftpc_rtt_ms(const struct sftpc *c)
{
	return c->rtt_ms;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* An operation answered: its time is a round trip, or more when it
 * waited behind a transfer's packets or the server's disk. */
static void note_rtt(struct sftpc *c)
{
	unsigned ms = (unsigned)((now_us() - c->op_start_us) / 1000);

	if (!c->rtt_known || ms < c->rtt_ms) {
		c->rtt_ms = ms;
		c->rtt_known = 1;
	}
}

int sftpc_busy(const struct sftpc *c)
{
	return c->op.kind != OP_NONE;
}

const char *sftpc_error(struct sftpc *c)
{
	return ssh_last_error(c->s);
}

static void update_wants(struct sftpc *c)
{
	if (c->ch)
		ssh_chan_set_wants(c->ch, c->op.kind != OP_NONE || c->dying ||
					      c->xfer != XFER_NONE ||
					      c->owner_wants);
}

void sftpc_set_wants(struct sftpc *c, int wants)
{
	c->owner_wants = wants;
	update_wants(c);
}

void sftpc_kick(struct sftpc *c)
{
	if (c->ch)
		ssh_sess_kick(c->s);
}

static void track_handle(struct sftpc *c, LIBSSH2_SFTP_HANDLE *h)
{
	int i;

	for (i = 0; i < SFTPC_HANDLES; i++)
		if (!c->handles[i]) {
			c->handles[i] = h;
			return;
		}
	/* More than the owner ever holds: it leaks on teardown only. */
	log_warn("%s: too many open SFTP handles", c->name);
}

static void untrack_handle(struct sftpc *c, LIBSSH2_SFTP_HANDLE *h)
{
	int i;

	for (i = 0; i < SFTPC_HANDLES; i++)
		if (c->handles[i] == h)
			c->handles[i] = NULL;
}

/* --- the calls -------------------------------------------------------- */

/* rc of an SFTP call that returns a pointer: 0, EAGAIN or the error. */
static int ptr_rc(struct sftpc *c, const void *p)
{
	return p ? 0 : libssh2_session_last_errno(ssh_sess_raw(c->s));
}

/* Repeats a transfer call libssh2 holds half done, its result dropped.
 * EAGAIN until it is through. */
static int finish_xfer(struct sftpc *c)
{
	char scratch[32768];
	int rc;

	if (c->xfer == XFER_NONE)
		return 0;
	if (!ssh_chan_gate(c->ch))
		return LIBSSH2_ERROR_EAGAIN;
	if (c->xfer == XFER_READ)
		rc =
		    (int)libssh2_sftp_read(c->xfer_h, scratch, sizeof(scratch));
	else
		/* A length of 0 sends what libssh2 has packed already and
		 * waits for the acknowledgements, taking nothing new. */
		rc = (int)libssh2_sftp_write(c->xfer_h, scratch, 0);
	rc = ssh_chan_ungate(c->ch, SSH_OP_NONE, rc);
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return rc;
	c->xfer = XFER_NONE;
	return 0;
}

/* One attempt at the operation in flight: its result, or EAGAIN. */
static int step(struct sftpc *c)
{
	LIBSSH2_SFTP_HANDLE *h = NULL;
	int rc;

	if (c->op.kind == OP_CLOSE && c->xfer != XFER_NONE &&
	    c->xfer_h == c->op.h && finish_xfer(c) == LIBSSH2_ERROR_EAGAIN)
		return LIBSSH2_ERROR_EAGAIN;
	if (!ssh_chan_gate(c->ch))
		return LIBSSH2_ERROR_EAGAIN;
	switch (c->op.kind) {
	case OP_REALPATH:
	case OP_READLINK:
		rc = libssh2_sftp_symlink_ex(
		    c->sftp, c->op.path, (unsigned)strlen(c->op.path),
		    c->result_name, sizeof(c->result_name) - 1,
		    c->op.kind == OP_REALPATH ? LIBSSH2_SFTP_REALPATH
					      : LIBSSH2_SFTP_READLINK);
		if (rc >= 0)
			c->result_name[rc] = '\0';
		break;
	case OP_STAT:
		rc = libssh2_sftp_stat_ex(c->sftp, c->op.path,
					  (unsigned)strlen(c->op.path),
					  LIBSSH2_SFTP_STAT, &c->attrs);
		break;
	case OP_SETSTAT:
		rc = libssh2_sftp_stat_ex(c->sftp, c->op.path,
					  (unsigned)strlen(c->op.path),
					  LIBSSH2_SFTP_SETSTAT, &c->attrs);
		break;
	case OP_OPEN:
		h = libssh2_sftp_open_ex(
		    c->sftp, c->op.path, (unsigned)strlen(c->op.path),
		    c->op.flags, c->op.mode,
		    c->op.dir ? LIBSSH2_SFTP_OPENDIR : LIBSSH2_SFTP_OPENFILE);
		rc = ptr_rc(c, h);
		break;
	case OP_FSTAT:
		rc = libssh2_sftp_fstat_ex(c->op.h, &c->attrs, 0);
		break;
	case OP_READDIR:
		rc = libssh2_sftp_readdir_ex(c->op.h, c->result_name,
					     sizeof(c->result_name) - 1, NULL,
					     0, &c->attrs);
		if (rc >= 0)
			c->result_name[rc] = '\0';
		break;
	case OP_CLOSE:
		rc = libssh2_sftp_close_handle(c->op.h);
		break;
	case OP_UNLINK:
		rc = libssh2_sftp_unlink_ex(c->sftp, c->op.path,
					    (unsigned)strlen(c->op.path));
		break;
	case OP_MKDIR:
		rc = libssh2_sftp_mkdir_ex(c->sftp, c->op.path,
					   (unsigned)strlen(c->op.path),
					   c->op.mode);
		break;
	case OP_RMDIR:
		rc = libssh2_sftp_rmdir_ex(c->sftp, c->op.path,
					   (unsigned)strlen(c->op.path));
		break;
	case OP_RENAME:
		/* Overwrite as FTP's RNTO does; OpenSSH's server ignores
		 * the flags of protocol version 3 and refuses an existing
		 * target, which the caller then removes and retries. */
		rc = libssh2_sftp_rename_ex(
		    c->sftp, c->op.path, (unsigned)strlen(c->op.path),
		    c->op.path2, (unsigned)strlen(c->op.path2),
		    LIBSSH2_SFTP_RENAME_OVERWRITE | LIBSSH2_SFTP_RENAME_ATOMIC |
			LIBSSH2_SFTP_RENAME_NATIVE);
		break;
	case OP_STATVFS:
		rc = libssh2_sftp_statvfs(c->sftp, c->op.path,
					  strlen(c->op.path), &c->vfs);
		break;
	default:
		rc = 0;
		break;
	}
	rc = ssh_chan_ungate(c->ch, SSH_OP_NONE, rc);
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return rc;
	if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL)
		c->status = libssh2_sftp_last_error(c->sftp);
	if (c->op.kind == OP_OPEN && h) {
		c->result_h = h;
		track_handle(c, h);
	}
	if (c->op.kind == OP_CLOSE) {
		/* libssh2 frees the handle even when the close failed. */
		untrack_handle(c, c->op.h);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return rc;
	}
	log_trace("%s: sftp %s %s -> %d", c->name, op_names[c->op.kind],
		  c->op.path, rc);
	return rc;
}

/* --- teardown --------------------------------------------------------- */

/* A freed client: finishes what libssh2 holds, closes the handles, then
 * the channel. Returns nonzero when it made progress; frees c when done
 * (only from the service of c's own channel, which may close it). */
static int teardown_step(struct sftpc *c, int *freed)
{
	int i, rc;

	if (finish_xfer(c) == LIBSSH2_ERROR_EAGAIN)
		return 0;
	for (i = 0; i < SFTPC_HANDLES; i++) {
		if (!c->handles[i])
			continue;
		if (!ssh_chan_gate(c->ch))
			return 0;
		rc = ssh_chan_ungate(c->ch, SSH_OP_NONE,
				     libssh2_sftp_close_handle(c->handles[i]));
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return 0;
		c->handles[i] = NULL;
	}
	/* libssh2_sftp_shutdown, not a plain channel close: the close
	 * callback frees the LIBSSH2_SFTP but not the answers still queued
	 * for it nor the requests it marked as abandoned (libssh2 1.10). It
	 * closes and frees the channel too. */
	if (!ssh_chan_gate(c->ch))
		return 0;
	rc =
	    ssh_chan_ungate(c->ch, SSH_OP_NONE, libssh2_sftp_shutdown(c->sftp));
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return 0;
	ssh_chan_detach(c->ch);
	c->ch = NULL;
	c->sftp = NULL;
	free_now(c);
	*freed = 1;
	return 1;
}

static void free_now(struct sftpc *c)
{
	free(c);
}

/* --- the channel's service -------------------------------------------- */

static int chan_service(struct ssh_chan *ch, void *arg)
{
	struct sftpc *c = arg;
	int progress = 0, rounds;

	(void)ch;
	c->in_service = 1;
	for (rounds = 0; rounds < 64; rounds++) {
		int rc;

		if (c->op.kind != OP_NONE) {
			sftpc_cb cb;
			void *cbarg;

			rc = step(c);
			if (rc == LIBSSH2_ERROR_EAGAIN)
				break;
			progress = 1;
			note_rtt(c);
			cb = c->op.cb;
			cbarg = c->op.arg;
			c->op.kind = OP_NONE;
			if (!c->dying && cb)
				cb(c, rc, cbarg); /* may start another */
			continue;
		}
		if (c->dying) {
			int freed = 0;

			progress |= teardown_step(c, &freed);
			if (freed)
				return progress;
			break;
		}
		if (c->owner && c->owner->service)
			progress |= c->owner->service(c, c->arg);
		break;
	}
	c->in_service = 0;
	if (c->dying && c->op.kind == OP_NONE && c->ch) {
		/* The owner freed us from its callback: go on at once. */
		int freed = 0;

		progress |= teardown_step(c, &freed);
		if (freed)
			return progress;
	}
	update_wants(c);
	return progress;
}

static void chan_lost(struct ssh_chan *ch, void *arg)
{
	struct sftpc *c = arg;

	/* The session freed the libssh2 channel, and the LIBSSH2_SFTP
	 * with it, or leaks it: either way it is not ours to touch. */
	ssh_chan_close(ch);
	c->ch = NULL;
	c->sftp = NULL;
	if (c->dying) {
		free_now(c);
		return;
	}
	c->op.kind = OP_NONE;
	if (c->owner && c->owner->lost)
		c->owner->lost(c, "the SSH connection was lost", c->arg);
}

/* libssh2's session is freed next: libssh2 frees an SFTP handle only in
 * libssh2_sftp_close_handle, which still does so when it cannot send
 * (libssh2 1.10 sftp.c), and the LIBSSH2_SFTP only when its channel
 * closes, so the handles, their read-ahead requests and the subsystem
 * are closed here rather than lost with the session. A connection that
 * is still up (ftp-tunnel exiting) gets the calls in blocking mode,
 * bounded by a timeout, unless another call holds libssh2's partly sent
 * packet; a lost one fails them at once. */
#define DYING_TIMEOUT_MS 2000

static void chan_dying(struct ssh_chan *ch, int lost, void *arg)
{
	struct sftpc *c = arg;
	LIBSSH2_SESSION *raw = ssh_sess_raw(c->s);
	int i, blocking = !lost && ssh_chan_gate(ch);

	if (blocking) {
		libssh2_session_set_timeout(raw, DYING_TIMEOUT_MS);
		libssh2_session_set_blocking(raw, 1);
		if (c->op.kind != OP_NONE)
			step(c); /* finishes the call libssh2 holds */
		finish_xfer(c);
	}
	for (i = 0; i < SFTPC_HANDLES; i++) {
		if (!c->handles[i])
			continue;
		libssh2_sftp_close_handle(c->handles[i]);
		c->handles[i] = NULL;
	}
	c->xfer = XFER_NONE;
	/* Frees what libssh2 queued for the subsystem; the LIBSSH2_SFTP
	 * itself is freed only by a channel close, which a lost connection
	 * cannot send (libssh2 1.10 leaks it). */
	if (c->sftp)
		libssh2_sftp_shutdown(c->sftp);
	c->sftp = NULL;
	c->op.kind = OP_NONE;
	if (blocking) {
		libssh2_session_set_blocking(raw, 0);
		libssh2_session_set_timeout(raw, 0);
	}
}

static void chan_dump(struct ssh_chan *ch, void *arg)
{
	struct sftpc *c = arg;

	(void)ch;
	log_warn("    %s: sftp op %s, xfer %d, dying %d", c->name,
		 op_names[c->op.kind], c->xfer, c->dying);
}

static const struct ssh_chan_ops chan_ops = {.service = chan_service,
					     .lost = chan_lost,
					     .dump = chan_dump,
					     .dying = chan_dying};

static void sftp_started(struct ssh_sess *s, LIBSSH2_SFTP *sftp,
			 const char *err, void *arg)
{
	struct sftpc *c = arg;

	c->init_req = 0;
	if (!sftp) {
		c->owner->ready(c, err, c->arg);
		return;
	}
	c->sftp = sftp;
	c->ch = ssh_chan_attach(s, libssh2_sftp_get_channel(sftp), &chan_ops, c,
				c->name);
	if (!c->ch) {
		ssh_chan_discard(s, libssh2_sftp_get_channel(sftp));
		c->sftp = NULL;
		c->owner->ready(c, "out of memory", c->arg);
		return;
	}
	log_debug("%s: sftp subsystem up", c->name);
	c->owner->ready(c, NULL, c->arg);
}

/* libssh2 allocates each SFTP packet of a read-ahead (up to 4 MiB of
 * 30 000-byte packets) and frees it once copied out: with glibc's
 * default 128 KiB trim threshold the heap's top went back to the kernel
 * and was faulted in again every few megabytes (brk, page faults and
 * page clearing: 5 % of a loopback RETR's CPU in perf). Keeping a read-
 * ahead's worth at the top costs no more than the read-ahead itself. */
#define HEAP_TRIM_THRESHOLD (16 * 1024 * 1024)

static void keep_heap_top(void)
{
	mallopt(M_TRIM_THRESHOLD, HEAP_TRIM_THRESHOLD);
}

struct sftpc *sftpc_new(struct ssh_sess *s, const char *name,
			const struct sftpc_owner *owner, void *arg)
{
	static pthread_once_t heap_once = PTHREAD_ONCE_INIT;
	struct sftpc *c = calloc(1, sizeof(*c));
	long id;

	if (!c)
		return NULL;
	pthread_once(&heap_once, keep_heap_top);
	c->s = s;
	c->owner = owner;
	c->arg = arg;
	snprintf(c->name, sizeof(c->name), "%s", name);
	id = ssh_open_sftp(s, sftp_started, c);
	if (id < 0) {
		free(c);
		errno = (int)-id;
		return NULL;
	}
	c->init_req = id;
	return c;
}

void sftpc_free(struct sftpc *c)
{
	if (!c)
		return;
	c->owner = NULL;
	if (c->init_req > 0) {
		ssh_open_cancel(c->s, c->init_req);
		free(c);
		return;
	}
	if (!c->ch) {
		free(c);
		return;
	}
	c->dying = 1;
	update_wants(c);
	ssh_sess_kick(c->s);
}

/* --- starting operations ---------------------------------------------- */

static int start(struct sftpc *c, enum op_kind kind, const char *path,
		 const char *path2, sftpc_cb cb, void *arg)
{
	if (c->op.kind != OP_NONE)
		return -EBUSY;
	if (!c->ch || c->dying)
		return -ENOTCONN;
	if ((path && strlen(path) >= sizeof(c->op.path)) ||
	    (path2 && strlen(path2) >= sizeof(c->op.path2)))
		return -ENAMETOOLONG;
	c->op.kind = kind;
	snprintf(c->op.path, sizeof(c->op.path), "%s", path ? path : "");
	snprintf(c->op.path2, sizeof(c->op.path2), "%s", path2 ? path2 : "");
	c->op.cb = cb;
	c->op.arg = arg;
	c->op.h = NULL;
	c->result_h = NULL;
	c->status = 0;
	c->op_start_us = now_us();
	update_wants(c);
	ssh_sess_kick(c->s);
	return 0;
}

int sftpc_realpath(struct sftpc *c, const char *path, sftpc_cb cb, void *arg)
{
	return start(c, OP_REALPATH, path, NULL, cb, arg);
}

int sftpc_readlink(struct sftpc *c, const char *path, sftpc_cb cb, void *arg)
{
	return start(c, OP_READLINK, path, NULL, cb, arg);
}

int sftpc_stat(struct sftpc *c, const char *path, sftpc_cb cb, void *arg)
{
	return start(c, OP_STAT, path, NULL, cb, arg);
}

int sftpc_setstat(struct sftpc *c, const char *path,
		  const LIBSSH2_SFTP_ATTRIBUTES *a, sftpc_cb cb, void *arg)
{
	int rc = start(c, OP_SETSTAT, path, NULL, cb, arg);

	if (rc == 0)
		c->attrs = *a;
	return rc;
}

int sftpc_open(struct sftpc *c, const char *path, unsigned long flags,
	       long mode, int dir, sftpc_cb cb, void *arg)
{
	int rc = start(c, OP_OPEN, path, NULL, cb, arg);

	if (rc == 0) {
		c->op.flags = flags;
		c->op.mode = mode;
		c->op.dir = dir;
	}
	return rc;
}

static int start_h(struct sftpc *c, enum op_kind kind, LIBSSH2_SFTP_HANDLE *h,
		   sftpc_cb cb, void *arg)
{
	int rc = start(c, kind, NULL, NULL, cb, arg);

	if (rc == 0)
		c->op.h = h;
	return rc;
}

int sftpc_fstat(struct sftpc *c, LIBSSH2_SFTP_HANDLE *h, sftpc_cb cb, void *arg)
{
	return start_h(c, OP_FSTAT, h, cb, arg);
}

int sftpc_readdir(struct sftpc *c, LIBSSH2_SFTP_HANDLE *h, sftpc_cb cb,
		  void *arg)
{
	return start_h(c, OP_READDIR, h, cb, arg);
}

int sftpc_close(struct sftpc *c, LIBSSH2_SFTP_HANDLE *h, sftpc_cb cb, void *arg)
{
	return start_h(c, OP_CLOSE, h, cb, arg);
}

int sftpc_unlink(struct sftpc *c, const char *path, sftpc_cb cb, void *arg)
{
	return start(c, OP_UNLINK, path, NULL, cb, arg);
}

int sftpc_mkdir(struct sftpc *c, const char *path, long mode, sftpc_cb cb,
		void *arg)
{
	int rc = start(c, OP_MKDIR, path, NULL, cb, arg);

	if (rc == 0)
		c->op.mode = mode;
	return rc;
}

int sftpc_rmdir(struct sftpc *c, const char *path, sftpc_cb cb, void *arg)
{
	return start(c, OP_RMDIR, path, NULL, cb, arg);
}

int sftpc_rename(struct sftpc *c, const char *from, const char *to, sftpc_cb cb,
		 void *arg)
{
	return start(c, OP_RENAME, from, to, cb, arg);
}

int sftpc_statvfs(struct sftpc *c, const char *path, sftpc_cb cb, void *arg)
{
	return start(c, OP_STATVFS, path, NULL, cb, arg);
}

/* --- transfers -------------------------------------------------------- */

static ssize_t xfer_done(struct sftpc *c, LIBSSH2_SFTP_HANDLE *h,
			 enum xfer_kind k, ssize_t rc)
{
	if (rc == LIBSSH2_ERROR_EAGAIN) {
		c->xfer = k;
		c->xfer_h = h;
	} else {
		c->xfer = XFER_NONE;
		if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL)
			c->status = libssh2_sftp_last_error(c->sftp);
	}
	return rc;
}

ssize_t sftpc_read(struct sftpc *c, LIBSSH2_SFTP_HANDLE *h, char *buf,
		   size_t len)
{
	ssize_t rc;

	if (!c->ch || c->op.kind != OP_NONE || !ssh_chan_gate(c->ch))
		return LIBSSH2_ERROR_EAGAIN;
	rc = libssh2_sftp_read(h, buf, len);
	rc = ssh_chan_ungate(c->ch, SSH_OP_NONE, (int)rc);
	return xfer_done(c, h, XFER_READ, rc);
}

ssize_t sftpc_write(struct sftpc *c, LIBSSH2_SFTP_HANDLE *h, const char *buf,
		    size_t len)
{
	ssize_t rc;

	if (!c->ch || c->op.kind != OP_NONE || !ssh_chan_gate(c->ch))
		return LIBSSH2_ERROR_EAGAIN;
	rc = libssh2_sftp_write(h, buf, len);
	rc = ssh_chan_ungate(c->ch, SSH_OP_NONE, (int)rc);
	return xfer_done(c, h, XFER_WRITE, rc);
}

/* ftpsrv.c — one FTP server session of the SFTP bridge: the control
 * connection (lines in, replies out), the login, and every command that
 * is not a transfer, served from SFTP one at a time (RFC 959 §5.4: a
 * client waits for each reply). Transfers are ftpsrv_xfer.c's. */
#include "ftpsrv_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "ftpaddr.h"
#include "feat.h"
#include "ftppath.h"
#include "ftpreply.h"
#include "listing.h"
#include "log.h"
#include "net.h"

#define CTL_IN_CAP (FTPCMD_LINE_MAX + 2)
#define CTL_OUT_CAP (64 * 1024)

static const char *const state_names[] = {"starting", "login", "authenticating",
					  "ready", "closing"};

static void set_state(struct ftpsrv *f, enum fs_state st)
{
	log_debug("%s: %s -> %s", f->name, state_names[f->state],
		  state_names[st]);
	f->state = st;
}

static void update_events(struct ftpsrv *f);
static void process_lines(struct ftpsrv *f);

/* --- replies ---------------------------------------------------------- */

static void flush_out(struct ftpsrv *f)
{
	while (buf_len(&f->out)) {
		size_t len;
		const uint8_t *p = buf_peek(&f->out, &len);
		ssize_t n = send(f->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			log_debug("%s: control connection: %s", f->name,
				  strerror(errno));
			buf_consume(&f->out, buf_len(&f->out));
			f->dead = 1;
			break;
		}
		buf_consume(&f->out, (size_t)n);
	}
}

void ftpsrv_raw(struct ftpsrv *f, const char *text, size_t len)
{
	if (buf_append(&f->out, text, len) < 0) {
		/* A client that reads no replies: nothing more to say. */
		log_warn("%s: the client does not read its replies; closing",
			 f->name);
		f->dead = 1;
		return;
	}
	log_trace("%s: <- %.*s", f->name, (int)(len > 2 ? len - 2 : len), text);
	flush_out(f);
}

void ftpsrv_reply(struct ftpsrv *f, const char *fmt, ...)
{
	char line[FTPSRV_PATH + 256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 3)
		n = (int)sizeof(line) - 3;
	line[n++] = '\r';
	line[n++] = '\n';
	ftpsrv_raw(f, line, (size_t)n);
}

void ftpsrv_reply_sftp(struct ftpsrv *f, int rc, int op, const char *what)
{
	const char *text;
	int code;

	if (rc != LIBSSH2_ERROR_SFTP_PROTOCOL) {
		if (ssh_sess_dead(f->s) || rc == -ENOTCONN) {
			ftpsrv_reply(f, "421 ftp-tunnel: the SSH connection "
					"is gone; closing.");
			set_state(f, FS_CLOSING);
			return;
		}
		ftpsrv_reply(f, "451 %s: SFTP error: %s", what,
			     sftpc_error(f->sc));
		return;
	}
	code = ftpreply_for_status(sftpc_status(f->sc), (enum ftpreply_op)op,
				   &text);
	ftpsrv_reply(f, "%d %s: %s", code, what, text);
}

/* --- the end ---------------------------------------------------------- */

/* An SSH session of SftpLogin=ftp is freed from a timer of its own: the
 * FTP session may end inside one of the SSH session's callbacks, which
 * must not free it. */
struct reaper {
	struct ssh_sess *s;
	struct loop_timer *t;
};

static void reap_cb(struct loop *loop, void *arg)
{
	struct reaper *r = arg;

	(void)loop;
	ssh_sess_free(r->s);
	loop_timer_free(r->t);
	free(r);
}

static void reap_session(struct loop *loop, struct ssh_sess *s)
{
	struct reaper *r = calloc(1, sizeof(*r));

	ssh_sess_set_cb(s, NULL, NULL);
	if (r)
		r->t = loop_timer_new(loop, reap_cb, r);
	if (!r || !r->t) {
		/* Out of memory: left to the process's end. */
		free(r);
		return;
	}
	r->s = s;
	loop_timer_arm(r->t, 0);
}

/* Drops the FTP session's own SSH session (SftpLogin=ftp). */
static void drop_own_session(struct ftpsrv *f)
{
	sftpbulk_free(f->bulk);
	f->bulk = NULL;
	sftpc_free(f->sc);
	f->sc = NULL;
	if (f->own_sess && f->s)
		reap_session(f->loop, f->s);
	if (f->own_sess)
		f->s = NULL;
}

static void release(struct ftpsrv *f)
{
	ftpsrv_xfer_release(f);
	fsdata_free(f->data);
	f->data = NULL;
	drop_own_session(f);
	if (f->fd >= 0) {
		loop_unwatch(f->loop, f->fd);
		close(f->fd);
		f->fd = -1;
	}
	buf_release(&f->in);
	buf_release(&f->out);
}

void ftpsrv_free(struct ftpsrv *f)
{
	if (!f)
		return;
	release(f);
	free(f);
}

void ftpsrv_close(struct ftpsrv *f, const char *reply)
{
	ftpsrv_enter(f);
	if (f->x.kind != XK_NONE)
		ftpsrv_xfer_abort(f, 0);
	ftpsrv_reply(f, "%s", reply);
	f->dead = 1;
	ftpsrv_leave(f);
}

/* Ends the session: from a callback of ours, once it returns. */
void ftpsrv_end(struct ftpsrv *f)
{
	f->dead = 1;
}

/* Every entry from the loop or sftpc goes through here on the way out:
 * a session that ended meanwhile is freed, and the done callback runs. */
void ftpsrv_leave(struct ftpsrv *f)
{
	if (--f->in_callback > 0)
		return;
	if (f->state == FS_CLOSING && !buf_len(&f->out))
		f->dead = 1;
	if (f->dead) {
		ftpsrv_done_cb done = f->done;
		void *arg = f->done_arg;

		log_debug("%s: session ends", f->name);
		flush_out(f);
		release(f);
		if (done)
			done(f, arg);
		free(f);
		return;
	}
	update_events(f);
}

void ftpsrv_enter(struct ftpsrv *f)
{
	f->in_callback++;
}

/* --- the control connection ------------------------------------------- */

static void update_events(struct ftpsrv *f)
{
	uint32_t ev = 0;

	if (f->fd < 0)
		return;
	if (buf_len(&f->out))
		ev |= EPOLLOUT;
	if (f->state != FS_CLOSING && !buf_full(&f->in))
		ev |= EPOLLIN;
	loop_set_events(f->loop, f->fd, ev);
}

static void ctl_cb(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct ftpsrv *f = arg;

	(void)loop;
	ftpsrv_enter(f);
	if (events & EPOLLOUT) {
		flush_out(f);
		if (f->x.to_ctl)
			ftpsrv_xfer_ctl_room(f);
	}
	if ((events & EPOLLIN) && f->state != FS_CLOSING) {
		size_t room;
		uint8_t *p = buf_room(&f->in, &room);
		ssize_t n = room ? recv(fd, p, room, MSG_DONTWAIT) : -1;

		if (n == 0 ||
		    (n < 0 && room && errno != EAGAIN && errno != EINTR)) {
			log_debug("%s: the client closed the control "
				  "connection",
				  f->name);
			if (f->x.kind != XK_NONE)
				ftpsrv_xfer_abort(f, 0);
			f->dead = 1;
		} else if (n > 0) {
			buf_commit(&f->in, (size_t)n);
			process_lines(f);
		}
	}
	ftpsrv_leave(f);
}

/* --- sftpc's owner ---------------------------------------------------- */

static void start_dir_cb(struct sftpc *c, int rc, void *arg)
{
	struct ftpsrv *f = arg;

	ftpsrv_enter(f);
	if (rc < 0) {
		ftpsrv_reply(f,
			     "421 ftp-tunnel: the start directory %s is "
			     "not there on the SSH server (%s).",
			     f->start_dir[0] ? f->start_dir : ".",
			     rc == LIBSSH2_ERROR_SFTP_PROTOCOL
				 ? "SFTP refused it"
				 : sftpc_error(c));
		set_state(f, FS_CLOSING);
	} else {
		snprintf(f->cwd, sizeof(f->cwd), "%s", sftpc_name(c));
		if (!f->cwd[0])
			snprintf(f->cwd, sizeof(f->cwd), "/");
		log_debug("%s: starts in %s", f->name, f->cwd);
		if (f->login_opts) {
			set_state(f, FS_READY);
			ftpsrv_reply(f, "230 Login successful.");
			ftpsrv_idle(f);
		} else {
			set_state(f, FS_LOGIN);
			ftpsrv_reply(f, "220 ftp-tunnel: FTP to SFTP on %s",
				     ssh_sess_name(f->s));
			process_lines(f);
		}
	}
	ftpsrv_leave(f);
}

static void sc_ready(struct sftpc *c, const char *err, void *arg)
{
	struct ftpsrv *f = arg;

	ftpsrv_enter(f);
	if (err) {
		ftpsrv_reply(f, "421 ftp-tunnel: %s", err);
		set_state(f, FS_CLOSING);
	} else if (sftpc_realpath(c, f->start_dir[0] ? f->start_dir : ".",
				  start_dir_cb, f) < 0) {
		ftpsrv_reply(f, "421 ftp-tunnel: the start directory's name "
				"is too long.");
		set_state(f, FS_CLOSING);
	}
	ftpsrv_leave(f);
}

static void sc_lost(struct sftpc *c, const char *why, void *arg)
{
	struct ftpsrv *f = arg;

	(void)c;
	ftpsrv_enter(f);
	log_info("%s: %s", f->name, why);
	if (f->x.kind != XK_NONE)
		ftpsrv_xfer_lost(f);
	ftpsrv_reply(f, "421 ftp-tunnel: the SSH connection was lost; "
			"closing.");
	set_state(f, FS_CLOSING);
	ftpsrv_leave(f);
}

static int sc_service(struct sftpc *c, void *arg)
{
	struct ftpsrv *f = arg;
	int progress;

	(void)c;
	if (f->x.kind == XK_NONE)
		return 0;
	ftpsrv_enter(f);
	progress = ftpsrv_xfer_service(f);
	ftpsrv_leave(f);
	return progress;
}

static const struct sftpc_owner sc_owner = {
    .ready = sc_ready, .lost = sc_lost, .service = sc_service};

/* --- commands --------------------------------------------------------- */

/* Joins the command's argument to the working directory into f->path.
 * 0, or -1 after answering. */
static int resolve(struct ftpsrv *f, const char *arg, char *out)
{
	if (ftppath_join(f->cwd, arg, out, FTPSRV_PATH) < 0) {
		ftpsrv_reply(f, "553 The name is too long.");
		return -1;
	}
	return 0;
}

/* Starts an SFTP operation; a refusal (never expected: one command at a
 * time) is answered. */
static void started(struct ftpsrv *f, int rc)
{
	if (rc == 0) {
		f->busy = 1;
		return;
	}
	if (rc == -ENAMETOOLONG)
		ftpsrv_reply(f, "553 The name is too long.");
	else
		ftpsrv_reply_sftp(f, rc, FTPREPLY_FILE, f->cmd.word);
}

static void to_listing_attrs(const LIBSSH2_SFTP_ATTRIBUTES *a,
			     struct listing_attrs *l)
{
	l->flags = a->flags;
	l->size = a->filesize;
	l->uid = a->uid;
	l->gid = a->gid;
	l->permissions = a->permissions;
	l->atime = a->atime;
	l->mtime = a->mtime;
}

static int is_dir(const LIBSSH2_SFTP_ATTRIBUTES *a)
{
	return (a->flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) &&
	       LIBSSH2_SFTP_S_ISDIR(a->permissions);
}

/* One callback for the single-operation commands: the answer by verb. */
static void op_done(struct sftpc *c, int rc, void *arg)
{
	struct ftpsrv *f = arg;
	const LIBSSH2_SFTP_ATTRIBUTES *a = sftpc_attrs(c);
	char q[FTPSRV_PATH * 2 + 3], t[32], line[FTPSRV_PATH + 200];
	struct listing_attrs la;
	int n;

	ftpsrv_enter(f);
	f->busy = 0;
	if (rc < 0 && !(f->cmd.verb == FTPCMD_RNTO && !f->rnto_retry &&
			rc == LIBSSH2_ERROR_SFTP_PROTOCOL &&
			(sftpc_status(c) == LIBSSH2_FX_FAILURE ||
			 sftpc_status(c) == LIBSSH2_FX_FILE_ALREADY_EXISTS))) {
		ftpsrv_reply_sftp(f, rc, FTPREPLY_FILE, f->cmd.arg);
		if (f->cmd.verb == FTPCMD_RNTO)
			f->have_rnfr = 0;
		goto out;
	}
	switch (f->cmd.verb) {
	case FTPCMD_CWD:
	case FTPCMD_CDUP:
		if (!is_dir(a)) {
			ftpsrv_reply(f, "550 %s: Not a directory.", f->cmd.arg);
			break;
		}
		memcpy(f->cwd, f->path, sizeof(f->cwd));
		ftpsrv_reply(f, "250 Directory successfully changed.");
		break;
	case FTPCMD_SIZE:
		if (is_dir(a) || !(a->flags & LIBSSH2_SFTP_ATTR_SIZE))
			ftpsrv_reply(f, "550 %s: Not a plain file.",
				     f->cmd.arg);
		else
			ftpsrv_reply(f, "213 %llu",
				     (unsigned long long)a->filesize);
		break;
	case FTPCMD_MDTM:
		if (!(a->flags & LIBSSH2_SFTP_ATTR_ACMODTIME) ||
		    listing_time((int64_t)a->mtime, t, sizeof(t)) < 0)
			ftpsrv_reply(f, "550 %s: No modification time.",
				     f->cmd.arg);
		else
			ftpsrv_reply(f, "213 %s", t);
		break;
	case FTPCMD_MFMT:
		listing_time(f->mfmt_time, t, sizeof(t));
		ftpsrv_reply(f, "213 Modify=%s; %s", t, f->path);
		break;
	case FTPCMD_DELE:
		ftpsrv_reply(f, "250 Delete operation successful.");
		break;
	case FTPCMD_RMD:
		ftpsrv_reply(f, "250 Remove directory operation successful.");
		break;
	case FTPCMD_MKD:
		if (ftppath_quote(f->path, q, sizeof(q)) < 0)
			snprintf(q, sizeof(q), "\"\"");
		ftpsrv_reply(f, "257 %s created", q);
		break;
	case FTPCMD_RNFR:
		memcpy(f->rnfr, f->path, sizeof(f->rnfr));
		f->have_rnfr = 1;
		ftpsrv_reply(f, "350 Ready for RNTO.");
		break;
	case FTPCMD_RNTO:
		if (rc < 0) {
			/* OpenSSH's server (SFTP version 3) will not rename
			 * onto an existing file; FTP's RNTO replaces it.
			 * Remove the target, then rename once more. */
			f->rnto_retry = 1;
			started(f, sftpc_unlink(c, f->path, op_done, f));
			break;
		}
		if (f->rnto_retry == 1) {
			f->rnto_retry = 2;
			started(f,
				sftpc_rename(c, f->rnfr, f->path, op_done, f));
			break;
		}
		f->have_rnfr = 0;
		ftpsrv_reply(f, "250 Rename successful.");
		break;
	case FTPCMD_SITE:
		ftpsrv_reply(f, "200 SITE CHMOD command ok.");
		break;
	case FTPCMD_MLST:
		to_listing_attrs(a, &la);
		n = listing_mlsx_line(f->path, &la, f->facts, line + 1,
				      sizeof(line) - 1);
		if (n < 0) {
			ftpsrv_reply(f, "501 The name is too long.");
			break;
		}
		line[0] = ' ';
		ftpsrv_reply(f, "250-Listing %s", f->cmd.arg);
		ftpsrv_raw(f, line, (size_t)n + 1);
		ftpsrv_reply(f, "250 End");
		break;
	default:
		ftpsrv_reply(f, "200 OK");
		break;
	}
out:
	if (!f->busy)
		ftpsrv_idle(f);
	ftpsrv_leave(f);
}

static void cmd_feat(struct ftpsrv *f, struct ftpcmd *c)
{
	char buf[1024];
	int n = feat_reply(f->facts, buf, sizeof(buf));

	(void)c;
	if (n < 0)
		ftpsrv_reply(f, "211 End");
	else
		ftpsrv_raw(f, buf, (size_t)n);
}

static void cmd_opts(struct ftpsrv *f, struct ftpcmd *c)
{
	const char *a = c->arg;

	if (!strncasecmp(a, "UTF8", 4) &&
	    (a[4] == '\0' || !strcasecmp(a + 4, " ON"))) {
		ftpsrv_reply(f, "200 Always in UTF8 mode.");
	} else if (!strncasecmp(a, "MLST", 4) &&
		   (a[4] == '\0' || a[4] == ' ')) {
		char facts[128];

		f->facts = listing_mlst_opts(a[4] ? a + 5 : "");
		if (listing_mlst_facts(f->facts, facts, sizeof(facts)) < 0)
			facts[0] = '\0';
		ftpsrv_reply(f, "200 MLST OPTS %s", facts);
	} else {
		ftpsrv_reply(f, "501 Option not understood.");
	}
}

static void cmd_help(struct ftpsrv *f, struct ftpcmd *c)
{
	char buf[2048];
	int n = feat_help(c->arg, buf, sizeof(buf));

	if (n < 0)
		ftpsrv_reply(f, "214 Help OK.");
	else
		ftpsrv_raw(f, buf, (size_t)n);
}

/* A new PASV/EPSV/PORT/EPRT replaces the last one's data connection. */
static void drop_data(struct ftpsrv *f)
{
	fsdata_free(f->data);
	f->data = NULL;
}

/* PASV and EPSV: a listener for the client's data connection. */
static void passive(struct ftpsrv *f, int extended)
{
	struct sockaddr_storage bound;
	char err[200], line[128];

	if (f->epsv_all && !extended) {
		ftpsrv_reply(f, "520 EPSV ALL was given: only EPSV now.");
		return;
	}
	if (extended && !strcasecmp(f->cmd.arg, "ALL")) {
		f->epsv_all = 1;
		ftpsrv_reply(f, "200 EPSV ALL ok.");
		return;
	}
	if (extended && f->cmd.arg[0] && strcmp(f->cmd.arg, "1") &&
	    strcmp(f->cmd.arg, "2")) {
		ftpsrv_reply(f,
			     "522 Network protocol not supported, use (1,2)");
		return;
	}
	if (extended && f->cmd.arg[0] &&
	    (f->cmd.arg[0] == '1') != (f->local.ss_family == AF_INET)) {
		/* The data connection is made to the control connection's
		 * own address, so the families must match. */
		ftpsrv_reply(f, "522 Network protocol not supported, use (%c)",
			     f->local.ss_family == AF_INET ? '1' : '2');
		return;
	}
	drop_data(f);
	f->data = fsdata_listen(f->loop, (struct sockaddr *)&f->local,
				(struct sockaddr *)&f->peer, f->peer_uid,
				&bound, f->name, err, sizeof(err));
	if (!f->data) {
		ftpsrv_reply(f, "425 %s", err);
		return;
	}
	if (extended) {
		ftpsrv_reply(f, "229 Entering Extended Passive Mode (|||%u|)",
			     addr_port((struct sockaddr *)&bound));
		return;
	}
	if (f->has_pasv_addr) {
		/* Through the shim: the address the program dialed, whose
		 * connect() to this port the shim brings to the listener. */
		uint16_t p = addr_port((struct sockaddr *)&bound);

		memcpy(&bound, &f->pasv_addr, sizeof(bound));
		addr_set_port((struct sockaddr *)&bound, p);
	}
	if (ftpaddr_227((struct sockaddr *)&bound, line, sizeof(line)) < 0) {
		drop_data(f);
		ftpsrv_reply(f,
			     "425 PASV needs an IPv4 control connection: use "
			     "EPSV.");
		return;
	}
	ftpsrv_raw(f, line, strlen(line));
}

/* 0.0.0.0 or :: */
static int is_unspecified(const struct sockaddr *a)
{
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       htonl(INADDR_ANY);
	return a->sa_family == AF_INET6 &&
	       IN6_IS_ADDR_UNSPECIFIED(
		   &((const struct sockaddr_in6 *)a)->sin6_addr);
}

/* PORT and EPRT: a connect to the client's listener, once a transfer
 * command asks for it. */
static void active(struct ftpsrv *f, int extended)
{
	struct sockaddr_storage to;
	int rc;

	if (f->epsv_all) {
		ftpsrv_reply(f, "520 EPSV ALL was given: only EPSV now.");
		return;
	}
	rc = extended ? ftpaddr_eprt(f->cmd.arg, &to)
		      : ftpaddr_port(f->cmd.arg, &to);
	if (rc == -2) {
		ftpsrv_reply(f,
			     "522 Network protocol not supported, use (1,2)");
		return;
	}
	if (rc == 0 && is_unspecified((struct sockaddr *)&to)) {
		/* lftp on a loopback IPv6 connection sends "EPRT |2|::|p|":
		 * the address it listens on, i.e. its own: the control
		 * connection's peer, which is where we connect. */
		uint16_t p = addr_port((struct sockaddr *)&to);

		memcpy(&to, &f->peer, sizeof(to));
		addr_set_port((struct sockaddr *)&to, p);
	}
	/* Only the client's own address: never a third host (the FTP
	 * bounce attack, RFC 2577). */
	if (rc < 0 || !addr_same_host((struct sockaddr *)&to,
				      (struct sockaddr *)&f->peer)) {
		ftpsrv_reply(f, "500 Illegal %s command.",
			     extended ? "EPRT" : "PORT");
		return;
	}
	drop_data(f);
	f->data = fsdata_connect(f->loop, (struct sockaddr *)&to, f->name);
	if (!f->data) {
		ftpsrv_reply(f, "425 out of memory");
		return;
	}
	ftpsrv_reply(f, "200 %s command successful.",
		     extended ? "EPRT" : "PORT");
}

/* STAT without a path. */
static void status_reply(struct ftpsrv *f)
{
	ftpsrv_reply(f, "211-ftp-tunnel FTP to SFTP status:");
	ftpsrv_reply(f, "     SSH server %s", ssh_sess_name(f->s));
	ftpsrv_reply(f, "     Working directory %s", f->cwd);
	ftpsrv_reply(f, "     TYPE: %s", f->type_ascii ? "ASCII" : "BINARY");
	ftpsrv_reply(f, "     No data connection");
	ftpsrv_reply(f, "211 End of status");
}

/* SftpLogin=ftp: the SSH session of this FTP login. */
static void login_event(struct ssh_sess *s, enum ssh_event ev, const char *msg,
			void *arg)
{
	struct ftpsrv *f = arg;

	ftpsrv_enter(f);
	f->s = s;
	switch (ev) {
	case SSH_EV_READY:
		f->sc = sftpc_new(f->s, f->name, &sc_owner, f);
		if (!f->sc) {
			ftpsrv_reply(f, "421 ftp-tunnel: out of memory.");
			set_state(f, FS_CLOSING);
		}
		break;
	case SSH_EV_FAILED:
		/* Never shared, never kept: a refused login leaves
		 * nothing open. */
		log_info("%s: SSH login as %s failed: %s", f->name, f->user,
			 msg);
		drop_own_session(f);
		f->have_user = 0;
		set_state(f, FS_LOGIN);
		if (ssh_sess_failed_early(s) &&
		    strstr(msg, "Permission denied"))
			ftpsrv_reply(f, "530 Login incorrect.");
		else
			ftpsrv_reply(f, "530 Login failed: no SSH login to the "
					"server (ftp-tunnel's log says why).");
		ftpsrv_idle(f);
		break;
	case SSH_EV_CLOSED:
		/* sftpc's lost() answered 421 already, when it was up. */
		if (f->state != FS_CLOSING) {
			ftpsrv_reply(f, "421 ftp-tunnel: the SSH connection "
					"was lost; closing.");
			set_state(f, FS_CLOSING);
		}
		break;
	}
	ftpsrv_leave(f);
}

static void ssh_login(struct ftpsrv *f, const char *pass)
{
	/* A shallow copy: ssh_sess_new copies the strings it keeps. */
	struct ssh_opts o = *f->login_opts;
	size_t plen = strlen(pass);
	struct ssh_sess *s;

	snprintf(o.user, sizeof(o.user), "%s", f->user);
	o.set |= SSH_SET_USER;
	if (plen >= sizeof(o.login_password)) {
		ftpsrv_reply(f, "530 Login incorrect.");
		return;
	}
	memcpy(o.login_password, pass, plen + 1);
	o.login_given = 1;
	o.batch_mode = 1;
	o.connections = 1;
	set_state(f, FS_AUTH);
	f->busy = 1;
	f->own_sess = 1;
	s = ssh_sess_new(f->loop, &o, login_event, f);
	explicit_bzero(o.login_password, sizeof(o.login_password));
	/* A failure reported from inside ssh_sess_new (a name that does
	 * not resolve) has been answered and reaped already. */
	if (s && f->state == FS_AUTH)
		f->s = s;
	if (!s) {
		f->busy = 0;
		set_state(f, FS_LOGIN);
		ftpsrv_reply(f, "421 ftp-tunnel: out of memory.");
		set_state(f, FS_CLOSING);
	}
}

static void cmd_user(struct ftpsrv *f, struct ftpcmd *c)
{
	size_t n = strnlen(c->arg, sizeof(f->user) - 1);

	/* SftpLogin=tunnel: the SSH login is ftp-tunnel's own; any FTP
	 * login is accepted, so scripts keep their own. */
	if (f->state == FS_READY) {
		ftpsrv_reply(f, "230 Already logged in.");
		return;
	}
	if (f->login_opts &&
	    (!c->arg[0] || strlen(c->arg) >= sizeof(f->user))) {
		ftpsrv_reply(f, "530 USER needs the SSH user's name.");
		return;
	}
	memcpy(f->user, c->arg, n);
	f->user[n] = '\0';
	f->have_user = 1;
	ftpsrv_reply(f, "331 Please specify the password.");
}

static void cmd_pass(struct ftpsrv *f, struct ftpcmd *c)
{
	if (f->state == FS_READY) {
		ftpsrv_reply(f, "230 Already logged in.");
	} else if (!f->have_user) {
		ftpsrv_reply(f, "503 Login with USER first.");
	} else if (f->login_opts) {
		ssh_login(f, c->arg);
		explicit_bzero(c->arg, sizeof(c->arg));
	} else {
		set_state(f, FS_READY);
		ftpsrv_reply(f, "230 Login successful.");
	}
}

static void cmd_acct(struct ftpsrv *f, struct ftpcmd *c)
{
	(void)c;
	ftpsrv_reply(f, "202 ACCT not needed.");
}

static void cmd_quit(struct ftpsrv *f, struct ftpcmd *c)
{
	(void)c;
	ftpsrv_reply(f, "221 Goodbye.");
	set_state(f, FS_CLOSING);
}

static void cmd_noop(struct ftpsrv *f, struct ftpcmd *c)
{
	(void)c;
	ftpsrv_reply(f, "200 NOOP ok.");
}

static void cmd_syst(struct ftpsrv *f, struct ftpcmd *c)
{
	(void)c;
	ftpsrv_raw(f, FEAT_SYST_REPLY, sizeof(FEAT_SYST_REPLY) - 1);
}

static void cmd_pwd(struct ftpsrv *f, struct ftpcmd *c)
{
	char q[FTPSRV_PATH * 2 + 3];

	(void)c;
	if (ftppath_quote(f->cwd, q, sizeof(q)) < 0)
		snprintf(q, sizeof(q), "\"/\"");
	ftpsrv_reply(f, "257 %s is the current directory", q);
}

/* CWD and CDUP: the directory is checked by a stat (op_done). */
static void cmd_cwd(struct ftpsrv *f, struct ftpcmd *c)
{
	if (resolve(f, c->verb == FTPCMD_CDUP ? ".." : c->arg, f->path) == 0)
		started(f, sftpc_stat(f->sc, f->path, op_done, f));
}

static void cmd_type(struct ftpsrv *f, struct ftpcmd *c)
{
	switch (ftpcmd_type(c->arg)) {
	case 'A':
		f->type_ascii = 1;
		ftpsrv_reply(f, "200 Switching to ASCII mode.");
		break;
	case 'I':
		f->type_ascii = 0;
		ftpsrv_reply(f, "200 Switching to Binary mode.");
		break;
	default:
		ftpsrv_reply(f, "504 TYPE %s not implemented.", c->arg);
	}
}

static void cmd_mode(struct ftpsrv *f, struct ftpcmd *c)
{
	if (!strcasecmp(c->arg, "S"))
		ftpsrv_reply(f, "200 Mode set to S.");
	else
		ftpsrv_reply(f, "504 Only MODE S is supported.");
}

static void cmd_stru(struct ftpsrv *f, struct ftpcmd *c)
{
	if (!strcasecmp(c->arg, "F"))
		ftpsrv_reply(f, "200 Structure set to F.");
	else
		ftpsrv_reply(f, "504 Only STRU F is supported.");
}

static void cmd_allo(struct ftpsrv *f, struct ftpcmd *c)
{
	(void)c;
	ftpsrv_reply(f, "202 ALLO not needed.");
}

static void cmd_pasv(struct ftpsrv *f, struct ftpcmd *c)
{
	passive(f, c->verb == FTPCMD_EPSV);
}

static void cmd_port(struct ftpsrv *f, struct ftpcmd *c)
{
	active(f, c->verb == FTPCMD_EPRT);
}

static void cmd_rest(struct ftpsrv *f, struct ftpcmd *c)
{
	if (ftpcmd_rest(c->arg, &f->rest) < 0) {
		f->rest = 0;
		ftpsrv_reply(f, "501 REST needs a decimal offset.");
	} else {
		ftpsrv_reply(f, "350 Restart position accepted (%llu).",
			     (unsigned long long)f->rest);
	}
}

/* RETR, STOR, APPE, STOU, LIST, NLST, MLSD: ftpsrv_xfer.c's, over the
 * data connection PASV or PORT prepared. */
static void cmd_transfer(struct ftpsrv *f, struct ftpcmd *c)
{
	if (!f->data) {
		f->rest = 0;
		ftpsrv_reply(f, "425 Use PORT or PASV first.");
		return;
	}
	f->busy = 1;
	if (c->verb == FTPCMD_RETR)
		ftpsrv_xfer_retr(f, c->arg);
	else if (c->verb == FTPCMD_STOR || c->verb == FTPCMD_APPE ||
		 c->verb == FTPCMD_STOU)
		ftpsrv_xfer_stor(f, c->arg, c->verb == FTPCMD_APPE,
				 c->verb == FTPCMD_STOU);
	else
		ftpsrv_xfer_list(f,
				 c->verb == FTPCMD_LIST	  ? XK_LIST
				 : c->verb == FTPCMD_NLST ? XK_NLST
							  : XK_MLSD,
				 c->arg);
	f->rest = 0;
}

static void cmd_abor(struct ftpsrv *f, struct ftpcmd *c)
{
	(void)c;
	ftpsrv_reply(f, "225 No transfer to abort.");
}

static void cmd_stat(struct ftpsrv *f, struct ftpcmd *c)
{
	if (!c->arg[0]) {
		status_reply(f);
		return;
	}
	/* STAT path: its LIST over the control connection (RFC 959
	 * §4.1.3), no data connection needed. */
	f->busy = 1;
	ftpsrv_xfer_list(f, XK_STAT, c->arg);
}

/* SIZE, MDTM, MLST and RNFR: a stat, answered by op_done. */
static void cmd_stat_path(struct ftpsrv *f, struct ftpcmd *c)
{
	if (resolve(f, c->arg, f->path) == 0)
		started(f, sftpc_stat(f->sc, f->path, op_done, f));
}

/* MFMT and SITE CHMOD: a setstat of what a LIBSSH2_SFTP_ATTRIBUTES
 * carries, on path (relative to the working directory). */
static void setstat_path(struct ftpsrv *f, const char *path,
			 const LIBSSH2_SFTP_ATTRIBUTES *a)
{
	if (resolve(f, path, f->path) == 0)
		started(f, sftpc_setstat(f->sc, f->path, a, op_done, f));
}

static void cmd_mfmt(struct ftpsrv *f, struct ftpcmd *c)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	const char *p;

	if (ftpcmd_mfmt(c->arg, &f->mfmt_time, &p) < 0) {
		ftpsrv_reply(f, "501 MFMT needs YYYYMMDDHHMMSS path.");
		return;
	}
	memset(&a, 0, sizeof(a));
	a.flags = LIBSSH2_SFTP_ATTR_ACMODTIME;
	a.atime = a.mtime = (unsigned long)f->mfmt_time;
	setstat_path(f, p, &a);
}

static void cmd_site(struct ftpsrv *f, struct ftpcmd *c)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	const char *p;
	unsigned mode;

	if (ftpcmd_site_chmod(c->arg, &mode, &p) < 0) {
		ftpsrv_reply(f, "500 Only SITE CHMOD mode path is supported.");
		return;
	}
	memset(&a, 0, sizeof(a));
	a.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS;
	a.permissions = mode & 07777;
	setstat_path(f, p, &a);
}

static void cmd_dele(struct ftpsrv *f, struct ftpcmd *c)
{
	if (resolve(f, c->arg, f->path) == 0)
		started(f, sftpc_unlink(f->sc, f->path, op_done, f));
}

static void cmd_mkd(struct ftpsrv *f, struct ftpcmd *c)
{
	if (resolve(f, c->arg, f->path) == 0)
		started(f, sftpc_mkdir(f->sc, f->path, 0755, op_done, f));
}

static void cmd_rmd(struct ftpsrv *f, struct ftpcmd *c)
{
	if (resolve(f, c->arg, f->path) == 0)
		started(f, sftpc_rmdir(f->sc, f->path, op_done, f));
}

static void cmd_rnto(struct ftpsrv *f, struct ftpcmd *c)
{
	if (!f->have_rnfr) {
		ftpsrv_reply(f, "503 RNFR first.");
		return;
	}
	f->rnto_retry = 0;
	if (resolve(f, c->arg, f->path) == 0)
		started(f, sftpc_rename(f->sc, f->rnfr, f->path, op_done, f));
}

enum {
	CMD_BEFORE_LOGIN = 1, /* served before the login */
	CMD_WANTS_ARG = 2,    /* 501 without an argument */
};

/* Every verb served outside a transfer (during one:
 * serve_during_transfer); a verb with no handler is 502. */
static const struct {
	void (*fn)(struct ftpsrv *f, struct ftpcmd *c);
	unsigned flags;
} commands[] = {
    [FTPCMD_USER] = {cmd_user, CMD_BEFORE_LOGIN},
    [FTPCMD_PASS] = {cmd_pass, CMD_BEFORE_LOGIN},
    [FTPCMD_ACCT] = {cmd_acct, CMD_BEFORE_LOGIN},
    [FTPCMD_QUIT] = {cmd_quit, CMD_BEFORE_LOGIN},
    [FTPCMD_NOOP] = {cmd_noop, CMD_BEFORE_LOGIN},
    [FTPCMD_SYST] = {cmd_syst, CMD_BEFORE_LOGIN},
    [FTPCMD_FEAT] = {cmd_feat, CMD_BEFORE_LOGIN},
    [FTPCMD_OPTS] = {cmd_opts, CMD_BEFORE_LOGIN},
    [FTPCMD_HELP] = {cmd_help, CMD_BEFORE_LOGIN},
    [FTPCMD_PWD] = {cmd_pwd, 0},
    [FTPCMD_CWD] = {cmd_cwd, CMD_WANTS_ARG},
    [FTPCMD_CDUP] = {cmd_cwd, 0},
    [FTPCMD_TYPE] = {cmd_type, CMD_WANTS_ARG},
    [FTPCMD_MODE] = {cmd_mode, CMD_WANTS_ARG},
    [FTPCMD_STRU] = {cmd_stru, CMD_WANTS_ARG},
    [FTPCMD_ALLO] = {cmd_allo, 0},
    [FTPCMD_PASV] = {cmd_pasv, 0},
    [FTPCMD_EPSV] = {cmd_pasv, 0},
    [FTPCMD_PORT] = {cmd_port, CMD_WANTS_ARG},
    [FTPCMD_EPRT] = {cmd_port, CMD_WANTS_ARG},
    [FTPCMD_REST] = {cmd_rest, CMD_WANTS_ARG},
    [FTPCMD_RETR] = {cmd_transfer, CMD_WANTS_ARG},
    [FTPCMD_STOR] = {cmd_transfer, CMD_WANTS_ARG},
    [FTPCMD_APPE] = {cmd_transfer, CMD_WANTS_ARG},
    [FTPCMD_STOU] = {cmd_transfer, 0},
    [FTPCMD_LIST] = {cmd_transfer, 0},
    [FTPCMD_NLST] = {cmd_transfer, 0},
    [FTPCMD_MLSD] = {cmd_transfer, 0},
    [FTPCMD_ABOR] = {cmd_abor, 0},
    [FTPCMD_STAT] = {cmd_stat, 0},
    [FTPCMD_SIZE] = {cmd_stat_path, CMD_WANTS_ARG},
    [FTPCMD_MDTM] = {cmd_stat_path, CMD_WANTS_ARG},
    [FTPCMD_MLST] = {cmd_stat_path, 0},
    [FTPCMD_MFMT] = {cmd_mfmt, CMD_WANTS_ARG},
    [FTPCMD_SITE] = {cmd_site, CMD_WANTS_ARG},
    [FTPCMD_DELE] = {cmd_dele, CMD_WANTS_ARG},
    [FTPCMD_MKD] = {cmd_mkd, CMD_WANTS_ARG},
    [FTPCMD_RMD] = {cmd_rmd, CMD_WANTS_ARG},
    [FTPCMD_RNFR] = {cmd_stat_path, CMD_WANTS_ARG},
    [FTPCMD_RNTO] = {cmd_rnto, CMD_WANTS_ARG},
};

static void log_command(const struct ftpsrv *f, const struct ftpcmd *c)
{
	if (c->verb == FTPCMD_PASS)
		log_debug("%s: -> PASS ****", f->name);
	else
		log_debug("%s: -> %s%s%s", f->name, c->word,
			  c->has_arg ? " " : "", c->arg);
}

/* REST applies to the next command only (RFC 3659 §5.3), RNFR to an
 * RNTO right after it. */
static void forget_prefixes(struct ftpsrv *f, enum ftpcmd_verb v)
{
	if (v != FTPCMD_REST && v != FTPCMD_RETR && v != FTPCMD_STOR)
		f->rest = 0;
	if (v != FTPCMD_RNTO && v != FTPCMD_RNFR)
		f->have_rnfr = 0;
}

static void dispatch(struct ftpsrv *f)
{
	struct ftpcmd *c = &f->cmd;
	unsigned v = c->verb;
	unsigned flags =
	    v < sizeof(commands) / sizeof(commands[0]) ? commands[v].flags : 0;

	log_command(f, c);
	if (f->state != FS_READY && !(flags & CMD_BEFORE_LOGIN)) {
		ftpsrv_reply(f, "530 Please login with USER and PASS.");
		return;
	}
	if ((flags & CMD_WANTS_ARG) && !c->arg[0]) {
		ftpsrv_reply(f, "501 %s needs an argument.", c->word);
		return;
	}
	forget_prefixes(f, c->verb);
	if (v < sizeof(commands) / sizeof(commands[0]) && commands[v].fn)
		commands[v].fn(f, c);
	else
		ftpsrv_reply(f, "502 %s not implemented.", c->word);
}

void ftpsrv_idle(struct ftpsrv *f)
{
	f->busy = 0;
	process_lines(f);
}

/* During a transfer only ABOR, STAT, NOOP and QUIT are served (RFC 959
 * §4.1.3); any other line waits in the buffer. 1 when the line was
 * served. */
static int serve_during_transfer(struct ftpsrv *f, const struct ftpcmd *c)
{
	switch (c->verb) {
	case FTPCMD_ABOR:
		ftpsrv_xfer_abort(f, 1);
		return 1;
	case FTPCMD_STAT:
		ftpsrv_reply(f, "213 Status: %llu bytes transferred so far.",
			     (unsigned long long)f->x.bytes);
		return 1;
	case FTPCMD_NOOP:
		ftpsrv_reply(f, "200 NOOP ok.");
		return 1;
	case FTPCMD_QUIT:
		ftpsrv_xfer_abort(f, 0);
		ftpsrv_reply(f, "221 Goodbye.");
		set_state(f, FS_CLOSING);
		return 1;
	default:
		return 0;
	}
}

static void process_lines(struct ftpsrv *f)
{
	while (f->state == FS_LOGIN || f->state == FS_READY) {
		size_t len, linelen;
		const uint8_t *p = buf_peek(&f->in, &len);
		const uint8_t *lf = len ? memchr(p, '\n', len) : NULL;

		if (f->dead)
			return;
		if (!lf) {
			if (buf_full(&f->in)) {
				/* RFC 959 leaves a line's length open; ours
				 * has a ceiling (curl's pingpong does too). */
				buf_consume(&f->in, len);
				if (!f->skip_line)
					ftpsrv_reply(f, "500 Line too long.");
				f->skip_line = 1;
			}
			return;
		}
		linelen = (size_t)(lf - p);
		if (f->skip_line) {
			buf_consume(&f->in, linelen + 1);
			f->skip_line = 0;
			continue;
		}
		if (linelen && p[linelen - 1] == '\r')
			linelen--;
		if (f->busy) {
			if (f->x.kind == XK_NONE || f->x.ending)
				return;
			if (ftpcmd_parse((const char *)p, linelen, &f->peek) <
				0 ||
			    !serve_during_transfer(f, &f->peek))
				return;
			buf_consume(&f->in, (size_t)(lf - p) + 1);
			continue;
		}
		if (ftpcmd_parse((const char *)p, linelen, &f->cmd) < 0) {
			buf_consume(&f->in, (size_t)(lf - p) + 1);
			ftpsrv_reply(f, "500 Syntax error.");
			continue;
		}
		buf_consume(&f->in, (size_t)(lf - p) + 1);
		dispatch(f);
	}
}

struct ftpsrv *ftpsrv_new(struct loop *loop, struct ssh_sess *s, int fd,
			  const struct ftpsrv_opts *o, const char *name,
			  ftpsrv_done_cb done, void *arg)
{
	struct ftpsrv *f = calloc(1, sizeof(*f));
	socklen_t len;

	if (!f) {
		close(fd);
		return NULL;
	}
	f->loop = loop;
	f->s = s;
	f->fd = fd;
	f->x.dfd = -1;
	f->done = done;
	f->done_arg = arg;
	f->facts = LISTING_FACT_ALL;
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->start_dir, sizeof(f->start_dir), "%s",
		 o && o->start_dir ? o->start_dir : "");
	f->login_opts = o ? o->login_opts : NULL;
	if (o && o->pasv_addr) {
		memcpy(&f->pasv_addr, o->pasv_addr, addr_len(o->pasv_addr));
		f->has_pasv_addr = 1;
	}
	f->peer_uid = o ? o->peer_uid : getuid();
	/* ABOR's Telnet Synch comes as TCP urgent data (ftplib sends the
	 * whole "ABOR\r\n" so): kept in the stream, ftpcmd_parse drops
	 * the Telnet bytes, else Linux takes the urgent byte out. */
	setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &(int){1}, sizeof(int));
	len = sizeof(f->local);
	getsockname(fd, (struct sockaddr *)&f->local, &len);
	len = sizeof(f->peer);
	getpeername(fd, (struct sockaddr *)&f->peer, &len);
	if (buf_init(&f->in, CTL_IN_CAP) < 0 ||
	    buf_init(&f->out, CTL_OUT_CAP) < 0)
		goto fail;
	if (!f->login_opts) {
		f->sc = sftpc_new(s, name, &sc_owner, f);
		if (!f->sc)
			goto fail;
	}
	if (loop_watch(loop, fd, 0, ctl_cb, f) < 0)
		goto fail;
	if (f->login_opts) {
		set_state(f, FS_LOGIN);
		ftpsrv_reply(f,
			     "220 ftp-tunnel: FTP to SFTP on %s; log in as "
			     "the SSH user",
			     f->login_opts->alias[0] ? f->login_opts->alias
						     : f->login_opts->host);
		update_events(f);
	}
	return f;
fail : {
	int e = errno ? errno : ENOMEM;

	ftpsrv_free(f);
	errno = e;
	return NULL;
}
}

/* ftpsrv_xfer.c — the SFTP bridge's transfers: RETR, STOR/APPE/STOU and
 * the listings, between a local data connection and SFTP. Reads are
 * pipelined (libssh2 reads ahead four times the room it is given) and
 * writes go out ahead of their acknowledgements (everything not yet
 * acknowledged stays in the buffer), so a transfer is not one round trip
 * per chunk. Memory per transfer is bounded by two buffers. */
#include "ftpsrv_int.h"

#include <errno.h>
#include <stdarg.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ftppath.h"
#include "ftpreply.h"
#include "listing.h"
#include "log.h"

/* File bytes held per transfer and direction: libssh2 asks for four
 * times the room it is given ahead (8 MiB at most), so 1 MiB of room
 * keeps 4 MiB in flight, enough for a WAN link's bandwidth-delay
 * product (libssh2 widens the channel's receive window itself to eight
 * times the read-ahead, so the window never limits it). */
#define XFER_BUF (1024 * 1024)
/* An upload has its whole buffer on the way unacknowledged, so the
 * buffer carries at most its size per round trip: it holds a round
 * trip at WRITE_RATE bytes per ms (above the ~150 MB/s one libssh2
 * stream moves), from XFER_BUF up to WRITE_AHEAD_MAX. OpenSSH's sshd
 * gives the channel a 2 MiB window, which bounds it there anyway. */
#define WRITE_RATE (200 * 1000)
#define WRITE_AHEAD_MAX (4 * 1024 * 1024)
/* A read is asked for only with this much room, so libssh2's read-ahead
 * never shrinks to a trickle while the client is slow. */
#define READ_MIN (64 * 1024)
/* A listing line's longest form. */
#define LINE_MAX_LEN (FTPSRV_PATH + 256)

static void x_close_handle(struct ftpsrv *f);
static void x_closed(struct sftpc *c, int rc, void *arg);
static void list_next(struct ftpsrv *f);
static void send_out(struct ftpsrv *f);

/* Defines the sftpc callback name as name_in run between ftpsrv_enter
 * and ftpsrv_leave: the session may end inside it, and only the
 * outermost leave may free it (ftpsrv_int.h). One definition, so no
 * callback can miss the pair. */
#define SFTPC_ENTERED(name)                                                    \
	static void name(struct sftpc *c, int rc, void *arg)                   \
	{                                                                      \
		ftpsrv_enter(arg);                                             \
		name##_in(c, rc, arg);                                         \
		ftpsrv_leave(arg);                                             \
	}

static void x_reset(struct ftpsrv *f)
{
	buf_release(&f->x.a);
	buf_release(&f->x.b);
	memset(&f->x, 0, sizeof(f->x));
	f->x.dfd = -1;
}

/* The bulk channel's read, if the transfer has one, goes. */
static void bulk_release(struct ftpsrv *f)
{
	if (f->x.bulk || f->x.bulk_opening)
		sftpbulk_release(f->bulk);
	f->x.bulk = f->x.bulk_opening = 0;
}

void ftpsrv_xfer_release(struct ftpsrv *f)
{
	bulk_release(f);
	if (f->x.dfd >= 0) {
		loop_unwatch(f->loop, f->x.dfd);
		close(f->x.dfd);
	}
	x_reset(f);
}

static void close_data(struct ftpsrv *f)
{
	if (f->x.dfd < 0)
		return;
	loop_unwatch(f->loop, f->x.dfd);
	close(f->x.dfd);
	f->x.dfd = -1;
}

/* The reply is sent and the session takes the next command. */
static void x_finished(struct ftpsrv *f)
{
	if (f->x.aborted) {
		ftpsrv_reply(f, "426 Connection closed; transfer aborted.");
		ftpsrv_reply(f, "226 ABOR successful.");
	} else if (f->x.end_code) {
		ftpsrv_reply(f, "%d %s", f->x.end_code, f->x.end_text);
	}
	log_debug("%s: transfer ends (%llu bytes)", f->name,
		  (unsigned long long)f->x.bytes);
	x_reset(f);
	sftpc_set_wants(f->sc, 0);
	ftpsrv_idle(f);
}

/* Decides the end reply, closes the data connection, then the handle. */
static void x_end(struct ftpsrv *f, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void x_end(struct ftpsrv *f, int code, const char *fmt, ...)
{
	va_list ap;

	if (f->x.ending)
		return;
	f->x.ending = 1;
	f->x.end_code = code;
	va_start(ap, fmt);
	vsnprintf(f->x.end_text, sizeof(f->x.end_text), fmt, ap);
	va_end(ap);
	bulk_release(f);
	close_data(f);
	sftpc_set_wants(f->sc, 0);
	x_close_handle(f);
}

/* An SFTP error as the end of a transfer. */
static void x_end_sftp(struct ftpsrv *f, int rc, enum ftpreply_op op)
{
	const char *text;
	int code;

	if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL) {
		code = ftpreply_for_status(sftpc_status(f->sc), op, &text);
		x_end(f, code, "%s: %s", f->x.name, text);
	} else {
		x_end(f, 426, "Connection closed; transfer aborted (SFTP: %s).",
		      sftpc_error(f->sc));
	}
}

/* A disk is full when less than this is free to the user. */
#define SPACE_LOW (64 * 1024)

static void space_checked_in(struct sftpc *c, int rc, void *arg)
{
	struct ftpsrv *f = arg;
	const LIBSSH2_SFTP_STATVFS *v = sftpc_statvfs_result(c);

	if (rc == 0 && v->f_bavail * (v->f_frsize ? v->f_frsize : v->f_bsize) <
			   SPACE_LOW) {
		f->x.end_code = 452;
		snprintf(f->x.end_text, sizeof(f->x.end_text),
			 "%s: Insufficient storage space on the SSH server.",
			 f->x.name);
	}
	x_finished(f);
}

SFTPC_ENTERED(space_checked)

static void x_closed_in(struct sftpc *c, int rc, void *arg)
{
	struct ftpsrv *f = arg;

	f->x.h = NULL;
	/* SFTP version 3 has no "disk full" status: OpenSSH's server says
	 * FX_FAILURE for ENOSPC. statvfs@openssh.com tells them apart. */
	if (f->x.write_failed && !f->x.space_checked) {
		f->x.space_checked = 1;
		if (sftpc_statvfs(c, f->x.name, space_checked, f) == 0)
			return;
	}
	/* The server reports a failed flush of an upload at its close. */
	if (rc < 0 && f->x.kind == XK_STOR && f->x.end_code == 226 &&
	    !f->x.aborted) {
		f->x.ending = 0;
		x_end_sftp(f, rc, FTPREPLY_STOR);
		return;
	}
	x_finished(f);
}

SFTPC_ENTERED(x_closed)

static void x_close_handle(struct ftpsrv *f)
{
	if (!f->x.h) {
		x_finished(f);
		return;
	}
	if (sftpc_busy(f->sc))
		return; /* the operation's callback comes back here */
	if (sftpc_close(f->sc, f->x.h, x_closed, f) < 0) {
		f->x.h = NULL;
		x_finished(f);
	}
}

/* An open's answer: on success the transfer holds the handle, and goes
 * on unless it is ending (then the handle is closed). 0 to go on, -1
 * when the transfer is over or closing. */
static int x_take_handle(struct ftpsrv *f, struct sftpc *c, int rc,
			 enum ftpreply_op op)
{
	if (rc < 0) {
		x_end_sftp(f, rc, op);
		return -1;
	}
	f->x.h = sftpc_handle(c);
	if (f->x.ending) {
		x_close_handle(f);
		return -1;
	}
	return 0;
}

/* An operation's answer on an open transfer: 0 to go on, -1 when the
 * transfer is ending (its handle closing) or the answer ended it. */
static int x_answered(struct ftpsrv *f, int rc, enum ftpreply_op op)
{
	if (f->x.ending) {
		x_close_handle(f);
		return -1;
	}
	if (rc < 0) {
		x_end_sftp(f, rc, op);
		return -1;
	}
	return 0;
}

/* --- the data connection ---------------------------------------------- */

static int is_upload(const struct ftpsrv *f)
{
	return f->x.kind == XK_STOR;
}

/* The buffer whose bytes go out next: b in TYPE A, else a. */
static struct buf *outbuf(struct ftpsrv *f)
{
	return f->x.ascii ? &f->x.b : &f->x.a;
}

/* Whether the transfer would call SFTP if serviced now: the session
 * reads its socket only while somebody will (ssh.h), so a download whose
 * buffer is full, or an upload with nothing to send, says no. */
static void x_wants(struct ftpsrv *f)
{
	size_t room = f->x.a.cap - buf_len(&f->x.a);
	int w = 0;

	if (f->x.ending || f->x.dfd < 0 || f->x.to_ctl)
		w = 0;
	else if (f->x.kind == XK_RETR)
		w = !f->x.bulk && !f->x.src_eof &&
		    (room >= READ_MIN || !buf_len(&f->x.a));
	else if (f->x.kind == XK_STOR)
		w = buf_len(outbuf(f)) > 0;
	sftpc_set_wants(f->sc, w);
}

static void data_events(struct ftpsrv *f)
{
	uint32_t ev = 0;

	if (f->x.dfd < 0)
		return;
	if (is_upload(f)) {
		if (!f->x.src_eof && !buf_full(&f->x.a))
			ev = EPOLLIN;
	} else if (buf_len(&f->x.a) || buf_len(&f->x.b)) {
		ev = EPOLLOUT;
	}
	loop_set_events(f->loop, f->x.dfd, ev);
	x_wants(f);
}

/* TYPE A: as much of a as fits converted into b. */
static void convert(struct ftpsrv *f)
{
	size_t inlen, room, used = 0, n;
	const uint8_t *in = buf_peek(&f->x.a, &inlen);
	uint8_t *out = buf_room(&f->x.b, &room);

	if (!inlen || !room)
		return;
	if (is_upload(f))
		n = textmode_from_net(&f->x.tm, (const char *)in, inlen, &used,
				      (char *)out, room);
	else
		n = textmode_to_net(&f->x.tm, (const char *)in, inlen, &used,
				    (char *)out, room);
	buf_commit(&f->x.b, n);
	buf_consume(&f->x.a, used);
}

/* STAT path: the listing into the control connection's replies, as
 * much as they have room for (the rest when they drain). */
static void send_ctl(struct ftpsrv *f)
{
	size_t len, room = f->out.cap - buf_len(&f->out);
	const uint8_t *p = buf_peek(&f->x.a, &len);

	if (len > room)
		len = room;
	if (len) {
		ftpsrv_raw(f, (const char *)p, len);
		buf_consume(&f->x.a, len);
	}
	if (f->x.src_eof && !buf_len(&f->x.a))
		x_end(f, 213, "End of status.");
}

void ftpsrv_xfer_ctl_room(struct ftpsrv *f)
{
	if (f->x.ending)
		return;
	send_ctl(f);
	list_next(f);
}

/* After a failed send or recv on the data connection: 0 when it only
 * has to wait (EAGAIN, EINTR), else ends the transfer with 426 and
 * returns 1. */
static int data_io_failed(struct ftpsrv *f)
{
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	x_end(f, 426, "Connection closed; transfer aborted (%s).",
	      strerror(errno));
	return 1;
}

/* Sends what the data connection takes of p: the bytes sent, 0 when it
 * has to wait, -1 when it failed (the transfer is ending). */
static ssize_t data_send(struct ftpsrv *f, const uint8_t *p, size_t len)
{
	ssize_t n = send(f->x.dfd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n > 0)
		return n;
	return n < 0 && data_io_failed(f) ? -1 : 0;
}

/* RETR through the bulk channel: its bytes to the client as they come,
 * straight from its ring; the end once it says so. */
static void bulk_send(struct ftpsrv *f)
{
	const char *text;
	unsigned long st;
	size_t len = 0;

	for (;;) {
		const uint8_t *p = sftpbulk_peek(f->bulk, &len);
		ssize_t n;

		if (!len)
			break;
		n = data_send(f, p, len);
		if (n < 0)
			return;
		if (n == 0)
			break;
		sftpbulk_consume(f->bulk, (size_t)n);
		f->x.bytes += (uint64_t)n;
	}
	switch (sftpbulk_result(f->bulk)) {
	case SFTPBULK_END:
		x_end(f, 226, "Transfer complete.");
		return;
	case SFTPBULK_FAILED:
		st = sftpbulk_status(f->bulk);
		if (st)
			x_end(f, ftpreply_for_status(st, FTPREPLY_RETR, &text),
			      "%s: %s", f->x.name, text);
		else
			x_end(f, 426,
			      "Connection closed; transfer aborted (the SFTP "
			      "download channel failed).");
		return;
	case SFTPBULK_READING:
		break;
	}
	/* Bytes left over wait for room; otherwise more() comes. */
	loop_set_events(f->loop, f->x.dfd, len ? EPOLLOUT : 0);
}

/* RETR and listings: buffered bytes to the client; the end once all is
 * read and sent. */
static void send_out(struct ftpsrv *f)
{
	struct buf *ob = outbuf(f);

	if (f->x.to_ctl && !f->x.ending) {
		send_ctl(f);
		return;
	}
	if (f->x.ending || f->x.dfd < 0)
		return;
	if (f->x.bulk) {
		bulk_send(f);
		return;
	}
	for (;;) {
		size_t len;
		const uint8_t *p;
		ssize_t n;

		if (f->x.ascii)
			convert(f);
		p = buf_peek(ob, &len);
		if (!len)
			break;
		n = data_send(f, p, len);
		if (n < 0)
			return;
		if (n == 0)
			break;
		buf_consume(ob, (size_t)n);
		if (f->x.kind == XK_RETR)
			f->x.bytes += (uint64_t)n;
	}
	if (f->x.src_eof && !buf_len(&f->x.a) && !buf_len(&f->x.b)) {
		x_end(f, 226, "Transfer complete.");
		return;
	}
	data_events(f);
}

/* STOR: the client's bytes into the buffer. */
static void recv_in(struct ftpsrv *f)
{
	while (!f->x.src_eof && !f->x.ending) {
		size_t room;
		uint8_t *p = buf_room(&f->x.a, &room);
		ssize_t n;

		if (!room)
			break;
		n = recv(f->x.dfd, p, room, MSG_DONTWAIT);
		if (n < 0) {
			if (data_io_failed(f))
				return;
			break;
		}
		if (n == 0) {
			f->x.src_eof = 1;
			break;
		}
		buf_commit(&f->x.a, (size_t)n);
		f->x.bytes += (uint64_t)n;
	}
	if (f->x.ascii) {
		convert(f);
		if (f->x.src_eof && !buf_len(&f->x.a)) {
			size_t room;
			uint8_t *p = buf_room(&f->x.b, &room);

			buf_commit(&f->x.b, textmode_from_net_end(
						&f->x.tm, (char *)p, room));
		}
	}
	data_events(f);
	sftpc_kick(f->sc);
}

static void data_cb(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct ftpsrv *f = arg;

	(void)loop;
	(void)fd;
	(void)events;
	ftpsrv_enter(f);
	if (is_upload(f)) {
		recv_in(f);
	} else {
		size_t before = buf_len(&f->x.a);

		send_out(f);
		if (f->x.kind != XK_RETR)
			list_next(f);
		else if (buf_len(&f->x.a) < before)
			sftpc_kick(f->sc); /* room for more reads */
	}
	ftpsrv_leave(f);
}

static void data_ready_in(struct fsdata *d, int fd, const char *err, void *arg)
{
	struct ftpsrv *f = arg;
	char why[200];

	snprintf(why, sizeof(why), "%s", err ? err : "");
	if (fd >= 0 &&
	    fsdata_made(d, &f->made_src, &f->made_dst)) /* for PEER */
		f->made_ms = loop_now_ms(f->loop);
	fsdata_free(d);
	f->data = NULL;
	if (fd < 0) {
		x_end(f, 425, "Cannot open data connection: %s.", why);
		return;
	}
	f->x.dfd = fd;
	if (loop_watch(f->loop, fd, 0, data_cb, f) < 0) {
		x_end(f, 425, "Cannot open data connection: out of memory.");
		return;
	}
	if (f->x.kind == XK_RETR || f->x.kind == XK_STOR) {
		x_wants(f);
		sftpc_kick(f->sc);
	}
	if (is_upload(f))
		recv_in(f);
	else if (f->x.kind == XK_RETR)
		send_out(f);
	else
		list_next(f);
}

static void data_ready(struct fsdata *d, int fd, const char *err, void *arg)
{
	ftpsrv_enter(arg);
	data_ready_in(d, fd, err, arg);
	ftpsrv_leave(arg);
}

/* 150, then the data connection. */
static void open_data(struct ftpsrv *f, const char *what)
{
	if (f->x.to_ctl) {
		ftpsrv_reply(f, "213-Status of %s:", f->x.name);
		list_next(f);
		return;
	}
	ftpsrv_reply(f, "150 %s", what);
	fsdata_wait(f->data, data_ready, f);
}

/* The buffer a transfer of this kind gets (see WRITE_RATE). */
/* Bytes for a round trip of the SFTP path at rate bytes per ms, from lo
 * to hi: what a transfer keeps in flight. */
static size_t round_trip_bytes(struct ftpsrv *f, size_t rate, size_t lo,
			       size_t hi)
{
	size_t want = (size_t)sftpc_rtt_ms(f->sc) * rate;

	if (want < lo)
		return lo;
	return want > hi ? hi : want;
}

static size_t xfer_buf_size(struct ftpsrv *f, enum xkind kind)
{
	if (kind != XK_STOR)
		return XFER_BUF;
	return round_trip_bytes(f, WRITE_RATE, XFER_BUF, WRITE_AHEAD_MAX);
}

static int x_begin(struct ftpsrv *f, enum xkind kind, const char *path)
{
	size_t size = xfer_buf_size(f, kind);

	x_reset(f);
	f->x.kind = kind;
	f->x.ascii = f->type_ascii && (kind == XK_RETR || kind == XK_STOR);
	f->x.offset = f->rest;
	buf_init_deferred(&f->x.a, size);
	buf_init_deferred(&f->x.b, size);
	if (buf_alloc(&f->x.a) < 0 || (f->x.ascii && buf_alloc(&f->x.b) < 0)) {
		x_end(f, 451, "Out of memory.");
		return -1;
	}
	if (ftppath_join(f->cwd, path, f->x.name, sizeof(f->x.name)) < 0) {
		x_end(f, 553, "The name is too long.");
		return -1;
	}
	return 0;
}

/* An operation of the transfer could not start (the subsystem is gone
 * or the name too long). */
static void x_start_failed(struct ftpsrv *f, int rc, enum ftpreply_op op)
{
	if (rc == -ENAMETOOLONG)
		x_end(f, 553, "The name is too long.");
	else
		x_end_sftp(f, rc, op);
}

/* --- RETR ------------------------------------------------------------- */

/* A binary RETR of at least BULK_MIN bytes goes through the bulk channel
 * (sftpbulk.h): its own OPEN there costs a round trip, and the first
 * one the channel's start, which a small file would not win back. Its
 * ring holds a round trip at BULK_RATE bytes per ms (more than one
 * stream reaches), from BULK_RING_MIN to BULK_RING_MAX. */
#define BULK_MIN (1024 * 1024)
#define BULK_RATE (400 * 1000)
#define BULK_RING_MIN (4 * 1024 * 1024)
#define BULK_RING_MAX (16 * 1024 * 1024)

static void bulk_opened_in(struct sftpbulk *b, int status, void *arg)
{
	struct ftpsrv *f = arg;
	const char *text;

	(void)b;
	if (f->x.kind != XK_RETR || !f->x.bulk_opening)
		return;
	f->x.bulk_opening = 0;
	if (status > 0) {
		x_end(f,
		      ftpreply_for_status((unsigned long)status, FTPREPLY_RETR,
					  &text),
		      "%s: %s", f->x.name, text);
		return;
	}
	/* status < 0: the channel cannot serve; libssh2's reads will. */
	f->x.bulk = status == 0;
	if (f->x.bulk)
		buf_release(&f->x.a); /* the bytes stay in the bulk ring */
	open_data(f, f->x.what);
}

static void bulk_opened(struct sftpbulk *b, int status, void *arg)
{
	ftpsrv_enter(arg);
	bulk_opened_in(b, status, arg);
	ftpsrv_leave(arg);
}

static void bulk_more(struct sftpbulk *b, void *arg)
{
	struct ftpsrv *f = arg;

	(void)b;
	ftpsrv_enter(f);
	if (f->x.bulk)
		send_out(f);
	ftpsrv_leave(f);
}

static const struct sftpbulk_owner bulk_owner = {.opened = bulk_opened,
						 .more = bulk_more};

/* Starts the read on the bulk channel when the file is worth it: 0, or
 * -1 to read it through libssh2. */
static int retr_bulk_open(struct ftpsrv *f, const char *what)
{
	if (f->x.ascii || !f->x.size_known || f->x.size < f->x.offset ||
	    f->x.size - f->x.offset < BULK_MIN)
		return -1;
	if (!f->bulk)
		f->bulk = sftpbulk_new(f->s, f->name, &bulk_owner, f);
	if (!f->bulk || !sftpbulk_usable(f->bulk))
		return -1;
	if (sftpbulk_open(f->bulk, f->x.name, f->x.offset, f->x.size,
			  round_trip_bytes(f, BULK_RATE, BULK_RING_MIN,
					   BULK_RING_MAX)) < 0)
		return -1;
	snprintf(f->x.what, sizeof(f->x.what), "%s", what);
	f->x.bulk_opening = 1;
	return 0;
}

static void retr_statted_in(struct sftpc *c, int rc, void *arg)
{
	struct ftpsrv *f = arg;
	const LIBSSH2_SFTP_ATTRIBUTES *a = sftpc_attrs(c);
	char what[FTPSRV_PATH + 128];

	if (x_answered(f, rc, FTPREPLY_RETR) < 0)
		return;
	if ((a->flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) &&
	    !LIBSSH2_SFTP_S_ISREG(a->permissions)) {
		x_end(f, 550, "%s: Not a plain file.", f->x.name);
		return;
	}
	if (f->x.offset)
		libssh2_sftp_seek64(f->x.h, f->x.offset);
	f->x.size_known = (a->flags & LIBSSH2_SFTP_ATTR_SIZE) != 0;
	f->x.size = a->filesize;
	/* wget and others read the size from this line. */
	if (a->flags & LIBSSH2_SFTP_ATTR_SIZE)
		snprintf(what, sizeof(what),
			 "Opening %s mode data connection for %s (%llu bytes).",
			 f->x.ascii ? "ASCII" : "BINARY",
			 ftppath_base(f->x.name),
			 (unsigned long long)(a->filesize > f->x.offset
						  ? a->filesize - f->x.offset
						  : 0));
	else
		snprintf(what, sizeof(what),
			 "Opening %s mode data connection for %s.",
			 f->x.ascii ? "ASCII" : "BINARY",
			 ftppath_base(f->x.name));
	if (retr_bulk_open(f, what) == 0)
		return; /* bulk_opened goes on */
	open_data(f, what);
}

SFTPC_ENTERED(retr_statted)

static void retr_opened_in(struct sftpc *c, int rc, void *arg)
{
	struct ftpsrv *f = arg;

	if (x_take_handle(f, c, rc, FTPREPLY_RETR) < 0)
		return;
	rc = sftpc_fstat(c, f->x.h, retr_statted, f);
	if (rc < 0)
		x_start_failed(f, rc, FTPREPLY_RETR);
}

SFTPC_ENTERED(retr_opened)

void ftpsrv_xfer_retr(struct ftpsrv *f, const char *path)
{
	int rc;

	if (x_begin(f, XK_RETR, path) < 0)
		return;
	rc = sftpc_open(f->sc, f->x.name, LIBSSH2_FXF_READ, 0, 0, retr_opened,
			f);
	if (rc < 0)
		x_start_failed(f, rc, FTPREPLY_RETR);
}

/* libssh2 (1.10, 1.11) asks for four times the buffer it is given
 * ahead, in requests of up to 30 000 bytes, and drops what comes back
 * past the file's end. Given 1 MiB of room, a 4 KiB file cost 140 READ
 * requests, 139 of them answered "end of file" by the server. So a read
 * asks for what the file has left by its size at the open, and one byte
 * more: the request past the end brings the end-of-file status with the
 * data, in the same round trip: libssh2 makes each request at least
 * the buffer's length and at most 30 000 bytes, so a buffer of
 * READ_SMALLEST is two requests for a small file, its data and its end.
 * A file that grew is still read to its end: the size bounds the
 * read-ahead, never what is read, and once a read went past it the
 * rest is read ahead in full. */
#define READ_SMALLEST 7501

static size_t retr_read_len(const struct ftpsrv *f, size_t room)
{
	uint64_t done = f->x.offset + f->x.read, left;

	/* Read past its size: it is growing, so read ahead as before. */
	if (!f->x.size_known || (f->x.read && done > f->x.size))
		return room;
	left = f->x.size > done ? f->x.size - done : 0;
	if (left < READ_SMALLEST - 1)
		left = READ_SMALLEST - 1;
	return left < room ? (size_t)left + 1 : room;
}

/* RETR's share of the service: read while there is room. */
static int retr_service(struct ftpsrv *f)
{
	int progress = 0;

	while (!f->x.ending && !f->x.src_eof && f->x.dfd >= 0) {
		size_t room;
		uint8_t *p = buf_room(&f->x.a, &room);
		ssize_t n;

		if (room < READ_MIN && buf_len(&f->x.a))
			break;
		if (!room)
			break;
		n = sftpc_read(f->sc, f->x.h, (char *)p,
			       retr_read_len(f, room));
		if (n == LIBSSH2_ERROR_EAGAIN)
			break;
		if (n < 0) {
			x_end_sftp(f, (int)n, FTPREPLY_RETR);
			return 1;
		}
		progress = 1;
		if (n == 0) {
			f->x.src_eof = 1;
		} else {
			buf_commit(&f->x.a, (size_t)n);
			f->x.read += (uint64_t)n;
		}
		send_out(f);
	}
	if (!f->x.ending)
		send_out(f);
	return progress;
}

/* --- STOR, APPE, STOU ------------------------------------------------- */

static void stor_opened_in(struct sftpc *c, int rc, void *arg)
{
	struct ftpsrv *f = arg;
	char what[FTPSRV_PATH + 64];

	if (x_take_handle(f, c, rc, FTPREPLY_STOR) < 0)
		return;
	if (f->x.offset)
		libssh2_sftp_seek64(f->x.h, f->x.offset);
	if (f->cmd.verb == FTPCMD_STOU)
		/* RFC 1123 §4.1.2.9 */
		snprintf(what, sizeof(what), "FILE: %s",
			 ftppath_base(f->x.name));
	else
		snprintf(what, sizeof(what), "Ok to send data.");
	open_data(f, what);
}

SFTPC_ENTERED(stor_opened)

void ftpsrv_xfer_stor(struct ftpsrv *f, const char *path, int append,
		      int unique)
{
	unsigned long flags = LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT;
	char name[96];
	int rc;

	if (unique) {
		struct timespec ts;

		/* A name nobody has: EXCL refuses it if somebody does. */
		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(name, sizeof(name), "ftp-tunnel.%lld.%09ld",
			 (long long)ts.tv_sec, ts.tv_nsec);
		path = name;
		flags |= LIBSSH2_FXF_EXCL;
	}
	if (x_begin(f, XK_STOR, path) < 0)
		return;
	if (append)
		flags |= LIBSSH2_FXF_APPEND;
	else if (!f->x.offset)
		flags |= LIBSSH2_FXF_TRUNC;
	rc = sftpc_open(f->sc, f->x.name, flags, 0644, 0, stor_opened, f);
	if (rc < 0)
		x_start_failed(f, rc, FTPREPLY_STOR);
}

/* STOR's share of the service: everything buffered goes to SFTP, the
 * acknowledged bytes leave the buffer. */
static int stor_service(struct ftpsrv *f)
{
	struct buf *ob = outbuf(f);
	int progress = 0;

	while (!f->x.ending && f->x.dfd >= 0) {
		size_t len;
		const uint8_t *p = buf_peek(ob, &len);
		ssize_t n;

		if (!len) {
			if (f->x.src_eof && !buf_len(&f->x.a))
				x_end(f, 226, "Transfer complete.");
			break;
		}
		n = sftpc_write(f->sc, f->x.h, (const char *)p, len);
		if (n == LIBSSH2_ERROR_EAGAIN || n == 0)
			break;
		if (n < 0) {
			f->x.write_failed =
			    n == LIBSSH2_ERROR_SFTP_PROTOCOL &&
			    sftpc_status(f->sc) == LIBSSH2_FX_FAILURE;
			x_end_sftp(f, (int)n, FTPREPLY_STOR);
			return 1;
		}
		progress = 1;
		buf_consume(ob, (size_t)n);
		if (f->x.ascii) {
			convert(f);
			if (f->x.src_eof && !buf_len(&f->x.a)) {
				size_t room;
				uint8_t *q = buf_room(&f->x.b, &room);

				buf_commit(&f->x.b,
					   textmode_from_net_end(
					       &f->x.tm, (char *)q, room));
			}
		}
		data_events(f);
	}
	return progress;
}

/* --- LIST, NLST, MLSD ------------------------------------------------- */

/* One line for an entry into the buffer (target: a link's, for LIST). */
static void list_line_to(struct ftpsrv *f, const char *name, const char *target,
			 const LIBSSH2_SFTP_ATTRIBUTES *a)
{
	char line[LINE_MAX_LEN], full[FTPSRV_PATH + 256];
	struct listing_attrs la;
	int n;

	la.flags = a->flags;
	la.size = a->filesize;
	la.uid = a->uid;
	la.gid = a->gid;
	la.permissions = a->permissions;
	la.atime = a->atime;
	la.mtime = a->mtime;
	switch (f->x.kind) {
	case XK_LIST:
	case XK_STAT:
		n = listing_list_line_link(
		    name, target, &la, (int64_t)time(NULL), line, sizeof(line));
		break;
	case XK_NLST:
		snprintf(full, sizeof(full), "%s%s",
			 f->x.glob[0] ? f->x.prefix : "", name);
		n = listing_nlst_line(full, line, sizeof(line));
		break;
	default:
		n = listing_mlsx_line(name, &la, f->facts, line, sizeof(line));
		break;
	}
	if (n > 0 && buf_append(&f->x.a, line, (size_t)n) < 0)
		log_warn("%s: a listing line was dropped", f->name);
}

static void list_line(struct ftpsrv *f, const char *name,
		      const LIBSSH2_SFTP_ATTRIBUTES *a)
{
	list_line_to(f, name, NULL, a);
}

/* LIST of a symbolic link: "name -> target" (wget skips an "l" line
 * without its target); one more round trip per link only. */
static void link_read_in(struct sftpc *c, int rc, void *arg)
{
	struct ftpsrv *f = arg;

	f->x.readdir_busy = 0;
	if (f->x.ending) {
		x_close_handle(f);
		return;
	}
	list_line_to(f, f->x.link_name, rc >= 0 ? sftpc_name(c) : NULL,
		     &f->x.link_attrs);
	send_out(f);
	list_next(f);
}

SFTPC_ENTERED(link_read)

static void list_entry_in(struct sftpc *c, int rc, void *arg)
{
	struct ftpsrv *f = arg;
	const char *name = sftpc_name(c);

	f->x.readdir_busy = 0;
	if (x_answered(f, rc, FTPREPLY_LIST) < 0)
		return;
	if (rc == 0) {
		f->x.src_eof = 1;
		send_out(f);
		return;
	}
	if (strcmp(name, ".") && strcmp(name, "..") &&
	    (!f->x.glob[0] || fnmatch(f->x.glob, name, FNM_PERIOD) == 0)) {
		const LIBSSH2_SFTP_ATTRIBUTES *a = sftpc_attrs(c);
		char path[FTPSRV_PATH];

		if ((f->x.kind == XK_LIST || f->x.kind == XK_STAT) &&
		    (a->flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) &&
		    LIBSSH2_SFTP_S_ISLNK(a->permissions) &&
		    ftppath_join(f->x.name, name, path, sizeof(path)) == 0) {
			snprintf(f->x.link_name, sizeof(f->x.link_name), "%s",
				 name);
			f->x.link_attrs = *a;
			f->x.readdir_busy = 1;
			if (sftpc_readlink(c, path, link_read, f) == 0)
				return;
			f->x.readdir_busy = 0;
		}
		list_line(f, name, a);
	}
	send_out(f);
	list_next(f);
}

SFTPC_ENTERED(list_entry)

/* The next entry, while the buffer has room for its line. */
static void list_next(struct ftpsrv *f)
{
	size_t room;

	if (f->x.ending || (f->x.dfd < 0 && !f->x.to_ctl) || f->x.src_eof ||
	    f->x.readdir_busy)
		return;
	if (f->x.single) {
		f->x.glob[0] = '\0';
		list_line(f, f->x.prefix, &f->x.single_attrs);
		f->x.src_eof = 1;
		send_out(f);
		return;
	}
	buf_room(&f->x.a, &room);
	if (room < LINE_MAX_LEN || sftpc_busy(f->sc))
		return;
	f->x.readdir_busy = 1;
	if (sftpc_readdir(f->sc, f->x.h, list_entry, f) < 0) {
		f->x.readdir_busy = 0;
		x_end(f, 451, "Cannot read the directory.");
	}
}

static void list_statted_in(struct sftpc *c, int rc, void *arg)
{
	struct ftpsrv *f = arg;

	if (x_answered(f, rc, FTPREPLY_LIST) < 0)
		return;
	if (LIBSSH2_SFTP_S_ISDIR(sftpc_attrs(c)->permissions)) {
		x_end(f, 550, "%s: Cannot open the directory.", f->x.name);
		return;
	}
	/* ls of one file lists it under the name given. */
	f->x.single = 1;
	f->x.single_attrs = *sftpc_attrs(c);
	open_data(f, "Here comes the directory listing.");
}

SFTPC_ENTERED(list_statted)

static void list_opened_in(struct sftpc *c, int rc, void *arg)
{
	struct ftpsrv *f = arg;

	if (rc < 0 && rc == LIBSSH2_ERROR_SFTP_PROTOCOL && !f->x.glob[0] &&
	    f->x.kind != XK_MLSD) {
		/* Not a directory, perhaps a file. */
		rc = sftpc_stat(c, f->x.name, list_statted, f);
		if (rc < 0)
			x_start_failed(f, rc, FTPREPLY_LIST);
		return;
	}
	if (x_take_handle(f, c, rc, FTPREPLY_LIST) < 0)
		return;
	open_data(f, "Here comes the directory listing.");
}

SFTPC_ENTERED(list_opened)

void ftpsrv_xfer_list(struct ftpsrv *f, enum xkind kind, const char *arg)
{
	const char *path = kind == XK_MLSD ? arg : ftpcmd_list_path(arg);
	const char *slash = strrchr(path, '/');
	const char *last = slash ? slash + 1 : path;
	char dir[FTPSRV_PATH];
	int rc;

	snprintf(dir, sizeof(dir), "%s", path);
	if (kind != XK_MLSD && strpbrk(last, "*?[")) {
		/* A glob ("NLST *", or "NLST dir/" and a star, for mget): SFTP
		 * has none, so the directory is listed and its names matched.
		 */
		if (x_begin(f, kind, "") < 0)
			return;
		f->x.to_ctl = kind == XK_STAT;
		snprintf(f->x.glob, sizeof(f->x.glob), "%s", last);
		dir[slash ? (size_t)(slash - path) + (slash == path) : 0] =
		    '\0';
		snprintf(f->x.prefix, sizeof(f->x.prefix), "%.*s",
			 slash ? (int)(slash - path) + 1 : 0, path);
		if (ftppath_join(f->cwd, dir, f->x.name, sizeof(f->x.name)) <
		    0) {
			x_end(f, 553, "The name is too long.");
			return;
		}
	} else {
		if (x_begin(f, kind, dir) < 0)
			return;
		f->x.to_ctl = kind == XK_STAT;
		/* ls of one file lists it under the name given (the
		 * prefix is the whole name then); a directory's names go
		 * without it. */
		snprintf(f->x.prefix, sizeof(f->x.prefix), "%s",
			 dir[0] ? dir : ".");
	}
	rc = sftpc_open(f->sc, f->x.name, 0, 0, 1, list_opened, f);
	if (rc < 0)
		x_start_failed(f, rc, FTPREPLY_LIST);
}

/* --- the rest --------------------------------------------------------- */

int ftpsrv_xfer_service(struct ftpsrv *f)
{
	if (f->x.ending || (f->x.dfd < 0 && !f->x.to_ctl))
		return 0;
	if (f->x.kind == XK_RETR)
		return f->x.bulk ? 0 : retr_service(f);
	if (f->x.kind == XK_STOR)
		return stor_service(f);
	list_next(f);
	return 0;
}

void ftpsrv_xfer_abort(struct ftpsrv *f, int by_abor)
{
	if (f->x.kind == XK_NONE)
		return;
	if (by_abor && !f->x.ending)
		f->x.aborted = 1;
	fsdata_free(f->data);
	f->data = NULL;
	if (!f->x.ending)
		x_end(f, 426, "Connection closed; transfer aborted.");
}

void ftpsrv_xfer_lost(struct ftpsrv *f)
{
	bulk_release(f);
	/* No SFTP any more: the handle went with the connection. */
	f->x.h = NULL;
	close_data(f);
	ftpsrv_reply(f, "426 Connection closed; transfer aborted (the SSH "
			"connection was lost).");
	x_reset(f);
}

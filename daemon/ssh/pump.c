/* pump.c — socket <-> channel pump. Each direction is a small state
 * machine (open -> drain -> closed, as OpenSSH's nchan.c), changed by one
 * setter that logs every change. A slow reader on one side stops reading
 * from the other: the SSH window then closes and memory stays bounded. */
#include "pump.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "net.h"

/* libssh2 1.10 sends at most 32 700 bytes of data per packet and one
 * packet per channel write (PUMP_BUF is a multiple of it). */
#define CHAN_PACKET 32700

/* A direction's half-close state. The input is what the socket sends,
 * going to the channel; the output is what the channel sends, going to the
 * socket. Each only moves forward, one step at a time (set_state()):
 *   input:  open  --EOF read from the socket-->        drain
 *           drain --up buffer sent, EOF sent on the channel--> closed
 *   output: open  --EOF from the channel-->            drain
 *           drain --down buffer written, shutdown(SHUT_WR)--> closed
 * The pump is done when both are closed. */
enum half {
	HALF_OPEN,
	HALF_DRAIN,
	HALF_CLOSED,
};

static const char *const half_names[] = {"open", "drain", "closed"};

enum dir { DIR_INPUT, DIR_OUTPUT };

static const char *const dir_names[] = {"input", "output"};

struct pump {
	struct ssh_sess *s;
	struct ssh_chan *c;
	int fd;
	int lfd; /* pump_keep_listener's, or -1 */
	char name[96];
	pump_done_cb cb;
	void *arg;
	struct buf up;	    /* socket -> channel */
	struct buf down;    /* channel -> socket */
	enum half state[2]; /* by enum dir; changed by set_state() only */
	int finished;
	uint32_t events;
	unsigned long long nup, ndown;
};

static int pump_service(struct ssh_chan *c, void *arg);
static void pump_lost(struct ssh_chan *c, void *arg);
static void pump_dump(struct ssh_chan *c, void *arg);
static const struct ssh_chan_ops pump_ops = {
    .service = pump_service, .lost = pump_lost, .dump = pump_dump};

void pump_counts(const struct pump *p, unsigned long long *up,
		 unsigned long long *down)
{
	*up = p->nup;
	*down = p->ndown;
}

void pump_set_done(struct pump *p, pump_done_cb cb, void *arg)
{
	p->cb = cb;
	p->arg = arg;
}

/* The one place a direction's state changes, logged as nchan.c does
 * ("chan N: input open -> drain"). A step other than the next one is a
 * bug: refused, and said so. */
static void set_state(struct pump *p, enum dir d, enum half st, const char *why)
{
	enum half was = p->state[d];

	if (st != was + 1) {
		log_err("chan %s: %s %s -> %s refused: a bug in ftp-tunnel, "
			"please report it",
			p->name, dir_names[d], half_names[was], half_names[st]);
		return;
	}
	log_trace("chan %s: %s %s -> %s (%s)", p->name, dir_names[d],
		  half_names[was], half_names[st], why);
	p->state[d] = st;
}

static void destroy(struct pump *p, int reset)
{
	if (p->lfd >= 0) {
		loop_unwatch(ssh_sess_loop(p->s), p->lfd);
		close(p->lfd);
	}
	loop_unwatch(ssh_sess_loop(p->s), p->fd);
	if (reset) {
		/* The other side was cut: make this one see a reset too. */
		struct linger lg = {.l_onoff = 1, .l_linger = 0};
		setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(p->fd);
	ssh_chan_close(p->c);
	buf_release(&p->up);
	buf_release(&p->down);
	free(p);
}

void pump_abort(struct pump *p)
{
	if (p)
		destroy(p, 1);
}

static void finish(struct pump *p, const char *why, int reset)
{
	if (p->finished)
		return;
	p->finished = 1;
	if (why)
		log_info("chan %s: cut: %s", p->name, why);
	else
		log_debug("chan %s: closed (%llu bytes up, %llu down)", p->name,
			  p->nup, p->ndown);
	if (p->cb)
		p->cb(p, why, p->arg);
	destroy(p, reset);
}

/* A libssh2 call on the channel failed: cut both sides, saying why. */
static void finish_channel_error(struct pump *p, const char *call, ssize_t rc)
{
	char why[300];

	snprintf(why, sizeof(why), "channel %s failed (%zd: %s)", call, rc,
		 ssh_last_error(p->s));
	finish(p, why, 1);
}

static int both_closed(const struct pump *p)
{
	return p->state[DIR_INPUT] == HALF_CLOSED &&
	       p->state[DIR_OUTPUT] == HALF_CLOSED;
}

static void update(struct pump *p)
{
	uint32_t ev = 0;

	if (p->state[DIR_INPUT] == HALF_OPEN && !buf_full(&p->up))
		ev |= EPOLLIN;
	if (buf_len(&p->down))
		ev |= EPOLLOUT;
	if (ev != p->events) {
		loop_set_events(ssh_sess_loop(p->s), p->fd, ev);
		p->events = ev;
	}
	ssh_chan_set_wants(
	    p->c, (p->state[DIR_OUTPUT] == HALF_OPEN && !buf_full(&p->down)) ||
		      buf_len(&p->up) || p->state[DIR_INPUT] == HALF_DRAIN);
}

/* Writes what the channel gave us to the socket. 0, or -1 on error. */
static int flush_down(struct pump *p)
{
	size_t len;
	const uint8_t *d;

	while ((d = buf_peek(&p->down, &len)), len) {
		ssize_t n = send(p->fd, d, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -1;
		}
		buf_consume(&p->down, (size_t)n);
		p->ndown += (unsigned long long)n;
	}
	if (!buf_len(&p->down) && p->state[DIR_OUTPUT] == HALF_DRAIN) {
		shutdown(p->fd, SHUT_WR);
		set_state(p, DIR_OUTPUT, HALF_CLOSED, "EOF to the socket");
	}
	return 0;
}

/* Reads the socket into the up buffer. 0, or -1 on error. */
static int fill_up(struct pump *p)
{
	if (p->state[DIR_INPUT] == HALF_OPEN && buf_alloc(&p->up) < 0)
		return -1;
	while (p->state[DIR_INPUT] == HALF_OPEN) {
		size_t room;
		uint8_t *dst = buf_room(&p->up, &room);
		ssize_t n;

		if (!room)
			break;
		n = recv(p->fd, dst, room, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -1;
		}
		if (n == 0) {
			set_state(p, DIR_INPUT, HALF_DRAIN,
				  "EOF from the socket");
			break;
		}
		buf_commit(&p->up, (size_t)n);
	}
	return 0;
}

/* fill_up from the service pass: what it reads is for the channel, so it
 * counts as progress (the pass comes back to send it). 0, or -1 when the
 * pump has finished on a socket error. */
static int top_up(struct pump *p, int *progress)
{
	size_t before = buf_len(&p->up);
	enum half was = p->state[DIR_INPUT];

	if (was != HALF_OPEN || buf_full(&p->up))
		return 0;
	if (fill_up(p) < 0) {
		finish(p, strerror(errno), 0);
		return -1;
	}
	if (buf_len(&p->up) != before || p->state[DIR_INPUT] != was)
		*progress = 1;
	return 0;
}

/* The output's pass: channel -> down buffer -> socket. 0, or -1 when the
 * pump has finished (and is freed). Sets *progress when anything moved. */
static int service_output(struct pump *p, int *progress)
{
	size_t unsent;
	ssize_t n;

	if (p->state[DIR_OUTPUT] == HALF_OPEN && buf_alloc(&p->down) < 0) {
		finish(p, strerror(ENOMEM), 1);
		return -1;
	}
	while (p->state[DIR_OUTPUT] == HALF_OPEN) {
		size_t room;
		uint8_t *dst = buf_room(&p->down, &room);

		if (!room)
			break;
		n = ssh_chan_read(p->c, (char *)dst, room);
		if (n > 0) {
			buf_commit(&p->down, (size_t)n);
			*progress = 1;
			continue;
		}
		if (n == LIBSSH2_ERROR_EAGAIN)
			break;
		if (n == 0) {
			set_state(p, DIR_OUTPUT, HALF_DRAIN,
				  "EOF from the channel");
			*progress = 1;
			break;
		}
		finish_channel_error(p, "read", n);
		return -1;
	}
	unsent = buf_len(&p->down);
	if (flush_down(p) < 0) {
		finish(p, strerror(errno), 0);
		return -1;
	}
	/* Room made by the socket is progress too: libssh2 may hold more for
	 * this channel (it had filled our buffer), and once read from the
	 * SSH socket nothing there will wake us for it. With the buffer now
	 * empty, EPOLLOUT is off as well: without another pass the transfer
	 * stalls with the whole window queued in libssh2. */
	if (buf_len(&p->down) < unsent)
		*progress = 1;
	return 0;
}

/* The input's pass: socket -> up buffer -> channel, then the channel's
 * EOF once drained. 0, or -1 when the pump has finished (and is freed).
 * Sets *progress when anything moved. */
static int service_input(struct pump *p, int *progress)
{
	size_t budget;
	ssize_t n;

	/* About one buffer per call so other channels get their turn.
	 * Whole packets while the socket has more: a tail shorter than a
	 * packet is topped up from the socket first, else a steady upload
	 * sends a runt packet after every buffer (9 packets per 256 KiB
	 * instead of 8, each with its own MAC, send and wakeup of the
	 * server). A tail the socket cannot top up goes out at once. */
	budget = PUMP_BUF;
	while (budget) {
		size_t len;
		const uint8_t *d;

		if (buf_len(&p->up) < CHAN_PACKET && top_up(p, progress) < 0)
			return -1;
		d = buf_peek(&p->up, &len);
		if (!len)
			break;
		n = ssh_chan_write(p->c, (const char *)d, len);
		if (n > 0) {
			buf_consume(&p->up, (size_t)n);
			p->nup += (unsigned long long)n;
			budget -= (size_t)n < budget ? (size_t)n : budget;
			*progress = 1;
			continue;
		}
		if (n == LIBSSH2_ERROR_EAGAIN)
			break;
		finish_channel_error(p, "write", n);
		return -1;
	}
	/* Refill from the socket now that there is room: saves a wakeup. */
	if (top_up(p, progress) < 0)
		return -1;
	if (p->state[DIR_INPUT] == HALF_DRAIN && !buf_len(&p->up)) {
		int rc = ssh_chan_send_eof(p->c);

		if (rc == 0) {
			set_state(p, DIR_INPUT, HALF_CLOSED,
				  "EOF sent on the channel");
			*progress = 1;
		} else if (rc != LIBSSH2_ERROR_EAGAIN) {
			finish(p, "cannot send EOF", 1);
			return -1;
		}
	}
	return 0;
}

static int pump_service(struct ssh_chan *c, void *arg)
{
	struct pump *p = arg;
	int progress = 0;

	(void)c;
	if (service_output(p, &progress) < 0 || service_input(p, &progress) < 0)
		return 1;
	if (both_closed(p)) {
		finish(p, NULL, 0);
		return 1;
	}
	update(p);
	return progress;
}

static void pump_lost(struct ssh_chan *c, void *arg)
{
	(void)c;
	finish(arg, "the SSH connection was lost", 1);
}

static void pump_dump(struct ssh_chan *c, void *arg)
{
	struct pump *p = arg;

	(void)c;
	log_warn("    pump: up %zu down %zu, input %s, output %s, events "
		 "0x%x, %llu up %llu down",
		 buf_len(&p->up), buf_len(&p->down),
		 half_names[p->state[DIR_INPUT]],
		 half_names[p->state[DIR_OUTPUT]], (unsigned)p->events, p->nup,
		 p->ndown);
}

static void pump_io_cb(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct pump *p = arg;

	(void)loop;
	(void)fd;
	if ((events & EPOLLOUT) && flush_down(p) < 0) {
		finish(p, strerror(errno), 0);
		return;
	}
	if ((events & EPOLLIN) && fill_up(p) < 0) {
		finish(p, strerror(errno), 0);
		return;
	}
	if (both_closed(p)) {
		finish(p, NULL, 0);
		return;
	}
	update(p);
	ssh_sess_kick(p->s);
}

static void refuse_cb(struct loop *loop, int lfd, uint32_t events, void *arg)
{
	struct pump *p = arg;
	int n;

	(void)events;
	n = net_refuse_waiting(loop, lfd, p->name);
	if (n)
		log_debug(
		    "chan %s: closed %d more connection%s to its listener",
		    p->name, n, n == 1 ? "" : "s");
}

void pump_keep_listener(struct pump *p, int lfd)
{
	if (loop_watch(ssh_sess_loop(p->s), lfd, EPOLLIN, refuse_cb, p) < 0) {
		close(lfd); /* no memory to watch it: closed now, as before */
		return;
	}
	p->lfd = lfd;
}

struct pump *pump_new(struct ssh_sess *s, LIBSSH2_CHANNEL *ch, int fd,
		      const char *name, pump_done_cb cb, void *arg)
{
	struct pump *p = calloc(1, sizeof(*p));

	if (!p)
		goto fail;
	/* Allocated at the first service pass or socket read. A data
	 * channel carries one way: the other buffer is never written, and
	 * being mmapped (mem.c) its pages never become resident. */
	buf_init_deferred(&p->up, PUMP_BUF);
	buf_init_deferred(&p->down, PUMP_BUF);
	p->s = s;
	p->fd = fd;
	p->lfd = -1;
	p->cb = cb;
	p->arg = arg;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->c = ssh_chan_attach(s, ch, &pump_ops, p, name);
	if (!p->c)
		goto fail;
	if (loop_watch(ssh_sess_loop(s), fd, EPOLLIN, pump_io_cb, p) < 0) {
		ssh_chan_close(p->c);
		p->c = NULL;
		close(fd);
		buf_release(&p->up);
		buf_release(&p->down);
		free(p);
		return NULL;
	}
	p->events = EPOLLIN;
	update(p);
	log_debug("chan %s: open", p->name);
	return p;
fail:
	if (p) {
		buf_release(&p->up);
		buf_release(&p->down);
		free(p);
	}
	close(fd);
	libssh2_channel_free(ch);
	return NULL;
}

void pump_input_done(struct pump *p)
{
	if (!p || p->finished || p->state[DIR_INPUT] != HALF_OPEN)
		return;
	set_state(p, DIR_INPUT, HALF_DRAIN, "a download: no data this way");
	update(p);
	ssh_sess_kick(p->s);
}

/* ssh_chan.c — the channels that ride on an SSH session: reads, writes
 * and EOF through the gate, the receive windows and the process's window
 * budget, attaching, and closing in the background (drain, then free). */
#include "ssh_int.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "mem.h"

/* Receive windows. libssh2 1.10 opens direct-tcpip channels with a 2 MiB
 * window and tops it up to that on every read: with the session socket
 * drained into its packet queue on any channel's read, every busy channel
 * then holds up to 2 MiB of decrypted packets, whatever its reader's pace
 * (64 downloads: 150 MiB). Our channels open with a small window and the
 * process shares a budget among the channels attached to all its sessions
 * (the daemon and ftp-tunnel -L spread FTP sessions over several SSH
 * connections, on threads of their own): one transfer starts with
 * 2 MiB (OpenSSH's window), many get what the budget allows each.
 * libssh2's own top-up keeps a window near the initial one plus the read
 * length, so the small initial window also bounds what it grants. That
 * initial window, WINDOW_OPEN, is in ssh_int.h: ssh_req.c opens the
 * channels.
 *
 * A window of W bytes carries at most W per round trip: 2 MiB over a
 * 40 ms path is 52 MB/s, whatever the link. So, as HPN-SSH does for
 * OpenSSH, a channel's window follows its path: each round trip (the
 * session's shortest channel open, ssh_req.c) it compares what it
 * received with its window, and one that received at least half of it
 * in a round trip doubles it, up to its part of the grown budget while
 * at most GROWN_CHANS_MAX channels share it (WINDOW_CEIL for one
 * transfer), of WINDOW_BUDGET beyond. A channel limited by its reader or the
 * CPU receives less than its window and stays where it is; below a round trip
 * of GROW_MIN_RTT_MS (loopback) nothing grows. Each top-up is clamped to the
 * budget's share again, so windows shrink as more channels come.
 *
 * Measured over the bench's 40 ms relay (bench/README.md): at 8 MiB,
 * topped up at half, the sender got one 4 MiB adjust per round trip plus
 * the time the receiver, short of CPU, took to decrypt those 4 MiB: 55-60
 * MB/s. The grown windows are therefore larger (up to 32 MiB, from a
 * budget of their own: the bytes of a grown window are mostly on the
 * path, not in memory) and topped up at three quarters. */
#define WINDOW_MAX (2 * 1024 * 1024)
#define WINDOW_MIN (128 * 1024)
#define WINDOW_BUDGET (16 * 1024 * 1024)
#define WINDOW_GROWN_BUDGET (64 * 1024 * 1024)
#define WINDOW_CEIL (32 * 1024 * 1024)
/* Below this round trip, WINDOW_MAX already carries 200 MB/s, more than
 * libssh2 decrypts: a window grows only on a longer path (or where
 * channel opens are that slow, on a loaded loopback). */
#define GROW_MIN_RTT_MS 10
/* The grown budget is for a transfer or two (a control and a data
 * channel each): with more channels, windows grow within WINDOW_BUDGET.
 * Under load, 64 transfers' channel opens took over GROW_MIN_RTT_MS on
 * loopback and their windows grew from the larger budget: 35-50 KiB more
 * per channel at the bench's memory peak. */
#define GROWN_CHANS_MAX 4

/* Channels attached to any session of the process. */
static atomic_int process_chans;

/* budget's part for each attached channel, at least WINDOW_MIN and at
 * most ceil. */
static unsigned long window_part(unsigned long budget, unsigned long ceil)
{
	int n = atomic_load(&process_chans);
	unsigned long share = budget / (unsigned long)(n > 0 ? n : 1);

	if (share > ceil)
		return ceil;
	return share < WINDOW_MIN ? WINDOW_MIN : share;
}

/* The window c keeps: its share of the budget up to WINDOW_MAX, more
 * when a round trip's worth of data filled half of it (see above). n is
 * what the read just returned. */
static unsigned long window_target(struct ssh_chan *c, ssize_t n)
{
	unsigned long floor = window_part(WINDOW_BUDGET, WINDOW_MAX);
	unsigned long cap = atomic_load(&process_chans) <= GROWN_CHANS_MAX
				? window_part(WINDOW_GROWN_BUDGET, WINDOW_CEIL)
				: window_part(WINDOW_BUDGET, WINDOW_CEIL);
	uint64_t now = loop_now_ms(c->s->loop), rtt = c->s->rtt_ms;

	if (n > 0)
		c->rtt_bytes += (unsigned long)n;
	if (c->s->rtt_known && rtt >= GROW_MIN_RTT_MS && c->win_target < cap) {
		if (!c->rtt_start_ms) {
			c->rtt_start_ms = now;
			c->rtt_bytes = 0;
		} else if (now - c->rtt_start_ms >= rtt) {
			/* Bytes per round trip, over the time it took. */
			unsigned long per_rtt =
			    (unsigned long)((uint64_t)c->rtt_bytes * rtt /
					    (now - c->rtt_start_ms));
			/* Half of the window in a round trip: the window,
			 * not the reader, may be what limits it; three
			 * quarters (near all a window topped up at three
			 * quarters lets through): it surely does, and the
			 * window grows fourfold, reaching 32 MiB in two
			 * round trips instead of four. */
			if (per_rtt >= c->win_target / 2) {
				unsigned long want =
				    (per_rtt >= c->win_target / 4 * 3 ? 4 : 2) *
				    c->win_target;

				c->win_target = want < cap ? want : cap;
				log_debug(
				    "chan %s: window %lu KiB (%lu KiB "
				    "in %llu ms, round trip %llu ms)",
				    c->name, c->win_target / 1024,
				    per_rtt / 1024,
				    (unsigned long long)(now - c->rtt_start_ms),
				    (unsigned long long)rtt);
			}
			c->rtt_start_ms = now;
			c->rtt_bytes = 0;
		}
	}
	if (c->win_target > cap)
		c->win_target = cap;
	if (c->win_target < floor)
		c->win_target = floor;
	return c->win_target;
}

/* Sends the window adjust of c->adjust_len bytes, or resumes it when
 * libssh2 holds it half sent. A resumed adjust must pass the same
 * amount: libssh2 1.10 resends the packet it built the first time, then
 * adds the amount of the call that completed it to its count of the
 * window. Any other amount sets that count apart from the server's, and
 * libssh2 then cuts the data it takes for more than the window allows (a
 * download short by a megabyte in t_rekey). An adjust is pending from its
 * EAGAIN on, whether or not the socket blocked: during a key re-exchange
 * libssh2 returns EAGAIN before the packet is even encrypted, and the
 * session's partly-sent-packet owner (ssh_gate) never hears of it. */
static int adjust_again(struct ssh_chan *c)
{
	int rc = libssh2_channel_receive_window_adjust2(c->raw, c->adjust_len,
							1, NULL);

	c->adjust_pending = rc == LIBSSH2_ERROR_EAGAIN;
	return rc;
}

/* Tops the channel's receive window up to its share once a quarter of
 * a grown window is used, half of any other (as OpenSSH does: many
 * channels' windows topped up at a quarter held 35-40 KiB more each at
 * the peak of the bench's 64 downloads), or repeats an adjust libssh2
 * holds half sent. libssh2 1.10
 * takes from its window what the reader took, not what arrived: the
 * window left covers what is on the way and what libssh2 holds decrypted
 * for us, so the share bounds both. 0, EAGAIN, or a libssh2 error. Only
 * when no other call holds a partly sent packet: libssh2 sends the
 * adjust at once. */
static int widen_window(struct ssh_chan *c, ssize_t n)
{
	unsigned long win, share;

	if (c->adjust_pending)
		return ssh_chan_ungate(c, SSH_OP_ADJUST, adjust_again(c));
	share = window_target(c, n);
	if (c->s->owner)
		return 0;
	win = libssh2_channel_window_read_ex(c->raw, NULL, NULL);
	if (win >= (share > WINDOW_MAX ? share - share / 4 : share / 2))
		return 0;
	c->adjust_len = (uint32_t)(share - win);
	return ssh_chan_ungate(c, SSH_OP_ADJUST, adjust_again(c));
}

void ssh_chan_poke(struct ssh_sess *s)
{
	struct ssh_chan *c;

	for (c = s->chans; c; c = c->next)
		if (!c->adjust_pending && c->pending_op == SSH_OP_NONE &&
		    !libssh2_channel_eof(c->raw))
			break;
	if (!c || !ssh_chan_gate(c))
		return;
	c->adjust_len = 1;
	ssh_chan_ungate(c, SSH_OP_ADJUST, adjust_again(c));
}

/* Finishes an adjust libssh2 holds half sent before the channel's next
 * call: EAGAIN while it is still pending. */
static int finish_adjust(struct ssh_chan *c)
{
	int rc;

	if (!c->adjust_pending)
		return 0;
	rc = widen_window(c, 0);
	return rc == LIBSSH2_ERROR_EAGAIN ? rc : 0;
}

ssize_t ssh_chan_read(struct ssh_chan *c, char *buf, size_t len)
{
	ssize_t n;

	if (!ssh_chan_gate(c) || finish_adjust(c) == LIBSSH2_ERROR_EAGAIN)
		return LIBSSH2_ERROR_EAGAIN;
	/* libssh2 1.10 sends the window adjust before reading, sized from
	 * len; when that send stops short it resumes the same packet on the
	 * next read but credits the window with the amount computed from
	 * that read's len. A different len would leave libssh2's window
	 * count apart from the server's: too low, and libssh2 drops data
	 * ("window exceeded"); too high, and it never adjusts again (a
	 * stall). So a read that stopped short is repeated with the same
	 * len (the caller's room only grows meanwhile). */
	if (c->read_retry_len && len > c->read_retry_len)
		len = c->read_retry_len;
	n = ssh_chan_ungate(c, SSH_OP_READ,
			    (int)libssh2_channel_read(c->raw, buf, len));
	c->read_retry_len = n == LIBSSH2_ERROR_EAGAIN ? len : 0;
	if (n >= 0 || n == LIBSSH2_ERROR_EAGAIN) {
		int rc = widen_window(c, n);

		if (rc < 0 && rc != LIBSSH2_ERROR_EAGAIN && n <= 0)
			n = rc;
	}
	if (n == 0 && !libssh2_channel_eof(c->raw)) {
		/* The transport read ended on a key re-exchange: not the
		 * end of the data. */
		c->s->again = 1;
		return LIBSSH2_ERROR_EAGAIN;
	}
	return n;
}

ssize_t ssh_chan_write(struct ssh_chan *c, const char *buf, size_t len)
{
	ssize_t n;

	if (!ssh_chan_gate(c) || finish_adjust(c) == LIBSSH2_ERROR_EAGAIN)
		return LIBSSH2_ERROR_EAGAIN;
	n = ssh_chan_ungate(c, SSH_OP_WRITE,
			    (int)libssh2_channel_write(c->raw, buf, len));
	if (n == 0) {
		/* No window, or the transport read ended on a key
		 * re-exchange: a window adjust may already be in. */
		if (libssh2_channel_window_write(c->raw) > 0)
			c->s->again = 1;
		return LIBSSH2_ERROR_EAGAIN;
	}
	return n;
}

int ssh_chan_send_eof(struct ssh_chan *c)
{
	if (!ssh_chan_gate(c) || finish_adjust(c) == LIBSSH2_ERROR_EAGAIN)
		return LIBSSH2_ERROR_EAGAIN;
	return ssh_chan_ungate(c, SSH_OP_EOF, libssh2_channel_send_eof(c->raw));
}

/* Repeats the call a closed channel left half done (see ssh.h). The data
 * is already encrypted in libssh2's buffer: only the call is needed. */
static int resume_pending(struct ssh_chan *c)
{
	char scratch[1024] = {0};
	int rc = 0;

	switch (c->pending_op) {
	case SSH_OP_READ:
		rc =
		    (int)libssh2_channel_read(c->raw, scratch, sizeof(scratch));
		break;
	case SSH_OP_WRITE:
		rc = (int)libssh2_channel_write(c->raw, scratch, 1);
		break;
	case SSH_OP_EOF:
		rc = libssh2_channel_send_eof(c->raw);
		break;
	case SSH_OP_ADJUST:
		rc = adjust_again(c);
		break;
	case SSH_OP_NONE:
		return 0;
	}
	rc = ssh_chan_ungate(c, c->pending_op, rc);
	return rc == LIBSSH2_ERROR_EAGAIN ? rc : 0;
}

/* --- channels --------------------------------------------------------- */

struct ssh_chan *ssh_chan_attach(struct ssh_sess *s, LIBSSH2_CHANNEL *raw,
				 const struct ssh_chan_ops *ops, void *arg,
				 const char *name)
{
	struct ssh_chan *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->s = s;
	c->raw = raw;
	c->ops = ops;
	c->arg = arg;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->next = s->chans;
	s->chans = c;
	atomic_fetch_add(&process_chans, 1);
	ssh_sess_kick(s);
	return c;
}

/* Takes c off its session's list of channels (and the process's count). */
static void unlink_chan(struct ssh_chan *c)
{
	struct ssh_chan **pp;

	for (pp = &c->s->chans; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			atomic_fetch_sub(&process_chans, 1);
			return;
		}
	}
}

void ssh_chan_close(struct ssh_chan *c)
{
	struct ssh_sess *s = c->s;

	unlink_chan(c);
	c->closing = 1;
	c->ops = NULL;
	if (s->state != SESS_READY) {
		free(c); /* libssh2_session_free frees the channel */
		return;
	}
	c->next = s->closing;
	s->closing = c;
	ssh_sess_kick(s);
}

void ssh_chan_detach(struct ssh_chan *c)
{
	struct ssh_sess *s = c->s;

	unlink_chan(c);
	if (s->owner == c)
		s->owner = NULL;
	free(c);
	if (!s->chans && !s->closing)
		mem_trim();
}

void ssh_chan_set_wants(struct ssh_chan *c, int wants_io)
{
	if (c->wants_io != wants_io) {
		c->wants_io = wants_io;
		if (!c->s->in_service)
			ssh_sess_update_events(c->s);
	}
}

LIBSSH2_CHANNEL *ssh_chan_raw(struct ssh_chan *c)
{
	return c->raw;
}

struct ssh_sess *ssh_chan_sess(struct ssh_chan *c)
{
	return c->s;
}

const char *ssh_chan_name(const struct ssh_chan *c)
{
	return c->name;
}

void ssh_chan_discard(struct ssh_sess *s, LIBSSH2_CHANNEL *raw)
{
	struct ssh_chan *c = calloc(1, sizeof(*c));

	if (!c) {
		return; /* freed with the session */
	}
	c->s = s;
	c->raw = raw;
	c->closing = 1;
	snprintf(c->name, sizeof(c->name), "(cancelled)");
	c->next = s->closing;
	s->closing = c;
}

void ssh_chan_free_list(struct ssh_chan *c)
{
	while (c) {
		struct ssh_chan *next = c->next;
		free(c);
		c = next;
	}
}

void ssh_chan_dying_all(struct ssh_sess *s, int lost)
{
	struct ssh_chan *c;

	for (c = s->chans; c; c = c->next)
		if (c->ops && c->ops->dying)
			c->ops->dying(c, lost, c->arg);
}

/* Every channel's owner learns that the connection is gone (and frees
 * what it holds), so no socket waits on a channel that will never move
 * again. Call once the session is dead. */
void ssh_chan_lose_all(struct ssh_sess *s)
{
	while (s->chans) {
		struct ssh_chan *c = s->chans;

		if (c->ops && c->ops->lost) {
			c->ops->lost(c, c->arg); /* calls ssh_chan_close(c) */
		} else {
			s->chans = c->next;
			atomic_fetch_sub(&process_chans, 1);
			free(c);
		}
	}
}

/* How long a closed channel is drained at most, for a peer that never
 * answers our CLOSE. */
#define CLOSE_DRAIN_MS 10000

/* After our CLOSE, reads and drops what the peer still sends on the
 * channel until its EOF or CLOSE: libssh2 1.10's close returns after the
 * first packet it reads, and data still in flight for a freed channel
 * would sit in the socket with nothing left to read it (the last channel
 * of a session, its client gone mid-transfer): the server then stalls on
 * a full socket, keepalive replies stop behind the data, and a healthy
 * session dies as "not responding". 0 when done, else EAGAIN. */
static int drain_closed(struct ssh_sess *s, struct ssh_chan *c)
{
	char sink[16384];
	ssize_t n;

	while (libssh2_channel_eof(c->raw) != 1) {
		if (loop_now_ms(s->loop) - c->closing_ms > CLOSE_DRAIN_MS ||
		    !ssh_gate(s, c))
			return loop_now_ms(s->loop) - c->closing_ms >
				       CLOSE_DRAIN_MS
				   ? 0
				   : LIBSSH2_ERROR_EAGAIN;
		n = ssh_ungate(
		    s, c,
		    (int)libssh2_channel_read(c->raw, sink, sizeof(sink)));
		if (n == LIBSSH2_ERROR_EAGAIN || n == 0)
			return LIBSSH2_ERROR_EAGAIN; /* more when it comes */
		if (n < 0)
			return 0; /* broken: free it */
	}
	return 0;
}

int ssh_chan_service_closing(struct ssh_sess *s)
{
	struct ssh_chan **pp = &s->closing;
	int progress = 0;

	while (*pp) {
		struct ssh_chan *c = *pp;
		int rc;

		if (!ssh_gate(s, c) || resume_pending(c) < 0) {
			pp = &c->next;
			continue;
		}
		if (!c->close_sent) {
			rc = ssh_ungate(s, c, libssh2_channel_close(c->raw));
			if (rc == LIBSSH2_ERROR_EAGAIN) {
				pp = &c->next;
				continue;
			}
			c->close_sent = 1; /* (or it failed: free it) */
			c->closing_ms = loop_now_ms(s->loop);
			progress = 1;
		}
		if (drain_closed(s, c) == LIBSSH2_ERROR_EAGAIN ||
		    !ssh_gate(s, c)) {
			pp = &c->next;
			continue;
		}
		rc = ssh_ungate(s, c, libssh2_channel_free(c->raw));
		if (rc == LIBSSH2_ERROR_EAGAIN) {
			pp = &c->next;
			continue;
		}
		log_trace("chan %s: freed", c->name);
		*pp = c->next;
		free(c);
		progress = 1;
	}
	/* The last channel is gone: what libssh2's packet queue and the
	 * pumps took at the peak goes back to the system, not only the top
	 * of the heap (idle RSS). */
	if (progress && !s->chans && !s->closing)
		mem_trim();
	return progress;
}

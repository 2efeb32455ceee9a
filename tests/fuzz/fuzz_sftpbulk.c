/* fuzz_sftpbulk.c — libFuzzer target for the bulk download channel's reply
 * reader (daemon/sftp/sftpbulk.c): whatever an SSH server sends on the
 * channel, cut into reads of any size, must neither crash it nor make it
 * hand out bytes it does not hold, and every read must end or go on.
 *
 * The session layer under it (ssh.h, the loop's timers) is replaced here
 * by a channel that reads from the input and takes every write.
 *
 * Input: byte 0 picks the file's size (bits 0-2) and the ring (bit 3: four
 * chunks or 1 MiB) and whether to open again after a read ends (bit 4);
 * byte 1 the most one read gives (1 to 256, times 64 with bit 7 of byte
 * 0); the rest is the server's bytes. The owner takes
 * every byte at once, releases each read once it ends or its open fails,
 * and with bit 4 opens another, up to four. Built with SFTPBULK_SELFCHECK
 * (mk/fuzz.mk), which checks the read's counts after each step. */
#include "sftpbulk.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "loop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
	fprintf(stderr, "fuzz_sftpbulk: %s\n", what);
	abort();
}

/* --- the channel: the input as the server's bytes ---------------------- */

static const uint8_t *in;
/* The input left, and the most one read gives. The input is cut into
 * frames by the length words it holds, as SFTP packets are, and frame i
 * is given only once the reader has sent i + 1 packets: a server answers
 * what it was asked, so a reply never comes before a request (the
 * bytes themselves are the input's, whatever they say). */
static size_t in_left, piece, frame_left;
static unsigned long sent_packets, frames;
/* A read that found nothing: the next must offer at least as much room
 * (ssh.h: libssh2 1.10 sized its window adjust from it). */
static size_t again_len;
static int chan_open, chan_attached, timer_armed;
static const struct ssh_chan_ops *ops;
static void *ops_arg;
static ssh_open_cb open_cb;
static void *open_arg;
static struct ssh_chan *const the_chan = (struct ssh_chan *)&the_chan;

ssize_t ssh_chan_read(struct ssh_chan *c, char *buf, size_t len)
{
	size_t n = len < piece ? len : piece;

	if (c != the_chan || !chan_attached)
		die("read on a channel not attached");
	if (!len)
		die("a read of 0 bytes");
	if (len < again_len)
		die("a read after EAGAIN with less room");
	if (!frame_left && in_left && frames < sent_packets) {
		uint32_t flen = in_left < 4 ? 0
					    : (uint32_t)in[0] << 24 |
						  (uint32_t)in[1] << 16 |
						  (uint32_t)in[2] << 8 | in[3];

		frame_left = flen > in_left - 4 || in_left < 4
				 ? in_left
				 : (size_t)flen + 4;
		frames++;
	}
	if (!frame_left) {
		again_len = len;
		return LIBSSH2_ERROR_EAGAIN;
	}
	again_len = 0;
	if (n > frame_left)
		n = frame_left;
	if (n > in_left)
		n = in_left;
	memcpy(buf, in, n);
	in += n;
	in_left -= n;
	frame_left -= n;
	return (ssize_t)n;
}

/* Takes every write; each must be whole packets. */
ssize_t ssh_chan_write(struct ssh_chan *c, const char *buf, size_t len)
{
	const uint8_t *p = (const uint8_t *)buf, *end = p + len;

	if (c != the_chan || !chan_attached)
		die("write on a channel not attached");
	while (p < end) {
		uint32_t plen;

		if (end - p < 5)
			die("a write cut inside a packet's head");
		plen = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		       (uint32_t)p[2] << 8 | p[3];
		if (plen < 1 || plen > (size_t)(end - p) - 4)
			die("a write cut inside a packet");
		p += 4 + plen;
		sent_packets++;
	}
	return (ssize_t)len;
}

void ssh_chan_close(struct ssh_chan *c)
{
	if (c != the_chan || !chan_attached)
		die("close of a channel not attached");
	chan_attached = 0;
}

struct ssh_chan *ssh_chan_attach(struct ssh_sess *s, LIBSSH2_CHANNEL *ch,
				 const struct ssh_chan_ops *o, void *arg,
				 const char *name)
{
	(void)s;
	(void)ch;
	(void)name;
	ops = o;
	ops_arg = arg;
	chan_attached = 1;
	return the_chan;
}

void ssh_chan_set_wants(struct ssh_chan *c, int wants_io)
{
	(void)c;
	(void)wants_io;
}

void ssh_sess_kick(struct ssh_sess *s)
{
	(void)s;
}

long ssh_open_subsystem(struct ssh_sess *s, const char *name, ssh_open_cb cb,
			void *arg)
{
	(void)s;
	if (strcmp(name, "sftp"))
		die("a subsystem other than sftp");
	open_cb = cb;
	open_arg = arg;
	chan_open = 1;
	return 1;
}

void ssh_open_cancel(struct ssh_sess *s, long id)
{
	(void)s;
	(void)id;
	chan_open = 0;
}

void ssh_chan_discard(struct ssh_sess *s, LIBSSH2_CHANNEL *raw)
{
	(void)s;
	(void)raw;
}

const char *ssh_last_error(struct ssh_sess *s)
{
	(void)s;
	return "fuzz";
}

struct loop *ssh_sess_loop(struct ssh_sess *s)
{
	(void)s;
	return NULL;
}

struct loop_timer *loop_timer_new(struct loop *loop, loop_timer_cb cb,
				  void *arg)
{
	(void)loop;
	(void)cb;
	(void)arg;
	return malloc(1);
}

void loop_timer_arm(struct loop_timer *t, uint64_t after_ms)
{
	(void)t;
	(void)after_ms;
	timer_armed = 1;
}

void loop_timer_disarm(struct loop_timer *t)
{
	(void)t;
	timer_armed = 0;
}

void loop_timer_free(struct loop_timer *t)
{
	free(t);
}

void log_msg(int level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	(void)level;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
}

/* --- the owner ---------------------------------------------------------- */

static int opened_status, opened_calls, more_calls;

static void on_opened(struct sftpbulk *b, int status, void *arg)
{
	(void)b;
	(void)arg;
	opened_status = status;
	opened_calls++;
}

static void on_more(struct sftpbulk *b, void *arg)
{
	(void)b;
	(void)arg;
	more_calls++;
}

static const struct sftpbulk_owner owner = {.opened = on_opened,
					    .more = on_more};

static const uint64_t sizes[8] = {0,	  1,	   32768,   65537,
				  300000, 1048576, 5000000, UINT64_MAX};

/* Takes every byte at the front; the bytes must lie in one chunk. */
static void drain(struct sftpbulk *b)
{
	for (;;) {
		size_t len;
		const uint8_t *p = sftpbulk_peek(b, &len);
		volatile uint8_t sink = 0;

		if (!len)
			return;
		if (!p || len > 256 * 1024)
			die("more at the front than a chunk");
		sink ^= p[0];
		sink ^= p[len - 1];
		(void)sink;
		sftpbulk_consume(b, len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sftpbulk *b;
	uint64_t fsize;
	size_t ring;
	int opens = 0, rounds, released = 0;

	if (size < 2)
		return 0;
	fsize = sizes[data[0] & 7];
	ring = data[0] & 8 ? 4 : 1024 * 1024;
	piece = (size_t)data[1] + 1;
	if (data[0] & 0x80)
		piece *= 64;
	in = data + 2;
	in_left = size - 2;
	chan_open = chan_attached = timer_armed = 0;
	again_len = frame_left = 0;
	sent_packets = frames = 0;
	opened_calls = more_calls = 0;
	opened_status = 99;

	b = sftpbulk_new((struct ssh_sess *)&owner, "fuzz", &owner, NULL);
	if (!b)
		return 0;
	if (sftpbulk_open(b, "/pub/file", 0, fsize, ring) < 0)
		die("the first open refused");
	opens = 1;
	if (!chan_open)
		die("no channel asked for");
	open_cb((struct ssh_sess *)&owner, (LIBSSH2_CHANNEL *)&owner, NULL,
		open_arg);
	/* Each round: the channel's service, the owner's draining. A round
	 * without input left ends it; the rounds bound a reader that would
	 * loop without reading. */
	for (rounds = 0; rounds < 100000 && chan_attached; rounds++) {
		size_t before = in_left;
		int answered;

		unsigned long sent = sent_packets;

		ops->service(the_chan, ops_arg);
		if (sftpbulk_selfcheck(b) < 0)
			die("the read's counts disagree with its slots");
		drain(b);
		if (sftpbulk_selfcheck(b) < 0)
			die("the read's counts disagree after taking");
		if (opened_calls > opens)
			die("opened() twice for one open");
		answered = opened_calls == opens;
		if (answered && !released &&
		    (opened_status != 0 ||
		     sftpbulk_result(b) != SFTPBULK_READING)) {
			sftpbulk_release(b);
			released = 1;
			if ((data[0] & 0x10) && opens < 4 &&
			    sftpbulk_usable(b)) {
				if (sftpbulk_open(b, "/pub/again", 1000, fsize,
						  ring) < 0)
					die("an open after a release refused");
				opens++;
				released = 0;
			}
		}
		if (before == in_left && sent == sent_packets)
			break;
	}
	if (rounds == 100000)
		die("the reader went round without reading");
	sftpbulk_free(b);
	return 0;
}

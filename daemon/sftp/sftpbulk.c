/* sftpbulk.c — big downloads over SFTP on a channel of their own, the
 * protocol spoken here (sftpbulk.h says why). Packets per
 * draft-ietf-secsh-filexfer-02 (version 3), limits@openssh.com per
 * OpenSSH's PROTOCOL file. */
#include "sftpbulk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "loop.h"
#include "wire.h"

enum {
	FXP_INIT = 1,
	FXP_VERSION = 2,
	FXP_OPEN = 3,
	FXP_CLOSE = 4,
	FXP_READ = 5,
	FXP_STATUS = 101,
	FXP_HANDLE = 102,
	FXP_DATA = 103,
	FXP_EXTENDED = 200,
	FXP_EXTENDED_REPLY = 201,
};
#define FX_OK 0
#define FX_EOF 1
#define FX_FAILURE 4
#define FXF_READ 0x01

/* A READ every server takes (the drafts require packets of 34 000
 * bytes), and the most asked for even when a server takes more. */
#define CHUNK_DEFAULT (32 * 1024)
#define CHUNK_MAX (256 * 1024)
#define SLOTS_MIN 4
#define SLOTS_MAX 512
/* Any reply but DATA: a status, a handle, the version. */
#define CTL_MAX (64 * 1024)
#define HANDLE_MAX 256
#define PATH_MAX_LEN 4096
/* Requests not yet taken by the channel: a few dozen READs. */
#define OUT_MAX (16 * 1024)
/* An idle channel is closed after this long: back-to-back downloads keep
 * it, but it does not hold one of the server's sessions (OpenSSH's
 * MaxSessions, 10 by default, counts every login's sftp channel) while
 * nothing is read. */
#define IDLE_CLOSE_MS 5000
/* Replies read per service pass, so the session's other channels and
 * the data connection get their turn. */
#define REPLIES_PER_PASS 64

enum chan_state {
	CH_NONE,     /* no channel yet */
	CH_STARTING, /* the channel and its subsystem are being opened */
	CH_INIT,     /* INIT sent, VERSION awaited */
	CH_LIMITS,   /* limits@openssh.com asked */
	CH_READY,
	CH_BROKEN, /* failed: every open answers -1 */
};

enum read_state {
	RD_NONE,
	RD_OPENING,  /* OPEN sent */
	RD_READING,  /* READs in flight */
	RD_DRAINING, /* released: the replies in flight are read, then
		      * CLOSE */
	RD_CLOSING,  /* CLOSE sent */
};

/* Where the reply being read is: its 9-byte head (length, type, id),
 * DATA's length, DATA's bytes (into their slot), or another reply's
 * body (into ctl). */
enum rx_state { RX_HEAD, RX_DATALEN, RX_DATA, RX_BODY };

/* A chunk of the file and its place in the ring. Replies fill it from
 * its start; one READ at a time is in flight for it. */
struct slot {
	uint64_t off;
	uint32_t len, got;
	uint32_t req_id; /* 0: none in flight */
	uint32_t req_len;
	int eof; /* the server said the file ends at off + got */
};

struct sftpbulk {
	struct ssh_sess *s;
	struct ssh_chan *ch;
	long open_req;
	char name[96];
	const struct sftpbulk_owner *owner; /* NULL once freed */
	void *arg;
	int in_service, dying;
	struct loop_timer *idle;
	enum chan_state cst;
	uint32_t chunk; /* the READ size */
	uint32_t next_id, ctl_id;

	/* The read. */
	enum read_state rst;
	int released;	  /* by the owner: no callbacks for it */
	int open_waiting; /* asked for; sent once the channel is ready */
	int tell_opened;  /* opened() is due, with open_status */
	int open_status;
	int tell_more; /* more() is due */
	char path[PATH_MAX_LEN];
	uint64_t bound, next_off;
	int probe_sent;			 /* the request past the bound is out */
	uint64_t want_offset, want_size; /* the open waiting */
	size_t ring_want;
	unsigned char handle[HANDLE_MAX];
	uint32_t hlen;
	uint8_t *ring;
	struct slot *slots;
	unsigned nslots, head, used, inflight, shorts;
	uint32_t consumed; /* of the head slot */
	int eof_seen;
	enum sftpbulk_result result;
	unsigned long status;

	/* Requests on their way into the channel. */
	unsigned char out[OUT_MAX];
	size_t out_len, out_sent;

	/* The reply being read. */
	enum rx_state rx;
	unsigned char head_buf[13];
	size_t head_got;
	uint8_t rx_type;
	uint32_t rx_id, body_left;
	struct slot *rx_slot;
	uint8_t ctl[CTL_MAX];
	size_t ctl_got;
};

/* --- packets ---------------------------------------------------------- */

/* A reply's fields, bounds-checked: each get fails (returns -1) once the
 * body is used up, and stays failed. */
struct cursor {
	const uint8_t *p;
	size_t left;
};

static int cur_u32(struct cursor *c, uint32_t *v)
{
	if (c->left < 4)
		return -1;
	*v = wire_get_u32(c->p);
	c->p += 4;
	c->left -= 4;
	return 0;
}

static int cur_u64(struct cursor *c, uint64_t *v)
{
	uint32_t hi, lo;

	if (cur_u32(c, &hi) < 0 || cur_u32(c, &lo) < 0)
		return -1;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

static int cur_str(struct cursor *c, const uint8_t **s, uint32_t *n)
{
	if (cur_u32(c, n) < 0 || c->left < *n)
		return -1;
	*s = c->p;
	c->p += *n;
	c->left -= *n;
	return 0;
}

/* Room for a packet of n bytes at the end of out: a pointer past its
 * length field, or NULL. Bytes already handed to the channel stay where
 * they are until all are taken: libssh2 resumes a write it held half
 * sent from the same bytes. */
static unsigned char *out_begin(struct sftpbulk *b, size_t n)
{
	if (b->out_sent == b->out_len)
		b->out_sent = b->out_len = 0;
	if (OUT_MAX - b->out_len < n + 4)
		return NULL;
	return b->out + b->out_len + 4;
}

static void out_end(struct sftpbulk *b, unsigned char *end)
{
	unsigned char *start = b->out + b->out_len;

	wire_put_u32(start, (uint32_t)(end - start - 4));
	b->out_len = (size_t)(end - b->out);
}

static uint32_t new_id(struct sftpbulk *b)
{
	if (++b->next_id == 0)
		b->next_id = 1;
	return b->next_id;
}

/* --- failure ---------------------------------------------------------- */

static void read_done(struct sftpbulk *b);

/* The channel is unusable: the read fails (status 0), an open waiting
 * for it gets -1, later opens too. */
static void broken(struct sftpbulk *b, const char *why)
{
	if (b->cst != CH_BROKEN)
		log_info("%s: the SFTP download channel: %s", b->name, why);
	b->cst = CH_BROKEN;
	if (b->ch) {
		ssh_chan_close(b->ch);
		b->ch = NULL;
	}
	if (b->open_waiting || (b->rst == RD_OPENING && !b->released)) {
		b->tell_opened = 1;
		b->open_status = -1;
	} else if (b->rst == RD_READING && !b->released &&
		   b->result == SFTPBULK_READING) {
		b->result = SFTPBULK_FAILED;
		b->status = 0;
		b->tell_more = 1;
	}
	b->open_waiting = 0;
	b->rx = RX_HEAD;
	b->head_got = 0;
	read_done(b);
}

/* --- the read ---------------------------------------------------------- */

/* The read's end on the channel: the ring goes, a queued open may go. */
static void read_done(struct sftpbulk *b)
{
	free(b->ring);
	free(b->slots);
	b->ring = NULL;
	b->slots = NULL;
	b->nslots = b->head = b->used = b->inflight = b->shorts = 0;
	b->rst = RD_NONE;
	if (b->ch && b->idle && !b->open_waiting)
		loop_timer_arm(b->idle, IDLE_CLOSE_MS);
}

/* Nothing was read for a while: the channel goes; the next open starts
 * another. */
static void idle_expired(struct loop *loop, void *arg)
{
	struct sftpbulk *b = arg;

	(void)loop;
	if (!b->ch || b->rst != RD_NONE || b->open_waiting ||
	    b->cst != CH_READY)
		return;
	log_debug("%s: the SFTP download channel is idle: closed", b->name);
	ssh_chan_close(b->ch);
	b->ch = NULL;
	b->cst = CH_NONE;
	b->out_len = b->out_sent = 0;
	b->rx = RX_HEAD;
	b->head_got = 0;
}

static void send_open(struct sftpbulk *b)
{
	size_t plen = strlen(b->path);
	unsigned char *p = out_begin(b, 1 + 4 + 4 + plen + 4 + 4);
	size_t n;

	if (!p)
		return; /* after the requests ahead of it */
	b->open_waiting = 0;
	b->released = 0;
	b->next_off = b->want_offset;
	b->bound = b->want_size;
	b->probe_sent = b->eof_seen = 0;
	b->consumed = 0;
	b->result = SFTPBULK_READING;
	b->status = 0;
	b->nslots = (unsigned)(b->ring_want / b->chunk);
	if (b->nslots < SLOTS_MIN)
		b->nslots = SLOTS_MIN;
	if (b->nslots > SLOTS_MAX)
		b->nslots = SLOTS_MAX;
	n = (size_t)b->nslots * b->chunk;
	b->ring = malloc(n);
	b->slots = calloc(b->nslots, sizeof(*b->slots));
	if (!b->ring || !b->slots) {
		read_done(b);
		b->tell_opened = 1;
		b->open_status = -1;
		return;
	}
	*p++ = FXP_OPEN;
	b->ctl_id = new_id(b);
	p = wire_put_u32(p, b->ctl_id);
	p = wire_put_bytes(p, b->path, (uint32_t)plen);
	p = wire_put_u32(p, FXF_READ);
	p = wire_put_u32(p, 0); /* no attributes */
	out_end(b, p);
	b->rst = RD_OPENING;
	log_debug("%s: bulk read of %s from %llu: %u requests of %u bytes",
		  b->name, b->path, (unsigned long long)b->want_offset,
		  b->nslots, b->chunk);
}

static void send_close(struct sftpbulk *b)
{
	unsigned char *p = out_begin(b, 1 + 4 + 4 + b->hlen);

	if (!p)
		return;
	*p++ = FXP_CLOSE;
	b->ctl_id = new_id(b);
	p = wire_put_u32(p, b->ctl_id);
	p = wire_put_bytes(p, b->handle, b->hlen);
	out_end(b, p);
	b->rst = RD_CLOSING;
}

static int send_read(struct sftpbulk *b, struct slot *sl)
{
	unsigned char *p = out_begin(b, 1 + 4 + 4 + b->hlen + 8 + 4);

	if (!p)
		return -1;
	*p++ = FXP_READ;
	sl->req_id = new_id(b);
	sl->req_len = sl->len - sl->got;
	p = wire_put_u32(p, sl->req_id);
	p = wire_put_bytes(p, b->handle, b->hlen);
	p = wire_put_u64(p, sl->off + sl->got);
	p = wire_put_u32(p, sl->req_len);
	out_end(b, p);
	b->inflight++;
	return 0;
}

static struct slot *slot_at(struct sftpbulk *b, unsigned i)
{
	return &b->slots[(b->head + i) % b->nslots];
}

static uint8_t *slot_mem(struct sftpbulk *b, const struct slot *sl)
{
	return b->ring + (size_t)(sl - b->slots) * b->chunk;
}

/* The next chunk's length, 0 when there is none to ask for: up to the
 * bound (the size when statted), then one request past it. */
static uint32_t next_len(struct sftpbulk *b)
{
	uint64_t left;

	if (b->eof_seen)
		return 0;
	if (b->next_off >= b->bound) {
		if (b->probe_sent)
			return 0;
		b->probe_sent = 1;
		return b->chunk;
	}
	left = b->bound - b->next_off;
	return left < b->chunk ? (uint32_t)left : b->chunk;
}

/* READs for the short replies' rest, then for new chunks, while the ring
 * has room. Nonzero when it queued any. */
static int fill_requests(struct sftpbulk *b)
{
	int queued = 0;
	unsigned i;

	if (b->rst != RD_READING || b->result != SFTPBULK_READING)
		return 0;
	for (i = 0; b->shorts && i < b->used; i++) {
		struct slot *sl = slot_at(b, i);

		if (sl->req_id || sl->eof || sl->got == sl->len)
			continue;
		if (send_read(b, sl) < 0)
			return queued;
		b->shorts--;
		queued = 1;
	}
	while (b->used < b->nslots) {
		struct slot *sl = slot_at(b, b->used);
		uint32_t len = next_len(b);

		if (!len)
			break;
		memset(sl, 0, sizeof(*sl));
		sl->off = b->next_off;
		sl->len = len;
		if (send_read(b, sl) < 0) {
			if (b->next_off >= b->bound)
				b->probe_sent = 0;
			break;
		}
		b->next_off += len;
		b->used++;
		queued = 1;
	}
	return queued;
}

/* Frees the front's consumed chunks; notes the end of the file once it
 * is all consumed. */
static void advance(struct sftpbulk *b)
{
	while (b->used) {
		struct slot *sl = slot_at(b, 0);

		if (b->consumed < sl->got)
			return;
		if (sl->eof) {
			if (b->result == SFTPBULK_READING) {
				b->result = SFTPBULK_END;
				b->tell_more = 1;
			}
			return;
		}
		if (sl->got < sl->len)
			return;
		b->head = (b->head + 1) % b->nslots;
		b->used--;
		b->consumed = 0;
	}
}

/* --- replies ----------------------------------------------------------- */

/* The slot whose READ in flight has this id. Ids start at 1: 0 is what
 * a slot with nothing in flight holds, and must match none. */
static struct slot *slot_by_id(struct sftpbulk *b, uint32_t id)
{
	unsigned i;

	if (!id)
		return NULL;
	for (i = 0; i < b->used; i++) {
		struct slot *sl = slot_at(b, i);

		if (sl->req_id == id)
			return sl;
	}
	return NULL;
}

/* A READ's answer is in: sl holds what came. */
static void read_answered(struct sftpbulk *b, struct slot *sl, uint32_t got,
			  int eof)
{
	sl->req_id = 0;
	b->inflight--;
	if (eof || (got == 0 && sl->got < sl->len)) {
		/* A DATA of no bytes is no progress either: taken as the
		 * end, rather than asked again forever. */
		sl->eof = 1;
		b->eof_seen = 1;
	} else if (sl->got < sl->len) {
		b->shorts++;
	}
	/* Data past the size when statted: the file grew, read on. */
	if (got && sl->off + sl->got > b->bound)
		b->bound = UINT64_MAX;
	if (!b->released)
		b->tell_more = 1;
	advance(b);
}

static void version_in(struct sftpbulk *b, uint32_t version, struct cursor *c)
{
	int limits = 0;
	unsigned char *p;

	if (version < 3) {
		broken(b, "the server speaks SFTP version 2 or older");
		return;
	}
	while (c->left) {
		const uint8_t *name, *data;
		uint32_t nlen, dlen;

		if (cur_str(c, &name, &nlen) < 0 ||
		    cur_str(c, &data, &dlen) < 0)
			break;
		if (nlen == sizeof("limits@openssh.com") - 1 &&
		    !memcmp(name, "limits@openssh.com", nlen))
			limits = 1;
	}
	b->chunk = CHUNK_DEFAULT;
	if (!limits || !(p = out_begin(b, 1 + 4 + 4 + 18))) {
		b->cst = CH_READY;
		return;
	}
	*p++ = FXP_EXTENDED;
	b->ctl_id = new_id(b);
	p = wire_put_u32(p, b->ctl_id);
	p = wire_put_bytes(p, "limits@openssh.com", 18);
	out_end(b, p);
	b->cst = CH_LIMITS;
}

/* limits@openssh.com: packet, read, write, open handles (0: no limit). */
static void limits_in(struct sftpbulk *b, struct cursor *c)
{
	uint64_t packet, read_max;

	b->cst = CH_READY;
	if (cur_u64(c, &packet) < 0 || cur_u64(c, &read_max) < 0 || !read_max)
		return;
	if (read_max > CHUNK_MAX)
		read_max = CHUNK_MAX;
	if (read_max > CHUNK_DEFAULT)
		b->chunk = (uint32_t)read_max;
}

static void handle_in(struct sftpbulk *b, struct cursor *c)
{
	const uint8_t *h;
	uint32_t n;

	if (cur_str(c, &h, &n) < 0 || n > HANDLE_MAX) {
		broken(b, "a malformed handle");
		return;
	}
	memcpy(b->handle, h, n);
	b->hlen = n;
	b->rst = RD_READING;
	if (b->released) {
		b->rst = RD_DRAINING;
		return;
	}
	b->tell_opened = 1;
	b->open_status = 0;
}

static void status_in(struct sftpbulk *b, uint32_t id, struct cursor *c)
{
	uint32_t code;
	struct slot *sl;

	if (cur_u32(c, &code) < 0) {
		broken(b, "a malformed status");
		return;
	}
	if (id == b->ctl_id && b->rst == RD_OPENING) {
		read_done(b);
		if (!b->released) {
			b->tell_opened = 1;
			b->open_status = code == FX_OK ? FX_FAILURE : (int)code;
		}
		return;
	}
	if (id == b->ctl_id && b->rst == RD_CLOSING) {
		read_done(b);
		return;
	}
	if (id == b->ctl_id && b->cst == CH_LIMITS) {
		b->cst = CH_READY; /* not supported after all */
		return;
	}
	sl = b->rst >= RD_READING ? slot_by_id(b, id) : NULL;
	if (!sl) {
		broken(b, "a status for no request");
		return;
	}
	/* FX_OK, no data and no error: taken as the end too. */
	if (code == FX_EOF || code == FX_OK) {
		read_answered(b, sl, 0, 1);
		return;
	}
	sl->req_id = 0;
	b->inflight--;
	if (b->result == SFTPBULK_READING && !b->released) {
		b->result = SFTPBULK_FAILED;
		b->status = code;
		b->tell_more = 1;
	}
}

/* A reply other than DATA, whole in ctl. */
static void ctl_in(struct sftpbulk *b)
{
	struct cursor c = {b->ctl, b->ctl_got};

	switch (b->rx_type) {
	case FXP_VERSION:
		if (b->cst == CH_INIT)
			version_in(b, b->rx_id, &c);
		else
			broken(b, "an unexpected version");
		break;
	case FXP_EXTENDED_REPLY:
		if (b->cst == CH_LIMITS && b->rx_id == b->ctl_id)
			limits_in(b, &c);
		else
			broken(b, "an unexpected extended reply");
		break;
	case FXP_HANDLE:
		if (b->rst == RD_OPENING && b->rx_id == b->ctl_id)
			handle_in(b, &c);
		else
			broken(b, "an unexpected handle");
		break;
	case FXP_STATUS:
		status_in(b, b->rx_id, &c);
		break;
	default:
		broken(b, "an unexpected reply");
		break;
	}
}

/* Reads with the same length after EAGAIN, as ssh_chan_read needs: each
 * length below follows from the reply's state alone. >0, or 0 when
 * nothing came (EAGAIN), or -1 after breaking. */
static ssize_t chan_in(struct sftpbulk *b, void *p, size_t len)
{
	ssize_t n = ssh_chan_read(b->ch, p, len);

	if (n == LIBSSH2_ERROR_EAGAIN)
		return 0;
	if (n == 0) {
		broken(b, "the server closed it");
		return -1;
	}
	if (n < 0) {
		broken(b, ssh_last_error(b->s));
		return -1;
	}
	return n;
}

/* The head of a reply is in: where its body goes. */
static int head_in(struct sftpbulk *b)
{
	uint32_t len = wire_get_u32(b->head_buf);

	b->rx_type = b->head_buf[4];
	b->rx_id = wire_get_u32(b->head_buf + 5);
	if (len < 5) {
		broken(b, "a malformed reply");
		return -1;
	}
	b->body_left = len - 5;
	if (b->rx_type == FXP_DATA) {
		b->rx = RX_DATALEN;
		return 0;
	}
	if (b->body_left > CTL_MAX) {
		broken(b, "an overlong reply");
		return -1;
	}
	b->ctl_got = 0;
	b->rx = RX_BODY;
	return 0;
}

/* DATA's length is in: its bytes go into their slot. */
static int datalen_in(struct sftpbulk *b)
{
	uint32_t dlen = wire_get_u32(b->head_buf + 9);
	struct slot *sl = b->rst >= RD_READING ? slot_by_id(b, b->rx_id) : NULL;

	if (!sl || dlen != b->body_left - 4 || dlen > sl->req_len ||
	    dlen > sl->len - sl->got) {
		broken(b, "a DATA reply that fits no request");
		return -1;
	}
	b->rx_slot = sl;
	b->body_left = dlen;
	b->rx = RX_DATA;
	return 0;
}

/* Reads replies until nothing more came. Nonzero when bytes moved. */
static int read_replies(struct sftpbulk *b)
{
	int progress = 0, replies = 0;

	while (b->ch && replies < REPLIES_PER_PASS) {
		ssize_t n;

		switch (b->rx) {
		case RX_HEAD:
			n = chan_in(b, b->head_buf + b->head_got,
				    9 - b->head_got);
			if (n <= 0)
				return progress;
			b->head_got += (size_t)n;
			if (b->head_got == 9 && head_in(b) < 0)
				return 1;
			break;
		case RX_DATALEN:
			n = chan_in(b, b->head_buf + b->head_got,
				    13 - b->head_got);
			if (n <= 0)
				return progress;
			b->head_got += (size_t)n;
			if (b->head_got == 13 && datalen_in(b) < 0)
				return 1;
			break;
		case RX_DATA: {
			struct slot *sl = b->rx_slot;

			if (b->body_left) {
				n = chan_in(b, slot_mem(b, sl) + sl->got,
					    b->body_left);
				if (n <= 0)
					return progress;
				sl->got += (uint32_t)n;
				b->body_left -= (uint32_t)n;
				if (!b->released)
					b->tell_more = 1;
			}
			if (!b->body_left) {
				b->rx = RX_HEAD;
				b->head_got = 0;
				replies++;
				read_answered(b, sl,
					      wire_get_u32(b->head_buf + 9), 0);
			}
			break;
		}
		case RX_BODY:
			if (b->body_left) {
				n = chan_in(b, b->ctl + b->ctl_got,
					    b->body_left);
				if (n <= 0)
					return progress;
				b->ctl_got += (size_t)n;
				b->body_left -= (uint32_t)n;
			}
			if (!b->body_left) {
				b->rx = RX_HEAD;
				b->head_got = 0;
				replies++;
				ctl_in(b);
			}
			break;
		}
		progress = 1;
	}
	return progress;
}

/* --- the channel -------------------------------------------------------- */

/* Hands queued requests to the channel. Nonzero when some went. */
static int flush_out(struct sftpbulk *b)
{
	int progress = 0;

	while (b->ch && b->out_sent < b->out_len) {
		ssize_t n =
		    ssh_chan_write(b->ch, (const char *)b->out + b->out_sent,
				   b->out_len - b->out_sent);

		if (n == LIBSSH2_ERROR_EAGAIN)
			break;
		if (n < 0) {
			broken(b, ssh_last_error(b->s));
			return 1;
		}
		b->out_sent += (size_t)n;
		progress = 1;
	}
	return progress;
}

/* Starts what the state allows: a waiting open, the close after a
 * release. */
static void next_step(struct sftpbulk *b)
{
	if (b->cst != CH_READY)
		return;
	if (b->rst == RD_NONE && b->open_waiting)
		send_open(b);
	if (b->rst == RD_DRAINING && !b->inflight && b->rx == RX_HEAD &&
	    !b->head_got)
		send_close(b);
}

static void update_wants(struct sftpbulk *b)
{
	int w;

	if (!b->ch)
		return;
	w = b->cst == CH_INIT || b->cst == CH_LIMITS ||
	    b->out_sent < b->out_len || b->inflight || b->rst == RD_OPENING ||
	    b->rst == RD_DRAINING || b->rst == RD_CLOSING ||
	    (b->rst == RD_NONE && b->open_waiting) || b->rx != RX_HEAD ||
	    b->head_got;
	if (b->rst == RD_READING && b->result == SFTPBULK_READING &&
	    (b->shorts || (b->used < b->nslots && !b->eof_seen &&
			   (b->next_off < b->bound || !b->probe_sent))))
		w = 1;
	ssh_chan_set_wants(b->ch, w);
}

static void free_now(struct sftpbulk *b)
{
	loop_timer_free(b->idle);
	if (b->open_req > 0)
		ssh_open_cancel(b->s, b->open_req);
	if (b->ch)
		ssh_chan_close(b->ch);
	free(b->ring);
	free(b->slots);
	free(b);
}

/* The owner's callbacks that are due; it may release, consume or free. */
static void tell_owner(struct sftpbulk *b)
{
	if (b->tell_opened) {
		b->tell_opened = 0;
		if (b->owner)
			b->owner->opened(b, b->open_status, b->arg);
	}
	if (b->tell_more && !b->dying) {
		b->tell_more = 0;
		if (b->owner && !b->released)
			b->owner->more(b, b->arg);
	}
}

static int chan_service(struct ssh_chan *ch, void *arg)
{
	struct sftpbulk *b = arg;
	int progress = 0, rounds;

	(void)ch;
	b->in_service = 1;
	for (rounds = 0; rounds < 4 && !b->dying; rounds++) {
		int moved = 0;

		next_step(b);
		moved |= fill_requests(b);
		moved |= flush_out(b);
		moved |= read_replies(b);
		tell_owner(b);
		if (!moved || !b->ch)
			break;
		progress = 1;
	}
	b->in_service = 0;
	if (b->dying) {
		free_now(b);
		return progress;
	}
	next_step(b);
	flush_out(b);
	update_wants(b);
	return progress;
}

static void chan_lost(struct ssh_chan *ch, void *arg)
{
	struct sftpbulk *b = arg;

	/* The owner hears of it from its sftpc, on the same session. */
	ssh_chan_close(ch);
	b->ch = NULL;
	b->released = 1;
	broken(b, "the SSH connection was lost");
	b->tell_opened = b->tell_more = 0;
}

static void chan_dump(struct ssh_chan *ch, void *arg)
{
	struct sftpbulk *b = arg;

	(void)ch;
	log_warn("    %s: bulk channel %d, read %d, %u in flight, %u of %u "
		 "slots, rx %d",
		 b->name, b->cst, b->rst, b->inflight, b->used, b->nslots,
		 b->rx);
}

static const struct ssh_chan_ops chan_ops = {
    .service = chan_service, .lost = chan_lost, .dump = chan_dump};

static void chan_opened(struct ssh_sess *s, LIBSSH2_CHANNEL *raw,
			const char *err, void *arg)
{
	struct sftpbulk *b = arg;
	unsigned char *p;

	b->open_req = 0;
	if (!raw) {
		broken(b, err ? err : "no channel");
		tell_owner(b);
		return;
	}
	b->ch = ssh_chan_attach(s, raw, &chan_ops, b, b->name);
	if (!b->ch) {
		ssh_chan_discard(s, raw);
		broken(b, "out of memory");
		tell_owner(b);
		return;
	}
	p = out_begin(b, 1 + 4);
	*p++ = FXP_INIT;
	p = wire_put_u32(p, 3);
	out_end(b, p);
	b->cst = CH_INIT;
	update_wants(b);
	ssh_sess_kick(s);
}

/* --- the owner's calls ---------------------------------------------------- */

struct sftpbulk *sftpbulk_new(struct ssh_sess *s, const char *name,
			      const struct sftpbulk_owner *owner, void *arg)
{
	struct sftpbulk *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->s = s;
	b->owner = owner;
	b->arg = arg;
	snprintf(b->name, sizeof(b->name), "%s", name);
	b->idle = loop_timer_new(ssh_sess_loop(s), idle_expired, b);
	if (!b->idle) {
		free(b);
		return NULL;
	}
	return b;
}

void sftpbulk_free(struct sftpbulk *b)
{
	if (!b)
		return;
	b->owner = NULL;
	if (b->in_service) {
		b->dying = 1;
		return;
	}
	free_now(b);
}

int sftpbulk_usable(const struct sftpbulk *b)
{
	return b->cst != CH_BROKEN;
}

int sftpbulk_open(struct sftpbulk *b, const char *path, uint64_t offset,
		  uint64_t size, size_t ring)
{
	if (b->cst == CH_BROKEN)
		return -EPIPE;
	if (b->open_waiting || (b->rst != RD_NONE && !b->released))
		return -EBUSY;
	if (strlen(path) >= sizeof(b->path))
		return -ENAMETOOLONG;
	loop_timer_disarm(b->idle);
	if (b->cst == CH_NONE) {
		long id = ssh_open_subsystem(b->s, "sftp", chan_opened, b);

		if (id < 0) {
			b->cst = CH_BROKEN;
			return (int)id;
		}
		b->open_req = id;
		b->cst = CH_STARTING;
	}
	/* Taken up by send_open: the previous read may still be draining. */
	snprintf(b->path, sizeof(b->path), "%s", path);
	b->want_offset = offset;
	b->want_size = size;
	b->ring_want = ring;
	b->open_waiting = 1;
	if (b->ch) {
		update_wants(b);
		ssh_sess_kick(b->s);
	}
	return 0;
}

const uint8_t *sftpbulk_peek(struct sftpbulk *b, size_t *len)
{
	struct slot *sl;

	*len = 0;
	if (b->rst != RD_READING || b->released || !b->used ||
	    b->result != SFTPBULK_READING)
		return NULL;
	sl = slot_at(b, 0);
	*len = sl->got - b->consumed;
	return slot_mem(b, sl) + b->consumed;
}

void sftpbulk_consume(struct sftpbulk *b, size_t n)
{
	unsigned used = b->used;

	if (!n || !b->used)
		return;
	b->consumed += (uint32_t)n;
	advance(b);
	if (b->used < used && b->ch) {
		/* Room for more requests. */
		update_wants(b);
		ssh_sess_kick(b->s);
	}
}

enum sftpbulk_result sftpbulk_result(const struct sftpbulk *b)
{
	return b->result;
}

unsigned long sftpbulk_status(const struct sftpbulk *b)
{
	return b->status;
}

void sftpbulk_release(struct sftpbulk *b)
{
	b->released = 1;
	b->tell_more = 0;
	b->tell_opened = 0;
	b->open_waiting = 0;
	if (b->rst == RD_READING)
		b->rst = RD_DRAINING;
	if (b->ch) {
		update_wants(b);
		ssh_sess_kick(b->s);
	}
}

#ifdef SFTPBULK_SELFCHECK
int sftpbulk_selfcheck(const struct sftpbulk *b)
{
	unsigned i, flying = 0;

	if (b->used > b->nslots || (b->nslots && !b->slots))
		return -1;
	for (i = 0; i < b->used; i++) {
		const struct slot *sl = &b->slots[(b->head + i) % b->nslots];

		if (sl->got > sl->len || sl->len > b->chunk)
			return -1;
		flying += sl->req_id != 0;
	}
	if (flying != b->inflight)
		return -1;
	if (b->used && b->consumed > b->slots[b->head].got)
		return -1;
	return 0;
}
#endif

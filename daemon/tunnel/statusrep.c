/* statusrep.c — the STATUS reply of format 2: fills one IPC message at a
 * time and sends (or gathers) it when the next line would not fit, so the
 * report has no size limit while every message keeps IPC.txt's 4096-byte
 * cap. */
#include "statusrep.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void start_message(struct statusrep *r)
{
	ipc_init(&r->m, "OK");
}

void statusrep_init(struct statusrep *r, int sock)
{
	memset(r, 0, sizeof(*r));
	r->sock = sock;
	start_message(r);
	ipc_add(&r->m, "format", "2");
}

void statusrep_init_buf(struct statusrep *r)
{
	statusrep_init(r, -1);
}

void statusrep_init_part(struct statusrep *r)
{
	memset(r, 0, sizeof(*r));
	r->sock = -1;
	start_message(r);
}

/* Room for n more bytes in r->out, up to STATUSREP_BUF_MAX. 0 or
 * -errno. */
static int grow(struct statusrep *r, size_t n)
{
	size_t need = r->outlen + n;

	if (need > STATUSREP_BUF_MAX)
		return -EMSGSIZE;
	if (need > r->outcap) {
		size_t cap =
		    need * 2 < STATUSREP_BUF_MAX ? need * 2 : STATUSREP_BUF_MAX;
		char *t = realloc(r->out, cap);

		if (!t)
			return -ENOMEM;
		r->out = t;
		r->outcap = cap;
	}
	return 0;
}

/* Appends m as a frame (docs/IPC.txt) to r->out. 0 or -errno. */
static int gather_msg(struct statusrep *r, const struct ipc_msg *m)
{
	uint32_t len = htonl((uint32_t)m->len);
	int rc = grow(r, sizeof(len) + m->len);

	if (rc < 0)
		return rc;
	memcpy(r->out + r->outlen, &len, sizeof(len));
	memcpy(r->out + r->outlen + sizeof(len), m->text, m->len);
	r->outlen += sizeof(len) + m->len;
	return 0;
}

/* Appends the message being filled. */
static int gather(struct statusrep *r)
{
	return gather_msg(r, &r->m);
}

int statusrep_put(struct statusrep *r, const struct ipc_msg *m)
{
	if (!r->err)
		r->err = gather_msg(r, m);
	return r->err;
}

int statusrep_flush(struct statusrep *r)
{
	struct ipc_msg word;

	/* Only the word: nothing to gather. */
	ipc_init(&word, "OK");
	if (r->err || r->m.len == word.len)
		return r->err;
	r->err = gather(r);
	start_message(r);
	return r->err;
}

int statusrep_append(struct statusrep *r, const struct statusrep *part)
{
	if (!r->err)
		r->err = grow(r, part->outlen);
	if (r->err)
		return r->err;
	if (part->outlen)
		memcpy(r->out + r->outlen, part->out, part->outlen);
	r->outlen += part->outlen;
	return 0;
}

/* Sends or gathers the message being filled. 0 or -errno. */
static int flush_message(struct statusrep *r)
{
	return r->sock >= 0 ? ipc_send(r->sock, &r->m, -1) : gather(r);
}

static void add_line(struct statusrep *r, const char *key, const char *value)
{
	if (r->err)
		return;
	if (ipc_add(&r->m, key, value) == 0)
		return;
	/* Full: send this message and go on in a new one. */
	r->err = flush_message(r);
	start_message(r);
	if (!r->err && ipc_add(&r->m, key, value) < 0)
		ipc_add(&r->m, key, "(too long)");
}

void statusrep_record(struct statusrep *r, const char *type)
{
	add_line(r, "record", type);
}

void statusrep_add(struct statusrep *r, const char *key, const char *fmt, ...)
{
	char value[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	value[strcspn(value, "\n")] = '\0';
	add_line(r, key, value);
}

int statusrep_finish(struct statusrep *r)
{
	add_line(r, "end", "1");
	if (!r->err)
		r->err = flush_message(r);
	return r->err;
}

void statusrep_release(struct statusrep *r)
{
	free(r->out);
	r->out = NULL;
	r->outlen = r->outcap = 0;
}

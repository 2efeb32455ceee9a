/* statusrep.c — the STATUS reply of format 2: fills one IPC message at a
 * time and frames it into memory when the next line would not fit, so the
 * report has no limit but STATUSREP_MAX while every message keeps
 * IPC.txt's 4096-byte cap. */
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

void statusrep_init(struct statusrep *r, int first)
{
	memset(r, 0, sizeof(*r));
	start_message(r);
	if (first)
		ipc_add(&r->m, "format", "2");
}

/* Appends n bytes, growing out up to STATUSREP_MAX. */
static int put_bytes(struct statusrep *r, const void *p, size_t n)
{
	if (r->len + n > r->cap) {
		size_t cap = r->cap ? r->cap : 8192;
		char *out;

		while (cap < r->len + n)
			cap *= 2;
		if (cap > STATUSREP_MAX)
			return -ENOBUFS;
		out = realloc(r->out, cap);
		if (!out)
			return -ENOMEM;
		r->out = out;
		r->cap = cap;
	}
	memcpy(r->out + r->len, p, n);
	r->len += n;
	return 0;
}

int statusrep_put(struct statusrep *r, const struct ipc_msg *m)
{
	uint32_t len = htonl((uint32_t)m->len);
	int rc;

	if (r->err)
		return r->err;
	/* The frame as ipc_send writes it: length, then the text. */
	if (r->len + sizeof(len) + m->len > STATUSREP_MAX)
		return r->err = -ENOBUFS;
	rc = put_bytes(r, &len, sizeof(len));
	if (rc == 0)
		rc = put_bytes(r, m->text, m->len);
	return r->err = rc;
}

int statusrep_flush(struct statusrep *r)
{
	struct ipc_msg word;
	int rc;

	/* Only the word "OK": nothing to send. */
	ipc_init(&word, "OK");
	if (r->m.len == word.len)
		return r->err;
	rc = statusrep_put(r, &r->m);
	start_message(r);
	return rc;
}

static void add_line(struct statusrep *r, const char *key, const char *value)
{
	if (r->err)
		return;
	if (ipc_add(&r->m, key, value) == 0)
		return;
	/* Full: this message is done, go on in a new one. */
	if (statusrep_flush(r) == 0 && ipc_add(&r->m, key, value) < 0)
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
	return statusrep_flush(r);
}

int statusrep_append(struct statusrep *r, const struct statusrep *part)
{
	if (r->err)
		return r->err;
	if (r->len + part->len > STATUSREP_MAX)
		return r->err = -ENOBUFS;
	return r->err = put_bytes(r, part->out, part->len);
}

void statusrep_release(struct statusrep *r)
{
	free(r->out);
	r->out = NULL;
	r->len = r->cap = 0;
}

/* statusrep.c — the STATUS reply of format 2: fills one IPC message at a
 * time and sends it when the next line would not fit, so the report has
 * no size limit while every message keeps IPC.txt's 4096-byte cap. */
#include "statusrep.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void start_message(struct statusrep *r)
{
	ipc_init(&r->m, "OK");
}

void statusrep_init(struct statusrep *r, int sock)
{
	r->sock = sock;
	r->err = 0;
	start_message(r);
	ipc_add(&r->m, "format", "2");
}

static void add_line(struct statusrep *r, const char *key, const char *value)
{
	if (r->err)
		return;
	if (ipc_add(&r->m, key, value) == 0)
		return;
	/* Full: send this message and go on in a new one. */
	r->err = ipc_send(r->sock, &r->m, -1);
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
		r->err = ipc_send(r->sock, &r->m, -1);
	return r->err;
}

/* buf.c — bounded byte buffer. */
#include "buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int buf_init(struct buf *b, size_t cap)
{
	b->data = malloc(cap);
	b->start = b->end = 0;
	b->cap = b->data ? cap : 0;
	return b->data ? 0 : -ENOMEM;
}

void buf_init_deferred(struct buf *b, size_t cap)
{
	b->data = NULL;
	b->start = b->end = 0;
	b->cap = cap;
}

int buf_alloc(struct buf *b)
{
	if (!b->data)
		b->data = malloc(b->cap);
	return b->data ? 0 : -ENOMEM;
}

void buf_release(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->start = b->end = b->cap = 0;
}

void buf_consume(struct buf *b, size_t n)
{
	b->start += n;
	if (b->start == b->end)
		b->start = b->end = 0;
}

uint8_t *buf_room(struct buf *b, size_t *room)
{
	/* Compact only when the tail is short: moving a few bytes is cheap,
	 * moving much on every call is not. */
	if (b->start && b->cap - b->end < b->cap / 2) {
		memmove(b->data, b->data + b->start, b->end - b->start);
		b->end -= b->start;
		b->start = 0;
	}
	if (!b->data) {
		*room = 0;
		return NULL;
	}
	*room = b->cap - b->end;
	return b->data + b->end;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	size_t room;
	uint8_t *dst;

	if (buf_alloc(b) < 0)
		return -ENOMEM;
	dst = buf_room(b, &room);

	if (n > room) {
		memmove(b->data, b->data + b->start, b->end - b->start);
		b->end -= b->start;
		b->start = 0;
		dst = b->data + b->end;
		room = b->cap - b->end;
		if (n > room)
			return -ENOBUFS;
	}
	memcpy(dst, p, n);
	b->end += n;
	return 0;
}

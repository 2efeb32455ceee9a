/* buf.h — a byte buffer with a hard capacity, fixed at creation. */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data; /* owned */
	size_t start;  /* first unread byte */
	size_t end;    /* one past the last byte */
	size_t cap;
};

/* Allocates cap bytes. 0 or -ENOMEM. */
int buf_init(struct buf *b, size_t cap);
/* Sets the capacity and allocates nothing yet: buf_alloc does, before the
 * first write (a data channel moves bytes one way only, so the other
 * direction's buffer is never needed). Reading an unallocated buffer
 * finds it empty. */
void buf_init_deferred(struct buf *b, size_t cap);
/* Allocates a deferred buffer's bytes if not done yet. 0 or -ENOMEM. */
int buf_alloc(struct buf *b);
void buf_release(struct buf *b);

static inline size_t buf_len(const struct buf *b)
{
	return b->end - b->start;
}

static inline int buf_full(const struct buf *b)
{
	return b->end - b->start == b->cap;
}

/* Readable bytes: borrowed pointer, *len set. */
static inline const uint8_t *buf_peek(const struct buf *b, size_t *len)
{
	*len = b->end - b->start;
	return b->data ? b->data + b->start : b->data;
}

void buf_consume(struct buf *b, size_t n);
/* Room to append: moves data to the front when that makes more room.
 * Returns a pointer to *room writable bytes (0 when full, or not yet
 * allocated). */
uint8_t *buf_room(struct buf *b, size_t *room);
static inline void buf_commit(struct buf *b, size_t n)
{
	b->end += n;
}
/* Appends all of p or nothing. 0, or -ENOBUFS when it doesn't fit. */
int buf_append(struct buf *b, const void *p, size_t n);

#endif

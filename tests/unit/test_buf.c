/* test_buf.c — the bounded buffer: deferred allocation (nothing until the
 * first write, empty when read before), the hard cap, and compaction. */
#include <errno.h>
#include <string.h>

#include "buf.h"
#include "check.h"

int main(void)
{
	struct buf b;
	size_t len, room;
	const uint8_t *p;
	uint8_t *dst;

	/* Deferred: no bytes, reads find it empty, it is not full. */
	buf_init_deferred(&b, 8);
	CHECK(b.data == NULL, "deferred buffer allocated at init");
	p = buf_peek(&b, &len);
	CHECK(len == 0 && p == NULL, "peek of unallocated: len %zu", len);
	dst = buf_room(&b, &room);
	CHECK(room == 0 && dst == NULL, "room of unallocated: %zu", room);
	CHECK(!buf_full(&b), "unallocated buffer counts as full");
	CHECK(buf_alloc(&b) == 0 && b.data, "buf_alloc failed");
	dst = b.data;
	CHECK(buf_alloc(&b) == 0 && b.data == dst, "second buf_alloc moved");
	dst = buf_room(&b, &room);
	CHECK(room == 8, "room after alloc: %zu", room);
	buf_release(&b);

	/* buf_append allocates a deferred buffer itself, and keeps the cap. */
	buf_init_deferred(&b, 8);
	CHECK(buf_append(&b, "abcde", 5) == 0, "append to deferred");
	CHECK(buf_append(&b, "fghi", 4) == -ENOBUFS, "append past the cap");
	CHECK(buf_append(&b, "fgh", 3) == 0 && buf_full(&b), "fill to cap");
	buf_consume(&b, 6);
	/* Compaction makes the consumed front usable again. */
	CHECK(buf_append(&b, "xyzuv", 5) == 0, "append after consume");
	p = buf_peek(&b, &len);
	CHECK(len == 7 && !memcmp(p, "ghxyzuv", 7), "content after compaction");
	buf_consume(&b, 7);
	p = buf_peek(&b, &len);
	CHECK(len == 0, "empty after consuming all: %zu", len);
	buf_release(&b);
	buf_release(&b); /* twice is harmless */

	printf("test_buf: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}

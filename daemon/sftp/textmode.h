/* textmode.h — TYPE A for the SFTP bridge: LF <-> CRLF, streaming (a CR
 * at a chunk's end is held until the next chunk says what follows it).
 * Pure: the caller owns every buffer. */
#ifndef SFTP_TEXTMODE_H
#define SFTP_TEXTMODE_H

#include <stddef.h>

/* Zero it at the start of each transfer. */
struct textmode {
	int held_cr;
};

/* To the network (RETR in TYPE A): each LF becomes CRLF (an existing CRLF
 * is kept as is). Converts as much of in as fits in out; *used = bytes of
 * in consumed. Returns bytes written. With outcap >= 2 a call with input
 * always makes progress (a LF needs two bytes of room). */
size_t textmode_to_net(struct textmode *t, const char *in, size_t inlen,
		       size_t *used, char *out, size_t outcap);

/* From the network (STOR in TYPE A): CRLF becomes LF; a lone CR is kept.
 * Same conventions; a CR ending in is consumed and held, so a call may
 * consume bytes and write none. With outcap >= 1 a call with input always
 * makes progress (it may write the held CR and consume nothing). */
size_t textmode_from_net(struct textmode *t, const char *in, size_t inlen,
			 size_t *used, char *out, size_t outcap);

/* Flushes a CR held at the end of the stream (returns 0 or 1 byte). */
size_t textmode_from_net_end(struct textmode *t, char *out, size_t outcap);

#endif

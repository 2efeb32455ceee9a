/* sftpbulk.h — big downloads over SFTP without libssh2's SFTP layer: a
 * second sftp subsystem channel beside sftpc's, whose protocol (version 3:
 * INIT, OPEN, READ, CLOSE) we speak ourselves, so that
 *   - each READ asks for the most the server takes (limits@openssh.com,
 *     255 KiB from OpenSSH; 32 KiB from a server that does not say)
 *     where libssh2 1.10 asks for 30 000 bytes;
 *   - a ring of such requests stays in flight, sized by the round trip;
 *   - each reply's data lands in its place in the ring straight from the
 *     channel, where libssh2 mallocs a packet per reply and copies twice.
 * A 1 GiB download to /dev/null took 2.2 s of CPU this way against
 * curl sftp://'s 4.5 s (bench/README.md).
 *
 * One read at a time, in file order: the owner takes the bytes from the
 * front (sftpbulk_peek, sftpbulk_consume) as they arrive. Replies may come
 * in any order and short: a short one is asked again for the rest. */
#ifndef SFTP_SFTPBULK_H
#define SFTP_SFTPBULK_H

#include <stddef.h>
#include <stdint.h>

#include "ssh.h"

struct sftpbulk;

struct sftpbulk_owner {
	/* The open is answered: 0 (the read is under way), an SFTP status
	 * (> 0, LIBSSH2_FX_*: the server refused the file), or -1: this
	 * channel cannot serve (no subsystem, no channel left, a broken
	 * one): read the file another way. */
	void (*opened)(struct sftpbulk *b, int status, void *arg);
	/* More bytes at the front, the end of the file, or a failure:
	 * sftpbulk_peek and sftpbulk_result say which. */
	void (*more)(struct sftpbulk *b, void *arg);
};

/* A reader for s; its channel starts with the first open. owner is
 * borrowed, name copied (log lines). NULL on allocation failure. */
struct sftpbulk *sftpbulk_new(struct ssh_sess *s, const char *name,
			      const struct sftpbulk_owner *owner, void *arg);
/* No more callbacks; the channel closes in the background (the server's
 * sftp process goes with it, and the handle). Accepts NULL. */
void sftpbulk_free(struct sftpbulk *b);
/* Zero once the channel failed: sftpbulk_open would answer -1. */
int sftpbulk_usable(const struct sftpbulk *b);

/* Opens path and reads it from offset on, into a ring of about ring
 * bytes. size is the file's size when statted (UINT64_MAX: unknown): the
 * read-ahead stops there, with one request past it that brings the end
 * of the file, or more data when the file has grown (then it is read to
 * its end). The answer comes through opened(). 0, or -EBUSY while a read
 * is under way (sftpbulk_release it first), -ENAMETOOLONG, -ENOMEM. */
int sftpbulk_open(struct sftpbulk *b, const char *path, uint64_t offset,
		  uint64_t size, size_t ring);
/* The bytes at the front, in file order (len 0: none yet). */
const uint8_t *sftpbulk_peek(struct sftpbulk *b, size_t *len);
void sftpbulk_consume(struct sftpbulk *b, size_t n);

enum sftpbulk_result {
	SFTPBULK_READING,
	SFTPBULK_END,	 /* the end of the file, every byte consumed */
	SFTPBULK_FAILED, /* sftpbulk_status says why */
};
enum sftpbulk_result sftpbulk_result(const struct sftpbulk *b);
/* After SFTPBULK_FAILED: the server's SFTP status (LIBSSH2_FX_*), or 0
 * when the channel broke (a protocol error, or it closed). */
unsigned long sftpbulk_status(const struct sftpbulk *b);
/* Ends the read (at its end, or early): replies in flight are drained
 * and the handle is closed in the background; the next open waits for
 * that. No callbacks for this read after it. */
void sftpbulk_release(struct sftpbulk *b);

#ifdef SFTPBULK_SELFCHECK
/* For the fuzz target: -1 when the read's counts disagree with its
 * slots (requests in flight, bytes in and taken). */
int sftpbulk_selfcheck(const struct sftpbulk *b);
#endif

#endif

/* statusrep.h — writes a STATUS reply of format 2 (docs/IPC.txt): records
 * of key=value lines, streamed over as many IPC messages as they need,
 * either sent at once on a socket or gathered in memory for a caller that
 * writes them without blocking (a foreground ftp-tunnel, ftp-tunneld), and
 * in parts written on other threads. */
#ifndef STATUSREP_H
#define STATUSREP_H

#include "ipc.h"

/* The most a gathered reply holds (1024 full messages); past it, records
 * are dropped and statusrep_finish fails. */
#define STATUSREP_BUF_MAX (1024 * (IPC_MAX + 4))

struct statusrep {
	int sock; /* borrowed: the client's connection; -1: gathered */
	struct ipc_msg m;
	int err;   /* a send failed or the buffer is full: the rest is
		    * dropped */
	char *out; /* gathered frames (length prefix and text), owned */
	size_t outlen, outcap;
};

/* Starts the reply on sock (blocking, with a send timeout). */
void statusrep_init(struct statusrep *r, int sock);
/* Starts a reply gathered in memory: statusrep_finish then leaves the
 * frames in r->out (r->outlen bytes), freed by statusrep_release. */
void statusrep_init_buf(struct statusrep *r);
/* Starts a part of a gathered reply that another statusrep opened (no
 * "format=2"): a worker's records, added with statusrep_append. */
void statusrep_init_part(struct statusrep *r);
/* Gathers the message being filled, if it holds a key, and starts a new
 * one. 0 or -errno. */
int statusrep_flush(struct statusrep *r);
/* Gathers m, a whole message of the caller's, as a frame of its own. 0
 * or -errno. */
int statusrep_put(struct statusrep *r, const struct ipc_msg *m);
/* Adds the frames gathered in part after those of r (both gathered). 0
 * or -errno. */
int statusrep_append(struct statusrep *r, const struct statusrep *part);
/* Starts a record of the given type ("session", ...). */
void statusrep_record(struct statusrep *r, const char *type);
/* Adds key=value to the current record; a value holding a newline is
 * cut there. */
void statusrep_add(struct statusrep *r, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Ends the reply ("end=1") and sends or gathers what is left. 0 or
 * -errno. */
int statusrep_finish(struct statusrep *r);
/* Frees a gathered reply's buffer. Accepts a socket one too. */
void statusrep_release(struct statusrep *r);

#endif

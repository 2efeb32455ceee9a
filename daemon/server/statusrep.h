/* statusrep.h — writes a STATUS reply of format 2 (docs/IPC.txt): records
 * of key=value lines, framed into as many IPC messages as they need, in
 * memory (a worker writes its connection's part without touching the
 * client's socket; the main thread sends the whole without blocking). */
#ifndef STATUSREP_H
#define STATUSREP_H

#include <stddef.h>

#include "ipc.h"

/* The most a reply may take: past it the rest is dropped (err set). */
#define STATUSREP_MAX (8u << 20)

struct statusrep {
	struct ipc_msg m; /* the message being filled */
	char *out;	  /* owned: the framed messages so far */
	size_t len, cap;
	int err; /* out of memory or over STATUSREP_MAX: the rest is dropped */
};

/* Starts a reply; first: it opens the report ("format=2"), else it is a
 * part of one that another statusrep opened. */
void statusrep_init(struct statusrep *r, int first);
/* Starts a record of the given type ("session", ...). */
void statusrep_record(struct statusrep *r, const char *type);
/* Adds key=value to the current record; a value holding a newline is
 * cut there. */
void statusrep_add(struct statusrep *r, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Frames m after what r holds. 0 or -ENOBUFS. */
int statusrep_put(struct statusrep *r, const struct ipc_msg *m);
/* Frames the message being filled, if it holds a key. 0 or -errno. */
int statusrep_flush(struct statusrep *r);
/* Ends the report ("end=1") and frames what is left. 0 or -errno. */
int statusrep_finish(struct statusrep *r);
/* Appends what part holds (framed) to r. 0 or -ENOBUFS. */
int statusrep_append(struct statusrep *r, const struct statusrep *part);
void statusrep_release(struct statusrep *r);

#endif

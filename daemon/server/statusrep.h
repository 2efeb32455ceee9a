/* statusrep.h — writes a STATUS reply of format 2 (docs/IPC.txt): records
 * of key=value lines, streamed over as many IPC messages as they need. */
#ifndef STATUSREP_H
#define STATUSREP_H

#include "ipc.h"

struct statusrep {
	int sock; /* borrowed: the client's connection */
	struct ipc_msg m;
	int err; /* a send failed: the rest is dropped */
};

/* Starts the reply on sock (blocking, with a send timeout). */
void statusrep_init(struct statusrep *r, int sock);
/* Starts a record of the given type ("session", ...). */
void statusrep_record(struct statusrep *r, const char *type);
/* Adds key=value to the current record; a value holding a newline is
 * cut there. */
void statusrep_add(struct statusrep *r, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Ends the reply ("end=1") and sends what is left. 0 or -errno. */
int statusrep_finish(struct statusrep *r);

#endif

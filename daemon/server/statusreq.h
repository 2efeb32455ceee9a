/* statusreq.h — ftp-tunneld's answer to STATUS (docs/IPC.txt, formats 1 and 2):
 * each pooled connection's worker writes its part when it gets to it and
 * posts it back; the main thread adds its own records and writes the
 * reply as fast as the client reads. Nothing here makes the main loop
 * wait. */
#ifndef STATUSREQ_H
#define STATUSREQ_H

#include <stdint.h>

#include "connpool.h"
#include "held.h"
#include "ipc.h"
#include "ipcserve.h"
#include "loop.h"

struct statusreq_set;

/* What the report says about the daemon itself; borrowed for the call. */
struct statusreq_daemon {
	struct connpool *pool;
	uint64_t started_ms;	 /* loop_now_ms() at the start */
	unsigned long nconn;	 /* CONNECTs so far */
	unsigned long nrequests; /* requests so far */
};

/* The STATUS requests in progress, on loop (the main thread's), reporting
 * held's tunnels (borrowed); srv (borrowed) writes the replies. NULL with
 * errno set. */
struct statusreq_set *statusreq_set_new(struct loop *loop,
					struct held_set *held,
					struct ipcserve *srv);
/* Drops the requests in progress. Call after the pool is freed (no worker
 * may still write a part). Accepts NULL. */
void statusreq_set_free(struct statusreq_set *set);
/* Answers the STATUS request req on client (owned: closed when done). */
void statusreq_answer(struct statusreq_set *set,
		      const struct statusreq_daemon *d, int client,
		      const struct ipc_msg *req);

#endif

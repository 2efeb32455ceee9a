/* report.h — ftp-tunneld's STATUS report (docs/IPC.txt, formats 1 and 2):
 * each pooled connection's worker writes its part when it gets to it and
 * posts it back; the main thread adds its own records and writes the
 * reply as fast as the client reads. Nothing here makes the main loop
 * wait. */
#ifndef REPORT_H
#define REPORT_H

#include <stdint.h>

#include "connpool.h"
#include "held.h"
#include "ipc.h"
#include "loop.h"

struct report_set;

/* What the report says about the daemon itself; borrowed for the call. */
struct report_daemon {
	struct connpool *pool;
	uint64_t started_ms;	 /* loop_now_ms() at the start */
	unsigned long nconn;	 /* CONNECTs so far */
	unsigned long nrequests; /* requests so far */
};

/* The STATUS requests in progress, on loop (the main thread's), reporting
 * held's tunnels (borrowed). NULL with errno set. */
struct report_set *report_set_new(struct loop *loop, struct held_set *held);
/* Drops the requests in progress. Call after the pool is freed (no worker
 * may still write a part). Accepts NULL. */
void report_set_free(struct report_set *set);
/* Answers the STATUS request req on client (owned: closed when done). */
void report_status(struct report_set *set, const struct report_daemon *d,
		   int client, const struct ipc_msg *req);

#endif

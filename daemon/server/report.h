/* report.h — ftp-tunneld's STATUS report (docs/IPC.txt, formats 1 and 2),
 * gathered from the pooled connections' workers and the held tunnels. */
#ifndef REPORT_H
#define REPORT_H

#include <stdint.h>

#include "connpool.h"
#include "held.h"
#include "ipc.h"
#include "loop.h"

/* What the report says about the daemon itself; borrowed for the call. */
struct report_daemon {
	struct loop *loop;
	struct connpool *pool;
	struct held_set *held;
	uint64_t started_ms;	 /* loop_now_ms() at the start */
	unsigned long nconn;	 /* CONNECTs so far */
	unsigned long nrequests; /* requests so far */
};

/* Answers the STATUS request req on client (owned: closed when done). */
void report_status(const struct report_daemon *d, int client,
		   const struct ipc_msg *req);

#endif

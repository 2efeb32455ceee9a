/* ipcserve.h — serving a per-user IPC socket (docs/IPC.txt) from an event
 * loop without ever waiting on a client: connections from our own uid
 * only, each request read as it comes with a buffer and a deadline of its
 * own, at most so many connections in hand at once, and replies written
 * as fast as the client reads them. ftp-tunneld's request server and
 * each foreground ftp-tunnel's status socket are both this. */
#ifndef IPCSERVE_H
#define IPCSERVE_H

#include <stddef.h>

#include "ipc.h"
#include "loop.h"

struct ipcserve;

struct ipcserve_ops {
	/* A whole request came on fd: fd is the owner's from here, to
	 * answer and close now or later (ipcserve_reply does both). */
	void (*request)(int fd, const struct ipc_msg *req, void *arg);
	/* Optional: a connection came, before any check (activity). */
	void (*accepted)(void *arg);
};

struct ipcserve_limits {
	const char *what; /* "ipc", "status socket": for the log */
	int max_conns;	  /* requests being read plus replies being written */
	int request_ms;	  /* a client's time to send its whole request */
	/* >0: a connection handed to the owner is blocking, with send and
	 * receive timeouts this long (its replies are small and written at
	 * once); 0: non-blocking (the owner writes with ipcserve_reply). */
	int blocking_ms;
};

/* Serves the listening socket lfd (borrowed: the owner closes it after
 * ipcserve_free) on loop. ops and limits are borrowed. NULL with errno
 * set. */
struct ipcserve *ipcserve_new(struct loop *loop, int lfd,
			      const struct ipcserve_ops *ops,
			      const struct ipcserve_limits *limits, void *arg);
/* Stops watching lfd and closes every connection still being read or
 * written to, without calling back. Accepts NULL. */
void ipcserve_free(struct ipcserve *s);

/* Called once a reply ended: sent whole (1) or given up (0). */
typedef void (*ipcserve_sent_fn)(int whole, void *arg);

/* Writes out[0..len) (taken: freed with free()) to fd (taken: closed at
 * the end) as the client reads it; a client that takes nothing for
 * wait_ms is given up. sent (optional) is called at the end, which may
 * come before this returns. On ENOMEM fd and out are released at once
 * and sent is not called: -ENOMEM; else 0. */
int ipcserve_reply(struct ipcserve *s, int fd, char *out, size_t len,
		   int wait_ms, ipcserve_sent_fn sent, void *arg);

#endif

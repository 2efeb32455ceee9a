/* connpool.h — the SSH connections that carry concurrent FTP sessions to
 * one server, each on a worker thread of its own (libssh2 1.10 spends a
 * core on one connection's cipher work): which connection a new FTP
 * session goes to, handing its job back when an extra connection fails
 * before it logs in, the back-off after such a failure, and closing idle
 * and dead connections. Every SSH connection runs here, on a worker of
 * its own: ftp-tunneld's for the shim, the ones ftp-tunnel -f has it hold
 * (its owner's alone: connpool_own), and ftp-tunnel -L's first connection
 * (connpool_own) with its extras. Functions run on the main thread (the
 * loop the pool was made on) unless marked "worker". */
#ifndef CONNPOOL_H
#define CONNPOOL_H

#include <stdint.h>

#include "loop.h"
#include "ssh.h"
#include "worker.h"

/* The longest ssh_opts_key a pool tells connections apart by. */
#define CONNPOOL_KEY_MAX 8192

struct connpool;
struct pool_conn;

/* A job runs on its connection's worker; job is the owner's. */
typedef void (*connpool_job_fn)(struct pool_conn *pc, void *job);

struct connpool_ops {
	/* A job handed back by connpool_handback. to: a live connection
	 * with the same settings, or NULL when the pool has none left; the
	 * owner posts the job there, gives it to a connection of its own,
	 * or fails it. Only extra connections hand jobs back: a pool whose
	 * connections all come from connpool_own may leave it NULL. */
	void (*rehome)(void *job, struct pool_conn *to, void *arg);
	/* Worker, optional: pc is about to close (idle or dead, or the
	 * pool is being freed: stopping set); end what rides on it. */
	void (*closing)(struct pool_conn *pc, int stopping, void *arg);
	/* Worker, optional: pc's session became ready, failed or was
	 * lost (ssh.h), before the pool itself acts on it. For a
	 * connection of connpool_own the hook says why it failed or was
	 * lost; the pool logs it for the others. */
	void (*event)(struct pool_conn *pc, enum ssh_event ev, const char *msg,
		      void *arg);
};

/* A pool on loop. idle_ms: close a connection idle that long. NULL with
 * errno set. ops is borrowed. */
struct connpool *connpool_new(struct loop *loop, const struct connpool_ops *ops,
			      void *arg, uint64_t idle_ms);
/* Closes every connection and waits for their threads. Accepts NULL. */
void connpool_free(struct connpool *p);

/* Connections to one server that o's Connections setting allows: unset
 * or 0 means one per core, at most 4; 1 turns extras off. */
int connpool_max(const struct ssh_opts *o);

/* The connection for a new FTP session with settings o, whose
 * ssh_opts_key is key: an idle one, else a new one while fewer than
 * connpool_max exist and no failed extra holds new ones off, else the
 * least loaded. first_load: FTP sessions on the owner's own first
 * connection (one of the candidates), or -1 when it has none. Returns
 * NULL with errno 0 for "the owner's first connection", NULL with errno
 * set when no connection could be made. New connections log in without
 * asking anybody (batch mode). */
struct pool_conn *connpool_pick(struct connpool *p, const struct ssh_opts *o,
				const char *key, int first_load);

/* Main thread, before pc's worker starts: the owner may set up watches
 * and timers on its session's loop (ssh_sess_loop(connpool_sess(pc)))
 * and what rides on its session. 0, or -errno to give pc up. */
typedef int (*connpool_setup_fn)(struct pool_conn *pc, void *data);

/* A new connection with settings o for its owner alone: never picked
 * for a job, never closed for idleness, only when lost or told
 * (connpool_close). Its connpool_data starts as data, so that ops->event
 * finds it from the first event on; setup (optional) runs before its
 * worker does. Logs in as o says: asking on the terminal unless
 * o->batch_mode. NULL with errno set (setup's error, or 0 when setup
 * failed with none). */
struct pool_conn *connpool_own(struct connpool *p, const struct ssh_opts *o,
			       void *data, connpool_setup_fn setup);
/* Ends pc soon (on the pool's next tick), as a lost connection: closing
 * runs on its worker, then the session closes. Any thread. */
void connpool_close(struct pool_conn *pc);

/* Counts the job in pc's load and runs fn(pc, job) on pc's worker. 0, or
 * -ENOMEM (load unchanged). */
int connpool_post(struct pool_conn *pc, connpool_job_fn fn, void *job);
/* Worker: a posted job ended (its FTP session closed, or it failed). */
void connpool_job_done(struct pool_conn *pc);
/* Worker: a job failed because pc's connection is down. When pc is an
 * extra connection that never logged in, the job goes back to the main
 * thread (ops->rehome), out of pc's load, and 1 is returned. Else 0: the
 * job fails here. */
int connpool_handback(struct pool_conn *pc, void *job);

/* Connections, including those closing. */
int connpool_count(const struct connpool *p);
/* fn(pc, arg) for each connection not closing, newest first. */
void connpool_each(struct connpool *p,
		   void (*fn)(struct pool_conn *pc, void *arg), void *arg);
/* Queues fn(loop, arg) for pc's worker, not counted as load, and returns
 * at once. 0, or -ENOMEM (fn will not run). */
int connpool_ask(struct pool_conn *pc, worker_fn fn, void *arg);
/* Runs fn(loop, arg) on pc's worker and waits until it returned: 0; or
 * -1 at once when pc's worker is ending (fn does not run). */
int connpool_call(struct pool_conn *pc, worker_fn fn, void *arg);
/* Any thread: queues fn(loop, arg) for the pool's main thread, where
 * connpool_pick may run. 0, or -ENOMEM (fn will not run; neither does
 * it when the pool is freed first). */
int connpool_post_main(struct pool_conn *pc, worker_fn fn, void *arg);
/* Whether pc came from connpool_own. Any thread. */
int connpool_is_own(const struct pool_conn *pc);

/* Worker: pc's SSH session. */
struct ssh_sess *connpool_sess(struct pool_conn *pc);
/* Its number, for `ftp-tunnel status`. */
unsigned long connpool_id(const struct pool_conn *pc);
/* Worker: one pointer of the owner's per connection (NULL at first). */
void **connpool_data(struct pool_conn *pc);

#endif

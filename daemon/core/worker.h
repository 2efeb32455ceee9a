/* worker.h — a thread running its own event loop, fed tasks by other
 * threads. Everything registered on a worker's loop belongs to that
 * thread: other threads reach it only through tasks. */
#ifndef WORKER_H
#define WORKER_H

#include "loop.h"
#include "taskq.h"

struct worker;

/* A task runs on the worker's thread, in its loop. */
typedef taskq_fn worker_fn;

/* A worker with its loop, not yet running: until worker_start the caller
 * may set up watches and timers on worker_loop() itself. NULL with errno
 * set. */
struct worker *worker_new(void);
struct loop *worker_loop(struct worker *w);
/* Starts the thread (it inherits the caller's signal mask). 0 or
 * -errno. */
int worker_start(struct worker *w);
/* Queues fn(arg) to run on the worker's thread, in the order posted.
 * 0, or -ENOMEM (fn will not run). Never post after the task that stops
 * the worker's loop. */
int worker_post(struct worker *w, worker_fn fn, void *arg);
/* Runs fn(arg) on the worker's thread and waits until it returned. The
 * worker must be running (started, its loop not stopped). 0 or -ENOMEM. */
int worker_call(struct worker *w, worker_fn fn, void *arg);
/* Nonzero once the worker's loop returned (a task called loop_stop). */
int worker_exited(struct worker *w);
/* Waits for the thread to end, then frees the worker and its loop, on
 * which nothing may be left. Accepts NULL and a worker never started. */
void worker_free(struct worker *w);
/* The end of a worker whose loop runs until told: last(arg) runs on its
 * thread and frees what lives there; the timers that leaves due now run
 * (an SSH session is freed from a 0 ms timer of its own when its owner
 * may be inside its callback); then the loop stops and the worker is
 * freed as by worker_free. Accepts NULL and a worker never started. */
void worker_end(struct worker *w, worker_fn last, void *arg);

#endif

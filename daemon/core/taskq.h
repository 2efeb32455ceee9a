/* taskq.h — a queue of tasks that other threads post to a loop's thread,
 * which runs them in its loop, in order. */
#ifndef TASKQ_H
#define TASKQ_H

#include "loop.h"

struct taskq;

/* A task runs on the loop's thread, in its loop. */
typedef void (*taskq_fn)(struct loop *loop, void *arg);

/* A task queue on a loop that some thread already runs (a worker's, or
 * the main thread's): other threads post tasks, the loop's thread runs
 * them in order. NULL with errno set. taskq_free runs nothing more. */
struct taskq *taskq_new(struct loop *loop);
/* Queues fn(arg) for the loop's thread. 0, or -ENOMEM (fn will not
 * run). */
int taskq_post(struct taskq *q, taskq_fn fn, void *arg);
/* Runs fn(arg) on the loop's thread and waits until it returned; never
 * from that thread. 0. */
int taskq_call(struct taskq *q, taskq_fn fn, void *arg);
/* Tasks still queued are dropped (their args are their posters'). Call
 * on the loop's thread, before loop_free. Accepts NULL. */
void taskq_free(struct taskq *q);

#endif

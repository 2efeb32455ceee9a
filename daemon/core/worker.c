/* worker.c — a thread with its own loop, fed by a task queue
 * (taskq.c). */
#include "worker.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct worker {
	struct loop *loop;
	struct taskq *q;
	pthread_t thread;
	int started;
	atomic_int exited;
	worker_fn last; /* worker_end's */
	void *last_arg;
	struct loop_timer *stop;
};

struct worker *worker_new(void)
{
	struct worker *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->loop = loop_new();
	if (!w->loop)
		goto fail;
	w->q = taskq_new(w->loop);
	if (!w->q)
		goto fail;
	return w;
fail:
	loop_free(w->loop);
	free(w);
	return NULL;
}

struct loop *worker_loop(struct worker *w)
{
	return w->loop;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int rc = loop_run(w->loop);

	if (rc < 0)
		log_err("worker: event loop failed: %s", strerror(-rc));
	atomic_store(&w->exited, 1);
	return NULL;
}

int worker_start(struct worker *w)
{
	int rc = pthread_create(&w->thread, NULL, worker_main, w);

	if (rc)
		return -rc;
	w->started = 1;
	return 0;
}

int worker_post(struct worker *w, worker_fn fn, void *arg)
{
	return taskq_post(w->q, fn, arg);
}

int worker_call(struct worker *w, worker_fn fn, void *arg)
{
	return taskq_call(w->q, fn, arg);
}

int worker_exited(struct worker *w)
{
	return atomic_load(&w->exited);
}

void worker_free(struct worker *w)
{
	if (!w)
		return;
	if (w->started)
		pthread_join(w->thread, NULL);
	taskq_free(w->q);
	loop_free(w->loop);
	free(w);
}

/* On the worker, after the timers that were due when last ran. */
static void stop_cb(struct loop *loop, void *arg)
{
	struct worker *w = arg;

	loop_timer_free(w->stop);
	w->stop = NULL;
	loop_stop(loop);
}

static void end_task(struct loop *loop, void *arg)
{
	struct worker *w = arg;

	w->last(loop, w->last_arg);
	/* Timers of one deadline run in the order armed: those last armed
	 * for now run before this one. */
	w->stop = loop_timer_new(loop, stop_cb, w);
	if (!w->stop) {
		loop_stop(loop); /* out of memory: theirs are left */
		return;
	}
	loop_timer_arm(w->stop, 0);
}

void worker_end(struct worker *w, worker_fn last, void *arg)
{
	if (!w)
		return;
	w->last = last;
	w->last_arg = arg;
	if (w->started)
		worker_call(w, end_task, w);
	else
		last(w->loop, arg); /* nobody else runs the loop */
	worker_free(w);
}

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

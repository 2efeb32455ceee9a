/* worker.c — a thread with its own loop: tasks go into a locked queue and
 * an eventfd wakes the loop, which runs them in order. */
#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"

struct task {
	worker_fn fn;
	void *arg;
	int *done; /* worker_call's: set under the lock once fn returned */
	struct task *next;
};

struct worker {
	struct loop *loop;
	int wake; /* eventfd: tasks are waiting */
	pthread_t thread;
	int started;
	atomic_int exited;
	pthread_mutex_t lock;
	pthread_cond_t ran; /* a worker_call's task returned */
	struct task *head, **tail;
};

/* Runs everything queued now; tasks posted meanwhile wake us again. */
static void wake_cb(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct worker *w = arg;
	struct task *t, *next;
	uint64_t n;

	(void)events;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_debug("worker: eventfd: %s", strerror(errno));
	pthread_mutex_lock(&w->lock);
	t = w->head;
	w->head = NULL;
	w->tail = &w->head;
	pthread_mutex_unlock(&w->lock);
	for (; t; t = next) {
		next = t->next;
		t->fn(loop, t->arg);
		if (t->done) {
			/* The caller frees its own task. */
			pthread_mutex_lock(&w->lock);
			*t->done = 1;
			pthread_cond_broadcast(&w->ran);
			pthread_mutex_unlock(&w->lock);
		} else {
			free(t);
		}
	}
}

struct worker *worker_new(void)
{
	struct worker *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->tail = &w->head;
	w->wake = -1;
	w->loop = loop_new();
	if (!w->loop)
		goto fail;
	w->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->wake < 0 || loop_watch(w->loop, w->wake, EPOLLIN, wake_cb, w) < 0)
		goto fail;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->ran, NULL);
	return w;
fail:
	if (w->wake >= 0)
		close(w->wake);
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

static void enqueue(struct worker *w, struct task *t)
{
	uint64_t one = 1;

	pthread_mutex_lock(&w->lock);
	*w->tail = t;
	w->tail = &t->next;
	pthread_mutex_unlock(&w->lock);
	/* The counter cannot overflow in practice; a full one still wakes. */
	if (write(w->wake, &one, sizeof(one)) < 0)
		log_debug("worker: eventfd: %s", strerror(errno));
}

int worker_post(struct worker *w, worker_fn fn, void *arg)
{
	struct task *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->fn = fn;
	t->arg = arg;
	enqueue(w, t);
	return 0;
}

int worker_call(struct worker *w, worker_fn fn, void *arg)
{
	struct task t = {.fn = fn, .arg = arg};
	int done = 0;

	t.done = &done;
	enqueue(w, &t);
	pthread_mutex_lock(&w->lock);
	while (!done)
		pthread_cond_wait(&w->ran, &w->lock);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

int worker_exited(struct worker *w)
{
	return atomic_load(&w->exited);
}

void worker_free(struct worker *w)
{
	struct task *t;

	if (!w)
		return;
	if (w->started)
		pthread_join(w->thread, NULL);
	/* Tasks posted after the stop never ran: free them (their args are
	 * their posters' to worry about; none should exist). */
	while ((t = w->head)) {
		w->head = t->next;
		if (!t->done)
			free(t);
	}
	loop_unwatch(w->loop, w->wake);
	close(w->wake);
	loop_free(w->loop);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->ran);
	free(w);
}

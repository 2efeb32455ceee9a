/* taskq.c — the task queue that feeds a loop from other threads: tasks
 * go into a locked queue and an eventfd wakes the loop, which runs them
 * in order. */
#include "taskq.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"

struct task {
	taskq_fn fn;
	void *arg;
	int *done; /* taskq_call's: set under the lock once fn returned */
	struct task *next;
};

struct taskq {
	struct loop *loop;
	int wake; /* eventfd: tasks are waiting */
	pthread_mutex_t lock;
	pthread_cond_t ran; /* a taskq_call's task returned */
	struct task *head, **tail;
};

/* Runs everything queued now; tasks posted meanwhile wake us again. */
static void wake_cb(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct taskq *q = arg;
	struct task *t, *next;
	uint64_t n;

	(void)events;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_debug("taskq: eventfd: %s", strerror(errno));
	pthread_mutex_lock(&q->lock);
	t = q->head;
	q->head = NULL;
	q->tail = &q->head;
	pthread_mutex_unlock(&q->lock);
	for (; t; t = next) {
		next = t->next;
		t->fn(loop, t->arg);
		if (t->done) {
			/* The caller frees its own task. */
			pthread_mutex_lock(&q->lock);
			*t->done = 1;
			pthread_cond_broadcast(&q->ran);
			pthread_mutex_unlock(&q->lock);
		} else {
			free(t);
		}
	}
}

struct taskq *taskq_new(struct loop *loop)
{
	struct taskq *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->loop = loop;
	q->tail = &q->head;
	q->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->wake < 0 || loop_watch(loop, q->wake, EPOLLIN, wake_cb, q) < 0) {
		if (q->wake >= 0)
			close(q->wake);
		free(q);
		return NULL;
	}
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->ran, NULL);
	return q;
}

static void enqueue(struct taskq *q, struct task *t)
{
	uint64_t one = 1;

	pthread_mutex_lock(&q->lock);
	*q->tail = t;
	q->tail = &t->next;
	pthread_mutex_unlock(&q->lock);
	/* The counter cannot overflow in practice; a full one still wakes. */
	if (write(q->wake, &one, sizeof(one)) < 0)
		log_debug("taskq: eventfd: %s", strerror(errno));
}

int taskq_post(struct taskq *q, taskq_fn fn, void *arg)
{
	struct task *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->fn = fn;
	t->arg = arg;
	enqueue(q, t);
	return 0;
}

int taskq_call(struct taskq *q, taskq_fn fn, void *arg)
{
	struct task t = {.fn = fn, .arg = arg};
	int done = 0;

	t.done = &done;
	enqueue(q, &t);
	pthread_mutex_lock(&q->lock);
	while (!done)
		pthread_cond_wait(&q->ran, &q->lock);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

void taskq_free(struct taskq *q)
{
	struct task *t;

	if (!q)
		return;
	/* Tasks posted after the loop stopped never ran: free them (their
	 * args are their posters' to worry about; none should exist). */
	while ((t = q->head)) {
		q->head = t->next;
		if (!t->done)
			free(t);
	}
	loop_unwatch(q->loop, q->wake);
	close(q->wake);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->ran);
	free(q);
}

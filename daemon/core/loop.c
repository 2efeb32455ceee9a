/* loop.c — epoll event loop: a handler table indexed by fd, and a sorted
 * list of timers (there are few: keepalives and listener expiry). */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

struct watch {
	loop_fd_cb cb;
	void *arg;
	uint32_t events;
	int active;
	int paused; /* loop_pause: watched with no events until resumed */
};

struct loop_timer {
	struct loop *loop;
	loop_timer_cb cb;
	void *arg;
	uint64_t deadline;
	int armed;
	struct loop_timer *next;
};

struct loop {
	int epfd;
	int stop;
	uint64_t now;
	struct watch *watches; /* indexed by fd */
	int nwatches;
	struct loop_timer *timers; /* armed ones, sorted by deadline */
	/* The batch being dispatched, so loop_unwatch can drop its events. */
	struct epoll_event *batch;
	int batch_len;
	struct loop_timer *resume; /* ends loop_pause's pauses */
};

#define LOOP_BATCH 64

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct loop *loop_new(void)
{
	struct loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		free(loop);
		return NULL;
	}
	loop->now = monotonic_ms();
	return loop;
}

void loop_free(struct loop *loop)
{
	if (!loop)
		return;
	loop_timer_free(loop->resume);
	close(loop->epfd);
	free(loop->watches);
	free(loop);
}

static int grow_watches(struct loop *loop, int fd)
{
	int n = loop->nwatches ? loop->nwatches : 64;
	struct watch *w;

	while (n <= fd)
		n *= 2;
	if (n == loop->nwatches)
		return 0;
	w = realloc(loop->watches, (size_t)n * sizeof(*w));
	if (!w)
		return -ENOMEM;
	memset(w + loop->nwatches, 0,
	       (size_t)(n - loop->nwatches) * sizeof(*w));
	loop->watches = w;
	loop->nwatches = n;
	return 0;
}

int loop_watch(struct loop *loop, int fd, uint32_t events, loop_fd_cb cb,
	       void *arg)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};
	struct watch *w;
	int rc;

	if (fd < 0)
		return -EBADF;
	rc = grow_watches(loop, fd);
	if (rc < 0)
		return rc;
	w = &loop->watches[fd];
	if (epoll_ctl(loop->epfd, w->active ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd,
		      &ev) < 0)
		return -errno;
	w->cb = cb;
	w->arg = arg;
	w->events = events;
	w->active = 1;
	return 0;
}

int loop_set_events(struct loop *loop, int fd, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};
	struct watch *w;

	if (fd < 0 || fd >= loop->nwatches || !loop->watches[fd].active)
		return -EBADF;
	w = &loop->watches[fd];
	if (w->events == events)
		return 0;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -errno;
	w->events = events;
	return 0;
}

static void resume_cb(struct loop *loop, void *arg)
{
	int fd;

	(void)arg;
	for (fd = 0; fd < loop->nwatches; fd++) {
		struct watch *w = &loop->watches[fd];
		struct epoll_event ev = {.events = w->events, .data.fd = fd};

		if (!w->active || !w->paused)
			continue;
		w->paused = 0;
		epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev);
	}
}

int loop_pause(struct loop *loop, int fd, uint64_t ms)
{
	struct epoll_event ev = {.events = 0, .data.fd = fd};
	struct watch *w;

	if (fd < 0 || fd >= loop->nwatches || !loop->watches[fd].active)
		return -EBADF;
	w = &loop->watches[fd];
	if (!loop->resume) {
		loop->resume = loop_timer_new(loop, resume_cb, NULL);
		if (!loop->resume)
			return -ENOMEM;
	}
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -errno;
	w->paused = 1;
	/* One timer for every pause (they are rare): the earliest wins, and
	 * a pause may end a little early, which is harmless. */
	if (!loop_timer_armed(loop->resume))
		loop_timer_arm(loop->resume, ms);
	return 0;
}

void loop_unwatch(struct loop *loop, int fd)
{
	int i;

	if (fd < 0 || fd >= loop->nwatches || !loop->watches[fd].active)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	memset(&loop->watches[fd], 0, sizeof(loop->watches[fd]));
	/* The fd may be closed and reused by the next callback in this
	 * batch: its stale events must not reach the new owner. */
	for (i = 0; i < loop->batch_len; i++)
		if (loop->batch[i].data.fd == fd)
			loop->batch[i].events = 0;
}

struct loop_timer *loop_timer_new(struct loop *loop, loop_timer_cb cb,
				  void *arg)
{
	struct loop_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->loop = loop;
	t->cb = cb;
	t->arg = arg;
	return t;
}

void loop_timer_disarm(struct loop_timer *t)
{
	struct loop_timer **pp;

	if (!t || !t->armed)
		return;
	for (pp = &t->loop->timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->armed = 0;
	t->next = NULL;
}

void loop_timer_arm(struct loop_timer *t, uint64_t after_ms)
{
	struct loop_timer **pp;

	loop_timer_disarm(t);
	t->deadline = monotonic_ms() + after_ms;
	for (pp = &t->loop->timers; *pp && (*pp)->deadline <= t->deadline;
	     pp = &(*pp)->next)
		;
	t->next = *pp;
	*pp = t;
	t->armed = 1;
}

int loop_timer_armed(const struct loop_timer *t)
{
	return t && t->armed;
}

void loop_timer_free(struct loop_timer *t)
{
	if (!t)
		return;
	loop_timer_disarm(t);
	free(t);
}

int loop_watch_signals(struct loop *loop, loop_fd_cb cb, void *arg)
{
	sigset_t mask;
	int fd, rc;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = loop_watch(loop, fd, EPOLLIN, cb, arg);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

uint64_t loop_now_ms(struct loop *loop)
{
	return loop->now;
}

void loop_stop(struct loop *loop)
{
	loop->stop = 1;
}

static void run_timers(struct loop *loop)
{
	struct loop_timer *t;

	loop->now = monotonic_ms();
	while ((t = loop->timers) && t->deadline <= loop->now) {
		loop->timers = t->next;
		t->armed = 0;
		t->next = NULL;
		t->cb(loop, t->arg); /* may re-arm or free t */
	}
}

int loop_run(struct loop *loop)
{
	struct epoll_event events[LOOP_BATCH];

	loop->stop = 0;
	while (!loop->stop) {
		int timeout = -1, n, i;

		run_timers(loop);
		if (loop->stop)
			break;
		if (loop->timers) {
			/* Against the clock as it is now: a timer callback that
			 * ran long and re-armed a 0 ms timer (the SSH session's
			 * kick after a busy service pass) set its deadline from
			 * the real clock, and the clock read before the
			 * callbacks would make epoll_wait sleep for as long as
			 * the callback ran, with work waiting. */
			uint64_t d = loop->timers->deadline;

			loop->now = monotonic_ms();
			timeout = d <= loop->now ? 0 : (int)(d - loop->now);
		}
		n = epoll_wait(loop->epfd, events, LOOP_BATCH, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		loop->now = monotonic_ms();
		loop->batch = events;
		loop->batch_len = n;
		for (i = 0; i < n && !loop->stop; i++) {
			int fd = events[i].data.fd;
			uint32_t ev = events[i].events;
			struct watch *w;

			if (!ev || fd >= loop->nwatches)
				continue;
			w = &loop->watches[fd];
			if (!w->active)
				continue;
			if (ev & (EPOLLERR | EPOLLHUP))
				ev |= EPOLLIN | EPOLLOUT;
			w->cb(loop, fd, ev, w->arg);
		}
		loop->batch = NULL;
		loop->batch_len = 0;
	}
	return 0;
}

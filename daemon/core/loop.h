/* loop.h — a small epoll event loop with timers. No global state: every
 * watch and timer hangs off its loop, so a program may run one loop per
 * thread. Not thread-safe: use a loop from one thread only. */
#ifndef LOOP_H
#define LOOP_H

#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>

struct loop;
struct loop_timer;

/* Called with the epoll events that fired. EPOLLERR/EPOLLHUP also set
 * EPOLLIN|EPOLLOUT, so a handler learns of errors from its own read/write. */
typedef void (*loop_fd_cb)(struct loop *loop, int fd, uint32_t events,
			   void *arg);
typedef void (*loop_timer_cb)(struct loop *loop, void *arg);

/* A new loop, or NULL with errno set. */
struct loop *loop_new(void);
/* Frees the loop; watches must have been removed, timers freed. */
void loop_free(struct loop *loop);

/* Watches fd for `events` (EPOLLIN/EPOLLOUT, may be 0), calling cb with arg.
 * Replaces any earlier watch of fd. Returns 0 or -errno. */
int loop_watch(struct loop *loop, int fd, uint32_t events, loop_fd_cb cb,
	       void *arg);
/* Changes the events of a watched fd; cheap when unchanged. 0 or -errno. */
int loop_set_events(struct loop *loop, int fd, uint32_t events);
/* Stops reporting fd's events for about ms milliseconds, then resumes
 * (the listener that hit EMFILE: its backlog waits instead of waking the
 * loop again at once). 0 or -errno. */
int loop_pause(struct loop *loop, int fd, uint64_t ms);
/* Stops watching fd. Events of fd still pending in the current batch are
 * dropped. Call before close(fd). */
void loop_unwatch(struct loop *loop, int fd);

/* Timers: created disarmed; owned by the caller, freed with
 * loop_timer_free (which disarms). */
struct loop_timer *loop_timer_new(struct loop *loop, loop_timer_cb cb,
				  void *arg);
void loop_timer_arm(struct loop_timer *t, uint64_t after_ms);
void loop_timer_disarm(struct loop_timer *t);
int loop_timer_armed(const struct loop_timer *t);
void loop_timer_free(struct loop_timer *t);

/* Blocks the signals both programs act on (SIGINT, SIGTERM, SIGHUP: stop;
 * SIGUSR1: log the state) and watches them through a signalfd: cb reads
 * a struct signalfd_siginfo from fd. Threads started afterwards inherit
 * the mask. Returns the signalfd (the caller unwatches and closes it) or
 * -errno. */
int loop_watch_signals(struct loop *loop, loop_fd_cb cb, void *arg);

/* Milliseconds of CLOCK_MONOTONIC, cached per loop iteration. */
uint64_t loop_now_ms(struct loop *loop);

/* Runs until loop_stop(). Returns 0, or -errno if epoll_wait fails. */
int loop_run(struct loop *loop);
void loop_stop(struct loop *loop);

#endif

/* connpool.c — SSH connections on worker threads for concurrent FTP
 * sessions. The main thread keeps the list and decides; each connection's
 * worker owns its session. The facts the main thread needs back (load,
 * dead, busy) are atomics; hand-backs and failure notices come to it
 * through a task queue on its own loop. */
#include "connpool.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "taskq.h"

#define POOL_TICK_MS 1000
/* After an extra connection failed to log in, concurrent FTP sessions
 * share the connections there are for this long. */
#define POOL_BACKOFF_MS (10 * 60 * 1000)

struct pool_conn {
	/* Set before the worker starts, read-only after. */
	struct connpool *p;
	char key[CONNPOOL_KEY_MAX]; /* ssh_opts_key of its settings */
	unsigned long id;
	int extra;    /* made while another live connection had this key */
	int reserved; /* its owner's alone (connpool_own) */
	struct worker *w;
	/* Shared between the threads. */
	atomic_int load;      /* jobs posted and not yet done */
	atomic_int dead;      /* the connection failed or was lost */
	atomic_int busy;      /* channels, at the worker's last look */
	atomic_int handbacks; /* posted to the main thread, not yet run:
			       * they read this record, so it stays */
	/* The main thread's. */
	uint64_t idle_since; /* 0 while busy */
	int ended;	     /* its last task (conn_end) is posted */
	struct pool_conn *next;
	/* The worker's. */
	struct ssh_sess *s;
	struct loop_timer *tick;
	int stopping;
	void *data;
};

/* No new extras for a key until a time. */
struct backoff {
	char *key;
	uint64_t until;
	struct backoff *next;
};

struct connpool {
	struct loop *loop;
	const struct connpool_ops *ops;
	void *arg;
	uint64_t idle_ms;
	struct taskq *q; /* hand-backs and notices from the workers */
	struct loop_timer *tick;
	struct pool_conn *conns;
	struct pool_conn *ending; /* told to end, not yet joined */
	struct backoff *backoffs;
	unsigned long nconns;
};

/* A job, or the news of a failed login, on its way to the main thread. */
struct handback {
	struct pool_conn *pc;
	void *job;	/* NULL: the notice that pc failed to log in */
	char name[300]; /* the connection's user@host:port */
	char why[600];
};

int connpool_max(const struct ssh_opts *o)
{
	long n;

	if ((o->set & SSH_SET_CONNECTIONS) && o->connections > 0)
		return o->connections;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 4 ? 4 : (int)n;
}

/* --- the main thread's side ------------------------------------------- */

static struct backoff *backoff_find(struct connpool *p, const char *key)
{
	struct backoff *b;

	for (b = p->backoffs; b; b = b->next)
		if (!strcmp(b->key, key))
			return b;
	return NULL;
}

static int backed_off(struct connpool *p, const char *key)
{
	struct backoff *b = backoff_find(p, key);

	return b && loop_now_ms(p->loop) < b->until;
}

/* An extra connection failed to log in: the next ones would too (a key
 * the server accepts once, MaxStartups, MaxSessions, a per-user limit),
 * so stop trying for a while, and say so once. */
static void note_failed_extra(struct connpool *p, const struct pool_conn *pc,
			      const char *name, const char *why)
{
	struct backoff *b = backoff_find(p, pc->key);
	uint64_t now = loop_now_ms(p->loop);

	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b)
			return;
		b->key = strdup(pc->key);
		if (!b->key) {
			free(b);
			return;
		}
		b->next = p->backoffs;
		p->backoffs = b;
	} else if (now < b->until) {
		return; /* said already */
	}
	b->until = now + POOL_BACKOFF_MS;
	log_warn("sess %s: a further SSH connection to the same server "
		 "failed (%s); concurrent FTP sessions share the existing "
		 "connection for %d minutes; set Connections=1 to stop these "
		 "attempts",
		 name, why, POOL_BACKOFF_MS / 60000);
}

/* The least loaded live connection with key, other than skip; NULL if
 * none. *n: how many live ones there are. */
static struct pool_conn *least_loaded(struct connpool *p, const char *key,
				      const struct pool_conn *skip, int *n)
{
	struct pool_conn *pc, *best = NULL;

	*n = 0;
	for (pc = p->conns; pc; pc = pc->next) {
		if (pc == skip || pc->reserved || strcmp(pc->key, key) ||
		    atomic_load(&pc->dead))
			continue;
		(*n)++;
		if (!best || atomic_load(&pc->load) < atomic_load(&best->load))
			best = pc;
	}
	return best;
}

static void handback_task(struct loop *loop, void *arg)
{
	struct handback *h = arg;
	struct connpool *p = h->pc->p;
	struct pool_conn *to;
	int n;

	(void)loop;
	if (!h->job) {
		note_failed_extra(p, h->pc, h->name, h->why);
	} else {
		to = least_loaded(p, h->pc->key, h->pc, &n);
		log_info("sess %s: not logged in; an FTP session waiting for "
			 "it is handed back",
			 h->name);
		p->ops->rehome(h->job, to, p->arg);
	}
	atomic_fetch_sub(&h->pc->handbacks, 1);
	free(h);
}

static void conn_tick(struct loop *loop, void *arg);
static void conn_event(struct ssh_sess *s, enum ssh_event ev, const char *msg,
		       void *arg);

static void conn_free(struct pool_conn *pc)
{
	worker_free(pc->w);
	free(pc);
}

/* A new connection with settings o on a thread of its own, or NULL. */
static struct pool_conn *conn_new(struct connpool *p, const struct ssh_opts *o,
				  const char *key, int extra, int reserved,
				  void *data, connpool_setup_fn setup)
{
	struct pool_conn *pc = calloc(1, sizeof(*pc));
	struct ssh_opts batch = *o; /* shallow: ssh_sess_new copies it */
	struct loop *loop;

	if (!pc)
		return NULL;
	pc->p = p;
	snprintf(pc->key, sizeof(pc->key), "%s", key);
	pc->id = ++p->nconns;
	pc->extra = extra;
	pc->reserved = reserved;
	pc->data = data; /* before any event can look for it */
	pc->w = worker_new();
	if (!pc->w)
		goto fail;
	loop = worker_loop(pc->w);
	/* Nobody is asked: a further connection logs in as the first did,
	 * or fails and hands its jobs back. An owner's own logs in as its
	 * settings say. */
	if (!reserved)
		batch.batch_mode = 1;
	/* Made here, before the thread runs: the worker's loop is ours
	 * until worker_start. Name resolution blocks, as it always did. */
	pc->tick = loop_timer_new(loop, conn_tick, pc);
	if (!pc->tick)
		goto fail;
	pc->s = ssh_sess_new(loop, &batch, conn_event, pc);
	if (!pc->s)
		goto fail;
	atomic_store(&pc->dead, ssh_sess_dead(pc->s));
	if (setup) {
		int rc = setup(pc, data);

		if (rc < 0) {
			ssh_sess_free(pc->s);
			loop_timer_free(pc->tick);
			conn_free(pc);
			errno = -rc;
			return NULL;
		}
	}
	loop_timer_arm(pc->tick, POOL_TICK_MS);
	if (worker_start(pc->w) < 0)
		goto fail;
	pc->next = p->conns;
	p->conns = pc;
	return pc;
fail:
	ssh_sess_free(pc->s);
	loop_timer_free(pc->tick);
	conn_free(pc);
	return NULL;
}

struct pool_conn *connpool_pick(struct connpool *p, const struct ssh_opts *o,
				const char *key, int first_load)
{
	struct pool_conn *best, *pc;
	int n, max = connpool_max(o);
	int best_load;

	best = least_loaded(p, key, NULL, &n);
	best_load = best ? atomic_load(&best->load) : -1;
	if (first_load >= 0) {
		n++;
		if (!best || first_load <= best_load) {
			best = NULL; /* the owner's own */
			best_load = first_load;
		}
	}
	errno = 0;
	if (n && (best_load == 0 || n >= max || backed_off(p, key)))
		return best;
	pc = conn_new(p, o, key, n > 0, 0, NULL, NULL);
	if (!pc) {
		if (n) {
			errno = 0;
			return best; /* better shared than refused */
		}
		errno = errno ? errno : ENOMEM;
		return NULL;
	}
	if (n)
		log_info("sess %lu: another SSH connection (%d of at most %d) "
			 "for concurrent FTP sessions",
			 pc->id, n + 1, max);
	return pc;
}

struct pool_conn *connpool_own(struct connpool *p, const struct ssh_opts *o,
			       void *data, connpool_setup_fn setup)
{
	struct pool_conn *pc;

	errno = 0;
	pc = conn_new(p, o, "", 0, 1, data, setup);

	if (!pc && !errno)
		errno = ENOMEM;
	return pc;
}

void connpool_close(struct pool_conn *pc)
{
	/* Ended on the next tick, as a lost one is. */
	atomic_store(&pc->dead, 1);
}

/* A job on its way to a worker. */
struct post {
	struct pool_conn *pc;
	connpool_job_fn fn;
	void *job;
};

static void post_task(struct loop *loop, void *arg)
{
	struct post *t = arg;

	(void)loop;
	t->fn(t->pc, t->job);
	free(t);
}

int connpool_post(struct pool_conn *pc, connpool_job_fn fn, void *job)
{
	struct post *t = malloc(sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->pc = pc;
	t->fn = fn;
	t->job = job;
	/* Counted now, so the next pick sees this job. */
	atomic_fetch_add(&pc->load, 1);
	if (worker_post(pc->w, post_task, t) < 0) {
		atomic_fetch_sub(&pc->load, 1);
		free(t);
		return -ENOMEM;
	}
	return 0;
}

/* The last task a worker runs: the owner ends what rides on the
 * connection, the connection closes, the loop stops. */
static void conn_end(struct loop *loop, void *arg)
{
	struct pool_conn *pc = arg;

	if (pc->p->ops->closing)
		pc->p->ops->closing(pc, pc->stopping, pc->p->arg);
	if (!ssh_sess_dead(pc->s))
		log_info("sess %s: closing (%s)", ssh_sess_name(pc->s),
			 pc->stopping ? "stopping" : "idle");
	ssh_sess_free(pc->s);
	pc->s = NULL;
	loop_timer_free(pc->tick);
	pc->tick = NULL;
	loop_stop(loop);
}

/* Ends dead connections, and idle ones after idle_ms; joins the workers
 * that have finished. all: end every one now and wait. */
static void reap(struct connpool *p, int all)
{
	struct pool_conn **pp = &p->conns;
	uint64_t now = loop_now_ms(p->loop);

	while (*pp) {
		struct pool_conn *pc = *pp;
		int idle = !atomic_load(&pc->load) && !atomic_load(&pc->busy);

		if (!idle)
			pc->idle_since = 0;
		else if (!pc->idle_since)
			pc->idle_since = now;
		if (all || atomic_load(&pc->dead) ||
		    (idle && !pc->reserved &&
		     now - pc->idle_since >= p->idle_ms)) {
			if (all) {
				pc->stopping = 1;
				worker_call(pc->w, conn_end, pc);
			} else if (worker_post(pc->w, conn_end, pc) < 0) {
				pp = &pc->next; /* again on the next tick */
				continue;
			}
			pc->ended = 1;
			*pp = pc->next;
			pc->next = p->ending;
			p->ending = pc;
			continue;
		}
		pp = &pc->next;
	}
	for (pp = &p->ending; *pp;) {
		struct pool_conn *pc = *pp;

		if (all ||
		    (worker_exited(pc->w) && !atomic_load(&pc->handbacks))) {
			*pp = pc->next;
			conn_free(pc);
			continue;
		}
		pp = &pc->next;
	}
}

static void pool_tick(struct loop *loop, void *arg)
{
	struct connpool *p = arg;

	(void)loop;
	reap(p, 0);
	loop_timer_arm(p->tick, POOL_TICK_MS);
}

struct connpool *connpool_new(struct loop *loop, const struct connpool_ops *ops,
			      void *arg, uint64_t idle_ms)
{
	struct connpool *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->loop = loop;
	p->ops = ops;
	p->arg = arg;
	p->idle_ms = idle_ms;
	p->q = taskq_new(loop);
	p->tick = loop_timer_new(loop, pool_tick, p);
	if (!p->q || !p->tick) {
		taskq_free(p->q);
		loop_timer_free(p->tick);
		free(p);
		return NULL;
	}
	loop_timer_arm(p->tick, POOL_TICK_MS);
	return p;
}

void connpool_free(struct connpool *p)
{
	if (!p)
		return;
	reap(p, 1);
	/* Hand-backs not yet run are dropped with the queue: every worker
	 * has ended, so their jobs' connections are gone. */
	taskq_free(p->q);
	loop_timer_free(p->tick);
	while (p->backoffs) {
		struct backoff *b = p->backoffs;

		p->backoffs = b->next;
		free(b->key);
		free(b);
	}
	free(p);
}

int connpool_count(const struct connpool *p)
{
	const struct pool_conn *pc;
	int n = 0;

	for (pc = p->conns; pc; pc = pc->next)
		n++;
	for (pc = p->ending; pc; pc = pc->next)
		n++;
	return n;
}

void connpool_each(struct connpool *p,
		   void (*fn)(struct pool_conn *pc, void *arg), void *arg)
{
	struct pool_conn *pc;

	for (pc = p->conns; pc; pc = pc->next)
		fn(pc, arg);
}

int connpool_ask(struct pool_conn *pc, worker_fn fn, void *arg)
{
	return worker_post(pc->w, fn, arg);
}

int connpool_call(struct pool_conn *pc, worker_fn fn, void *arg)
{
	if (pc->ended)
		return -1; /* its loop has stopped, or will before fn runs */
	worker_call(pc->w, fn, arg);
	return 0;
}

int connpool_post_main(struct pool_conn *pc, worker_fn fn, void *arg)
{
	return taskq_post(pc->p->q, fn, arg);
}

int connpool_is_own(const struct pool_conn *pc)
{
	return pc->reserved;
}

unsigned long connpool_id(const struct pool_conn *pc)
{
	return pc->id;
}

/* --- the worker's side ------------------------------------------------ */

/* Sends a job (or, job NULL, the news of pc's failed login with why) to
 * the main thread. name: the session's (pc->s is not set yet when
 * ssh_sess_new fails at once). 0, or -ENOMEM. */
static int post_handback(struct pool_conn *pc, void *job, const char *name,
			 const char *why)
{
	struct handback *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->pc = pc;
	h->job = job;
	snprintf(h->name, sizeof(h->name), "%s", name);
	snprintf(h->why, sizeof(h->why), "%s", why);
	atomic_fetch_add(&pc->handbacks, 1);
	if (taskq_post(pc->p->q, handback_task, h) < 0) {
		atomic_fetch_sub(&pc->handbacks, 1);
		free(h);
		return -ENOMEM;
	}
	return 0;
}

static void conn_event(struct ssh_sess *s, enum ssh_event ev, const char *msg,
		       void *arg)
{
	struct pool_conn *pc = arg;

	if (pc->p->ops->event)
		pc->p->ops->event(pc, ev, msg, pc->p->arg);
	if (ev == SSH_EV_READY) {
		log_info("sess %s: ready", ssh_sess_name(s));
		return;
	}
	/* The main thread stops giving jobs here and ends the worker;
	 * freeing the session here, inside its own callback, would pull
	 * the floor away. */
	atomic_store(&pc->dead, 1);
	if (pc->reserved && pc->p->ops->event)
		return; /* its owner says why */
	if (ev != SSH_EV_FAILED || !pc->extra) {
		log_warn("%s", msg);
		return;
	}
	log_info("sess %s: %s", ssh_sess_name(s), msg);
	post_handback(pc, NULL, ssh_sess_name(s), msg);
}

static void conn_tick(struct loop *loop, void *arg)
{
	struct pool_conn *pc = arg;

	(void)loop;
	atomic_store(&pc->busy, ssh_sess_busy(pc->s));
	atomic_store(&pc->dead, ssh_sess_dead(pc->s));
	loop_timer_arm(pc->tick, POOL_TICK_MS);
}

void connpool_job_done(struct pool_conn *pc)
{
	atomic_fetch_sub(&pc->load, 1);
}

int connpool_handback(struct pool_conn *pc, void *job)
{
	if (!pc->extra || !ssh_sess_failed_early(pc->s) ||
	    post_handback(pc, job, ssh_sess_name(pc->s), "") < 0)
		return 0;
	atomic_store(&pc->dead, 1);
	atomic_fetch_sub(&pc->load, 1);
	return 1;
}

struct ssh_sess *connpool_sess(struct pool_conn *pc)
{
	return pc->s;
}

void **connpool_data(struct pool_conn *pc)
{
	return &pc->data;
}

/* statusreq.c — ftp-tunneld's answer to STATUS (docs/IPC.txt): the
 * daemon's counters, then each pooled connection's session and FTP
 * controls as its worker sees them (the engine's report.h records), the
 * held tunnels and the totals; or format 1's one line per session. */
#include "statusreq.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control.h"
#include "ipcserve.h"
#include "log.h"
#include "report.h"
#include "ssh.h"
#include "statusrep.h"
#include "version.h"
#include "worker.h"

/* A reply the client does not read for this long is dropped (as the
 * socket's 2 s send timeout did when the reply was written blocking). */
#define REPLY_WAIT_MS 2000

static unsigned long long age_s(uint64_t now_ms, uint64_t since_ms)
{
	return (now_ms - since_ms) / 1000;
}

/* One connection's part of a STATUS reply: written by its worker, read
 * by the main thread only after the worker posted it back. */
struct piece {
	struct sreq *rep;
	struct pool_conn *pc;
	struct statusrep r; /* format 2: its records */
	struct report_totals tot;
	char line[600]; /* format 1: "name state" */
};

/* A STATUS request: waiting for its pieces, then writing the reply. */
struct sreq {
	struct statusreq_set *set;
	int client;
	int format;
	/* The daemon's record, taken when the request came. */
	int pid;
	unsigned long long uptime;
	unsigned long nconn, nrequests;
	struct piece *pieces;
	int npieces;
	int waiting; /* pieces not back yet (main thread's) */
	struct statusrep out;
	struct sreq *next, **prevp;
};

struct statusreq_set {
	struct loop *loop;
	struct ipcserve *srv; /* writes the replies */
	struct held_set *held;
	struct taskq *q; /* pieces coming back from the workers */
	struct sreq *list;
};

/* A control record, then one record per running data connection. */
static void status_control(struct piece *j, const struct control *c,
			   uint64_t now)
{
	struct report_ctl rc = {.id = c->id,
				.session = connpool_id(j->pc),
				.dst = c->dst,
				.ftp_server = c->ftp};

	report_control(&j->r, &j->tot, &rc, c->k, now);
}

/* Forgets rep; its client too unless the reply took it. */
static void sreq_free(struct sreq *rep)
{
	int i;

	*rep->prevp = rep->next;
	if (rep->next)
		rep->next->prevp = rep->prevp;
	for (i = 0; i < rep->npieces; i++)
		statusrep_release(&rep->pieces[i].r);
	statusrep_release(&rep->out);
	if (rep->client >= 0)
		close(rep->client);
	free(rep->pieces);
	free(rep);
}

/* Format 2 (docs/IPC.txt): records, for `ftp-tunnel status [--json]`. */
static void records(struct sreq *q)
{
	struct statusrep *r = &q->out;
	struct report_totals tot = {0};
	int i;

	statusrep_init_buf(r);
	statusrep_record(r, "daemon");
	statusrep_add(r, "pid", "%d", q->pid);
	statusrep_add(r, "version", "%s", FTP_TUNNEL_VERSION);
	statusrep_add(r, "uptime", "%llu", q->uptime);
	statusrep_add(r, "connections", "%lu", q->nconn);
	statusrep_add(r, "requests", "%lu", q->nrequests);
	statusrep_flush(r);
	for (i = 0; i < q->npieces; i++) {
		const struct piece *j = &q->pieces[i];

		statusrep_append(r, &j->r);
		tot.sessions += j->tot.sessions;
		tot.controls += j->tot.controls;
		tot.data += j->tot.data;
		tot.up += j->tot.up;
		tot.down += j->tot.down;
	}
	held_status(q->set->held, r);
	report_totals(r, &tot);
	if (statusrep_finish(r) < 0)
		log_warn("ipc: the STATUS report is cut short: %s",
			 strerror(-r->err));
}

/* Format 1, for clients that ask for nothing else: one message. */
static void lines(struct sreq *rep)
{
	struct ipc_msg m;
	int i;

	statusrep_init_part(&rep->out);
	ipc_init(&m, "OK");
	ipc_addf(&m, "pid", "%d", rep->pid);
	ipc_addf(&m, "connections", "%lu", rep->nconn);
	for (i = 0; i < rep->npieces; i++)
		ipc_add(&m, "session", rep->pieces[i].line);
	statusrep_put(&rep->out, &m);
}

/* Every piece is back: the reply goes out as fast as the client reads
 * it, never holding the main loop. */
static void reply(struct sreq *rep)
{
	char *out;
	size_t len;

	if (rep->format >= 2)
		records(rep);
	else
		lines(rep);
	out = rep->out.out; /* the reply's now, with the client */
	len = rep->out.outlen;
	rep->out.out = NULL;
	if (ipcserve_reply(rep->set->srv, rep->client, out, len, REPLY_WAIT_MS,
			   NULL, NULL) < 0)
		log_err("ipc: STATUS: out of memory");
	rep->client = -1;
	sreq_free(rep);
}

/* On the main thread: a piece came back from its worker. */
static void piece_back(struct loop *loop, void *arg)
{
	struct piece *j = arg;
	struct sreq *rep = j->rep;

	(void)loop;
	if (--rep->waiting == 0)
		reply(rep);
}

/* On the worker: its session and controls into j->r (format 2), or its
 * one line into j->line (format 1); then back to the main thread. */
static void piece_task(struct loop *loop, void *arg)
{
	struct piece *j = arg;
	struct ssh_sess *s = connpool_sess(j->pc);
	const struct control *c;

	if (j->rep->format < 2) {
		snprintf(j->line, sizeof(j->line), "%s %s", ssh_sess_name(s),
			 ssh_sess_dead(s)    ? "dead"
			 : ssh_sess_ready(s) ? "ready"
					     : "connecting");
	} else {
		statusrep_init_part(&j->r);
		report_session(&j->r, &j->tot, connpool_id(j->pc), s,
			       loop_now_ms(loop));
		for (c = control_list(j->pc); c; c = c->next)
			status_control(j, c, loop_now_ms(loop));
		statusrep_flush(&j->r);
	}
	/* Without memory for the queue's entry the report never completes;
	 * the client's own timeout ends its wait. */
	if (taskq_post(j->rep->set->q, piece_back, j) < 0)
		log_err("ipc: STATUS: out of memory");
}

static void count_conn(struct pool_conn *pc, void *arg)
{
	(void)pc;
	(*(int *)arg)++;
}

static void ask_conn(struct pool_conn *pc, void *arg)
{
	struct sreq *rep = arg;
	struct piece *j = &rep->pieces[rep->npieces++];

	j->rep = rep;
	j->pc = pc;
	statusrep_init_part(&j->r);
	rep->waiting++;
	if (connpool_ask(pc, piece_task, j) < 0) {
		rep->waiting--;
		snprintf(j->line, sizeof(j->line), "? unknown");
	}
}

void statusreq_answer(struct statusreq_set *set,
		      const struct statusreq_daemon *d, int client,
		      const struct ipc_msg *req)
{
	struct sreq *rep = calloc(1, sizeof(*rep));
	char format[8];
	int n = 0;

	if (rep) {
		connpool_each(d->pool, count_conn, &n);
		rep->pieces = calloc((size_t)n + 1, sizeof(*rep->pieces));
	}
	if (!rep || !rep->pieces) {
		if (rep)
			free(rep);
		log_err("ipc: STATUS: out of memory");
		close(client);
		return;
	}
	rep->set = set;
	rep->client = client;
	rep->format = ipc_get(req, "format", 0, format, sizeof(format)) == 0
			  ? atoi(format)
			  : 1;
	rep->pid = (int)getpid();
	rep->uptime = age_s(loop_now_ms(set->loop), d->started_ms);
	rep->nconn = d->nconn;
	rep->nrequests = d->nrequests;
	rep->next = set->list;
	if (rep->next)
		rep->next->prevp = &rep->next;
	rep->prevp = &set->list;
	set->list = rep;
	/* Each worker writes its part when it gets to it; the main loop
	 * goes on meanwhile. */
	connpool_each(d->pool, ask_conn, rep);
	if (rep->waiting == 0)
		reply(rep);
}

struct statusreq_set *statusreq_set_new(struct loop *loop,
					struct held_set *held,
					struct ipcserve *srv)
{
	struct statusreq_set *set = calloc(1, sizeof(*set));

	if (!set)
		return NULL;
	set->loop = loop;
	set->srv = srv;
	set->held = held;
	set->q = taskq_new(loop);
	if (!set->q) {
		free(set);
		return NULL;
	}
	return set;
}

void statusreq_set_free(struct statusreq_set *set)
{
	if (!set)
		return;
	taskq_free(set->q);
	while (set->list)
		sreq_free(set->list);
	free(set);
}

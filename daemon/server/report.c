/* report.c — ftp-tunneld's answer to STATUS (docs/IPC.txt): the daemon's
 * counters, then each pooled connection's session and FTP controls as its
 * worker sees them, the held tunnels and the totals; or format 1's one
 * line per session. */
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "ssh.h"
#include "statusrep.h"
#include "version.h"

static unsigned long long age_s(uint64_t now_ms, uint64_t since_ms)
{
	return (now_ms - since_ms) / 1000;
}

/* One session's part of a STATUS reply, written by its worker while the
 * main thread waits (so r and the totals have one user at a time). */
struct status_job {
	struct pool_conn *pc;
	struct statusrep *r;
	unsigned long long up, down;
	unsigned long nctl, ndata, nsess;
	char line[600]; /* format 1: "name state" */
};

static void status_session(struct statusrep *r, struct pool_conn *pc,
			   uint64_t now)
{
	struct ssh_sess *s = connpool_sess(pc);
	struct ssh_sess_info i;

	ssh_sess_info(s, &i);
	statusrep_record(r, "session");
	statusrep_add(r, "id", "%lu", connpool_id(pc));
	statusrep_add(r, "name", "%s", ssh_sess_name(s));
	statusrep_add(r, "user", "%s", i.user);
	statusrep_add(r, "host", "%s", i.host);
	statusrep_add(r, "port", "%u", i.port);
	statusrep_add(r, "state", "%s", i.state);
	statusrep_add(r, "uptime", "%llu", age_s(now, i.started_ms));
	statusrep_add(r, "kex", "%s", i.kex);
	statusrep_add(r, "hostkey", "%s", i.hostkey);
	statusrep_add(r, "cipher_cs", "%s", i.cipher_cs);
	statusrep_add(r, "cipher_sc", "%s", i.cipher_sc);
	statusrep_add(r, "mac_cs", "%s", i.mac_cs);
	statusrep_add(r, "mac_sc", "%s", i.mac_sc);
	statusrep_add(r, "channels", "%d", i.nchannels);
	statusrep_add(r, "rx_bytes", "%llu", i.rx_bytes);
	statusrep_add(r, "tx_bytes", "%llu", i.tx_bytes);
}

/* A control record, then one record per running data connection. */
static void status_control(struct status_job *j, const struct control *c,
			   uint64_t now)
{
	struct statusrep *r = j->r;
	struct ftpfwd_info ci;
	struct ftpfwd_data_info di;
	int i;

	ftpfwd_control_info(c->k, &ci);
	statusrep_record(r, "control");
	statusrep_add(r, "id", "%lu", c->id);
	statusrep_add(r, "session", "%lu", connpool_id(j->pc));
	statusrep_add(r, "dst", "%s", c->dst);
	statusrep_add(r, "ftp_server", "%s", c->ftp);
	statusrep_add(r, "uptime", "%llu", age_s(now, ci.started_ms));
	statusrep_add(r, "bytes_up", "%llu", ci.up);
	statusrep_add(r, "bytes_down", "%llu", ci.down);
	statusrep_add(r, "data_channels", "%d", ci.ndata);
	j->up += ci.up;
	j->down += ci.down;
	j->nctl++;
	for (i = 0; ftpfwd_data_info(c->k, i, &di) == 0; i++) {
		statusrep_record(r, "data");
		statusrep_add(r, "control", "%lu", c->id);
		statusrep_add(r, "n", "%lu", di.n);
		statusrep_add(r, "mode", "%s",
			      di.active ? "active" : "passive");
		statusrep_add(r, "converted", "%d", di.converted);
		statusrep_add(r, "uptime", "%llu", age_s(now, di.started_ms));
		statusrep_add(r, "bytes_up", "%llu", di.up);
		statusrep_add(r, "bytes_down", "%llu", di.down);
		j->up += di.up;
		j->down += di.down;
		j->ndata++;
	}
}

/* On the worker: its session and controls into j->r (format 2), or its
 * one line into j->line (format 1, j->r NULL). */
static void status_task(struct loop *loop, void *arg)
{
	struct status_job *j = arg;
	struct ssh_sess *s = connpool_sess(j->pc);
	const struct control *c;

	if (!j->r) {
		snprintf(j->line, sizeof(j->line), "%s %s", ssh_sess_name(s),
			 ssh_sess_dead(s)    ? "dead"
			 : ssh_sess_ready(s) ? "ready"
					     : "connecting");
		return;
	}
	status_session(j->r, j->pc, loop_now_ms(loop));
	for (c = control_list(j->pc); c; c = c->next)
		status_control(j, c, loop_now_ms(loop));
}

/* Adds one connection's records to j (format 2). */
static void status_records_of(struct pool_conn *pc, void *arg)
{
	struct status_job *j = arg;

	j->pc = pc;
	j->nsess++;
	connpool_call(pc, status_task, j);
}

/* Format 2 (docs/IPC.txt): records, for `ftp-tunnel status [--json]`. */
static void status_records(const struct report_daemon *d, int client)
{
	struct statusrep r;
	struct status_job j;

	memset(&j, 0, sizeof(j));
	j.r = &r;
	statusrep_init(&r, client);
	statusrep_record(&r, "daemon");
	statusrep_add(&r, "pid", "%d", (int)getpid());
	statusrep_add(&r, "version", "%s", FTP_TUNNEL_VERSION);
	statusrep_add(&r, "uptime", "%llu",
		      age_s(loop_now_ms(d->loop), d->started_ms));
	statusrep_add(&r, "connections", "%lu", d->nconn);
	statusrep_add(&r, "requests", "%lu", d->nrequests);
	connpool_each(d->pool, status_records_of, &j);
	held_status(d->held, &r);
	statusrep_record(&r, "totals");
	statusrep_add(&r, "sessions", "%lu", j.nsess);
	statusrep_add(&r, "controls", "%lu", j.nctl);
	statusrep_add(&r, "data_channels", "%lu", j.ndata);
	statusrep_add(&r, "bytes_up", "%llu", j.up);
	statusrep_add(&r, "bytes_down", "%llu", j.down);
	if (statusrep_finish(&r) < 0)
		log_debug("ipc: the STATUS reply was not read");
	close(client);
}

/* Adds one connection's line to a format 1 reply. */
static void status_line_of(struct pool_conn *pc, void *arg)
{
	struct status_job j;

	memset(&j, 0, sizeof(j));
	j.pc = pc;
	connpool_call(pc, status_task, &j);
	ipc_add(arg, "session", j.line);
}

void report_status(const struct report_daemon *d, int client,
		   const struct ipc_msg *req)
{
	struct ipc_msg m;
	char format[8];

	if (ipc_get(req, "format", 0, format, sizeof(format)) == 0 &&
	    atoi(format) >= 2) {
		status_records(d, client);
		return;
	}
	/* Format 1, for clients that ask for nothing else. */
	ipc_init(&m, "OK");
	ipc_addf(&m, "pid", "%d", (int)getpid());
	ipc_addf(&m, "connections", "%lu", d->nconn);
	connpool_each(d->pool, status_line_of, &m);
	ipc_send(client, &m, -1);
	close(client);
}

/* report.c — session, control, data and totals records of a STATUS
 * report (see report.h), from the session's and the FTP glue's counters. */
#include "report.h"

static unsigned long long age_s(uint64_t now_ms, uint64_t since_ms)
{
	return now_ms > since_ms ? (now_ms - since_ms) / 1000 : 0;
}

void report_session(struct statusrep *r, struct report_totals *t,
		    unsigned long id, const struct ssh_sess *s, uint64_t now_ms)
{
	struct ssh_sess_info i;

	ssh_sess_info(s, &i);
	statusrep_record(r, "session");
	statusrep_add(r, "id", "%lu", id);
	statusrep_add(r, "name", "%s", ssh_sess_name(s));
	statusrep_add(r, "user", "%s", i.user);
	statusrep_add(r, "host", "%s", i.host);
	statusrep_add(r, "port", "%u", i.port);
	statusrep_add(r, "via", "%s", i.via);
	statusrep_add(r, "state", "%s", i.state);
	statusrep_add(r, "uptime", "%llu", age_s(now_ms, i.started_ms));
	statusrep_add(r, "kex", "%s", i.kex);
	statusrep_add(r, "hostkey", "%s", i.hostkey);
	statusrep_add(r, "cipher_cs", "%s", i.cipher_cs);
	statusrep_add(r, "cipher_sc", "%s", i.cipher_sc);
	statusrep_add(r, "mac_cs", "%s", i.mac_cs);
	statusrep_add(r, "mac_sc", "%s", i.mac_sc);
	statusrep_add(r, "channels", "%d", i.nchannels);
	statusrep_add(r, "rx_bytes", "%llu", i.rx_bytes);
	statusrep_add(r, "tx_bytes", "%llu", i.tx_bytes);
	t->sessions++;
}

void report_control(struct statusrep *r, struct report_totals *t,
		    const struct report_ctl *c, const struct ftp_ctl *k,
		    uint64_t now_ms)
{
	struct ftpfwd_info ci;
	struct ftpfwd_data_info di;
	int i;

	statusrep_record(r, "control");
	statusrep_add(r, "id", "%lu", c->id);
	statusrep_add(r, "session", "%lu", c->session);
	statusrep_add(r, "dst", "%s", c->dst);
	statusrep_add(r, "ftp_server", "%s", c->ftp_server);
	if (c->client && *c->client)
		statusrep_add(r, "client", "%s", c->client);
	if (c->tunnel && *c->tunnel)
		statusrep_add(r, "tunnel", "%s", c->tunnel);
	if (!k) {
		/* An FTP session served from SFTP: no channel counts. */
		t->controls++;
		return;
	}
	ftpfwd_control_info(k, &ci);
	statusrep_add(r, "uptime", "%llu", age_s(now_ms, ci.started_ms));
	statusrep_add(r, "bytes_up", "%llu", ci.up);
	statusrep_add(r, "bytes_down", "%llu", ci.down);
	statusrep_add(r, "data_channels", "%d", ci.ndata);
	t->up += ci.up;
	t->down += ci.down;
	t->controls++;
	for (i = 0; ftpfwd_data_info(k, i, &di) == 0; i++) {
		statusrep_record(r, "data");
		statusrep_add(r, "control", "%lu", c->id);
		statusrep_add(r, "n", "%lu", di.n);
		statusrep_add(r, "mode", "%s",
			      di.active ? "active" : "passive");
		statusrep_add(r, "converted", "%d", di.converted);
		statusrep_add(r, "uptime", "%llu",
			      age_s(now_ms, di.started_ms));
		statusrep_add(r, "bytes_up", "%llu", di.up);
		statusrep_add(r, "bytes_down", "%llu", di.down);
		t->up += di.up;
		t->down += di.down;
		t->data++;
	}
}

void report_totals(struct statusrep *r, const struct report_totals *t)
{
	statusrep_record(r, "totals");
	statusrep_add(r, "sessions", "%lu", t->sessions);
	statusrep_add(r, "controls", "%lu", t->controls);
	statusrep_add(r, "data_channels", "%lu", t->data);
	statusrep_add(r, "bytes_up", "%llu", t->up);
	statusrep_add(r, "bytes_down", "%llu", t->down);
}

/* report.h — the records of a STATUS report (docs/IPC.txt, format 2) that
 * describe SSH sessions, FTP control connections and their data
 * connections: one builder for ftp-tunneld and for a foreground
 * ftp-tunnel, so both report the same things the same way. */
#ifndef REPORT_H
#define REPORT_H

#include <stdint.h>

#include "ftpfwd.h"
#include "ssh.h"
#include "statusrep.h"

/* Sums over what was reported, for the closing "totals" record. */
struct report_totals {
	unsigned long sessions, controls, data;
	unsigned long long up, down;
};

/* What the owner of an FTP control connection knows of it. Strings are
 * borrowed for the call; client and tunnel may be NULL (the daemon's
 * controls have none). */
struct report_ctl {
	unsigned long id;
	unsigned long session;	/* the id its session was reported with */
	const char *dst;	/* address:port the FTP client connected to */
	const char *ftp_server; /* as the SSH server reaches it */
	const char *client;	/* the FTP client's address:port */
	const char *tunnel;	/* the tunnel that carries it */
};

/* A "session" record for s under the number id. Call on s's thread. */
void report_session(struct statusrep *r, struct report_totals *t,
		    unsigned long id, const struct ssh_sess *s,
		    uint64_t now_ms);
/* A "control" record for k, then a "data" record per data connection
 * carrying bytes now; counted into t. Call on k's thread. k NULL: an FTP
 * session served from SFTP (sftp/), which has no channel counts. */
void report_control(struct statusrep *r, struct report_totals *t,
		    const struct report_ctl *c, const struct ftp_ctl *k,
		    uint64_t now_ms);
/* The "totals" record. */
void report_totals(struct statusrep *r, const struct report_totals *t);

#endif

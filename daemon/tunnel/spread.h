/* spread.h — concurrent FTP sessions of a local tunnel spread over more
 * SSH connections to its server (connpool.h; libssh2 1.10 is a core's
 * worth per connection). The tunnel lives on its own connection's worker
 * (tunnel_opts.own); the pick is made on the pool's thread, and a session
 * the pick leaves to the tunnel comes back to the tunnel's worker. */
#ifndef SPREAD_H
#define SPREAD_H

#include <sys/types.h>

#include "connpool.h"
#include "report.h"
#include "statusrep.h"

struct tunnel;

/* On the tunnel's thread: gives the FTP client's connection fd (from
 * peer_host:peer_port) to the pick. 1 when it took fd, 0 when the
 * tunnel's own session should carry it now: no pool, a login somebody
 * typed for, an idle own session. */
int spread_ftp(struct tunnel *t, int fd, const char *peer_host, int peer_port,
	       const char *name);
/* The same for an admitted sftp/ connection (uid: its peer's). */
int spread_sftp(struct tunnel *t, int fd, uid_t uid, const char *name);
/* Adds a session record, and its FTP sessions, for each extra connection
 * of pool (NULL: none; connpool_own's are left to their owners),
 * numbered connpool_id + id_base. Each is written on its worker while the
 * caller waits. The pool's thread. */
void spread_pool_report(struct connpool *pool, struct statusrep *r,
			struct report_totals *tot, unsigned long id_base);

#endif

/* hold.h — `ftp-tunnel -f`: hands tunnels to the user's ftp-tunneld,
 * which holds them after ftp-tunnel exits; `ftp-tunnel release NAME`. */
#ifndef CLI_HOLD_H
#define CLI_HOLD_H

#include "ipc.h"

/* Sends req (a HOLD) to the daemon, starting one if none runs; prints the
 * outcome. Returns the exit status (0, 1 the tunnels failed, 255 no
 * daemon). */
int hold_send(struct ipc_msg *req, const char *name);
/* `ftp-tunnel release NAME`. Returns the exit status. */
int hold_release(const char *name);

#endif

/* held.h — tunnels ftp-tunneld holds for `ftp-tunnel -f` (a profile's
 * static tunnels, or a command line's): one SSH session per HOLD request,
 * kept until RELEASE, until its connection is lost, or until the daemon
 * stops. The requests are in docs/IPC.txt. */
#ifndef HELD_H
#define HELD_H

#include "ipc.h"
#include "loop.h"
#include "statusrep.h"

struct held_set;

struct held_set *held_new(struct loop *loop);
/* Closes every held tunnel and its session. */
void held_free(struct held_set *h);
/* HOLD: starts the request's session and tunnels; the client (owned) is
 * answered OK once every tunnel is up, or ERR with the reason. */
void held_hold(struct held_set *h, int client, const struct ipc_msg *req);
/* RELEASE name=NAME: closes that name's tunnels; answers and closes the
 * client. */
void held_release(struct held_set *h, int client, const struct ipc_msg *req);
/* How many names are held (the daemon does not exit idle while any is). */
int held_count(const struct held_set *h);
/* Adds one "held" record per held tunnel to a STATUS reply (name,
 * session, state, tunnel). */
void held_status(const struct held_set *h, struct statusrep *r);

#endif

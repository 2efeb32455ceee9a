/* tunneld.h — the per-user daemon's work: serving IPC requests (docs/
 * IPC.txt) on a listening Unix socket, holding one SSH session per server
 * and carrying the shim's FTP control connections over them. */
#ifndef TUNNELD_H
#define TUNNELD_H

#include "loop.h"

struct tunneld;

/* Serves requests arriving on listen_fd (owned). idle_exit_s: stop the
 * loop after that many seconds with no session and no request (0: never).
 * NULL with errno set. */
struct tunneld *tunneld_new(struct loop *loop, int listen_fd, int idle_exit_s);
void tunneld_free(struct tunneld *d);
/* Logs the state of every session and channel (SIGUSR1). */
void tunneld_dump(struct tunneld *d);

#endif

/* fgsock.h — the status socket of a foreground ftp-tunnel: each process
 * answers PING, STATUS and STOP (docs/IPC.txt) on cli-<pid>.sock in the
 * directory of the user's daemon socket, so `ftp-tunnel status` lists
 * every tunnel of the user and `ftp-tunnel stop PID` ends one. Served
 * from the process's event loop without ever blocking it. */
#ifndef FGSOCK_H
#define FGSOCK_H

#include <stddef.h>
#include <sys/types.h>

#include "loop.h"
#include "statusrep.h"

/* The socket names: FGSOCK_PREFIX, the pid in decimal, FGSOCK_SUFFIX. */
#define FGSOCK_PREFIX "cli-"
#define FGSOCK_SUFFIX ".sock"

struct fgsock;

struct fgsock_ops {
	/* Writes the process's records of a format-2 STATUS reply (the
	 * framing's format= and end= are added around them). */
	void (*report)(struct statusrep *r, void *arg);
	/* A STOP was answered: end the process as on SIGTERM. */
	void (*stop)(void *arg);
};

/* The socket path of process pid of the real uid, from the daemon's
 * (ipc_socket_path): same directory. 0, or -1 (too long). */
int fgsock_path(pid_t pid, char *out, size_t outlen);
/* If name (a directory entry) is a process's socket name, its pid; else
 * 0. */
pid_t fgsock_name_pid(const char *name);

/* Listens on this process's socket. name: the profile or destination,
 * for PING (copied). ops and arg are borrowed. NULL when it cannot be
 * made, after a warning: the tunnels work, status does not see them. */
struct fgsock *fgsock_new(struct loop *loop, const char *name,
			  const struct fgsock_ops *ops, void *arg);
/* Closes every client connection and removes the socket. Accepts NULL. */
void fgsock_free(struct fgsock *f);

#endif

/* transport.h — how an SSH session reaches its server when it does not
 * connect by TCP itself: through a direct-tcpip channel of a jump host's
 * own SSH session (ProxyJump), or through a command's stdin and stdout
 * (ProxyCommand). Either way the session is handed one end of a socket
 * pair and speaks SSH over it as over a TCP connection; the transport
 * carries the other end.
 *
 * A jump host is an SSH session of ours like any other (ssh_sess_new):
 * its own host key check under its own name, its own login, its own
 * keepalives, and, through ssh_config, its own ProxyJump, so that chains
 * resolve as OpenSSH's do.
 */
#ifndef TRANSPORT_H
#define TRANSPORT_H

#include "loop.h"
#include "ssh.h"

struct transport;

/* fd >= 0: the path is up; fd (non-blocking, close-on-exec) is the
 * caller's. fd < 0: the path failed or broke, err says where ("jump host
 * bastion: ..."); called once, after which nothing more is reported.
 * Always called from the loop, never from inside transport_new or
 * transport_free; the callback may call transport_free. */
typedef void (*transport_cb)(int fd, const char *err, void *arg);

/* Nonzero when o's server is reached through a jump host or a command. */
int transport_wanted(const struct ssh_opts *o);

/* Starts the path to o's server (o is read now, not kept). Reading a jump
 * host's ssh_config blocks (files), as for the server itself. NULL with
 * errno on allocation failure. */
struct transport *transport_new(struct loop *loop, const struct ssh_opts *o,
				transport_cb cb, void *arg);
/* Ends the path: closes the jump host's session, or ends the command
 * (SIGTERM to its process group, then SIGKILL after a second) and reaps
 * it. Accepts NULL. */
void transport_free(struct transport *t);

/* The hops before the server, "bastion → inner-bastion", or
 * "ProxyCommand", for `ftp-tunnel status`; "" for none. Borrowed. */
const char *transport_path(const struct transport *t);
/* Why the path broke ("jump host bastion: connection ... lost"), or NULL
 * while it holds: a session that sees its socket close asks this first,
 * so the error names the hop that failed. Borrowed. */
const char *transport_why(const struct transport *t);

#endif

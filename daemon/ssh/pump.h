/* pump.h — moves bytes between a TCP socket and an SSH channel, both
 * ways, with bounded buffers, back-pressure and half-close. */
#ifndef PUMP_H
#define PUMP_H

#include <libssh2.h>

#include "ssh.h"

struct pump;

/* Called once when the pump has finished: why is NULL after an orderly
 * close of both directions, else the reason it was cut. The pump has
 * closed its socket and channel and is freed after the callback. */
typedef void (*pump_done_cb)(struct pump *p, const char *why, void *arg);

/* Takes ownership of fd (non-blocking, connected) and ch. NULL on ENOMEM
 * (then fd and ch are closed). name is copied, for log lines. */
struct pump *pump_new(struct ssh_sess *s, LIBSSH2_CHANNEL *ch, int fd,
		      const char *name, pump_done_cb cb, void *arg);
/* Cuts the pump short without calling its callback: closes the socket and
 * the channel. */
void pump_abort(struct pump *p);
/* Nothing more will come from the socket that matters (an FTP download's
 * data connection): the input half closes as if the socket had sent EOF,
 * so the channel's EOF goes out now. No effect once the input is closing
 * already. */
void pump_input_done(struct pump *p);
/* Keeps lfd, the listener whose one connection fd is, until the pump ends
 * (then closes it), closing every further connection to it at once: a
 * listener closed while connections to it are still being set up can
 * leave one established at the client's end only, which then waits for
 * ever (Linux drops such a half-made connection without a reset). */
void pump_keep_listener(struct pump *p, int lfd);
/* Replaces the done callback (NULL: none), for an owner that starts
 * watching a running pump or stops before the pump ends. */
void pump_set_done(struct pump *p, pump_done_cb cb, void *arg);
/* Bytes moved so far: up = socket to channel, down = channel to socket. */
void pump_counts(const struct pump *p, unsigned long long *up,
		 unsigned long long *down);

/* Buffer size per direction: 4 of libssh2 1.10's 32 700-byte packets
 * (just under 128 KiB), so a full buffer goes out as whole packets. The
 * socket's own buffers and libssh2's receive window hold the rest: larger
 * buffers cost memory per channel without speeding up a transfer. */
#define PUMP_BUF (4 * 32700)

#endif

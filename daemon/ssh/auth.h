/* auth.h — SSH user authentication as a resumable, non-blocking sequence:
 * ssh-agent, then identity files, then keyboard-interactive and password
 * (only when a terminal is there to ask). */
#ifndef AUTH_H
#define AUTH_H

#include <libssh2.h>

#include "ssh.h"

struct auth;

/* raw and o are borrowed and must outlive the auth. NULL on ENOMEM. */
struct auth *auth_new(LIBSSH2_SESSION *raw, const struct ssh_opts *o,
		      const char *label);
/* Advances. Returns 0 once authenticated, LIBSSH2_ERROR_EAGAIN to be called
 * again when the socket is ready, or -1 when every method failed (then
 * auth_error() says which were tried and what the server offered). Prompts
 * on the terminal may block. */
int auth_step(struct auth *a);
const char *auth_error(const struct auth *a);
/* Nonzero once somebody was asked for something (a passphrase, a password,
 * a keyboard-interactive answer): a connection that logs in without a
 * terminal would fail where this one asked. */
int auth_typed(const struct auth *a);
void auth_free(struct auth *a);

#endif

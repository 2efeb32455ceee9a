/* hostkey.h — the server's host key checked against OpenSSH known_hosts
 * files, with StrictHostKeyChecking semantics. */
#ifndef HOSTKEY_H
#define HOSTKEY_H

#include <libssh2.h>
#include <stddef.h>

#include "ssh.h"

/* Checks the key of a session that finished its handshake. May ask on the
 * terminal (blocks) when o->strict is SSH_STRICT_ASK. Returns 0 when the
 * key is trusted (and records a newly accepted one), or -1 with a message
 * for the user in err. */
int hostkey_check(LIBSSH2_SESSION *raw, const struct ssh_opts *o, char *err,
		  size_t errlen);

/* Path of the file new keys are written to: the first user file. */
void hostkey_user_file(const struct ssh_opts *o, char *out, size_t outlen);

#endif

/* hostkey.h — the server's host key checked against OpenSSH known_hosts
 * files, with StrictHostKeyChecking semantics for unknown hosts; changed
 * and revoked keys are always refused. */
#ifndef HOSTKEY_H
#define HOSTKEY_H

#include <libssh2.h>
#include <stddef.h>

#include "ssh.h"

/* Before the handshake: makes the session prefer the host key algorithms
 * of the keys known for the host, as OpenSSH orders them, so a server with
 * several keys offers the one known. Reads the known_hosts files (blocks on
 * them, reports nothing: hostkey_check does). */
void hostkey_prefer(LIBSSH2_SESSION *raw, const struct ssh_opts *o);

/* Checks the key of a session that finished its handshake. May ask on the
 * terminal (blocks) when o->strict is SSH_STRICT_ASK. Returns 0 when the
 * key is trusted (and records a newly accepted one), or -1 with a message
 * for the user in err. Each bad known_hosts line is a warning naming
 * file:line; it hides none of the lines after it. */
int hostkey_check(LIBSSH2_SESSION *raw, const struct ssh_opts *o, char *err,
		  size_t errlen);

/* Path of the file new keys are written to: the first user file. */
void hostkey_user_file(const struct ssh_opts *o, char *out, size_t outlen);

#endif

/* ssh_gate.c — the libssh2 gate: one call at a time may hold libssh2's
 * partly sent packet, and only its holder goes on until it is out (see
 * ssh.h, ssh_gate). */
#include "ssh_int.h"

#include "log.h"

static int is_socket_error(int rc)
{
	return rc == LIBSSH2_ERROR_SOCKET_SEND ||
	       rc == LIBSSH2_ERROR_SOCKET_RECV ||
	       rc == LIBSSH2_ERROR_SOCKET_DISCONNECT ||
	       rc == LIBSSH2_ERROR_SOCKET_TIMEOUT ||
	       rc == LIBSSH2_ERROR_DECRYPT || rc == LIBSSH2_ERROR_INVALID_MAC ||
	       rc == LIBSSH2_ERROR_KEX_FAILURE || rc == LIBSSH2_ERROR_TIMEOUT;
}

int ssh_gate(struct ssh_sess *s, const void *who)
{
	return s->state == SESS_READY && (!s->owner || s->owner == who);
}

int ssh_ungate(struct ssh_sess *s, const void *who, int rc)
{
	if (rc == LIBSSH2_ERROR_EAGAIN) {
		if (libssh2_session_block_directions(s->raw) &
		    LIBSSH2_SESSION_BLOCK_OUTBOUND)
			s->owner = who;
		else if (s->owner == who)
			s->owner = NULL;
		return rc;
	}
	if (rc == LIBSSH2_ERROR_BAD_USE) {
		/* Another call holds the pending packet: retry later. If
		 * the holder itself is refused, the session can't go on. */
		if (s->owner == who) {
			log_err("sess %s: libssh2 lost its pending packet; "
				"closing the connection",
				s->name);
			s->io_error = 1;
		}
		return LIBSSH2_ERROR_EAGAIN;
	}
	if (s->owner == who)
		s->owner = NULL;
	if (rc < 0 && is_socket_error(rc))
		s->io_error = 1;
	return rc;
}

int ssh_chan_gate(struct ssh_chan *c)
{
	return ssh_gate(c->s, c);
}

int ssh_chan_ungate(struct ssh_chan *c, enum ssh_op op, int rc)
{
	rc = ssh_ungate(c->s, c, rc);
	c->pending_op = c->s->owner == c ? op : SSH_OP_NONE;
	return rc;
}

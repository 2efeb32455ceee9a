/* ftpopts.h — a tunnel's FTP settings given as Key=Value: FtpActiveMode,
 * FtpPassiveAddress, FtpPassiveAhead and SftpLogin, from -o, a profile, a Route
 * or a HOLD. One parser for ftp-tunnel, the held tunnels and the shim's daemon.
 */
#ifndef FTPOPTS_H
#define FTPOPTS_H

#include <stddef.h>

#include "tunnel.h"

/* Applies kv to t when its key is an FTP setting: 0, or -1 with a message
 * in err for a bad value. 1 when the key is not an FTP setting (for
 * ssh_opts_set). */
int ftpopts_set(struct tunnel_opts *t, const char *kv, char *err,
		size_t errlen);

/* The defaults: FtpActiveMode=auto, FtpPassiveAddress=control,
 * FtpPassiveAhead=yes, and SftpLogin unsettled (-1) until
 * ftpopts_settle. */
void ftpopts_init(struct tunnel_opts *t);

/* Settles SftpLogin when no setting gave it: tunnel when an SSH user was
 * given (user@host, -l, User on the command line, in a profile or route,
 * or in ssh_config for the host: o->set has SSH_SET_USER), ftp when none
 * was. Call after sshconfig_load(o) and before t is used. */
void ftpopts_settle(struct tunnel_opts *t, const struct ssh_opts *o);

#endif

/* spec.h — parsing of forward specifications and SSH destinations. */
#ifndef SPEC_H
#define SPEC_H

#include <stddef.h>
#include <stdint.h>

struct fwd_spec {
	int remote;	/* -R: listener on the SSH server */
	int ftp;	/* ftp/ prefix: an FTP-aware tunnel */
	int sftp;	/* sftp/ prefix: an FTP server here backed by the SSH
			 * server's SFTP; host is then the directory where a
			 * login starts ("" for the server's) and hostport 0 */
	char bind[256]; /* empty: loopback; "*": every address */
	uint16_t port;	/* listening port (0: let the system pick, -R) */
	char host[256]; /* destination, as the far side resolves it */
	uint16_t hostport;
};

/* Parses "[ftp/|tcp/][bind:]port:host:hostport" (IPv6 addresses in
 * brackets), or "sftp/[bind:]port[:directory]" (local only). 0, or -1
 * with a message in err. */
int spec_parse_forward(const char *arg, int remote, struct fwd_spec *out,
		       char *err, size_t errlen);

/* Writes fs back in -L syntax, so spec_parse_forward reads the same
 * fields again (brackets where a field holds a ':'). 0, or -1 when it does
 * not fit in outlen. */
int spec_format(const struct fwd_spec *fs, char *out, size_t outlen);

/* Parses "[user@]host[:port]" ("[v6]:port" for IPv6). Fields not given
 * are left as they were. 0 or -1. */
int spec_parse_dest(const char *arg, char *user, size_t userlen, char *host,
		    size_t hostlen, uint16_t *port);

#endif

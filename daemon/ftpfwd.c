/* ftpfwd.c — FTP glue (work in progress: replaced by the full version). */
#include "ftpfwd.h"

#include <unistd.h>

#include "log.h"

struct ftp_ctl *ftpfwd_control_new(struct ssh_sess *s, LIBSSH2_CHANNEL *ch,
				   int fd, const struct fwd_spec *spec,
				   int active_mode, const char *name)
{
	(void)spec;
	(void)active_mode;
	log_err("%s: FTP tunnels are not built yet", name);
	close(fd);
	ssh_chan_discard(s, ch);
	return NULL;
}

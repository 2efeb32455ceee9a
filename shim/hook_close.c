/* hook_close.c — the exported close(): forgets a registered descriptor,
 * and refuses (EBADF, as for a descriptor the program never had) to close
 * one the shim is using. */
#define _DEFAULT_SOURCE
#include "shim.h"

#include <errno.h>
#include <unistd.h>

SHIM_EXPORT int close(int fd)
{
	int rc;

	/* Only libc's close(): the environment is for connections. */
	shim_init_real();
	/* The common case takes no lock: close() may be called from a
	 * signal handler. */
	if (shim_reg_maybe(fd)) {
		rc = shim_reg_close(fd);
		if (rc < 0) {
			errno = -rc;
			return -1;
		}
	}
	return shim_real.close(fd);
}

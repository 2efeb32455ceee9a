/* secure.c — whether this process holds privileges its real user lacks:
 * then the shim trusts nothing that user controls (variables, files,
 * sockets) and routes nothing (libftptunnel(7), SECURITY). */
#define _GNU_SOURCE
#include "shim.h"

#include <stdlib.h>

#include "launch.h"

int shim_privileged(void)
{
	/* One rule for the shim and the starter (common/launch.c). */
	return launch_privileged();
}

const char *shim_getenv(const char *name)
{
	return shim_privileged() ? NULL : getenv(name);
}

/* secure.c — whether this process holds privileges its real user lacks:
 * then the shim trusts nothing that user controls (variables, files,
 * sockets) and routes nothing (libftptunnel(7), SECURITY). */
#define _GNU_SOURCE
#include "shim.h"

#include <stdlib.h>
#include <sys/auxv.h>
#include <unistd.h>

int shim_privileged(void)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	/* AT_SECURE: ld.so's secure-execution mode (set-user-ID,
	 * set-group-ID, file capabilities, an LSM's transition). The IDs:
	 * also a process that changed its own, or may change them back (the
	 * saved IDs), without an exec. */
	if (getauxval(AT_SECURE))
		return 1;
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return 1;
	return ru != eu || ru != su || rg != eg || rg != sg;
}

const char *shim_getenv(const char *name)
{
	return shim_privileged() ? NULL : getenv(name);
}

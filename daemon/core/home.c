/* home.c — the user's home directory: see home.h. */
#include "home.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conffile.h"

static const char *home;
static pthread_once_t home_once = PTHREAD_ONCE_INIT;

/* Once per process: the daemon's workers authenticate on their own
 * threads, so the answer is fixed before any of them asks (and
 * conffile_home() is not thread-safe the first time). The rule is the
 * configuration files' own, so ~/.ssh and ~/.config/ftp-tunnel are in
 * one home. */
static void find_home(void)
{
	home = conffile_home();
	if (!home)
		home = "/";
}

const char *user_home(void)
{
	pthread_once(&home_once, find_home);
	return home;
}

char *home_expand(const char *path)
{
	char *out;

	if (path[0] != '~' || path[1] != '/')
		return strdup(path);
	if (asprintf(&out, "%s/%s", user_home(), path + 2) < 0)
		return NULL;
	return out;
}

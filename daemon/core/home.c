/* home.c — the user's home directory: see home.h. */
#include "home.h"

#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char home[PATH_MAX];
static pthread_once_t home_once = PTHREAD_ONCE_INIT;

/* Once per process: the daemon's workers authenticate on their own
 * threads, so the answer is fixed before any of them asks. */
static void find_home(void)
{
	const char *h = getenv("HOME");
	struct passwd pw, *res = NULL;
	char buf[16384];

	if (h && h[0] == '/' && strlen(h) < sizeof(home)) {
		strcpy(home, h);
		return;
	}
	if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) == 0 && res &&
	    res->pw_dir && res->pw_dir[0] == '/' &&
	    strlen(res->pw_dir) < sizeof(home)) {
		strcpy(home, res->pw_dir);
		return;
	}
	strcpy(home, "/");
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

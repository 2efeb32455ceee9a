/* home.h — the user's home directory, the one place the SSH side finds it
 * (~ in IdentityFile and UserKnownHostsFile, ~/.ssh/config, the default
 * keys and known_hosts). */
#ifndef HOME_H
#define HOME_H

/* conffile_home() (the real user's password entry, as ssh takes it; $HOME
 * only without one), else "/". Never NULL; the string is static. */
const char *user_home(void);
/* A copy of path with a leading "~/" replaced by user_home(); other paths
 * copied as they are. NULL without memory. */
char *home_expand(const char *path);

#endif

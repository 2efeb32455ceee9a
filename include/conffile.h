/* conffile.h — reading a configuration file whole, with ssh's checks of
 * owner and permissions. */
#ifndef CONFFILE_H
#define CONFFILE_H

#include <stddef.h>

/* Reads path (at most max bytes) into a malloc'd, NUL-terminated *text.
 * 0; 1 when there is no such file (or path is "none" or /dev/null);
 * -1 with a message in err (without the file name). */
int conffile_read(const char *path, size_t max, char **text, size_t *len,
		  char *err, size_t errlen);

struct stat;
/* Whether a configuration file with this stat may be read: owned by the
 * user or root, writable by nobody else (ssh's rule for its own files).
 * conffile_read() applies it; so do the other readers (ssh_config, the
 * Tectia XML). */
int conffile_trusted(const struct stat *st);
/* conffile_read()'s message when conffile_trusted() says no. */
#define CONFFILE_UNTRUSTED                                                     \
	"bad owner or permissions (it must be yours or root's and not "        \
	"writable by group or others: chown it, chmod go-w)"

/* The user's home directory for "~/" in configuration files: the real
 * user's passwd entry, as ssh takes it (batch jobs and services often run
 * without HOME, or with another one); $HOME only if that fails, and not
 * in a set-user-ID program. Read once and kept; NULL when there is none.
 * Not thread-safe the first time. (In the shim, the lookup may go through
 * NSS modules: call it with the shim's busy flag set, so that their own
 * connections are not routed.) */
const char *conffile_home(void);

/* The configuration files and the order they are read in (README,
 * ftp-tunnel.conf(5)): the file the user names (ftp-tunnel -F, or
 * $FTP_TUNNEL_CONFIG), else the user's and then the system's. */
#define CONFFILE_USER "~/.config/ftp-tunnel/config"
#define CONFFILE_SYSTEM "/etc/ftp-tunnel/config"
#define CONFFILE_ENV "FTP_TUNNEL_CONFIG"
/* The same, for messages that say where routes could have come from. */
#define CONFFILE_SEARCH_TEXT                                                   \
	CONFFILE_USER " or " CONFFILE_SYSTEM " (or " CONFFILE_ENV "'s file)"

/* Calls fn(arg, path, named) for each configuration file to read, in
 * order: file when given (-F), else $FTP_TUNNEL_CONFIG's, else the user's
 * (in conffile_home()) and the system's; named is 1 for a file the user
 * named. A privileged process (the shim's rule: it trusts nothing its
 * real user controls) reads neither the variable nor the home directory:
 * only the system's file. Missing files are fn's to judge. May look up the
 * password entry (conffile_home). */
void conffile_search(const char *file, int privileged,
		     void (*fn)(void *arg, const char *path, int named),
		     void *arg);

#endif

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

#endif

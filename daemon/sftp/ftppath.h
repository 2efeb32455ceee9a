/* ftppath.h — paths as the FTP client names them, joined to the working
 * directory of the SFTP bridge's session. Pure string work: never touches
 * a file system, local or remote. */
#ifndef SFTP_FTPPATH_H
#define SFTP_FTPPATH_H

#include <stddef.h>

/* Joins arg to cwd (an absolute path): an absolute arg replaces cwd; "."
 * and empty segments are dropped and ".." removes one (never above "/");
 * "" gives cwd. out has no trailing "/" except "/". Returns 0, or -1 when
 * it would not fit in outlen. Never touches the file system. */
int ftppath_join(const char *cwd, const char *arg, char *out, size_t outlen);

/* The last segment of a path (borrowed), for listings and STOU: "b" for
 * "/a/b" and "b", "/" for "/". A path ending in '/' (ftppath_join never
 * gives one) has "" as its last segment. */
const char *ftppath_base(const char *path);

/* Writes a path for a 257 reply: quoted, an embedded '"' doubled (RFC 959
 * Appendix II). Returns 0, or -1 when it would not fit in outlen or the
 * path holds a CR or LF (it would end the reply line). */
int ftppath_quote(const char *path, char *out, size_t outlen);

#endif

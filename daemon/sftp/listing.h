/* listing.h — the lines of LIST, NLST, MLSD and MLST (RFC 959, RFC 3659)
 * made from SFTP attributes, for the SFTP bridge. Pure: the caller gives
 * the time `now`; no sockets, no libssh2 calls, no globals. */
#ifndef SFTP_LISTING_H
#define SFTP_LISTING_H

#include <stddef.h>
#include <stdint.h>

/* LIBSSH2_SFTP_ATTRIBUTES' fields, copied; flags says which are valid. */
struct listing_attrs {
	/* LIBSSH2_SFTP_ATTR_SIZE | _UIDGID | _PERMISSIONS | _ACMODTIME */
	unsigned long flags;
	uint64_t size;
	/* permissions: st_mode bits incl. S_IFMT */
	unsigned long uid, gid, permissions;
	unsigned long atime, mtime;
};

enum {
	LISTING_FACT_TYPE = 1,
	LISTING_FACT_SIZE = 2,
	LISTING_FACT_MODIFY = 4,
	LISTING_FACT_PERM = 8,
	LISTING_FACT_UNIX_MODE = 16,
	LISTING_FACT_ALL = 31
};

/* One `ls -l` line ending in CRLF, e.g.
 * "-rw-r--r--   1 1000     1000         4096 Dec  7 05:31 name\r\n";
 * dates "Mon DD HH:MM" within six months of now, "Mon DD  YYYY" otherwise
 * (UTC). Returns the length written (NUL-terminated), or -1 when buf is
 * too small. */
int listing_list_line(const char *name, const struct listing_attrs *a,
		      int64_t now, char *buf, size_t len);

/* "name\r\n" for NLST. Same return as listing_list_line. */
int listing_nlst_line(const char *name, char *buf, size_t len);

/* RFC 3659 §7, e.g. "type=file;size=4096;modify=20261207053100;
 * perm=adfrw;UNIX.mode=0644; name\r\n" (one line); type=cdir/pdir when
 * name is "." / "..", facts limited to `facts` (OPTS MLST). For MLST's
 * single line the caller adds the leading space. Returns the length
 * written, or -1 when buf is too small. */
int listing_mlsx_line(const char *name, const struct listing_attrs *a,
		      unsigned facts, char *buf, size_t len);

/* The FEAT line of MLST with the current facts marked:
 * "MLST type*;size*;modify*;perm*;UNIX.mode*;". Returns the length
 * written, or -1 when buf is too small. */
int listing_mlst_feat(unsigned facts, char *buf, size_t len);

/* OPTS MLST's argument -> the facts chosen (unknown names ignored, RFC
 * 3659 §7.9). */
unsigned listing_mlst_opts(const char *arg);

/* YYYYMMDDHHMMSS (UTC), for MDTM and modify=. Returns the length written,
 * or -1 when too small. */
int listing_time(int64_t t, char *buf, size_t len);

#endif

/* listing.h — the lines of LIST, NLST, MLSD and MLST (RFC 959, RFC 3659)
 * made from SFTP attributes, for the SFTP bridge. Pure: the caller gives
 * the time `now`; no sockets, no libssh2 calls, no globals. */
#ifndef SFTP_LISTING_H
#define SFTP_LISTING_H

#include <stddef.h>
#include <stdint.h>

/* In every line a CR or LF in a name (or link target) is written as '?'
 * (as `ls -q` does): either would end the line early, and a server's
 * file name must not forge listing lines. Names are otherwise byte-exact.
 * Times beyond years 0000-9999 are clamped to them. */

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

/* The same with " -> target" after the name when target is not NULL (a
 * symbolic link whose target the caller read): wget skips an "l" line
 * without one. listing_list_line is this with target NULL. */
int listing_list_line_link(const char *name, const char *target,
			   const struct listing_attrs *a, int64_t now,
			   char *buf, size_t len);

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

/* The facts chosen, for OPTS MLST's reply "200 MLST OPTS type;size;":
 * "type;size;" ("" for none). Returns the length, or -1 when too small. */
int listing_mlst_facts(unsigned facts, char *buf, size_t len);

/* OPTS MLST's argument -> the facts chosen (unknown names ignored, RFC
 * 3659 §7.9); the argument may be given with or without its "MLST ". */
unsigned listing_mlst_opts(const char *arg);

/* YYYYMMDDHHMMSS (UTC), for MDTM and modify=. Returns the length written,
 * or -1 when too small. */
int listing_time(int64_t t, char *buf, size_t len);

#endif

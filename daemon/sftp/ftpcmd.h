/* ftpcmd.h — one FTP command line as the SFTP bridge's server reads it
 * (RFC 959 §4.1, §5.3; RFC 2389, RFC 2428, RFC 3659): the verb and its
 * argument, and small parsers for the arguments of TYPE, REST, SITE CHMOD
 * and MFMT. Pure: no sockets, no globals, no logging. PORT's and EPRT's
 * arguments are left to the caller (the engine's address parsers). */
#ifndef SFTP_FTPCMD_H
#define SFTP_FTPCMD_H

#include <stddef.h>
#include <stdint.h>

/* A longer line is refused "500 line too long" (by the caller). */
#define FTPCMD_LINE_MAX 4096

enum ftpcmd_verb {
	FTPCMD_UNKNOWN = 0,
	FTPCMD_USER,
	FTPCMD_PASS,
	FTPCMD_ACCT,
	FTPCMD_QUIT,
	FTPCMD_NOOP,
	FTPCMD_SYST,
	FTPCMD_FEAT,
	FTPCMD_OPTS,
	FTPCMD_PWD,  /* and XPWD */
	FTPCMD_CWD,  /* and XCWD */
	FTPCMD_CDUP, /* and XCUP */
	FTPCMD_TYPE,
	FTPCMD_MODE,
	FTPCMD_STRU,
	FTPCMD_ALLO,
	FTPCMD_PASV,
	FTPCMD_EPSV,
	FTPCMD_PORT,
	FTPCMD_EPRT,
	FTPCMD_LIST,
	FTPCMD_NLST,
	FTPCMD_MLSD,
	FTPCMD_MLST,
	FTPCMD_STAT,
	FTPCMD_RETR,
	FTPCMD_STOR,
	FTPCMD_APPE,
	FTPCMD_STOU,
	FTPCMD_REST,
	FTPCMD_ABOR,
	FTPCMD_SIZE,
	FTPCMD_MDTM,
	FTPCMD_MFMT,
	FTPCMD_DELE,
	FTPCMD_MKD, /* and XMKD */
	FTPCMD_RMD, /* and XRMD */
	FTPCMD_RNFR,
	FTPCMD_RNTO,
	FTPCMD_SITE,
	FTPCMD_HELP,
};

struct ftpcmd {
	enum ftpcmd_verb verb;
	/* The verb as sent, upper-cased, NUL-terminated (for "502 XYZ ..."). */
	char word[8];
	/* The text after the first space, NUL-terminated; "" when none. */
	char arg[FTPCMD_LINE_MAX];
	/* 1 when a space followed the verb, even if nothing came after it
	 * ("CWD " gives has_arg 1 and arg ""); 0 for a bare verb. */
	int has_arg;
};

/* Parses one line given without its line end (CRLF or bare LF stripped by
 * the caller). Telnet sequences (IAC IP, IAC DM, IAC IAC -> 0xFF; RFC 959
 * §4.1.3 ABOR with Synch) are removed first. Returns 0, or -1 when
 * malformed: NUL or CR inside, verb not 3-4 ASCII letters, too long
 * (len >= FTPCMD_LINE_MAX).
 * The caller should set SO_OOBINLINE on the control socket: clients send
 * ABOR's Synch as TCP urgent data (inetutils-ftp and tnftp "IAC IP IAC",
 * Python's ftplib the whole "ABOR\r\n"), and without it Linux takes the
 * urgent byte out of the stream, which for ftplib is ABOR's LF. A DM
 * left at a line's start by a lost IAC is dropped here either way.
 * An unknown verb of 3-4 letters is not malformed: verb FTPCMD_UNKNOWN,
 * word set. Does not keep line. */
int ftpcmd_parse(const char *line, size_t len, struct ftpcmd *out);

/* The path of a LIST/NLST/STAT argument once ls-style options ("-a",
 * "-l", "-la", "-R", ...) are skipped; "" when only options were given.
 * Borrowed from arg. */
const char *ftpcmd_list_path(const char *arg);

/* TYPE's argument: 'A' ("A", "A N"), 'I' ("I", "L 8"), or 0 when
 * unsupported ("E", "A T"). */
int ftpcmd_type(const char *arg);

/* REST's argument: 0 and *off, or -1 when not a decimal offset. */
int ftpcmd_rest(const char *arg, uint64_t *off);

/* SITE CHMOD: "CHMOD 755 path" -> *mode, *path borrowed from arg; 0, or
 * -1. */
int ftpcmd_site_chmod(const char *arg, unsigned *mode, const char **path);

/* MFMT: "YYYYMMDDHHMMSS path" -> UTC time and path (borrowed from arg);
 * 0, or -1. */
int ftpcmd_mfmt(const char *arg, int64_t *t, const char **path);

#endif

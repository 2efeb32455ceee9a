/* ftpreply.h — the FTP reply for an SFTP status, for the SFTP bridge.
 * Pure: a table from LIBSSH2_FX_* to a code and a static text. A lost SSH
 * connection is not an SFTP status: the caller answers 426/421 itself. */
#ifndef SFTP_FTPREPLY_H
#define SFTP_FTPREPLY_H

enum ftpreply_op {
	/* DELE, MKD, RMD, RNFR, RNTO, SIZE, MDTM, CWD, SITE CHMOD */
	FTPREPLY_FILE,
	FTPREPLY_RETR,
	FTPREPLY_STOR,
	FTPREPLY_LIST,
};

/* The FTP code and a short text for an SFTP status code (LIBSSH2_FX_*,
 * numeric values per draft-ietf-secsh-filexfer-02..13: 2 no such file, 3
 * permission denied, 4 failure, 14 no space, 15 quota exceeded, ...): no
 * such file / permission denied 550, no space / quota 452 (STOR: 552 on
 * quota), other failures 451 for transfers and 550 for file actions. The
 * text is static. In detail: a lock conflict 450; an unsupported
 * operation 502; an invalid file name 553 for STOR and file actions;
 * FX_OK 226 for transfers, 250 for file actions; an unknown code is a
 * failure. FX_CONNECTION_LOST/NO_CONNECTION are failures like any other:
 * a lost SSH session is the caller's to answer (426, then 421). */
int ftpreply_for_status(unsigned long fx, enum ftpreply_op op,
			const char **text);

#endif

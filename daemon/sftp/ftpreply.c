/* ftpreply.c — the FTP reply code and text for an SFTP status code. */
#include "ftpreply.h"

#include <libssh2.h>
#include <libssh2_sftp.h>

/* libssh2 1.10 names the codes up to 21; later drafts of the SFTP
 * protocol (draft-ietf-secsh-filexfer-13 §9.1) go on. A server speaking
 * version 3 should not send them, but one may. */
#define FX_CANNOT_DELETE 22UL
#define FX_INVALID_PARAMETER 23UL
#define FX_FILE_IS_A_DIRECTORY 24UL
#define FX_BYTE_RANGE_LOCK_CONFLICT 25UL
#define FX_BYTE_RANGE_LOCK_REFUSED 26UL
#define FX_DELETE_PENDING 27UL
#define FX_FILE_CORRUPT 28UL
#define FX_OWNER_INVALID 29UL
#define FX_GROUP_INVALID 30UL
#define FX_NO_MATCHING_BYTE_RANGE_LOCK 31UL

/* How a status maps, before the operation picks its code. */
enum kind {
	K_OK,
	K_NAME,	   /* about the name or its access: 550 everywhere */
	K_BADNAME, /* a name the server will not take: 553 where allowed */
	K_SPACE,   /* 452 */
	K_QUOTA,   /* 452, STOR 552 */
	K_BUSY,	   /* 450 file unavailable, e.g. busy (RFC 959 §4.2.2) */
	K_UNSUPP,  /* 502 not implemented */
	K_FAIL,	   /* 451 for transfers, 550 for file actions */
};

static const struct {
	unsigned long fx;
	enum kind kind;
	const char *text;
} statuses[] = {
    {LIBSSH2_FX_OK, K_OK, "OK"},
    {LIBSSH2_FX_EOF, K_FAIL, "Unexpected end of file"},
    {LIBSSH2_FX_NO_SUCH_FILE, K_NAME, "No such file or directory"},
    {LIBSSH2_FX_PERMISSION_DENIED, K_NAME, "Permission denied"},
    /* OpenSSH's sftp-server answers most errno values with this one
     * (v3 has no code for EEXIST, ENOTEMPTY, EISDIR, ...). */
    {LIBSSH2_FX_FAILURE, K_FAIL, "Failed on the SSH server"},
    {LIBSSH2_FX_BAD_MESSAGE, K_FAIL, "Bad SFTP message"},
    {LIBSSH2_FX_NO_CONNECTION, K_FAIL, "No SFTP connection"},
    {LIBSSH2_FX_CONNECTION_LOST, K_FAIL, "SFTP connection lost"},
    {LIBSSH2_FX_OP_UNSUPPORTED, K_UNSUPP,
     "Not supported by the SSH server's SFTP"},
    {LIBSSH2_FX_INVALID_HANDLE, K_FAIL, "Invalid SFTP handle"},
    {LIBSSH2_FX_NO_SUCH_PATH, K_NAME, "No such file or directory"},
    {LIBSSH2_FX_FILE_ALREADY_EXISTS, K_NAME, "File exists"},
    {LIBSSH2_FX_WRITE_PROTECT, K_NAME, "Write protected"},
    {LIBSSH2_FX_NO_MEDIA, K_FAIL, "No media"},
    {LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM, K_SPACE,
     "No space left on the SSH server"},
    {LIBSSH2_FX_QUOTA_EXCEEDED, K_QUOTA, "Quota exceeded"},
    {LIBSSH2_FX_UNKNOWN_PRINCIPAL, K_FAIL, "Unknown principal"},
    {LIBSSH2_FX_LOCK_CONFLICT, K_BUSY, "File locked"},
    {LIBSSH2_FX_DIR_NOT_EMPTY, K_NAME, "Directory not empty"},
    {LIBSSH2_FX_NOT_A_DIRECTORY, K_NAME, "Not a directory"},
    {LIBSSH2_FX_INVALID_FILENAME, K_BADNAME, "Invalid file name"},
    {LIBSSH2_FX_LINK_LOOP, K_NAME, "Too many levels of symbolic links"},
    {FX_CANNOT_DELETE, K_NAME, "Cannot delete"},
    {FX_INVALID_PARAMETER, K_FAIL, "Invalid parameter"},
    {FX_FILE_IS_A_DIRECTORY, K_NAME, "Is a directory"},
    {FX_BYTE_RANGE_LOCK_CONFLICT, K_BUSY, "File locked"},
    {FX_BYTE_RANGE_LOCK_REFUSED, K_BUSY, "File locked"},
    {FX_DELETE_PENDING, K_BUSY, "Delete pending"},
    {FX_FILE_CORRUPT, K_FAIL, "File corrupt"},
    {FX_OWNER_INVALID, K_NAME, "Invalid owner"},
    {FX_GROUP_INVALID, K_NAME, "Invalid group"},
    {FX_NO_MATCHING_BYTE_RANGE_LOCK, K_BUSY, "File locked"},
};

int ftpreply_for_status(unsigned long fx, enum ftpreply_op op,
			const char **text)
{
	enum kind kind = K_FAIL;
	int transfer = op != FTPREPLY_FILE;
	size_t i;

	*text = "Failed on the SSH server";
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (statuses[i].fx == fx) {
			kind = statuses[i].kind;
			*text = statuses[i].text;
			break;
		}
	switch (kind) {
	case K_OK:
		return transfer ? 226 : 250;
	case K_NAME:
		return 550;
	case K_BADNAME:
		/* RFC 959 §5.4 lists 553 for STOR, STOU, APPE, RNTO and MKD,
		 * not for RETR or LIST. */
		return op == FTPREPLY_STOR || op == FTPREPLY_FILE ? 553 : 550;
	case K_SPACE:
		return 452;
	case K_QUOTA:
		/* 552: exceeded storage allocation, for STOR (RFC 959). */
		return op == FTPREPLY_STOR ? 552 : 452;
	case K_BUSY:
		return 450;
	case K_UNSUPP:
		return 502;
	case K_FAIL:
		break;
	}
	return transfer ? 451 : 550;
}

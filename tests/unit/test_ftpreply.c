/* test_ftpreply.c — the SFTP bridge's table from SFTP status codes to FTP
 * replies (daemon/sftp/ftpreply.c). */
#include "ftpreply.h"

#include <libssh2.h>
#include <libssh2_sftp.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

/* Codes per operation: FILE, RETR, STOR, LIST; and a word of the text. */
static const struct {
	unsigned long fx;
	int code[4];
	const char *text;
} cases[] = {
    {LIBSSH2_FX_OK, {250, 226, 226, 226}, "OK"},
    {LIBSSH2_FX_EOF, {550, 451, 451, 451}, "end of file"},
    {LIBSSH2_FX_NO_SUCH_FILE, {550, 550, 550, 550}, "No such file"},
    {LIBSSH2_FX_PERMISSION_DENIED, {550, 550, 550, 550}, "Permission"},
    {LIBSSH2_FX_FAILURE, {550, 451, 451, 451}, "Failed"},
    {LIBSSH2_FX_BAD_MESSAGE, {550, 451, 451, 451}, "message"},
    {LIBSSH2_FX_NO_CONNECTION, {550, 451, 451, 451}, "connection"},
    {LIBSSH2_FX_CONNECTION_LOST, {550, 451, 451, 451}, "lost"},
    {LIBSSH2_FX_OP_UNSUPPORTED, {502, 502, 502, 502}, "Not supported"},
    {LIBSSH2_FX_INVALID_HANDLE, {550, 451, 451, 451}, "handle"},
    {LIBSSH2_FX_NO_SUCH_PATH, {550, 550, 550, 550}, "No such file"},
    {LIBSSH2_FX_FILE_ALREADY_EXISTS, {550, 550, 550, 550}, "exists"},
    {LIBSSH2_FX_WRITE_PROTECT, {550, 550, 550, 550}, "Write protected"},
    {LIBSSH2_FX_NO_MEDIA, {550, 451, 451, 451}, "media"},
    {LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM, {452, 452, 452, 452}, "space"},
    {LIBSSH2_FX_QUOTA_EXCEEDED, {452, 452, 552, 452}, "Quota"},
    {LIBSSH2_FX_UNKNOWN_PRINCIPAL, {550, 451, 451, 451}, "principal"},
    {LIBSSH2_FX_LOCK_CONFLICT, {450, 450, 450, 450}, "locked"},
    {LIBSSH2_FX_DIR_NOT_EMPTY, {550, 550, 550, 550}, "not empty"},
    {LIBSSH2_FX_NOT_A_DIRECTORY, {550, 550, 550, 550}, "Not a directory"},
    {LIBSSH2_FX_INVALID_FILENAME, {553, 550, 553, 550}, "name"},
    {LIBSSH2_FX_LINK_LOOP, {550, 550, 550, 550}, "symbolic links"},
    {24, {550, 550, 550, 550}, "Is a directory"},
    {28, {550, 451, 451, 451}, "corrupt"},
    {31, {450, 450, 450, 450}, "locked"},
    {32, {550, 451, 451, 451}, "Failed"},
    {~0UL, {550, 451, 451, 451}, "Failed"},
};

int main(void)
{
	static const enum ftpreply_op ops[4] = {FTPREPLY_FILE, FTPREPLY_RETR,
						FTPREPLY_STOR, FTPREPLY_LIST};
	size_t i, k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (k = 0; k < 4; k++) {
			const char *text = NULL;
			int code =
			    ftpreply_for_status(cases[i].fx, ops[k], &text);

			CHECK(code == cases[i].code[k],
			      "fx %lu op %zu: %d, not %d", cases[i].fx, k, code,
			      cases[i].code[k]);
			CHECK(text != NULL && strstr(text, cases[i].text) &&
				  !strchr(text, '\r') && !strchr(text, '\n'),
			      "fx %lu op %zu: text '%s'", cases[i].fx, k,
			      text ? text : "(null)");
		}
	}
	printf("test_ftpreply: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}

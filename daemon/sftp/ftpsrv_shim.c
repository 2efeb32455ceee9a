/* ftpsrv_shim.c — ftp-tunneld's DATA and PEER requests (docs/IPC.txt)
 * for an FTP session it serves from SFTP: the shim's data connection
 * handed to the session's passive listener, and whether an active data
 * connection the program accepted is one the session made. */
#include "ftpsrv_int.h"

#include "addr.h"

/* How long after it was made an active data connection is still known
 * (the program may accept it late), as ftpfwd.c keeps its own. */
#define MADE_MS 60000

int ftpsrv_data_adopt(struct ftpsrv *f, uint16_t port, int fd)
{
	if (!f->data || f->state == FS_CLOSING)
		return -1;
	return fsdata_adopt(f->data, port, fd);
}

int ftpsrv_data_made(const struct ftpsrv *f, const struct sockaddr *src,
		     const struct sockaddr *dst)
{
	struct sockaddr_storage a, b;

	if (f->data && fsdata_made(f->data, &a, &b) &&
	    addr_same_conn(src, dst, &a, &b))
		return 1;
	return f->made_ms && loop_now_ms(f->loop) - f->made_ms < MADE_MS &&
	       addr_same_conn(src, dst, &f->made_src, &f->made_dst);
}

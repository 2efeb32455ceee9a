/* ftpsrv_int.h — what the SFTP bridge's FTP session (ftpsrv.c) and its
 * transfers (ftpsrv_xfer.c) share. Not for other modules. */
#ifndef SFTP_FTPSRV_INT_H
#define SFTP_FTPSRV_INT_H

#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"
#include "ftpcmd.h"
#include "ftpsrv.h"
#include "fsdata.h"
#include "sftpbulk.h"
#include "sftpc.h"
#include "textmode.h"

#define FTPSRV_PATH 4096

enum fs_state {
	FS_STARTING, /* the sftp subsystem and the start directory */
	FS_LOGIN,    /* greeted: USER and PASS expected */
	FS_AUTH,     /* SftpLogin=ftp: logging in to SSH as the FTP user */
	FS_READY,    /* logged in */
	FS_CLOSING,  /* a last reply is going out, then the end */
};

/* XK_STAT: STAT with a path, a LIST over the control connection. */
enum xkind { XK_NONE, XK_RETR, XK_STOR, XK_LIST, XK_NLST, XK_MLSD, XK_STAT };

/* One transfer on a data connection. */
struct fsxfer {
	enum xkind kind;
	LIBSSH2_SFTP_HANDLE *h;
	int dfd;      /* the data connection, -1 until it is up */
	struct buf a; /* file or listing bytes, as read */
	struct buf b; /* TYPE A: converted */
	int ascii;
	struct textmode tm;
	int src_eof; /* RETR/LIST: all read; STOR: the client's EOF */
	int ending;  /* the end reply is decided: closing up */
	int end_code;
	char end_text[FTPSRV_PATH + 128];
	int aborted; /* by ABOR: 426 then 226 */
	uint64_t bytes;
	uint64_t offset; /* REST */
	/* RETR: the file's size when it was opened, if the server said,
	 * and the bytes read from it so far. */
	uint64_t size, read;
	int size_known;
	char name[FTPSRV_PATH]; /* the file, for the 150 reply */
	/* RETR through the bulk channel (sftpbulk.h): opening there, the
	 * 150 reply waiting for it; reading there. */
	int bulk_opening, bulk;
	char what[FTPSRV_PATH + 128];
	/* Listings: NLST/LIST of a file, a glob filter, the prefix. */
	int single;
	char glob[256];
	char prefix[FTPSRV_PATH];
	LIBSSH2_SFTP_ATTRIBUTES single_attrs;
	int readdir_busy;
	/* LIST: an entry waiting for its link's target. */
	char link_name[FTPSRV_PATH];
	LIBSSH2_SFTP_ATTRIBUTES link_attrs;
	int to_ctl;	   /* XK_STAT: the lines go to the control connection */
	int write_failed;  /* STOR: the server refused a write (FX_FAILURE) */
	int space_checked; /* ... and statvfs said whether the disk is full */
};

struct ftpsrv {
	struct loop *loop;
	struct ssh_sess *s;
	struct sftpc *sc;
	struct sftpbulk *bulk; /* big downloads; made on the first */
	int fd;
	char name[96];
	ftpsrv_done_cb done;
	void *done_arg;
	struct sockaddr_storage local, peer; /* the control connection's */
	struct buf in, out;
	int skip_line; /* an overlong line is being dropped */
	enum fs_state state;
	int busy; /* a command waits for SFTP or its transfer */
	int in_callback;
	int dead; /* ended inside a callback: freed on the way out */
	char start_dir[FTPSRV_PATH];
	char cwd[FTPSRV_PATH];
	char path[FTPSRV_PATH], path2[FTPSRV_PATH];
	int have_user;
	int type_ascii;
	uint64_t rest;
	char rnfr[FTPSRV_PATH];
	int have_rnfr;
	int rnto_retry;
	unsigned facts;
	int epsv_all;
	int64_t mfmt_time;
	struct fsdata *data; /* after PASV/EPSV/PORT/EPRT */
	/* The last active data connection made (PEER asks after it):
	 * our end, the client's listener, when (loop ms; 0: none). */
	struct sockaddr_storage made_src, made_dst;
	uint64_t made_ms;
	struct fsxfer x;
	/* SftpLogin=ftp: the settings, the FTP user, and the session this
	 * FTP session owns (freed by a reaper: never from inside its own
	 * callbacks). */
	const struct ssh_opts *login_opts;
	char user[128];
	int own_sess;
	uid_t peer_uid;
	struct sockaddr_storage pasv_addr; /* what a 227 names */
	int has_pasv_addr;
	struct ftpcmd cmd;  /* the command being served */
	struct ftpcmd peek; /* a line read during a transfer */
};

/* ftpsrv.c */
void ftpsrv_reply(struct ftpsrv *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ftpsrv_raw(struct ftpsrv *f, const char *text, size_t len);
/* The command is answered: take the next one. */
void ftpsrv_idle(struct ftpsrv *f);
/* An SFTP error as an FTP reply (ftpreply.h), or 421 when SSH is gone. */
void ftpsrv_reply_sftp(struct ftpsrv *f, int rc, int op, const char *what);
/* Around every callback into the session: the outermost leave frees a
 * session that ended meanwhile (and calls its done callback). */
void ftpsrv_enter(struct ftpsrv *f);
void ftpsrv_leave(struct ftpsrv *f);
/* Ends the session now ("421" already sent or not). */
void ftpsrv_end(struct ftpsrv *f);

/* ftpsrv_xfer.c */
void ftpsrv_xfer_retr(struct ftpsrv *f, const char *path);
void ftpsrv_xfer_stor(struct ftpsrv *f, const char *path, int append,
		      int unique);
void ftpsrv_xfer_list(struct ftpsrv *f, enum xkind kind, const char *arg);
/* ABOR (426 then 226), or the client gone (no reply). */
void ftpsrv_xfer_abort(struct ftpsrv *f, int by_abor);
/* The transfer's share of the sftpc service. */
int ftpsrv_xfer_service(struct ftpsrv *f);
/* The control connection has room again: a STAT listing goes on. */
void ftpsrv_xfer_ctl_room(struct ftpsrv *f);
/* The SSH connection is gone mid-transfer: 426, no further SFTP. */
void ftpsrv_xfer_lost(struct ftpsrv *f);
void ftpsrv_xfer_release(struct ftpsrv *f);

#endif

/* sftpc.h — an SFTP client on the engine's non-blocking libssh2 session:
 * one sftp subsystem channel, one file operation at a time, each finished
 * through a callback from the session's service, plus the read and write
 * calls a transfer makes itself.
 *
 * libssh2 1.10 keeps the resume state of most SFTP calls in the
 * LIBSSH2_SFTP (one stat, one open, ... at a time) and of read and write in
 * the handle and the LIBSSH2_SFTP: a call that returned EAGAIN must be
 * repeated, never abandoned, or the next call resumes the wrong packet. So
 * results land in the client's own storage (sftpc_attrs, sftpc_name,
 * sftpc_handle), and a client freed mid-call finishes that call in the
 * background before it closes its handles and its channel. */
#ifndef SFTP_SFTPC_H
#define SFTP_SFTPC_H

#include <libssh2.h>
#include <libssh2_sftp.h>
#include <stddef.h>
#include <sys/types.h>

#include "ssh.h"

struct sftpc;

/* An operation finished: rc >= 0 (for sftpc_readdir the name's length, 0
 * at the end of the directory), or a libssh2 error (<0);
 * LIBSSH2_ERROR_SFTP_PROTOCOL means the server answered a status, which
 * sftpc_status gives. May start the next operation. */
typedef void (*sftpc_cb)(struct sftpc *c, int rc, void *arg);

struct sftpc_owner {
	/* The subsystem is up (err NULL), or failed (then sftpc_free). */
	void (*ready)(struct sftpc *c, const char *err, void *arg);
	/* The SSH connection is gone: call sftpc_free. */
	void (*lost)(struct sftpc *c, const char *why, void *arg);
	/* Optional: called on each service while no operation is in
	 * flight, for a transfer's own reads and writes; returns nonzero
	 * when it moved bytes. */
	int (*service)(struct sftpc *c, void *arg);
};

/* Starts an sftp subsystem on s (queued with the session's channel
 * opens). owner is borrowed; name is copied, for log lines. NULL with
 * errno set. */
struct sftpc *sftpc_new(struct ssh_sess *s, const char *name,
			const struct sftpc_owner *owner, void *arg);
/* No more callbacks. A call in flight is finished, open handles are
 * closed and the channel too, in the background. Accepts NULL. */
void sftpc_free(struct sftpc *c);

/* Operations: 0 when started, -EBUSY while another is in flight,
 * -ENOTCONN when the subsystem is not up, -ENAMETOOLONG. Paths are
 * copied. */
int sftpc_realpath(struct sftpc *c, const char *path, sftpc_cb cb, void *arg);
/* A symbolic link's target, into sftpc_name. */
int sftpc_readlink(struct sftpc *c, const char *path, sftpc_cb cb, void *arg);
int sftpc_stat(struct sftpc *c, const char *path, sftpc_cb cb, void *arg);
/* Sets the attributes of a (only the fields a->flags names). */
int sftpc_setstat(struct sftpc *c, const char *path,
		  const LIBSSH2_SFTP_ATTRIBUTES *a, sftpc_cb cb, void *arg);
/* Opens a file (flags LIBSSH2_FXF_*, mode for a new file) or, with dir
 * set, a directory; the handle is sftpc_handle's. */
int sftpc_open(struct sftpc *c, const char *path, unsigned long flags,
	       long mode, int dir, sftpc_cb cb, void *arg);
int sftpc_fstat(struct sftpc *c, LIBSSH2_SFTP_HANDLE *h, sftpc_cb cb,
		void *arg);
/* One entry: its name in sftpc_name, its attributes in sftpc_attrs. */
int sftpc_readdir(struct sftpc *c, LIBSSH2_SFTP_HANDLE *h, sftpc_cb cb,
		  void *arg);
/* Closes h (first finishing a read or write of h libssh2 holds half
 * done). cb may be NULL. */
int sftpc_close(struct sftpc *c, LIBSSH2_SFTP_HANDLE *h, sftpc_cb cb,
		void *arg);
int sftpc_unlink(struct sftpc *c, const char *path, sftpc_cb cb, void *arg);
int sftpc_mkdir(struct sftpc *c, const char *path, long mode, sftpc_cb cb,
		void *arg);
int sftpc_rmdir(struct sftpc *c, const char *path, sftpc_cb cb, void *arg);
int sftpc_rename(struct sftpc *c, const char *from, const char *to, sftpc_cb cb,
		 void *arg);
/* statvfs@openssh.com: the result in sftpc_statvfs_result. */
int sftpc_statvfs(struct sftpc *c, const char *path, sftpc_cb cb, void *arg);

/* Results of the last operation, valid until the next one starts. */
const LIBSSH2_SFTP_ATTRIBUTES *sftpc_attrs(const struct sftpc *c);
const LIBSSH2_SFTP_STATVFS *sftpc_statvfs_result(const struct sftpc *c);
const char *sftpc_name(const struct sftpc *c);		  /* realpath, readlink,
							    readdir */
LIBSSH2_SFTP_HANDLE *sftpc_handle(const struct sftpc *c); /* open */
/* The SFTP status (LIBSSH2_FX_*) of the last LIBSSH2_ERROR_SFTP_PROTOCOL. */
unsigned long sftpc_status(const struct sftpc *c);
/* Text for the last error. Borrowed. */
const char *sftpc_error(struct sftpc *c);
int sftpc_busy(const struct sftpc *c);
/* The shortest time an operation took from its start to its answer, in
 * ms: the path's round trip as far as seen (0 before any). */
unsigned sftpc_rtt_ms(const struct sftpc *c);

/* Transfers, from the owner's own callbacks or its service hook, never
 * while an operation is in flight. Read: bytes, 0 at the end of the file,
 * LIBSSH2_ERROR_EAGAIN, or an error; a large len lets libssh2 read ahead
 * (four times len, 8 MiB at most). Write: the bytes the server
 * acknowledged from the front of buf (buf holds every byte not yet
 * acknowledged, so libssh2 sends ahead whatever it has not sent yet),
 * LIBSSH2_ERROR_EAGAIN or an error. After EAGAIN the same call must be
 * repeated with at least as many bytes (sftpc_close does it for an
 * aborted transfer). */
ssize_t sftpc_read(struct sftpc *c, LIBSSH2_SFTP_HANDLE *h, char *buf,
		   size_t len);
ssize_t sftpc_write(struct sftpc *c, LIBSSH2_SFTP_HANDLE *h, const char *buf,
		    size_t len);
/* Whether the owner's service hook has work (its transfer). */
void sftpc_set_wants(struct sftpc *c, int wants);
/* Asks for a service soon (after local I/O made room or data). */
void sftpc_kick(struct sftpc *c);

#endif

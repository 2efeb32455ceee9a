/* ipc.h — the daemon's IPC messages (docs/IPC.txt): framing, key=value
 * text, descriptor passing. Shared by the daemon, the shim and the CLI;
 * no allocation, no globals. */
#ifndef IPC_H
#define IPC_H

#include <stddef.h>
#include <sys/types.h>

#define IPC_MAX 4096
#define IPC_MAGIC "FTPT1"

/* A message being built or parsed: text lines in a fixed buffer. */
struct ipc_msg {
	char text[IPC_MAX + 1];
	size_t len;
};

/* Starts a message "FTPT1 <word>". */
void ipc_init(struct ipc_msg *m, const char *word);
/* Appends "key=value\n". 0, or -1 if it doesn't fit or value has '\n'. */
int ipc_add(struct ipc_msg *m, const char *key, const char *value);
int ipc_addf(struct ipc_msg *m, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The message's word ("CONNECT", "OK", ...) into out. 0 or -1 (not a
 * version 1 message). */
int ipc_word(const struct ipc_msg *m, char *out, size_t outlen);
/* The n-th (0-based) value of key into out. 0, or -1 when absent. */
int ipc_get(const struct ipc_msg *m, const char *key, int n, char *out,
	    size_t outlen);

/* Sends m on a stream socket, with fd attached (-1: none). Blocks; 0 or
 * -errno. */
int ipc_send(int sock, const struct ipc_msg *m, int fd);
/* Takes a frame's text (len bytes after the length prefix; buf may be
 * m->text) into m, NUL-terminated. No I/O. 0, or -EPROTO (len not
 * 1..IPC_MAX, or a NUL byte in the text). */
int ipc_decode(const void *buf, size_t len, struct ipc_msg *m);
/* Receives one message; *fd gets an attached descriptor or -1. Blocks
 * (use a socket timeout). 0, or -errno (-EPROTO for a bad frame). */
int ipc_recv(int sock, struct ipc_msg *m, int *fd);

/* One message being received without blocking (the daemon's side). */
struct ipc_reader {
	unsigned char buf[4 + IPC_MAX]; /* the frame: length, then text */
	size_t len;
};
/* Reads what sock has now into rd (start with rd->len 0); a descriptor
 * passed along is closed. 1: the whole message is in m; 0: the rest is
 * still to come; -errno: the connection is of no more use (-EPROTO for
 * the end of the stream or a bad frame). */
int ipc_recv_step(int sock, struct ipc_reader *rd, struct ipc_msg *m);

/* Connects to the daemon's socket at path, which must pass ipc_dir_open
 * for the real uid and ipc_sock_addr (no symbolic link); timeout_s bounds
 * each later send and receive (0: none). The socket, or -errno (connect's
 * errno when no daemon listens, -EACCES for an unsafe path). */
int ipc_connect(const char *path, int timeout_s);
/* One request to the daemon at path: connect, send req, receive *rep
 * (and *fd, a passed descriptor or -1). timeout_s bounds each send and
 * receive (0: none). Blocks. 0, or -errno (connect's errno when no
 * daemon listens). */
int ipc_call(const char *path, const struct ipc_msg *req, struct ipc_msg *rep,
	     int *fd, int timeout_s);

/* The socket path for uid (docs/IPC.txt). 0 or -1 (too long). */
int ipc_socket_path(uid_t uid, char *out, size_t outlen);
/* The directory of the socket at sock_path, opened (O_PATH) one
 * component at a time from / without following any symbolic link, each
 * checked on its descriptor: the directory itself must be a directory of
 * uid's with no permission for group or others (create: made 0700 when
 * missing); every directory above it must belong to uid or root and must
 * not be writable by group or others unless sticky (as /tmp). Then
 * nobody but uid and root can change what the path names. The
 * descriptor (the caller closes it), or -errno with a one-line reason
 * that says what to do in why: -ENOENT when a directory is missing,
 * -EACCES when one is unsafe or a symbolic link. Does not block. */
int ipc_dir_open(const char *sock_path, uid_t uid, int create, char *why,
		 size_t whylen);
struct sockaddr_un;
/* The address to connect() to for the socket at sock_path in dirfd (its
 * ipc_dir_open descriptor), naming the inode checked here and nothing
 * else: the name, opened without following a link, must be a socket of
 * uid or root. *sun gets /proc/self/fd/N, N = *pin, an O_PATH descriptor
 * of the socket to close after connect(); without /proc, the path itself
 * and *pin = -1. 0, or -errno with why: -ENOENT (none), -ECONNREFUSED
 * (not a socket), -EACCES (a symbolic link, or another user's). */
int ipc_sock_addr(int dirfd, const char *sock_path, uid_t uid,
		  struct sockaddr_un *sun, int *pin, char *why, size_t whylen);
/* ipc_dir_open without the descriptor or the reason. 0 or -errno. */
int ipc_check_dir(const char *sock_path, uid_t uid, int create);

#endif

/* ftpdata.h — setting up one FTP data connection through the SSH session.
 * Three shapes cover passive and active, local and remote tunnels:
 *   - a one-shot listener here, whose connection is carried by a
 *     direct-tcpip channel opened before the connection comes (-L
 *     passive, -R active forward), so its round trip overlaps the
 *     client's connect;
 *   - a one-shot tcpip-forward on the SSH server, whose channel is
 *     connected to an address reached from here (-L active forward,
 *     -R passive);
 *   - a pair: a direct-tcpip channel and a connection from here, made at
 *     once (active mode converted to passive).
 * Once both halves are connected a pump carries the bytes and the setup
 * object is gone; the owner hears of it through its callback. */
#ifndef FTPDATA_H
#define FTPDATA_H

#include <stdint.h>
#include <sys/socket.h>

#include "ssh.h"

struct ftp_data;

/* The setup is over: err NULL when the data connection is established
 * (the pump now runs by itself), else why it failed. d is freed after the
 * callback returns. */
typedef void (*ftpdata_done_cb)(struct ftp_data *d, const char *err, void *arg);
/* A remote listener is bound (port > 0) — the address to advertise. */
typedef void (*ftpdata_bound_cb)(struct ftp_data *d, int port, void *arg);

enum ftpdata_check {
	FTPDATA_CHECK_UID,  /* the peer socket must belong to our uid */
	FTPDATA_CHECK_ADDR, /* the peer must have this host address */
};

/* How long a data listener waits for its connection. */
#define FTPDATA_TIMEOUT_MS 60000

/* When a listener's channel is opened. */
enum ftpdata_open {
	FTPDATA_OPEN_NOW,
	/* With the client's next command to the server
	 * (ftpdata_command_passed), or FTPDATA_OPEN_WAIT_MS after the
	 * connection came if no command came by then. */
	FTPDATA_OPEN_WITH_COMMAND,
};
#define FTPDATA_OPEN_WAIT_MS 10

/* Listens at listen_at (port 0: any), opens a channel to
 * chan_host:chan_port (when: see enum ftpdata_open) and accepts the one
 * connection that passes the check; the pump starts when both are there.
 * *bound gets the listening address. NULL with err set (also when no
 * channel could be opened now). */
struct ftp_data *
ftpdata_listen_here(struct ssh_sess *s, const struct sockaddr *listen_at,
		    enum ftpdata_check check,
		    const struct sockaddr *expected_peer, const char *chan_host,
		    int chan_port, enum ftpdata_open when,
		    struct sockaddr_storage *bound, const char *name,
		    ftpdata_done_cb done, void *arg, char *err, size_t errlen);

/* The client's next command is being passed to the server: a listener of
 * FTPDATA_OPEN_WITH_COMMAND opens its channel now, if it has not yet
 * (on failure its done callback runs and d is gone). */
void ftpdata_command_passed(struct ftp_data *d);

/* Asks the SSH server to listen on listen_host, port chosen by it; bound
 * reports the port; the first channel is connected to local_target. */
struct ftp_data *ftpdata_listen_there(struct ssh_sess *s,
				      const char *listen_host,
				      const struct sockaddr *local_target,
				      const char *name, ftpdata_bound_cb bound,
				      ftpdata_done_cb done, void *arg);

/* Opens a channel to chan_host:chan_port and connects to local_target;
 * done reports when both are up. */
struct ftp_data *ftpdata_pair(struct ssh_sess *s, const char *chan_host,
			      int chan_port,
			      const struct sockaddr *local_target,
			      const char *name, ftpdata_done_cb done,
			      void *arg);

struct pump;
/* In a done callback without error: the pump now carrying the data
 * connection (borrowed; it ends on its own, see pump_set_done). Else
 * NULL. */
struct pump *ftpdata_pump(const struct ftp_data *d);

/* The shim hands over fd, a connected TCP socket whose other end the FTP
 * client holds, as the connection to a listener of ftpdata_listen_here
 * bound to port: when d is that listener and still waits, it takes fd as
 * if accepted (no peer check: the shim's IPC peer is our uid) and returns
 * 0; else -1 (fd stays the caller's). */
int ftpdata_adopt(struct ftp_data *d, uint16_t port, int fd);
/* For a setup that connects from here (pair, listen there) once it has
 * connected or is connecting: 1, with our socket's address in *src and
 * the address it connects to in *dst; else 0. Valid in the done
 * callback too. */
int ftpdata_made(const struct ftp_data *d, struct sockaddr_storage *src,
		 struct sockaddr_storage *dst);

/* The data connection will carry data from the server only (the client
 * sent RETR, LIST, ...): its channel gets EOF from our side as soon as
 * its pump runs (pump_input_done). */
void ftpdata_download(struct ftp_data *d);

/* Cancels a setup that has not finished; its callback is not called. */
void ftpdata_cancel(struct ftp_data *d);
/* The owner goes away: a setup still listening is cancelled, one already
 * connecting finishes on its own without calling back. */
void ftpdata_detach(struct ftp_data *d);
/* Nonzero once a connection was accepted (a new PASV no longer replaces
 * this one). */
int ftpdata_connecting(const struct ftp_data *d);

#endif

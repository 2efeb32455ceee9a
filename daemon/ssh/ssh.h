/* ssh.h — one non-blocking libssh2 session to one SSH server, driven by a
 * loop: connect, host key check, authentication, then a queue of channel
 * opens and remote-forward requests, and the servicing of every channel
 * that rides on it.
 *
 * libssh2 keeps one partly sent packet per session: after a call returns
 * EAGAIN with the socket blocked outbound, only that same call may run
 * until it completes. Every libssh2 call on a session's channels therefore
 * goes through ssh_gate()/ssh_ungate().
 */
#ifndef SSH_H
#define SSH_H

#include <libssh2.h>
#include <libssh2_sftp.h>
#include <stdint.h>

#include "loop.h"
#include "sshkeys.h"

enum ssh_strict {
	SSH_STRICT_ASK,
	SSH_STRICT_YES,
	SSH_STRICT_ACCEPT_NEW,
	SSH_STRICT_NO
};

#define SSH_MAX_IDENTITIES SSHKEYS_MAX_IDENTITIES
#define SSH_MAX_KNOWN_HOSTS SSHKEYS_MAX_KNOWN_HOSTS
/* Channels open or opening on one SSH connection at most, unless
 * MaxChannels says otherwise: each costs two 256 KiB pump buffers at most. */
#define SSH_DEFAULT_MAX_CHANNELS 1024
#define SSH_PROXY_MAX SSHKEYS_PROXY_MAX
#define SSH_MAX_JUMPS SSHKEYS_MAX_JUMPS

/* Which settings have a value already: ssh_config(5) keeps the first value
 * it obtains for each (the command line, then the user's file, then the
 * system's), so a file's value applies only where no bit is set. */
enum ssh_set_bit {
	SSH_SET_HOSTNAME = 1u << 0,
	SSH_SET_PORT = 1u << 1,
	SSH_SET_USER = 1u << 2,
	SSH_SET_IDENTITIES_ONLY = 1u << 3,
	SSH_SET_KNOWN_HOSTS = 1u << 4,
	SSH_SET_STRICT = 1u << 5, /* else: ASK on a terminal, YES otherwise */
	SSH_SET_ALIVE_INTERVAL = 1u << 6,
	SSH_SET_ALIVE_COUNT = 1u << 7,
	SSH_SET_CONNECT_TIMEOUT = 1u << 8,
	SSH_SET_BATCH = 1u << 9,
	SSH_SET_PROXY = 1u << 10, /* ProxyJump or ProxyCommand (or none) */
	SSH_SET_MAX_CHANNELS = 1u << 11,
	SSH_SET_CONNECTIONS = 1u << 12,
};

struct ssh_opts {
	char host[256];	 /* name or address connected to (HostName's value) */
	char alias[256]; /* the name as given, when HostName replaced it */
	uint16_t port;
	char user[SSHKEYS_USER_MAX];
	char *identities[SSH_MAX_IDENTITIES]; /* owned */
	int nidentities;
	int identities_only;
	char *known_hosts[SSH_MAX_KNOWN_HOSTS]; /* owned; empty = default */
	int nknown_hosts;
	enum ssh_strict strict;
	int alive_interval;  /* seconds, 0 = off */
	int alive_count_max; /* default 3 */
	int connect_timeout; /* seconds, 0 = the system's */
	int batch_mode;	     /* never prompt */
	int no_auth_prompt;  /* may ask about host keys, never for secrets */
	int max_channels;    /* MaxChannels: open or opening at once */
	int connections;     /* Connections: SSH connections to one server
			      * for concurrent FTP sessions, 0 = automatic */
	/* ProxyJump: "[user@]host[:port],..." (the last one connects to
	 * the server), or ProxyCommand, with its %-tokens unexpanded; at
	 * most one is set, "" = a direct TCP connection. */
	char proxy_jump[SSH_PROXY_MAX];
	char proxy_command[SSH_PROXY_MAX];
	int jump_depth; /* jump hosts before this one: the loop guard */
	/* Fills in a jump host's settings from its name (ssh_config, as for
	 * the server: sshconfig_load sets itself here), or NULL: the jump
	 * host gets the defaults. 0, or -1 with a message in err. */
	int (*resolve)(struct ssh_opts *o, char *err, size_t errlen);
	unsigned set; /* enum ssh_set_bit */
	/* SftpLogin=ftp: log in with this password only (password and
	 * keyboard-interactive), never an agent, a key or a prompt: the
	 * FTP client's PASS. Zeroed by ssh_opts_release; never logged nor
	 * part of ssh_opts_key. */
	int login_given;
	char login_password[256];
};

void ssh_opts_init(struct ssh_opts *o);
void ssh_opts_release(struct ssh_opts *o);
/* Applies one "-o Key=Value" setting, replacing an earlier value. 0, or -1
 * with a message in err. */
int ssh_opts_set(struct ssh_opts *o, const char *keyval, char *err,
		 size_t errlen);

/* How ssh_opts_apply treats a setting that has a value already. */
enum ssh_apply { SSH_APPLY_REPLACE, SSH_APPLY_FIRST };
#define SSH_OPTS_UNKNOWN (-2)
/* Applies the setting `key` (an ssh_config name, any case) with its
 * arguments (one, or a list for UserKnownHostsFile; copied). IdentityFile
 * always accumulates. Returns 0 (applied), 1 (kept the earlier value:
 * SSH_APPLY_FIRST), SSH_OPTS_UNKNOWN (a key it does not know; err not
 * set) or -1 (a bad value; message in err). */
int ssh_opts_apply(struct ssh_opts *o, const char *key, char *const *args,
		   int nargs, enum ssh_apply how, char *err, size_t errlen);
/* Sets user, host and port from "[user@]host[:port]" (user and port only
 * when given), marking them set. 0, or -1 when malformed. */
int ssh_opts_set_dest(struct ssh_opts *o, const char *dest);
/* Writes a text naming every setting of o into buf (truncated to len), so
 * that equal texts mean interchangeable connections. */
void ssh_opts_key(const struct ssh_opts *o, char *buf, size_t len);

struct ssh_sess;
struct ssh_chan;

enum ssh_event {
	SSH_EV_READY,  /* authenticated: channels may be opened */
	SSH_EV_FAILED, /* could not connect/authenticate; message given */
	SSH_EV_CLOSED, /* the connection dropped after READY */
};
typedef void (*ssh_event_cb)(struct ssh_sess *s, enum ssh_event ev,
			     const char *msg, void *arg);

/* A channel's owner: the session calls service() whenever the channel may
 * have become readable or writable (data, window, EOF, close). It returns
 * nonzero when it moved bytes, so the session services again. */
struct ssh_chan_ops {
	int (*service)(struct ssh_chan *c, void *arg);
	/* The connection is gone: the owner must drop the channel (it may
	 * call ssh_chan_close, which then only frees). */
	void (*lost)(struct ssh_chan *c, void *arg);
	/* Optional: logs the owner's own state (ssh_sess_dump). */
	void (*dump)(struct ssh_chan *c, void *arg);
	/* Optional: libssh2's session is freed next, the connection lost
	 * (lost: any I/O fails at once) or closed by ssh_sess_free (the
	 * server still answers): free now what libssh2 keeps for the
	 * channel beyond the channel itself (SFTP handles). lost()
	 * follows. */
	void (*dying)(struct ssh_chan *c, int lost, void *arg);
};

/* Called once per open request: ch is the new channel (ownership passes to
 * the callback's owner, who registers it with ssh_chan_attach) or NULL with
 * a message. Not called after ssh_open_cancel(). */
typedef void (*ssh_open_cb)(struct ssh_sess *s, LIBSSH2_CHANNEL *ch,
			    const char *err, void *arg);
/* A remote forward was set up (bound_port) or refused (err set). */
typedef void (*ssh_listen_cb)(struct ssh_sess *s, LIBSSH2_LISTENER *l,
			      int bound_port, const char *err, void *arg);
/* A connection arrived on a remote forward. */
typedef void (*ssh_accept_cb)(struct ssh_sess *s, LIBSSH2_CHANNEL *ch,
			      void *arg);

/* A session; connects at once. NULL with errno on allocation failure.
 * opts is copied. */
struct ssh_sess *ssh_sess_new(struct loop *loop, const struct ssh_opts *opts,
			      ssh_event_cb cb, void *arg);
/* Disconnects and frees; channels must have been detached. */
void ssh_sess_free(struct ssh_sess *s);
int ssh_sess_ready(const struct ssh_sess *s);
/* Nonzero once the session failed or was lost: make a new one. */
int ssh_sess_dead(const struct ssh_sess *s);
/* Why the session died (the message its FAILED or CLOSED event gave),
 * "" while it lives. Borrowed. */
const char *ssh_sess_why(const struct ssh_sess *s);
/* Nonzero when the session died before it was ever READY (connect, host
 * key or authentication failed). */
int ssh_sess_failed_early(const struct ssh_sess *s);
/* Nonzero when the login asked somebody for a passphrase or a password
 * (auth_typed): a further connection in batch mode would fail to log in,
 * and leave failed attempts in the server's log. Meaningful once READY. */
int ssh_sess_login_typed(const struct ssh_sess *s);
/* Channels attached or queued: 0 means the session is idle. */
int ssh_sess_busy(const struct ssh_sess *s);
/* "user@host:port", for log lines. Borrowed. */
const char *ssh_sess_name(const struct ssh_sess *s);
LIBSSH2_SESSION *ssh_sess_raw(struct ssh_sess *s);
/* The session's settings (a copy of those it was made with). */
const struct ssh_opts *ssh_sess_opts(const struct ssh_sess *s);
/* Replaces the event callback (NULL: none), for an owner that goes away
 * before the session is freed. */
void ssh_sess_set_cb(struct ssh_sess *s, ssh_event_cb cb, void *arg);
struct loop *ssh_sess_loop(struct ssh_sess *s);

/* How many more channels the session may open (MaxChannels less those
 * open, closing or being opened); INT_MAX without a limit. */
int ssh_sess_room(const struct ssh_sess *s);
/* Queues a direct-tcpip open to host:port. Returns an id for
 * ssh_open_cancel (>0), or -errno (-EMFILE: MaxChannels reached). */
long ssh_open_direct(struct ssh_sess *s, const char *host, int port,
		     const char *orig_host, int orig_port, ssh_open_cb cb,
		     void *arg);
/* Queues a tcpip-forward request; accepted channels go to acb. */
long ssh_listen(struct ssh_sess *s, const char *host, int port,
		ssh_listen_cb lcb, ssh_accept_cb acb, void *arg);
/* Stops accepting on l and cancels the forward (asynchronously). */
void ssh_unlisten(struct ssh_sess *s, LIBSSH2_LISTENER *l);
/* The sftp subsystem is up (sftp) or could not be started (err set). The
 * caller owns sftp; its channel (libssh2_sftp_get_channel) is attached
 * with ssh_chan_attach so the session services it. */
typedef void (*ssh_sftp_cb)(struct ssh_sess *s, LIBSSH2_SFTP *sftp,
			    const char *err, void *arg);
/* Queues the start of an sftp subsystem (a "session" channel, RFC 4254
 * §6.5, and libssh2_sftp_init), in turn with channel opens. Returns an id
 * for ssh_open_cancel (>0), or -errno. */
long ssh_open_sftp(struct ssh_sess *s, ssh_sftp_cb cb, void *arg);
/* Queues a "session" channel running the named subsystem (RFC 4254
 * §6.5) for an owner that speaks its protocol itself over the channel
 * (ssh_chan_read and ssh_chan_write); cb gets the channel or an error.
 * Returns an id for ssh_open_cancel (>0), or -errno (-EMFILE). */
long ssh_open_subsystem(struct ssh_sess *s, const char *name, ssh_open_cb cb,
			void *arg);
/* Forgets a queued request; a channel it still yields is closed. */
void ssh_open_cancel(struct ssh_sess *s, long id);

/* Closes, in the background, a channel nobody will attach. */
void ssh_chan_discard(struct ssh_sess *s, LIBSSH2_CHANNEL *raw);

/* Channels. */
struct ssh_chan *ssh_chan_attach(struct ssh_sess *s, LIBSSH2_CHANNEL *ch,
				 const struct ssh_chan_ops *ops, void *arg,
				 const char *name);
/* Detaches and closes the channel in the background (EOF, close, free). */
void ssh_chan_close(struct ssh_chan *c);
/* Forgets a channel whose libssh2 object the owner has freed itself
 * (libssh2_sftp_shutdown frees the sftp channel), and frees c. */
void ssh_chan_detach(struct ssh_chan *c);
/* Tells the session whether the owner would read or write the channel if
 * serviced now (room for data, or data to send). The session watches its
 * socket for input only while somebody will read it. */
void ssh_chan_set_wants(struct ssh_chan *c, int wants_io);
LIBSSH2_CHANNEL *ssh_chan_raw(struct ssh_chan *c);
struct ssh_sess *ssh_chan_sess(struct ssh_chan *c);
const char *ssh_chan_name(const struct ssh_chan *c);
/* Asks the session to service its channels soon (after local I/O). */
void ssh_sess_kick(struct ssh_sess *s);
/* Takes now every channel that has arrived on a remote forward (their
 * accept callbacks run before this returns): for a channel's owner that
 * read bytes the server sent after such a connection and must not act on
 * them before the connection is seen. Only from a service callback.
 * Returns nonzero when it accepted or cancelled something. */
int ssh_sess_accept_queued(struct ssh_sess *s);

/* The gate: returns nonzero when `who` may make a libssh2 call now. */
int ssh_gate(struct ssh_sess *s, const void *who);
/* After the call: records whether `who` now holds a partly sent packet.
 * Returns rc, with LIBSSH2_ERROR_BAD_USE turned into EAGAIN. */
int ssh_ungate(struct ssh_sess *s, const void *who, int rc);

/* The gate for channel calls: the owner is the channel itself, and the
 * call is remembered, so that a channel closed while libssh2 holds its
 * partly sent packet gets that call repeated before it is freed. */
enum ssh_op {
	SSH_OP_NONE,
	SSH_OP_READ,
	SSH_OP_WRITE,
	SSH_OP_EOF,
	SSH_OP_ADJUST /* a receive window adjust */
};
int ssh_chan_gate(struct ssh_chan *c);
int ssh_chan_ungate(struct ssh_chan *c, enum ssh_op op, int rc);

/* What `ftp-tunnel status` shows of a session. The strings are borrowed
 * from the session (or libssh2) and valid until its next service. */
struct ssh_sess_info {
	const char *host; /* as given by the user */
	uint16_t port;
	const char *via; /* the jump hosts before it ("a → b"), or
			  * "ProxyCommand", or "" */
	const char *user;
	const char *state;   /* connecting, authenticating, ready or dead */
	uint64_t started_ms; /* loop_now_ms() when it was made */
	/* Negotiated methods (libssh2_session_methods), "" before the
	 * handshake: cs = client to server, sc = server to client. */
	const char *kex, *hostkey, *cipher_cs, *cipher_sc, *mac_cs, *mac_sc;
	int nchannels;			       /* attached channels */
	unsigned long long rx_bytes, tx_bytes; /* on the SSH socket */
};
void ssh_sess_info(const struct ssh_sess *s, struct ssh_sess_info *out);

/* Logs the session's state and channels (on SIGUSR1). */
void ssh_sess_dump(struct ssh_sess *s);

/* Channel I/O through the gate, with libssh2 1.10's quirks handled once:
 * read returns bytes (>0), 0 at the channel's EOF, or
 * LIBSSH2_ERROR_EAGAIN when nothing can move now; write returns bytes or
 * LIBSSH2_ERROR_EAGAIN; send_eof returns 0 or LIBSSH2_ERROR_EAGAIN. Any
 * other value is a libssh2 error. When libssh2 stops short on a key
 * re-exchange (0 bytes without EOF, or no write with window left) the
 * answer is EAGAIN and the session services its channels again. */
ssize_t ssh_chan_read(struct ssh_chan *c, char *buf, size_t len);
ssize_t ssh_chan_write(struct ssh_chan *c, const char *buf, size_t len);
int ssh_chan_send_eof(struct ssh_chan *c);

/* Human text for the session's last libssh2 error. Borrowed. */
const char *ssh_last_error(struct ssh_sess *s);

#endif

/* shim.h — internals of libftptunnel.so (the LD_PRELOAD shim) shared by its
 * hook files and, for the daemon client, by ftp-tunnel-wrap. Everything
 * here has hidden visibility (-fvisibility=hidden); only the hooks are
 * exported, with SHIM_EXPORT. */
#ifndef SHIM_H
#define SHIM_H

#include <netdb.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "conf.h"
#include "names.h"
#include "ipc.h"

#define SHIM_EXPORT __attribute__((visibility("default")))

/* ---- real.c: libc's functions behind the hooks */

struct shim_real {
	int (*connect)(int, const struct sockaddr *, socklen_t);
	int (*getpeername)(int, struct sockaddr *, socklen_t *);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*close)(int);
	ssize_t (*sendto)(int, const void *, size_t, int,
			  const struct sockaddr *, socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	/* The name lookups (NULL if libc has none: the hook fails). */
	int (*getaddrinfo)(const char *, const char *, const struct addrinfo *,
			   struct addrinfo **);
	struct hostent *(*gethostbyname)(const char *);
	struct hostent *(*gethostbyname2)(const char *, int);
	int (*gethostbyname_r)(const char *, struct hostent *, char *, size_t,
			       struct hostent **, int *);
	int (*gethostbyname2_r)(const char *, int, struct hostent *, char *,
				size_t, struct hostent **, int *);
};

/* Filled by shim_init_real(); never NULL afterwards. */
extern struct shim_real shim_real;

/* Once per process: resolves shim_real (dlsym). Enough for a hook that
 * only falls through or looks at the registry (close). Cheap after the
 * first call (one atomic load); keeps errno. */
void shim_init_real(void);
/* Once per process: shim_init_real(), then reads the environment
 * (shim_cfg) and, when it routes, registers the fork handlers of the
 * registry. Reads no file (the configuration files are read on first use:
 * shim_conf_get). Nothing runs at load time: a program that never calls a
 * hook pays only for the mapping of the library. Cheap after the first
 * call (one atomic load); never blocks on the network, never prints
 * (except FTP_TUNNEL_DEBUG); keeps errno. */
void shim_init(void);

/* ---- secure.c: privileged processes */

/* Whether the process has privileges its real user lacks: secure-execution
 * mode (AT_SECURE: set-user-ID, set-group-ID, file capabilities), or real,
 * effective and saved user or group IDs that differ. Such a process gets
 * no routed connection, asks no daemon, reads none of the shim's
 * variables and prints nothing. Checked on each call (a process may change
 * its IDs); keeps errno. */
int shim_privileged(void);
/* getenv(name), or NULL in a privileged process. */
const char *shim_getenv(const char *name);

/* ---- cfg.c: configuration from the environment and from the files */

#define SHIM_CFG_MAX_PORTS 32

struct shim_cfg {
	int enabled;	    /* FTP_TUNNEL_VIA is set (or FTP_TUNNEL_SFTP) */
	int sftp;	    /* FTP_TUNNEL_SFTP=1: the daemon answers from SFTP;
			     * via "" then means the host the program
			     * dialed, port 22 */
	int debug;	    /* FTP_TUNNEL_DEBUG=1 */
	char via[512];	    /* FTP_TUNNEL_VIA verbatim */
	char via_host[256]; /* its host, without user@, [] or :port */
	uint16_t via_port;  /* its port (22) */
	uint16_t ports[SHIM_CFG_MAX_PORTS]; /* routed ports (21) */
	int nports;
	char options[IPC_MAX]; /* FTP_TUNNEL_OPTIONS, lines */
};

extern struct shim_cfg shim_cfg;

/* Reads the environment into shim_cfg (called by shim_init); nothing in
 * a privileged process (shim_privileged). */
void shim_cfg_load(void);
/* Whether port is one of the routed ports. */
int shim_cfg_routed_port(uint16_t port);
/* Whether sa is the SSH server's own endpoint (host and port), which must
 * never be routed (the tunnel would loop into itself). May resolve the
 * host name (only when the port is the SSH port). */
int shim_cfg_is_ssh_server(const struct sockaddr *sa);
/* The same for the SSH server host:port (a route's Via). */
int shim_cfg_is_endpoint(const struct sockaddr *sa, const char *host,
			 uint16_t port);
/* (conf_parse_via is in conf.h.) */

/* The routes of the configuration files (conf.h), read on the first call
 * (those conffile_search names, as for ftp-tunnel). NULL while this thread is
 * inside the shim's own work (reading them, resolving a name): whatever it
 * connects or resolves then is not the program's. Empty in ftp-tunnel's own
 * programs. */
const struct conf *shim_conf_get(void);
/* Whether a connect() to port may be the shim's, from what is known
 * without a lock or a system call: false when FTP_TUNNEL_VIA does not
 * route port, no descriptor is registered (so no control connection can
 * have a data connection to make) and the configuration files, once read,
 * name no route to port. True before the files were read (the first TCP
 * connect() reads them). */
int shim_may_route(uint16_t port);
/* Whether anything may be routed: FTP_TUNNEL_VIA, or routes read. */
int shim_routing_active(void);
/* The first route (index in shim_conf_get()->routes) for a connection to
 * sa, or -1; *name: the host name it matched by (index in names), or -1.
 * A name matches the addresses the program's lookups returned for it
 * (shim_names_seen_*); failing that, the shim resolves the name itself
 * (a program may have resolved it elsewhere: lftp does in a child). */
int shim_conf_route(const struct sockaddr *sa, int *name);
/* The resolver hooks report what a lookup of name returned; recorded when
 * a route names it. Keep errno. */
void shim_names_seen_ai(const char *name, const struct addrinfo *res);
void shim_names_seen_he(const char *name, const struct hostent *he);

/* ---- log.c: the only output of the shim */

/* One line "ftp-tunnel: ..." on stderr (errors the user must see), unless
 * the process is privileged and FTP_TUNNEL_DEBUG is off. */
void shim_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One line "ftp-tunnel[pid]: ..." on stderr when FTP_TUNNEL_DEBUG=1. */
void shim_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- reg.c: the registry of intercepted descriptors */

enum shim_reg_kind {
	SHIM_REG_CONTROL = 1, /* a routed control connection */
	SHIM_REG_DATA,	      /* a data connection (connected or accepted) */
	SHIM_REG_OWN,	      /* the shim's own descriptor (daemon IPC) */
};

/* Records fd (its socket's identity is taken with fstat now) with the
 * address getpeername() must report; replaces any entry of fd. peer is
 * copied (NULL for SHIM_REG_OWN). 0 or -errno (-ENOBUFS when full). */
int shim_reg_add(int fd, enum shim_reg_kind kind, const struct sockaddr *peer,
		 socklen_t peerlen);
/* The kind of fd's live entry and its recorded peer (out may be NULL), or
 * 0 when fd has none. An entry whose descriptor now names another file
 * (closed behind the shim's back, e.g. by fclose) is dropped. */
int shim_reg_get(int fd, struct sockaddr_storage *out, socklen_t *outlen);
/* Called by close(fd): forgets fd. -EBADF if fd is the shim's own (the
 * program must not close it), else 0. */
int shim_reg_close(int fd);
/* Forgets fd whatever its kind (the shim closing its own descriptor). */
void shim_reg_del(int fd);
/* Lock-free: whether any descriptor is registered. */
int shim_reg_any(void);
/* Lock-free: false when fd certainly has no entry (the close() fast path). */
int shim_reg_maybe(int fd);
/* Whether a live control connection goes to dst's host; *family gets that
 * control socket's family. */
int shim_reg_control_host(const struct sockaddr *dst, int *family);
/* Installs the pthread_atfork handlers (once), the daemon client's too. */
void shim_reg_atfork(void);

/* ---- route.c: what the hooks do */

/* connect() with routing: a control connection through the daemon, a data
 * connection as a socket from the daemon (never a connect() to loopback),
 * anything else straight to libc. Returns and sets errno as connect() does. May
 * block on the daemon (a non-blocking socket included: see route_control). */
int shim_route_connect(int fd, const struct sockaddr *sa, socklen_t len);
/* For sendto()/sendmsg() with MSG_FASTOPEN and an address, a connect() in
 * disguise: 0 when the shim has nothing to do with it (send as asked);
 * else 1, after connecting fd the shim's way, with *rc and errno what that
 * gave (0: send the data without the address). */
int shim_route_fastopen(int fd, const struct sockaddr *sa, socklen_t len,
			int *rc);
/* After accept() returned newfd: when the peer is on loopback and the
 * daemon says it made that very connection (local and peer address and
 * port), records and reports (in sa/len, as accept() fills them) the FTP
 * server the daemon names, with the peer's port. Any other connection is
 * left as the kernel reports it. */
void shim_route_accepted(int newfd, struct sockaddr *sa, socklen_t *len);
/* After a successful getpeername(fd): replaces the result with the
 * recorded FTP server address when fd is registered. */
void shim_route_peer(int fd, struct sockaddr *sa, socklen_t *len);

/* ---- daemon.c: talking to ftp-tunneld (docs/IPC.txt) */

/* Sends req to the daemon and reads its reply into rep (and *fd, an
 * attached descriptor or -1; the caller owns it). When the daemon does not
 * run and start is set, starts it (shim_daemon_start) and tries again.
 * Blocks up to timeout_s for the reply. 0, or -errno with a one-line
 * reason in why. */
int shim_daemon_request(const struct ipc_msg *req, struct ipc_msg *rep, int *fd,
			int start, int timeout_s, char *why, size_t whylen);
/* The child's side of fork() for this module (registered by
 * shim_reg_atfork). */
void shim_daemon_forked(void);
/* Starts $FTP_TUNNELD (or the compiled-in path) detached, with --ready-fd,
 * and waits up to 10 s for its "READY" line. 0 or -errno and why. */
int shim_daemon_start(char *why, size_t whylen);

#endif

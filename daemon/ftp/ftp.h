/* ftp.h — the FTP control-channel rewriter: pure, no I/O, no globals.
 *
 * One struct ftp_rw per FTP control connection. The glue feeds it the bytes
 * each side sent and forwards the bytes it produces for each side. When a
 * data channel must be set up, the rewriter holds the line that needs an
 * address and raises a request (ftp_rw_request()); the glue sets up the
 * forward and answers with ftp_rw_passive_ready() / ftp_rw_active_ready() /
 * ftp_rw_request_failed(); the held line is then written with the new
 * address and processing continues. While a request is pending, feeding
 * consumes nothing from either side.
 *
 * The rewriter never passes an address on unrewritten: a malformed
 * 227/229/PORT/EPRT, a NUL byte or an overlong line ends the session
 * (ftp_rw_feed() returns FTP_RW_FATAL after queueing a 421 line for the
 * client).
 */
#ifndef FTP_H
#define FTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

enum ftp_side { FTP_CLIENT = 0, FTP_SERVER = 1 };

/* How the glue wants active-mode commands (PORT/EPRT) handled. */
enum ftp_active_mode {
	FTP_ACTIVE_FORWARD, /* PORT/EPRT rewritten to an address the glue gives
			     */
	FTP_ACTIVE_CONVERT, /* answered 200 here; PASV/EPSV sent to the server
			     */
};

struct ftp_rw_config {
	/* The client's address as seen on the control connection: PORT/EPRT
	 * naming any other host is refused (FTP bounce). Port ignored. */
	struct sockaddr_storage client_addr;
	enum ftp_active_mode active_mode;
	/* CONVERT only: when the server refuses (5xx) the PASV/EPSV sent in
	 * place of a PORT/EPRT, the rest of the session runs in FORWARD mode
	 * and that PORT/EPRT becomes an FTP_REQ_ACTIVE (ftp_rw_fell_back()
	 * says so); without it the client gets the refusal. */
	int active_fallback;
	/* Address family the server side expects in commands (AF_INET or
	 * AF_INET6); decides PASV vs EPSV when converting active mode. */
	int server_family;
	/* Allow AUTH TLS/SSL through (default 0: refused with 534, hidden
	 * from FEAT, since an encrypted control channel can't be rewritten). */
	int allow_auth;
	/* PASV sent ahead: after a transfer whose data connection the server
	 * made passively (its 2xx with nothing else outstanding), the
	 * rewriter sends the server a PASV (or EPSV, as that transfer used)
	 * of its own before the client's next command (unless that would
	 * use or drop it at once: PASV, PORT, QUIT, a transfer...) and keeps
	 * the reply; the client's next bare PASV/EPSV,
	 * or a PORT/EPRT it converts, is answered from it without a round
	 * trip. The reply to a PASV sent ahead never reaches the client; a
	 * refusal makes the client's command go to the server as usual. */
	int passive_ahead;
};

enum ftp_req_kind {
	FTP_REQ_NONE = 0,
	/* The server answered PASV/EPSV. target = the data address in its
	 * reply; for a 229 the family is AF_UNSPEC and only the port is set
	 * (the host is the control connection's destination): target then
	 * holds a struct sockaddr_in6 with sin6_family AF_UNSPEC, sin6_port
	 * set and all else zero (sin_port and sin6_port share an offset, so
	 * either view reads the port). A 227 naming 0.0.0.0 is passed as
	 * AF_INET 0.0.0.0; the glue should read it as "the control
	 * connection's destination" too. The glue opens
	 * a data listener the client can reach and calls
	 * ftp_rw_passive_ready() with its client-visible address. */
	FTP_REQ_PASSIVE,
	/* FORWARD mode: the client sent PORT/EPRT naming target (its own
	 * listener). The glue arranges for connections to some address of the
	 * server side to reach target and calls ftp_rw_active_ready() with
	 * that address; the rewriter sends PORT/EPRT naming it. */
	FTP_REQ_ACTIVE,
	/* CONVERT mode: the server answered the PASV/EPSV sent in place of
	 * the client's PORT/EPRT. target = the server's data address (as
	 * FTP_REQ_PASSIVE), client_target = the client's listener. The glue
	 * connects the two and calls ftp_rw_active_ready(rw, NULL); the
	 * client then gets its 200. */
	FTP_REQ_CONVERTED,
};

struct ftp_req {
	enum ftp_req_kind kind;
	struct sockaddr_storage target;
	struct sockaddr_storage client_target;
};

/* Return values of ftp_rw_feed(). */
#define FTP_RW_FATAL (-1)

/* Longest control line accepted, CRLF included. */
#define FTP_LINE_MAX 4096

/* Most bytes ever queued for one side (ftp_rw_output()): feeding stops
 * consuming before the output would grow past it. */
#define FTP_OUT_MAX 16384

struct ftp_rw;

/* A new rewriter; NULL with errno set on allocation failure. cfg is copied. */
struct ftp_rw *ftp_rw_new(const struct ftp_rw_config *cfg);
void ftp_rw_free(struct ftp_rw *rw);

/* Feeds bytes that side `from` sent. Returns how many were consumed (fewer
 * than len when a request is pending or an output buffer is full: feed the
 * rest later), or FTP_RW_FATAL when the session must end — a final error
 * line for the client is then queued in the client output; flush it and
 * close both sides. */
ssize_t ftp_rw_feed(struct ftp_rw *rw, enum ftp_side from, const uint8_t *data,
		    size_t len);

/* Bytes ready to send to side `to`: a borrowed pointer valid until the next
 * call on rw; *len set (0 when none). */
const uint8_t *ftp_rw_output(struct ftp_rw *rw, enum ftp_side to, size_t *len);
/* Marks n bytes of side `to`'s output as sent. */
void ftp_rw_consume(struct ftp_rw *rw, enum ftp_side to, size_t n);

/* The pending request, or NULL. Borrowed, valid until answered. */
const struct ftp_req *ftp_rw_request(const struct ftp_rw *rw);

/* Answers FTP_REQ_PASSIVE: `client_visible` is the data listener's address
 * as the client should connect to it. */
void ftp_rw_passive_ready(struct ftp_rw *rw,
			  const struct sockaddr *client_visible);
/* Answers FTP_REQ_ACTIVE with the server-side address the FTP server must
 * connect to, or FTP_REQ_CONVERTED with NULL. */
void ftp_rw_active_ready(struct ftp_rw *rw, const struct sockaddr *server_side);
/* The request could not be met: the client gets a 425 naming `why`. */
void ftp_rw_request_failed(struct ftp_rw *rw, const char *why);

/* Nonzero after FTP_RW_FATAL was returned: the session is over. */
int ftp_rw_failed(const struct ftp_rw *rw);
/* 1 once the server refused PASV/EPSV and active mode fell back to FORWARD
 * (active_fallback). */
int ftp_rw_fell_back(const struct ftp_rw *rw);
/* How many commands whose data connection carries data from the server
 * only (RETR, LIST, NLST, MLSD) the client has sent so far; none count
 * once it asked for a transfer mode other than stream (MODE S), where a
 * data connection may outlive its transfer. */
unsigned long ftp_rw_downloads(const struct ftp_rw *rw);
/* How many client commands were answered from a PASV sent ahead. */
unsigned long ftp_rw_passive_ahead_used(const struct ftp_rw *rw);
/* The rewriter's state by name, for dumps and tests: "lines", "multi"
 * (a multi-line reply passing), "collect" (a 227/229 being collected),
 * "opaque" (after AUTH) or "failed". A static string. */
const char *ftp_rw_state_name(const struct ftp_rw *rw);

#endif

/* ftpfwd.c — one FTP control connection between a TCP socket and an SSH
 * channel, run through the rewriter. The rewriter's requests become data
 * connection setups (ftpdata.h); their answers go back into the rewriter.
 *
 * In a local tunnel (-L ftp/) the client is on the socket and the server
 * behind the channel; in a remote tunnel (-R ftp/) the reverse. */
#include "ftpfwd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "ftp.h"
#include "ftpdata.h"
#include "log.h"
#include "pump.h"

#define CTL_INBUF 8192
#define CTL_MAX_DATA 8
/* Active-mode connections made to the client remembered for the shim's
 * PEER question (docs/IPC.txt), and for how long. */
#define CTL_MADE 8
#define CTL_MADE_MS FTPDATA_TIMEOUT_MS

/* A data connection whose pump runs, for the counters. */
struct data_link {
	struct ftp_ctl *k;
	struct pump *p;
	struct ftpfwd_data_info info; /* up/down filled in on demand */
	struct data_link *next;
};

struct ftp_ctl {
	struct ssh_sess *s;
	struct loop *loop;
	struct ssh_chan *c;
	int fd;
	int remote;
	struct fwd_spec spec;
	enum ftp_active_mode active_mode;
	int passive_reply; /* FtpPassiveAddress=reply */
	struct ftp_rw *rw;
	char name[96];
	struct buf in[2]; /* bytes read from each side, not yet fed */
	int eof[2];
	int closing;
	int busy; /* a request is being answered asynchronously */
	struct sockaddr_storage fd_local, fd_peer;
	struct sockaddr_storage advertise; /* ss_family 0: none */
	struct ftp_data *data[CTL_MAX_DATA];
	struct ftpfwd_data_info data_kind[CTL_MAX_DATA]; /* per slot */
	struct ftp_data *passive; /* the pending passive listener, if any */
	/* The running data connection of the last PASV/EPSV, until a
	 * command uses it (-L only; see note_downloads). */
	struct data_link *pasv_link;
	unsigned long downloads; /* ftp_rw_downloads() already acted on */
	unsigned long ndata;
	uint32_t events;
	struct data_link *links; /* running data connections */
	struct made {
		struct sockaddr_storage src, dst;
		uint64_t at_ms; /* 0: free */
	} made[CTL_MADE]; /* connections made to the client, newest last */
	unsigned nmade;
	uint64_t started_ms;
	unsigned long long up, down;
	ftpfwd_done_cb done;
	void *done_arg;
};

static int ctl_service(struct ssh_chan *c, void *arg);
static void ctl_lost(struct ssh_chan *c, void *arg);
static const struct ssh_chan_ops ctl_ops = {.service = ctl_service,
					    .lost = ctl_lost};
static int ctl_run(struct ftp_ctl *k, int in_service);

static int side_is_chan(const struct ftp_ctl *k, enum ftp_side side)
{
	return (side == FTP_SERVER) != k->remote;
}

/* --- the data connections --------------------------------------------- */

static int track(struct ftp_ctl *k, struct ftp_data *d, int active,
		 int converted)
{
	int i;

	for (i = 0; i < CTL_MAX_DATA; i++) {
		if (!k->data[i]) {
			k->data[i] = d;
			memset(&k->data_kind[i], 0, sizeof(k->data_kind[i]));
			k->data_kind[i].n = k->ndata;
			k->data_kind[i].active = active;
			k->data_kind[i].converted = converted;
			return 0;
		}
	}
	return -1;
}

static void link_done(struct pump *p, const char *why, void *arg)
{
	struct data_link *l = arg, **pp;

	(void)p;
	(void)why;
	if (l->k->pasv_link == l)
		l->k->pasv_link = NULL;
	for (pp = &l->k->links; *pp; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	}
	free(l);
}

/* The data connection of slot i now runs on pump p: keep it in view.
 * Returns the link, NULL when out of memory. */
static struct data_link *link_pump(struct ftp_ctl *k, int i, struct pump *p)
{
	struct data_link *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL; /* only the counters miss it */
	l->k = k;
	l->p = p;
	l->info = k->data_kind[i];
	l->info.started_ms = loop_now_ms(k->loop);
	l->next = k->links;
	k->links = l;
	pump_set_done(p, link_done, l);
	return l;
}

/* A download's data connection carries nothing from the client, but
 * closing its half only when the client closes (after the last byte)
 * costs the server a round trip: vsftpd, for one, sends 226 only once
 * its lingering close of the data connection is acknowledged, and the
 * SSH server's socket acknowledges the FIN late unless it has sent its
 * own. So when the client sends RETR, LIST, NLST or MLSD, the data
 * connection of the last PASV/EPSV (-L: the client is on our side) gets
 * its EOF at once, as the client would send it at the end. */
static void note_downloads(struct ftp_ctl *k)
{
	unsigned long n = ftp_rw_downloads(k->rw);

	if (n == k->downloads)
		return;
	k->downloads = n;
	if (k->remote)
		return;
	if (k->passive) {
		ftpdata_download(k->passive);
	} else if (k->pasv_link) {
		pump_input_done(k->pasv_link->p);
		k->pasv_link = NULL;
	}
}

/* The passive listener's channel is opened with the client's next
 * command (RETR, ...), not as the 227 passes: the open and the command
 * then reach the SSH server together, and it mostly answers the open, the
 * 150 and a small file's data and EOF in one write. Opened as the 227
 * passed, its lone open confirmation went first when the command came a
 * few ms later (the shim's connect handoff), and OpenSSH, which sets no
 * TCP_NODELAY without a pty, held the data behind it until our ACK came:
 * a round trip per file. Client bytes read from the socket: the open is
 * queued here and the command written in the session's next service,
 * right after it; read in a service: the command is written now and the
 * open in the service's next pass. */
static void open_with_command(struct ftp_ctl *k)
{
	size_t len;

	if (k->remote || !k->passive)
		return;
	ftp_rw_output(k->rw, FTP_SERVER, &len);
	if (len)
		ftpdata_command_passed(k->passive);
}

static void untrack(struct ftp_ctl *k, struct ftp_data *d)
{
	int i;

	for (i = 0; i < CTL_MAX_DATA; i++)
		if (k->data[i] == d)
			k->data[i] = NULL;
	if (k->passive == d)
		k->passive = NULL;
}

/* An FTP server makes its active-mode data connection before it answers
 * 150 and 226 (vsftpd connects, then says 150). Through the tunnel that
 * connection still has to be made to the client when the replies after it
 * are here already: a client that sees 226 while its listener is empty
 * gives up (curl: "weird server reply"). So the replies for the client wait
 * while a data connection from the server's side has arrived and is being
 * connected to the client. */
static int replies_held(const struct ftp_ctl *k)
{
	int i;

	for (i = 0; i < CTL_MAX_DATA; i++)
		if (k->data[i] && k->data_kind[i].active &&
		    !k->data_kind[i].converted &&
		    ftpdata_connecting(k->data[i]))
			return 1;
	return 0;
}

static void data_done(struct ftp_data *d, const char *err, void *arg)
{
	struct ftp_ctl *k = arg;
	const struct ftp_req *req = ftp_rw_request(k->rw);
	struct sockaddr_storage src, dst;
	int i;

	/* The client may accept() a connection we made after its setup is
	 * gone: remember which it was for a while. */
	if (ftpdata_made(d, &src, &dst)) {
		struct made *m = &k->made[k->nmade++ % CTL_MADE];

		m->src = src;
		m->dst = dst;
		m->at_ms = loop_now_ms(k->loop);
	}

	for (i = 0; i < CTL_MAX_DATA; i++) {
		if (k->data[i] == d && !err && ftpdata_pump(d)) {
			struct data_link *l = link_pump(k, i, ftpdata_pump(d));

			if (k->passive == d)
				k->pasv_link = l;
		}
	}
	untrack(k, d);
	/* A converted active request waits for its pair to connect. */
	if (k->busy && req && req->kind == FTP_REQ_CONVERTED) {
		k->busy = 0;
		if (err)
			ftp_rw_request_failed(k->rw, err);
		else
			ftp_rw_active_ready(k->rw, NULL);
		ssh_sess_kick(k->s);
	} else if (k->busy && err) {
		/* A remote listener failed before it was bound. */
		k->busy = 0;
		ftp_rw_request_failed(k->rw, err);
	}
	/* Replies held for this connection may go now. */
	ssh_sess_kick(k->s);
}

/* A remote listener for the data connection is bound on the SSH server:
 * its address is what the rewritten reply or command names. */
static void data_bound(struct ftp_data *d, int port, void *arg)
{
	struct ftp_ctl *k = arg;
	const struct ftp_req *req = ftp_rw_request(k->rw);
	struct sockaddr_storage there;
	const char *host =
	    k->spec.host[0] && strchr(k->spec.host, ':') ? "::1" : "127.0.0.1";

	(void)d;
	if (!k->busy || !req)
		return;
	k->busy = 0;
	if (k->remote) {
		/* -R passive: the client sits on the SSH server's side. */
		addr_parse("127.0.0.1", (uint16_t)port, &there);
		ftp_rw_passive_ready(k->rw, (struct sockaddr *)&there);
	} else {
		/* -L active: the FTP server connects to the SSH server's
		 * loopback, which it shares with the SSH server. */
		addr_parse(host, (uint16_t)port, &there);
		ftp_rw_active_ready(k->rw, (struct sockaddr *)&there);
	}
	ssh_sess_kick(k->s);
}

/* The host of the server's data connection for a 227/229 answer, as text.
 * By default it is the control connection's server (the host the SSH
 * server's direct-tcpip reached for -L, the one we connected to for -R),
 * at the reply's port: a hostile server's 227 must not choose a host
 * inside the network we connect from, and servers behind NAT often put
 * their private address in it (curl and lftp ignore it too).
 * FtpPassiveAddress=reply takes a 227's address; a 229 names only a port,
 * and a 227 naming 0.0.0.0 means "my control address" either way. */
static void server_data_host(struct ftp_ctl *k, const struct ftp_req *req,
			     char *host, size_t hostlen)
{
	const struct sockaddr *t = (const struct sockaddr *)&req->target;
	struct sockaddr_in any = {.sin_family = AF_INET};

	if (k->passive_reply &&
	    (t->sa_family == AF_INET || t->sa_family == AF_INET6)) {
		if (!addr_same_host(t, (struct sockaddr *)&any)) {
			addr_host(t, host, hostlen);
			return;
		}
	}
	if (k->remote)
		addr_host((struct sockaddr *)&k->fd_peer, host, hostlen);
	else
		snprintf(host, hostlen, "%s", k->spec.host);
}

static uint16_t req_port(const struct sockaddr_storage *ss)
{
	const struct sockaddr *sa = (const struct sockaddr *)ss;

	if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)
		return addr_port(sa);
	/* AF_UNSPEC: the rewriter keeps the port of a 229 in sin6_port. */
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* A numeric address to connect to from here. */
static int local_addr_of(const char *host, uint16_t port,
			 struct sockaddr_storage *out)
{
	return addr_parse(host, port, out);
}

static void handle_request(struct ftp_ctl *k)
{
	const struct ftp_req *req = ftp_rw_request(k->rw);
	struct sockaddr_storage bound, listen_at, target;
	struct ftp_data *d = NULL;
	char host[256], name[120], err[300] = "";
	uint16_t port;

	if (!req || k->busy)
		return;
	if (ssh_sess_room(k->s) == 0) {
		/* Refused before anything is set up: the client gets a 425
		 * it can act on, and the server's side is never used. */
		ftp_rw_request_failed(k->rw,
				      "ftp-tunnel: the SSH connection carries "
				      "as many channels as MaxChannels allows; "
				      "try again later");
		return;
	}
	snprintf(name, sizeof(name), "%s data %lu", k->name, ++k->ndata);
	if (req->kind == FTP_REQ_PASSIVE) {
		server_data_host(k, req, host, sizeof(host));
		port = req_port(&req->target);
		k->pasv_link = NULL; /* a command will use the new one */
		/* A new PASV replaces a listener nobody used. untrack()
		 * clears k->passive, so hold on to it to release it. */
		if (k->passive && !ftpdata_connecting(k->passive)) {
			struct ftp_data *unused = k->passive;

			untrack(k, unused);
			ftpdata_cancel(unused);
		}
		if (!k->remote) {
			int loopback =
			    addr_is_loopback((struct sockaddr *)&k->fd_local);

			listen_at = k->fd_local;
			addr_set_port((struct sockaddr *)&listen_at, 0);
			d = ftpdata_listen_here(
			    k->s, (struct sockaddr *)&listen_at,
			    loopback ? FTPDATA_CHECK_UID : FTPDATA_CHECK_ADDR,
			    (struct sockaddr *)&k->fd_peer, host, port,
			    FTPDATA_OPEN_WITH_COMMAND, &bound, name, data_done,
			    k, err, sizeof(err));
			if (d && track(k, d, 0, 0) == 0) {
				k->passive = d;
				if (k->advertise.ss_family) {
					uint16_t p = addr_port(
					    (struct sockaddr *)&bound);

					bound = k->advertise;
					addr_set_port((struct sockaddr *)&bound,
						      p);
				}
				ftp_rw_passive_ready(k->rw,
						     (struct sockaddr *)&bound);
				return;
			}
		} else if (local_addr_of(host, port, &target) == 0) {
			d = ftpdata_listen_there(
			    k->s, "127.0.0.1", (struct sockaddr *)&target, name,
			    data_bound, data_done, k);
			if (d && track(k, d, 0, 0) == 0) {
				k->passive = d;
				k->busy = 1;
				return;
			}
		} else {
			snprintf(err, sizeof(err), "bad data address %s", host);
		}
	} else if (req->kind == FTP_REQ_ACTIVE) {
		if (k->active_mode == FTP_ACTIVE_CONVERT &&
		    ftp_rw_fell_back(k->rw)) {
			k->active_mode = FTP_ACTIVE_FORWARD;
			log_info("%s: the FTP server refused PASV/EPSV: active "
				 "mode falls back to forward (FtpActiveMode="
				 "auto), with a data listener on the %s",
				 k->name,
				 k->remote ? "local host" : "SSH server");
		}
		if (!k->remote) {
			d = ftpdata_listen_there(
			    k->s,
			    strchr(k->spec.host, ':') ? "::1" : "127.0.0.1",
			    (struct sockaddr *)&req->target, name, data_bound,
			    data_done, k);
			if (d && track(k, d, 1, 0) == 0) {
				k->busy = 1;
				return;
			}
		} else {
			/* -R active: the FTP server connects here. */
			listen_at = k->fd_local;
			addr_set_port((struct sockaddr *)&listen_at, 0);
			addr_host((struct sockaddr *)&req->target, host,
				  sizeof(host));
			d = ftpdata_listen_here(
			    k->s, (struct sockaddr *)&listen_at,
			    FTPDATA_CHECK_ADDR, (struct sockaddr *)&k->fd_peer,
			    host, addr_port((struct sockaddr *)&req->target),
			    FTPDATA_OPEN_NOW, &bound, name, data_done, k, err,
			    sizeof(err));
			if (d && track(k, d, 1, 0) == 0) {
				ftp_rw_active_ready(k->rw,
						    (struct sockaddr *)&bound);
				return;
			}
		}
	} else if (req->kind == FTP_REQ_CONVERTED) {
		server_data_host(k, req, host, sizeof(host));
		port = req_port(&req->target);
		if (!k->remote) {
			d = ftpdata_pair(k->s, host, port,
					 (struct sockaddr *)&req->client_target,
					 name, data_done, k);
		} else if (local_addr_of(host, port, &target) == 0) {
			char chost[64];

			addr_host((struct sockaddr *)&req->client_target, chost,
				  sizeof(chost));
			d = ftpdata_pair(
			    k->s, chost,
			    addr_port((struct sockaddr *)&req->client_target),
			    (struct sockaddr *)&target, name, data_done, k);
		}
		if (d && track(k, d, 1, 1) == 0) {
			k->busy = 1;
			return;
		}
	}
	if (d) {
		ftpdata_cancel(d);
		snprintf(err, sizeof(err), "too many data connections at once");
	}
	ftp_rw_request_failed(k->rw, err[0] ? err : "cannot set up a tunnel");
}

/* --- the control connection ------------------------------------------- */

static void destroy(struct ftp_ctl *k)
{
	int i;

	log_debug("%s: control connection closed (%llu bytes up, %llu down, "
		  "%lu PASV answered ahead)",
		  k->name, k->up, k->down, ftp_rw_passive_ahead_used(k->rw));
	if (k->done)
		k->done(k, k->done_arg);
	for (i = 0; i < CTL_MAX_DATA; i++)
		ftpdata_detach(k->data[i]);
	/* Running data connections may finish the transfer on their own. */
	while (k->links) {
		struct data_link *l = k->links;

		k->links = l->next;
		pump_set_done(l->p, NULL, NULL);
		free(l);
	}
	loop_unwatch(k->loop, k->fd);
	close(k->fd);
	ssh_chan_close(k->c);
	ftp_rw_free(k->rw);
	buf_release(&k->in[0]);
	buf_release(&k->in[1]);
	free(k);
}

/* Writes the rewriter's output for `to`. Returns 1 on progress, 0 when
 * blocked or empty, -1 on error. */
static int write_side(struct ftp_ctl *k, enum ftp_side to, int in_service)
{
	size_t len;
	const uint8_t *d = ftp_rw_output(k->rw, to, &len);
	ssize_t n;

	if (!len || (to == FTP_CLIENT && replies_held(k)))
		return 0;
	if (!side_is_chan(k, to)) {
		n = send(k->fd, d, len, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
	} else {
		if (!in_service)
			return 0;
		n = ssh_chan_write(k->c, (const char *)d, len);
		if (n == LIBSSH2_ERROR_EAGAIN)
			return 0;
		if (n < 0)
			return -1;
	}
	ftp_rw_consume(k->rw, to, (size_t)n);
	if (to == FTP_SERVER)
		k->up += (unsigned long long)n;
	else
		k->down += (unsigned long long)n;
	return 1;
}

/* Reads more from side `from` into its input buffer. 1 on progress. */
static int read_side(struct ftp_ctl *k, enum ftp_side from, int in_service)
{
	size_t room;
	uint8_t *dst;
	ssize_t n;

	if (k->eof[from])
		return 0;
	dst = buf_room(&k->in[from], &room);
	if (!room)
		return 0;
	if (!side_is_chan(k, from)) {
		n = recv(k->fd, dst, room, 0);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
	} else {
		if (!in_service)
			return 0;
		n = ssh_chan_read(k->c, (char *)dst, room);
		if (n == LIBSSH2_ERROR_EAGAIN)
			return 0;
		if (n < 0)
			return -1;
		/* The server's data connection may have come in just before
		 * these bytes: see it first (replies_held). */
		if (n > 0 && from == FTP_SERVER)
			ssh_sess_accept_queued(k->s);
	}
	if (n == 0) {
		log_debug("%s: %s closed the control connection", k->name,
			  from == FTP_CLIENT ? "client" : "server");
		k->eof[from] = 1;
		return 1;
	}
	buf_commit(&k->in[from], (size_t)n);
	return 1;
}

static void update(struct ftp_ctl *k)
{
	enum ftp_side fdside = k->remote ? FTP_SERVER : FTP_CLIENT;
	enum ftp_side chside = k->remote ? FTP_CLIENT : FTP_SERVER;
	size_t out_fd, out_ch;
	uint32_t ev = 0;

	ftp_rw_output(k->rw, fdside, &out_fd);
	ftp_rw_output(k->rw, chside, &out_ch);
	if (replies_held(k)) {
		/* Nothing for the client moves now: don't wait to write it. */
		if (fdside == FTP_CLIENT)
			out_fd = 0;
		else
			out_ch = 0;
	}
	if (!k->eof[fdside] && !buf_full(&k->in[fdside]) && !k->closing)
		ev |= EPOLLIN;
	if (out_fd)
		ev |= EPOLLOUT;
	if (ev != k->events) {
		loop_set_events(k->loop, k->fd, ev);
		k->events = ev;
	}
	ssh_chan_set_wants(k->c, out_ch || (!k->eof[chside] &&
					    !buf_full(&k->in[chside]) &&
					    !k->closing));
}

/* Runs the control connection as far as it goes. Returns -1 when it
 * ended and k was freed. */
static int ctl_run(struct ftp_ctl *k, int in_service)
{
	int progress = 1, rounds = 0, side;

	while (progress && rounds++ < 64) {
		progress = 0;
		for (side = 0; side < 2 && !k->closing; side++) {
			size_t len;
			const uint8_t *d = buf_peek(&k->in[side], &len);
			ssize_t n;

			if (!len)
				continue;
			n = ftp_rw_feed(k->rw, (enum ftp_side)side, d, len);
			if (n == FTP_RW_FATAL) {
				log_warn("%s: ending the FTP session (bad "
					 "control data from the %s)",
					 k->name,
					 side == FTP_CLIENT ? "client"
							    : "server");
				k->closing = 1;
				break;
			}
			if (n > 0) {
				buf_consume(&k->in[side], (size_t)n);
				progress = 1;
			}
			if (side == FTP_CLIENT)
				note_downloads(k);
		}
		if (!k->closing) {
			handle_request(k);
			open_with_command(k);
		}
		for (side = 0; side < 2; side++) {
			int rc = write_side(k, (enum ftp_side)side, in_service);

			if (rc < 0)
				goto gone;
			progress |= rc;
		}
		if (k->closing)
			continue;
		for (side = 0; side < 2; side++) {
			int rc = read_side(k, (enum ftp_side)side, in_service);

			if (rc < 0)
				goto gone;
			progress |= rc;
		}
		/* A side that closed, once its last bytes are fed, ends the
		 * session after the other side got what was for it. */
		for (side = 0; side < 2; side++)
			if (k->eof[side] && !buf_len(&k->in[side]) &&
			    !ftp_rw_request(k->rw))
				k->closing = 1;
	}
	/* A client's PASV answered from the PASV sent ahead raises its
	 * request in its turn, which may come as output is taken: never
	 * leave it waiting for the next event. */
	if (!k->closing && ftp_rw_request(k->rw))
		handle_request(k);
	if (k->closing) {
		size_t a, b;

		ftp_rw_output(k->rw, FTP_CLIENT, &a);
		ftp_rw_output(k->rw, FTP_SERVER, &b);
		if ((!a || k->eof[FTP_CLIENT]) && (!b || k->eof[FTP_SERVER]))
			goto gone;
		if (!in_service)
			ssh_sess_kick(k->s);
	}
	update(k);
	return 0;
gone:
	destroy(k);
	return -1;
}

static int ctl_service(struct ssh_chan *c, void *arg)
{
	(void)c;
	ctl_run(arg, 1);
	/* The control connection moves few bytes: one run is enough. */
	return 0;
}

static void ctl_lost(struct ssh_chan *c, void *arg)
{
	struct ftp_ctl *k = arg;
	static const char msg[] = "421 ftp-tunnel: the SSH connection to the "
				  "server was lost.\r\n";

	(void)c;
	/* Tell an FTP client on the socket side why it is cut off. */
	if (!k->remote)
		(void)!send(k->fd, msg, sizeof(msg) - 1,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
	destroy(k);
}

static void ctl_io_cb(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct ftp_ctl *k = arg;
	struct ssh_sess *s = k->s;

	(void)loop;
	(void)fd;
	(void)events;
	ctl_run(k, 0);
	/* Whatever is for the channel side goes out from the session. */
	ssh_sess_kick(s);
}

static int is_loopback_name(const char *host)
{
	struct sockaddr_storage a;

	if (!strcasecmp(host, "localhost"))
		return 1;
	return addr_parse(host, 0, &a) == 0 &&
	       addr_is_loopback((struct sockaddr *)&a);
}

struct ftp_ctl *ftpfwd_control_new(struct ssh_sess *s, LIBSSH2_CHANNEL *ch,
				   int fd, const struct fwd_spec *spec,
				   int active_mode, int passive_reply,
				   int passive_ahead,
				   const struct sockaddr *advertise,
				   const char *name)
{
	struct ftp_ctl *k = calloc(1, sizeof(*k));
	struct ftp_rw_config cfg;
	socklen_t len;

	if (!k)
		goto fail;
	k->s = s;
	k->loop = ssh_sess_loop(s);
	k->started_ms = loop_now_ms(k->loop);
	k->fd = fd;
	k->remote = spec->remote;
	k->spec = *spec;
	k->passive_reply = passive_reply;
	snprintf(k->name, sizeof(k->name), "%s", name);
	/* RFC 959 §4.1.3: before ABOR a client sends IAC IP, then IAC DM as
	 * TCP urgent data. An SSH channel cannot carry urgency, but without
	 * SO_OOBINLINE the urgent byte would not be read at all and the peer
	 * would get "IAC IP IAC ABOR": keep it in the stream. */
	setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &(int){1}, sizeof(int));
	len = sizeof(k->fd_local);
	getsockname(fd, (struct sockaddr *)&k->fd_local, &len);
	len = sizeof(k->fd_peer);
	getpeername(fd, (struct sockaddr *)&k->fd_peer, &len);
	if (advertise)
		memcpy(&k->advertise, advertise, addr_len(advertise));

	memset(&cfg, 0, sizeof(cfg));
	if (active_mode == FWD_ACTIVE_AUTO) {
		/* Converted: the data connection is made from here and from
		 * the SSH server, and no listener waits for whoever comes
		 * first. Forward mode is the fallback for a server that
		 * refuses PASV/EPSV, where it can work: a -L server on the
		 * SSH server's loopback (a PORT names that loopback), or a
		 * -R server (a PORT names us, its control peer). */
		active_mode = FTP_ACTIVE_CONVERT;
		cfg.active_fallback = k->remote || is_loopback_name(spec->host);
	}
	k->active_mode = (enum ftp_active_mode)active_mode;

	if (!k->remote) {
		cfg.client_addr = k->fd_peer;
		cfg.server_family =
		    strchr(spec->host, ':') ? AF_INET6 : AF_INET;
	} else {
		/* The client reached the SSH server's loopback listener. */
		addr_parse("127.0.0.1", 0, &cfg.client_addr);
		cfg.server_family = k->fd_peer.ss_family;
	}
	cfg.active_mode = k->active_mode;
	cfg.passive_ahead = passive_ahead;
	k->rw = ftp_rw_new(&cfg);
	if (!k->rw || buf_init(&k->in[0], CTL_INBUF) < 0 ||
	    buf_init(&k->in[1], CTL_INBUF) < 0)
		goto fail;
	k->c = ssh_chan_attach(s, ch, &ctl_ops, k, name);
	if (!k->c)
		goto fail;
	if (loop_watch(k->loop, fd, EPOLLIN, ctl_io_cb, k) < 0) {
		k->fd = -1;
		close(fd);
		destroy(k);
		return NULL;
	}
	k->events = EPOLLIN;
	log_debug("%s: FTP control connection (%s tunnel, active mode %s)",
		  name, k->remote ? "remote" : "local",
		  k->active_mode == FTP_ACTIVE_FORWARD ? "forward"
		  : cfg.active_fallback		       ? "convert, else forward"
						       : "convert");
	update(k);
	return k;
fail:
	if (k) {
		ftp_rw_free(k->rw);
		buf_release(&k->in[0]);
		buf_release(&k->in[1]);
		free(k);
	}
	close(fd);
	ssh_chan_discard(s, ch);
	return NULL;
}

void ftpfwd_control_set_done(struct ftp_ctl *k, ftpfwd_done_cb cb, void *arg)
{
	k->done = cb;
	k->done_arg = arg;
}

void ftpfwd_control_info(const struct ftp_ctl *k, struct ftpfwd_info *out)
{
	const struct data_link *l;

	out->started_ms = k->started_ms;
	out->up = k->up;
	out->down = k->down;
	out->ndata = 0;
	for (l = k->links; l; l = l->next)
		out->ndata++;
}

int ftpfwd_data_info(const struct ftp_ctl *k, int i,
		     struct ftpfwd_data_info *out)
{
	const struct data_link *l = k->links;

	while (l && i-- > 0)
		l = l->next;
	if (!l)
		return -1;
	*out = l->info;
	pump_counts(l->p, &out->up, &out->down);
	if (k->remote) {
		/* The pump's "up" is socket to channel: here the server. */
		unsigned long long t = out->up;

		out->up = out->down;
		out->down = t;
	}
	return 0;
}

int ftpfwd_data_adopt(struct ftp_ctl *k, uint16_t port, int fd)
{
	int i;

	if (k->remote)
		return -1;
	for (i = 0; i < CTL_MAX_DATA; i++)
		if (k->data[i] && !k->data_kind[i].active &&
		    ftpdata_adopt(k->data[i], port, fd) == 0)
			return 0;
	return -1;
}

int ftpfwd_data_made(const struct ftp_ctl *k, const struct sockaddr *src,
		     const struct sockaddr *dst)
{
	struct sockaddr_storage a, b;
	uint64_t now = loop_now_ms(k->loop);
	int i;

	if (k->remote)
		return 0;
	for (i = 0; i < CTL_MAX_DATA; i++)
		if (k->data[i] && k->data_kind[i].active &&
		    ftpdata_made(k->data[i], &a, &b) &&
		    addr_same_conn(src, dst, &a, &b))
			return 1;
	for (i = 0; i < CTL_MADE; i++)
		if (k->made[i].at_ms && now - k->made[i].at_ms < CTL_MADE_MS &&
		    addr_same_conn(src, dst, &k->made[i].src, &k->made[i].dst))
			return 1;
	return 0;
}

void ftpfwd_control_close(struct ftp_ctl *k, const char *reply_421)
{
	struct data_link *l;

	if (!k->remote && reply_421)
		(void)!send(k->fd, reply_421, strlen(reply_421),
			    MSG_NOSIGNAL | MSG_DONTWAIT);
	/* Cut the transfers too: the tunnel is going away. */
	while ((l = k->links)) {
		k->links = l->next;
		pump_set_done(l->p, NULL, NULL);
		pump_abort(l->p);
		free(l);
	}
	destroy(k);
}

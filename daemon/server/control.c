/* control.c — the list of FTP control connections on each pooled SSH
 * connection (see control.h), kept in the connection's connpool_data. */
#include "control.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"

static struct control **controls_of(struct pool_conn *pc)
{
	return (struct control **)connpool_data(pc);
}

struct control *control_list(struct pool_conn *pc)
{
	return *controls_of(pc);
}

/* The connection closes: its FTP clients learn why, as from a server
 * shutting down (RFC 959: 421 closes the control connection). */
void control_closing(struct pool_conn *pc, int stopping, void *arg)
{
	struct control **controls = controls_of(pc);
	unsigned long n = 0;
	struct control *c;

	(void)arg;
	for (c = *controls; c; c = c->next)
		n++;
	if (n)
		log_info("sess %s: closing %lu FTP control connection(s)",
			 ssh_sess_name(connpool_sess(pc)), n);
	while (*controls) {
		const char *why = stopping ? "421 ftp-tunnel: the tunnel "
					     "daemon is stopping."
					   : "421 ftp-tunnel: the SSH "
					     "connection is closing.";
		char line[80];

		if ((*controls)->f) {
			/* ftpsrv adds its own line end. */
			ftpsrv_close((*controls)->f, why);
			continue;
		}
		snprintf(line, sizeof(line), "%s\r\n", why);
		ftpfwd_control_close((*controls)->k, line);
	}
}

static void control_unlist(struct control *c)
{
	struct control **pp;

	for (pp = controls_of(c->pc); *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	connpool_job_done(c->pc);
	free(c);
}

static void control_done(struct ftp_ctl *k, void *arg)
{
	(void)k;
	control_unlist(arg);
}

static void sftp_done(struct ftpsrv *f, void *arg)
{
	(void)f;
	control_unlist(arg);
}

void control_add(struct pool_conn *pc, struct ftp_ctl *k, unsigned long id,
		 const struct sockaddr *dst, const char *ftphost, unsigned port)
{
	struct control *c = calloc(1, sizeof(*c));

	if (!c) {
		ftpfwd_control_close(k, "421 ftp-tunnel: out of memory.\r\n");
		connpool_job_done(pc);
		return;
	}
	c->pc = pc;
	c->k = k;
	c->id = id;
	addr_format(dst, c->dst, sizeof(c->dst));
	memcpy(&c->dst_sa, dst, addr_len(dst));
	snprintf(c->ftp, sizeof(c->ftp),
		 strchr(ftphost, ':') ? "[%s]:%u" : "%s:%u", ftphost, port);
	c->next = *controls_of(pc);
	*controls_of(pc) = c;
	ftpfwd_control_set_done(k, control_done, c);
}

void control_add_sftp(struct pool_conn *pc, int fd, unsigned long id,
		      const struct sockaddr *dst, const char *name)
{
	struct ssh_sess *s = connpool_sess(pc);
	struct ftpsrv_opts o = {
	    .start_dir = "", .peer_uid = getuid(), .pasv_addr = dst};
	struct control *c = calloc(1, sizeof(*c));

	if (!c) {
		close(fd);
		connpool_job_done(pc);
		return;
	}
	c->pc = pc;
	c->id = id;
	addr_format(dst, c->dst, sizeof(c->dst));
	memcpy(&c->dst_sa, dst, addr_len(dst));
	snprintf(c->ftp, sizeof(c->ftp), "sftp:%s", ssh_sess_name(s));
	/* Listed before the session starts: its end (sftp_done) unlists it. */
	c->next = *controls_of(pc);
	*controls_of(pc) = c;
	c->f = ftpsrv_new(ssh_sess_loop(s), s, fd, &o, name, sftp_done, c);
	if (!c->f) {
		log_warn("%s: cannot start the FTP session", name);
		control_unlist(c);
	}
}

/* main_cli.c — ftp-tunnel: foreground tunnels, in sshg3/OpenSSH syntax. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fwd.h"
#include "ftp.h"
#include "ipc.h"
#include "log.h"
#include "spec.h"
#include "ssh.h"
#include "status_cli.h"

#define MAX_TUNNELS 64

struct cli {
	struct loop *loop;
	struct ssh_sess *sess;
	struct ssh_opts opts;
	struct fwd_spec specs[MAX_TUNNELS];
	struct tunnel *tunnels[MAX_TUNNELS];
	int ntunnels;
	int pending; /* tunnels not yet up */
	int ready_fd;
	int exit_code;
	int check; /* --check: connect, authenticate, exit */
	struct tunnel_opts topts;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ftp-tunnel [-vqNT] [-p port] [-l user] [-i identity_file]"
		"\n"
		"                  [-o option=value] [--ready-fd N]\n"
		"                  -L [ftp/][bind_address:]port:host:hostport "
		"| -R [ftp/][bind_address:]port:host:hostport\n"
		"                  [user@]host[:port]\n"
		"       ftp-tunnel --check [options] [user@]host[:port]\n"
		"       ftp-tunnel status [--json] | stop\n"
		"Options come before the destination. See ftp-tunnel(1).\n");
}

static void fatal(struct cli *c, int code, const char *msg)
{
	log_err("%s", msg);
	c->exit_code = code;
	loop_stop(c->loop);
}

static void tunnel_up(struct tunnel *t, const char *err, void *arg)
{
	struct cli *c = arg;

	if (err) {
		char msg[1200];

		snprintf(msg, sizeof(msg), "%s: %s", tunnel_name(t), err);
		fatal(c, 1, msg);
		return;
	}
	log_info("tunnel %s: up", tunnel_name(t));
	if (--c->pending == 0) {
		log_info("all tunnels up");
		if (c->ready_fd >= 0) {
			char line[64];
			int i, n;

			/* One line per remote tunnel with port 0, then READY. */
			for (i = 0; i < c->ntunnels; i++) {
				if (!c->specs[i].remote || c->specs[i].port)
					continue;
				n = snprintf(line, sizeof(line), "PORT %d\n",
					     tunnel_bound_port(c->tunnels[i]));
				if (write(c->ready_fd, line, (size_t)n) < 0)
					break;
			}
			if (write(c->ready_fd, "READY\n", 6) < 0)
				log_debug("ready fd: %s", strerror(errno));
			close(c->ready_fd);
			c->ready_fd = -1;
		}
	}
}

static void sess_event(struct ssh_sess *s, enum ssh_event ev, const char *msg,
		       void *arg)
{
	struct cli *c = arg;
	int i;

	(void)s;
	switch (ev) {
	case SSH_EV_READY:
		if (c->check) {
			c->exit_code = 0;
			loop_stop(c->loop);
			break;
		}
		c->pending = c->ntunnels;
		for (i = 0; i < c->ntunnels; i++)
			tunnel_start(c->tunnels[i]);
		break;
	case SSH_EV_FAILED:
		fatal(c, 255, msg);
		break;
	case SSH_EV_CLOSED:
		fatal(c, 255, msg);
		break;
	}
}

static void signal_cb(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;
	struct cli *c = arg;

	(void)events;
	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGUSR1) {
		ssh_sess_dump(c->sess);
		return;
	}
	log_info("signal %u: stopping", si.ssi_signo);
	c->exit_code = 0;
	loop_stop(loop);
}

static int parse_active_mode(const char *v)
{
	if (!strcasecmp(v, "forward"))
		return FTP_ACTIVE_FORWARD;
	if (!strcasecmp(v, "passive") || !strcasecmp(v, "convert"))
		return FTP_ACTIVE_CONVERT;
	if (!strcasecmp(v, "auto"))
		return FWD_ACTIVE_AUTO;
	return -2;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"ready-fd", required_argument, NULL, 'r'},
	    {"check", no_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	struct cli c = {.ready_fd = -1, .exit_code = 0};
	char err[1024];
	int verbosity = LOG_LVL_WARN, opt, i, sfd;
	sigset_t mask;
	struct passwd *pw;

	if (status_cli_wanted(argc, argv))
		return status_cli_main(argc, argv);
	ssh_opts_init(&c.opts);
	c.topts.ftp_active_mode = FWD_ACTIVE_AUTO;
	log_set_prefix("ftp-tunnel");
	while ((opt = getopt_long(argc, argv, "+vp:l:i:o:L:R:NqhT", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'v':
			verbosity++;
			break;
		case 'q':
			verbosity = LOG_LVL_ERR;
			break;
		case 'p':
			snprintf(err, sizeof(err), "Port=%s", optarg);
			goto setopt;
		case 'l':
			snprintf(err, sizeof(err), "User=%s", optarg);
			goto setopt;
		case 'i':
			snprintf(err, sizeof(err), "IdentityFile=%s", optarg);
			goto setopt;
		case 'o':
			if (!strncasecmp(optarg, "FtpActiveMode", 13) &&
			    strchr("= \t", optarg[13]) && optarg[13]) {
				const char *v = optarg + 13;
				int m;

				v += strspn(v, " \t");
				v += *v == '=';
				v += strspn(v, " \t");
				m = parse_active_mode(v);
				if (m == -2) {
					log_err("bad value for FtpActiveMode "
						"'%s' (forward, passive, "
						"convert or auto)",
						v);
					return 2;
				}
				c.topts.ftp_active_mode = m;
				break;
			}
			snprintf(err, sizeof(err), "%s", optarg);
		setopt: {
			char msg[512], kv[1024];

			snprintf(kv, sizeof(kv), "%s", err);
			if (ssh_opts_set(&c.opts, kv, msg, sizeof(msg)) < 0) {
				log_err("%s", msg);
				return 2;
			}
			break;
		}
		case 'L':
		case 'R':
			if (c.ntunnels >= MAX_TUNNELS) {
				log_err("too many forwards (at most %d)",
					MAX_TUNNELS);
				return 2;
			}
			if (spec_parse_forward(optarg, opt == 'R',
					       &c.specs[c.ntunnels], err,
					       sizeof(err)) < 0) {
				log_err("%s", err);
				return 2;
			}
			c.ntunnels++;
			break;
		case 'r': {
			char *end;
			long fd = strtol(optarg, &end, 10);

			if (*end || fd < 0 || fd > 1024 ||
			    fcntl((int)fd, F_GETFD) < 0) {
				log_err("--ready-fd %s: not an open file "
					"descriptor",
					optarg);
				return 2;
			}
			c.ready_fd = (int)fd;
			break;
		}
		case 'c':
			/* ftp-tunnel-wrap on a terminal: settle the host key
			 * with the user now, and check that a daemon (which
			 * has no terminal) will be able to log in. */
			c.check = 1;
			c.opts.no_auth_prompt = 1;
			break;
		case 'N':
		case 'T':
			break; /* ssh compatibility: we never run commands */
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	log_set_level(verbosity);
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	if (spec_parse_dest(argv[optind], c.opts.user, sizeof(c.opts.user),
			    c.opts.host, sizeof(c.opts.host),
			    &c.opts.port) < 0) {
		log_err("bad destination '%s' (expected [user@]host[:port])",
			argv[optind]);
		return 2;
	}
	if (!c.ntunnels && !c.check) {
		log_err("no tunnel given: use -L or -R (see ftp-tunnel(1))");
		return 2;
	}
	if (!c.opts.user[0]) {
		pw = getpwuid(getuid());
		snprintf(c.opts.user, sizeof(c.opts.user), "%s",
			 pw ? pw->pw_name : "root");
	}
	signal(SIGPIPE, SIG_IGN);
	c.loop = loop_new();
	if (!c.loop) {
		log_err("cannot create event loop: %s", strerror(errno));
		return 1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sfd = loop_watch_signals(c.loop, &mask, signal_cb, &c);
	if (sfd < 0) {
		log_err("cannot watch signals: %s", strerror(-sfd));
		return 1;
	}
	/* Local listeners first: a port in use is an error before we
	 * connect anywhere. The session is created right after. */
	c.sess = ssh_sess_new(c.loop, &c.opts, sess_event, &c);
	if (!c.sess) {
		log_err("out of memory");
		return 1;
	}
	for (i = 0; i < c.ntunnels; i++) {
		c.tunnels[i] = tunnel_new(c.loop, c.sess, &c.specs[i], &c.topts,
					  tunnel_up, &c, err, sizeof(err));
		if (!c.tunnels[i]) {
			log_err("%s", err);
			c.exit_code = 1;
			goto out;
		}
	}
	if (c.exit_code == 0)
		loop_run(c.loop);
out:
	for (i = 0; i < c.ntunnels; i++)
		tunnel_free(c.tunnels[i]);
	ssh_sess_free(c.sess);
	loop_unwatch(c.loop, sfd);
	close(sfd);
	loop_free(c.loop);
	ssh_opts_release(&c.opts);
	return c.exit_code;
}

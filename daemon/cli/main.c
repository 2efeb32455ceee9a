/* main.c — ftp-tunnel: foreground tunnels, in sshg3/OpenSSH syntax: the
 * command line, profiles and settings; the run is fgrun.c's. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confload.h"
#include "fgrun.h"
#include "hold.h"
#include "ftpopts.h"
#include "import_tectia.h"
#include "ipc.h"
#include "log.h"
#include "mem.h"
#include "spec.h"
#include "ssh.h"
#include "sshconfig.h"
#include "status.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ftp-tunnel [-vqNT] [-F config] [-p port] [-l user]\n"
		"                  [-i identity_file] [-J destination]"
		"\n"
		"                  [-o option=value] [--ready-fd N]\n"
		"                  -L [ftp/][bind_address:]port:host:hostport "
		"| -R [ftp/][bind_address:]port:host:hostport\n"
		"                  | -L sftp/[bind_address:]port[:directory]\n"
		"                  [user@]host[:port]\n"
		"       ftp-tunnel [options] [-L ...] [-R ...] PROFILE\n"
		"       ftp-tunnel -f [options] ... PROFILE|destination   "
		"(the daemon holds the tunnels)\n"
		"       ftp-tunnel release PROFILE|destination\n"
		"       ftp-tunnel --check [options] [user@]host[:port]\n"
		"       ftp-tunnel status [--json]\n"
		"       ftp-tunnel stop [PID|NAME]\n"
		"       ftp-tunnel import-tectia FILE\n"
		"Options come before the destination. See ftp-tunnel(1).\n");
}

/* argv as one line, for the report (cut when long). */
static void join_args(char *out, size_t len, int argc, char **argv)
{
	size_t used = 0;
	int i, n;

	out[0] = '\0';
	for (i = 0; i < argc && used < len; i++) {
		n = snprintf(out + used, len - used, "%s%s", i ? " " : "",
			     argv[i]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* One "Key=Value" setting: FtpActiveMode, FtpPassiveAddress and
 * FtpPassiveAhead are the tunnels', the rest the session's. 0, or -1 with the
 * message logged. */
static int set_option(struct cli *c, const char *kv)
{
	char msg[512];
	int rc;

	if (c->hold_req && ipc_add(c->hold_req, "option", kv) < 0) {
		log_err("too many settings for the daemon");
		return -1;
	}
	rc = ftpopts_set(&c->topts, kv, msg, sizeof(msg));
	if (rc < 0) {
		log_err("%s", msg);
		return -1;
	}
	if (rc == 0)
		return 0;
	if (ssh_opts_set(&c->opts, kv, msg, sizeof(msg)) < 0) {
		log_err("%s", msg);
		return -1;
	}
	return 0;
}

static int add_tunnel(struct cli *c, const char *spec, int remote)
{
	char err[1024];

	if (c->ntunnels >= MAX_TUNNELS) {
		log_err("too many forwards (at most %d)", MAX_TUNNELS);
		return -1;
	}
	if (spec_parse_forward(spec, remote, &c->specs[c->ntunnels], err,
			       sizeof(err)) < 0) {
		log_err("%s", err);
		return -1;
	}
	snprintf(c->spec_text[c->ntunnels], sizeof(c->spec_text[0]), "%s",
		 spec);
	c->ntunnels++;
	return 0;
}

/* A destination that names a profile: its server and settings first (the
 * command line's options then override them), its tunnels before the
 * command line's. 1 when dest is a profile, 0 when not, -1 on error. */
static int use_profile(struct cli *c, const char *config, const char *dest)
{
	struct conf conf;
	struct profile *p;
	char err[700], line[700];
	const char *o, *host;
	int found, i, rc = -1;
	static struct fwd_spec cli_specs[MAX_TUNNELS];
	static char cli_text[MAX_TUNNELS][PROFILE_SPEC_MAX];
	int ncli = c->ntunnels;

	conf_init(&conf);
	p = malloc(sizeof(*p));
	if (!p) {
		log_err("out of memory");
		return -1;
	}
	if (confload_files(&conf, config, err, sizeof(err)) < 0) {
		log_err("%s", err);
		goto out;
	}
	/* user@host, host:port and [v6] are never profile names. */
	found = strpbrk(dest, "@:[")
		    ? 0
		    : confload_profile(&conf, dest, p, err, sizeof(err));
	if (found <= 0) {
		if (found < 0)
			log_err("%s", err);
		rc = found;
		goto out;
	}
	log_info("profile %s (%s:%d)", p->name, p->file, p->line);
	host = p->host[0] ? p->host : p->name;
	snprintf(line, sizeof(line), strchr(host, ':') ? "[%s]" : "%s", host);
	if (ssh_opts_set_dest(&c->opts, line) < 0) {
		log_err("profile %s (%s:%d): bad host '%s'", p->name, p->file,
			p->line, host);
		goto out;
	}
	if (c->hold_req)
		ipc_add(c->hold_req, "dest", line);
	if (p->user[0]) {
		snprintf(line, sizeof(line), "User=%s", p->user);
		if (set_option(c, line) < 0)
			goto out;
	}
	if (p->port) {
		snprintf(line, sizeof(line), "Port=%u", p->port);
		if (set_option(c, line) < 0)
			goto out;
	}
	for (o = p->options; *o;) {
		size_t len = strcspn(o, "\n");

		if (len >= sizeof(line)) {
			log_err("profile %s (%s:%d): a setting is too long",
				p->name, p->file, p->line);
			goto out;
		}
		memcpy(line, o, len);
		line[len] = '\0';
		o += len + (o[len] == '\n');
		if (set_option(c, line) < 0) {
			log_err("in profile %s (%s:%d)", p->name, p->file,
				p->line);
			goto out;
		}
	}
	memcpy(cli_specs, c->specs, sizeof(c->specs[0]) * (size_t)ncli);
	memcpy(cli_text, c->spec_text, sizeof(c->spec_text[0]) * (size_t)ncli);
	c->ntunnels = 0;
	for (i = 0; i < p->ntunnels; i++) {
		if (add_tunnel(c, p->tunnels[i].spec, p->tunnels[i].remote) <
		    0) {
			log_err("in profile %s (%s:%d)", p->name, p->file,
				p->tunnels[i].line);
			goto out;
		}
	}
	for (i = 0; i < ncli; i++) {
		if (c->ntunnels >= MAX_TUNNELS) {
			log_err("too many forwards (at most %d)", MAX_TUNNELS);
			goto out;
		}
		memcpy(c->spec_text[c->ntunnels], cli_text[i],
		       sizeof(cli_text[i]));
		c->specs[c->ntunnels++] = cli_specs[i];
	}
	rc = 1;
out:
	free(p);
	conf_free(&conf);
	return rc;
}

/* Reads the command line into c (options, tunnels, --check, -f), *config
 * (-F) and the log level; the destination is argv[optind]. Returns -1 to
 * go on, or the status to exit with (0 after --help, 2 for a usage
 * error). */
static int parse_args(struct cli *c, int argc, char **argv, const char **config)
{
	static const struct option longopts[] = {
	    {"ready-fd", required_argument, NULL, 'r'},
	    {"check", no_argument, NULL, 'c'},
	    {"check-sftp", no_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	int verbosity = LOG_LVL_WARN, opt;

	while ((opt = getopt_long(argc, argv, "+vp:l:i:o:F:J:L:R:NqhTf",
				  longopts, NULL)) != -1) {
		switch (opt) {
		case 'v':
			verbosity++;
			break;
		case 'q':
			verbosity = LOG_LVL_ERR;
			break;
		case 'p':
		case 'l':
		case 'i':
		case 'o':
		case 'J':
			if (c->ncli_options == MAX_CLI_OPTIONS) {
				log_err("too many options (at most %d)",
					MAX_CLI_OPTIONS);
				return 2;
			}
			c->cli_options[c->ncli_options].key =
			    opt == 'p'	 ? "Port="
			    : opt == 'l' ? "User="
			    : opt == 'i' ? "IdentityFile="
			    : opt == 'J' ? "ProxyJump="
					 : "";
			c->cli_options[c->ncli_options].arg = optarg;
			c->ncli_options++;
			break;
		case 'F':
			*config = optarg;
			break;
		case 'f':
			c->hold = 1;
			break;
		case 'L':
		case 'R':
			if (add_tunnel(c, optarg, opt == 'R') < 0)
				return 2;
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
			c->ready_fd = (int)fd;
			break;
		}
		case 'S':
			c->check_sftp = 1;
			/* fall through */
		case 'c':
			/* ftp-tunnel-wrap on a terminal: settle the host key
			 * with the user now, and check that a daemon (which
			 * has no terminal) will be able to log in. */
			c->check = 1;
			c->opts.no_auth_prompt = 1;
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
	return -1;
}

/* Settles what to connect to and how for dest: a profile's server,
 * settings and tunnels, the command line's options over them, then
 * ~/.ssh/config's under both. With -f, fills the daemon's HOLD request
 * too. Returns -1 to go on, or the status to exit with. */
/* Some tunnel is an sftp/ one. */
static int any_sftp(const struct cli *c)
{
	int i;

	for (i = 0; i < c->ntunnels; i++)
		if (c->specs[i].sftp)
			return 1;
	return 0;
}

static int resolve_settings(struct cli *c, const char *config, const char *dest)
{
	char err[1024];
	int i, profile, login_unset;

	if (c->hold) {
		static struct ipc_msg hold_req;

		ipc_init(&hold_req, "HOLD");
		c->hold_req = &hold_req;
	}
	profile = use_profile(c, config, dest);
	c->name = dest;
	c->profile = profile > 0;
	if (profile < 0)
		return 2;
	/* The command line's options win over a profile's; a -o HostName
	 * before the destination makes the destination its alias. */
	for (i = 0; i < c->ncli_options; i++) {
		char kv[1200];

		snprintf(kv, sizeof(kv), "%s%s", c->cli_options[i].key,
			 c->cli_options[i].arg);
		if (set_option(c, kv) < 0) {
			ssh_opts_release(&c->opts);
			return 2;
		}
	}
	c->ncli_options = 0;
	if (!profile && c->hold_req)
		ipc_add(c->hold_req, "dest", dest);
	if (!profile && ssh_opts_set_dest(&c->opts, dest) < 0) {
		log_err("bad destination '%s' (expected [user@]host[:port] "
			"or a profile's name)",
			dest);
		return 2;
	}
	if (!c->ntunnels && !c->check) {
		if (profile)
			log_err("profile %s has no tunnels: add LocalForward "
				"or RemoteForward to it, or give -L or -R",
				dest);
		else
			log_err("no tunnel given: use -L or -R, or name a "
				"profile (see ftp-tunnel(1))");
		return 2;
	}
	/* ~/.ssh/config and /etc/ssh/ssh_config fill in what the command
	 * line left unset; the defaults come after them. */
	if (sshconfig_load(&c->opts, err, sizeof(err)) < 0) {
		log_err("%s", err);
		ssh_opts_release(&c->opts);
		return 255;
	}
	/* Now that every source of a User has had its say. */
	login_unset = c->topts.sftp_login_ftp < 0;
	ftpopts_settle(&c->topts, &c->opts);
	if (c->hold_req && any_sftp(c) && c->topts.sftp_login_ftp) {
		if (login_unset)
			log_err(
			    "sftp/ without an SSH user means SftpLogin=ftp, "
			    "which is for ftp-tunnel in the foreground: "
			    "give user@host or -o SftpLogin=tunnel to "
			    "hold it");
		else
			log_err("SftpLogin=ftp is for ftp-tunnel in the "
				"foreground: the daemon does not hold such "
				"tunnels");
		ssh_opts_release(&c->opts);
		return 2;
	}
	if (login_unset && any_sftp(c))
		log_info("sftp/: %s, so %s (-o SftpLogin= chooses)",
			 c->topts.sftp_login_ftp ? "no SSH user given"
						 : "an SSH user given",
			 c->topts.sftp_login_ftp
			     ? "each FTP login is its own SSH login (ftp)"
			     : "ftp-tunnel's own login serves every FTP login "
			       "(tunnel)");
	if (c->check_sftp && c->topts.sftp_login_ftp) {
		log_info("SftpLogin=ftp: each FTP login is its own SSH login; "
			 "nothing to check");
		ssh_opts_release(&c->opts);
		return 0;
	}
	return -1;
}

/* -f: hands the tunnels to the daemon instead of running them. Returns
 * the status to exit with. */
static int send_hold(struct cli *c, const char *dest)
{
	int i;

	/* The daemon reads the same settings again (and ssh_config
	 * for itself); the checks above caught what is malformed. */
	ipc_add(c->hold_req, "name", dest);
	for (i = 0; i < c->ntunnels; i++)
		ipc_add(c->hold_req, c->specs[i].remote ? "remote" : "local",
			c->spec_text[i]);
	ssh_opts_release(&c->opts);
	return hold_send(c->hold_req, dest);
}

int main(int argc, char **argv)
{
	struct cli c = {.ready_fd = -1, .exit_code = 0};
	const char *config = NULL;
	int rc;

	if (argc >= 2 && !strcmp(argv[1], "import-tectia"))
		return import_tectia_main(argc - 1, argv + 1);
	if (status_cli_wanted(argc, argv))
		return status_cli_main(argc, argv);
	if (argc == 3 && !strcmp(argv[1], "release"))
		return hold_release(argv[2]);
	mem_setup();
	ssh_opts_init(&c.opts);
	ftpopts_init(&c.topts);
	log_set_prefix("ftp-tunnel");
	rc = parse_args(&c, argc, argv, &config);
	if (rc < 0)
		rc = resolve_settings(&c, config, argv[optind]);
	if (rc >= 0)
		return rc;
	if (c.hold_req)
		return send_hold(&c, argv[optind]);
	join_args(c.command, sizeof(c.command), argc, argv);
	return fgrun(&c);
}

/* wrap.c — ftp-tunnel-wrap: runs one command with libftptunnel.so
 * preloaded and its FTP connections routed through an SSH server, after
 * making sure the per-user daemon runs. */
#define _GNU_SOURCE
#include "shim.h"

#include "conffile.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch.h"

/* Exit statuses, as env(1): its own failure, command not executable,
 * command not found; and 2 for a usage error. */
#define EXIT_FAIL 125
#define EXIT_CANNOT 126
#define EXIT_NOTFOUND 127
#define EXIT_USAGE 2

#define SHIM_NAME "libftptunnel.so"

static const char usage_text[] =
    "usage: ftp-tunnel-wrap [--sftp] [--via [user@]host[:port]] [--ports "
    "LIST]\n"
    "                       [-F config] [-i identity_file] [-J jump_hosts]\n"
    "                       [-o Key=Value]...\n"
    "                       [--] COMMAND [ARGS...]\n"
    "Runs COMMAND with libftptunnel.so preloaded: its connections to FTP\n"
    "ports (21, or LIST such as 21,2121) go through the SSH server given\n"
    "by --via (or FTP_TUNNEL_VIA), control and data channels alike;\n"
    "without --via, the Route blocks of the configuration decide.\n"
    "  --sftp      the daemon answers those FTP connections itself, from\n"
    "              the SSH server's SFTP: nothing goes to an FTP port;\n"
    "              without --via the SSH server is the host dialed (port 22)\n"
    "  -F FILE     the configuration file (FTP_TUNNEL_CONFIG=FILE)\n"
    "  -i FILE     SSH identity (IdentityFile=FILE)\n"
    "  -J LIST     jump hosts [user@]host[:port],... on the way to --via's\n"
    "              server (ProxyJump=LIST)\n"
    "  -o OPTION   an SSH option Key=Value, as for ssh -o (repeatable)\n";

static void die(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

static void die(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("ftp-tunnel-wrap: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

/* Appends line to the newline-separated list in buf. */
static void add_line(char *buf, size_t size, const char *line)
{
	size_t n = strlen(buf);

	if (n + strlen(line) + 2 > size)
		die(EXIT_USAGE, "too many SSH options");
	snprintf(buf + n, size - n, "%s%s", n ? "\n" : "", line);
}

/* ssh options whose value is a file: relative ones are made absolute,
 * since the daemon runs in "/". */
static int is_path_key(const char *key, size_t len)
{
	static const char *const keys[] = {
	    "IdentityFile",	    "CertificateFile", "UserKnownHostsFile",
	    "GlobalKnownHostsFile", "IdentityAgent",
	};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i]) == len && !strncasecmp(key, keys[i], len))
			return 1;
	return 0;
}

/* "Key=Value" or "Key Value" (as ssh -o takes it) into out as Key=Value,
 * with a relative file made absolute. */
static void add_option(char *buf, size_t size, const char *opt)
{
	char line[PATH_MAX + 128], cwd[PATH_MAX];
	size_t klen = strcspn(opt, "= \t");
	const char *v = opt + klen;

	if (strchr(opt, '\n') || klen == 0 || !*v)
		die(EXIT_USAGE, "bad SSH option \"%s\" (want Key=Value)", opt);
	v += strspn(v, "= \t");
	if (!*v)
		die(EXIT_USAGE, "bad SSH option \"%s\" (no value)", opt);
	if (is_path_key(opt, klen) && *v != '/' && *v != '~' && *v != '%' &&
	    strcasecmp(v, "none") && getcwd(cwd, sizeof(cwd)))
		snprintf(line, sizeof(line), "%.*s=%s/%s", (int)klen, opt, cwd,
			 v);
	else
		snprintf(line, sizeof(line), "%.*s=%s", (int)klen, opt, v);
	add_line(buf, size, line);
}

static void check_ports(const char *s)
{
	const char *p = s;

	if (!*s)
		die(EXIT_USAGE, "empty --ports");
	while (*p) {
		char *end;
		unsigned long n;

		if (*p == ',' || *p == ' ') {
			p++;
			continue;
		}
		errno = 0;
		n = strtoul(p, &end, 10);
		if (errno || end == p || n == 0 || n > 65535 ||
		    (*end && *end != ',' && *end != ' '))
			die(EXIT_USAGE, "--ports %s: not a list of ports", s);
		p = end;
	}
}

static int readable(const char *path)
{
	return access(path, R_OK) == 0;
}

/* The shim to preload: $FTP_TUNNEL_SHIM, else the one beside this
 * program (the build tree, or the lib/ of the installation it runs from,
 * wherever that was moved), else the installed one (launch.h). */
static void find_shim(char *out, size_t size)
{
	const char *env = getenv("FTP_TUNNEL_SHIM");

	if (env && *env) {
		/* ld.so resolves a relative LD_PRELOAD entry against the
		 * library path, not the directory the command runs in. */
		if (size >= PATH_MAX && realpath(env, out))
			return;
		die(EXIT_FAIL, "FTP_TUNNEL_SHIM=%s: %s", env, strerror(errno));
	}
	if (launch_shim_path(out, size) == 0)
		return;
	die(EXIT_FAIL, "cannot find %s (set FTP_TUNNEL_SHIM)", SHIM_NAME);
}

/* The daemon this wrapper and the command's shim start: $FTP_TUNNELD,
 * else the one beside this program, else the installed one. Exported as
 * FTP_TUNNELD, which the shim reads (never in a privileged process: that
 * one starts nothing). */
static void find_daemon(void)
{
	char path[PATH_MAX];

	if (launch_daemon_bin_path(1, path, sizeof(path)) < 0)
		die(EXIT_FAIL, "FTP_TUNNELD is too long");
	if (setenv("FTP_TUNNELD", path, 1) < 0)
		die(EXIT_FAIL, "setenv: %s", strerror(errno));
}

/* shim first in LD_PRELOAD, keeping what was there. */
static void preload(const char *shim)
{
	const char *old = getenv("LD_PRELOAD");
	char *val;
	size_t n = strlen(shim);
	const char *t;

	if (shim[0] != '/' || strpbrk(shim, ": "))
		die(EXIT_FAIL,
		    "%s: the shim's path must be absolute, without ':' or ' '",
		    shim);
	if (!old || !*old) {
		setenv("LD_PRELOAD", shim, 1);
		return;
	}
	for (t = old; *t;) {
		size_t len = strcspn(t, ": ");

		if (len == n && !memcmp(t, shim, n))
			return;
		t += len;
		if (*t)
			t++;
	}
	val = malloc(n + strlen(old) + 2);
	if (!val)
		die(EXIT_FAIL, "out of memory");
	sprintf(val, "%s:%s", shim, old);
	setenv("LD_PRELOAD", val, 1);
	free(val);
}

/* Becomes the program cmd[0] with the shim preloaded; never returns. */
static void run_wrapped(const char *shim, char **cmd) __attribute__((noreturn));
static void run_wrapped(const char *shim, char **cmd)
{
	preload(shim);
	execvp(cmd[0], cmd);
	die(errno == ENOENT ? EXIT_NOTFOUND : EXIT_CANNOT, "%s: %s", cmd[0],
	    strerror(errno));
}

/* On a terminal, settle what only the user can before the command
 * starts: `ftp-tunnel --check` asks about an unknown host key (recording
 * it) and proves that the daemon, which has no terminal, can log in.
 * With --sftp, `--check-sftp`: ftp-tunnel checks nothing when the login
 * will be each FTP login's (no SSH user given, ssh_config included,
 * which only it reads). */
static int run_check(const char *via, const char *opts, int sftp)
{
	char cli[PATH_MAX + 16], self[PATH_MAX], *copy, *line, *save = NULL;
	const char *argv[2 * 64 + 4];
	const char *env = getenv("FTP_TUNNEL_CLI");
	int argc = 0, status;
	pid_t pid;

	/* The command line tool: $FTP_TUNNEL_CLI, next to us, or on PATH. */
	if (env && *env) {
		snprintf(cli, sizeof(cli), "%s", env);
	} else if (launch_self_dir(self, sizeof(self)) == 0) {
		snprintf(cli, sizeof(cli), "%s/ftp-tunnel", self);
		if (!readable(cli))
			snprintf(cli, sizeof(cli), "ftp-tunnel");
	} else {
		snprintf(cli, sizeof(cli), "ftp-tunnel");
	}
	argv[argc++] = cli;
	argv[argc++] = sftp ? "--check-sftp" : "--check";
	copy = strdup(opts);
	if (!copy)
		die(EXIT_FAIL, "out of memory");
	for (line = strtok_r(copy, "\n", &save); line && argc < 2 * 64;
	     line = strtok_r(NULL, "\n", &save)) {
		argv[argc++] = "-o";
		argv[argc++] = line;
	}
	argv[argc++] = via;
	argv[argc] = NULL;
	pid = fork();
	if (pid < 0)
		die(EXIT_FAIL, "fork: %s", strerror(errno));
	if (pid == 0) {
		execvp(cli, (char *const *)argv);
		fprintf(stderr, "ftp-tunnel-wrap: %s: %s\n", cli,
			strerror(errno));
		_exit(EXIT_FAIL);
	}
	free(copy);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return -1; /* ftp-tunnel said why on stderr */
}

/* The daemon can't ask for a passphrase: with an agent running, ssh-add
 * asks now (for the -i keys, or ssh-add's defaults) and the daemon then
 * signs through the agent. 0 if ssh-add succeeded. */
static int add_keys_to_agent(const char *opts)
{
	const char *argv[64 + 3];
	char *copy, *line, *save = NULL;
	int argc = 0, status;
	pid_t pid;

	if (!getenv("SSH_AUTH_SOCK"))
		return -1;
	argv[argc++] = "ssh-add";
	copy = strdup(opts);
	if (!copy)
		return -1;
	for (line = strtok_r(copy, "\n", &save); line && argc < 64;
	     line = strtok_r(NULL, "\n", &save))
		if (!strncasecmp(line, "IdentityFile=", 13))
			argv[argc++] = line + 13;
	argv[argc] = NULL;
	fprintf(stderr, "ftp-tunnel-wrap: the daemon cannot ask for a "
			"passphrase; adding the key to ssh-agent\n");
	pid = fork();
	if (pid == 0) {
		execvp("ssh-add", (char *const *)argv);
		_exit(127);
	}
	free(copy);
	if (pid < 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Whether the options (lines) ask each FTP login to log in to SSH itself
 * (SftpLogin=ftp): there is no login of ours to check then. */
static int login_is_ftp(const char *opts)
{
	const char *p;

	for (p = opts; *p; p++)
		if ((p == opts || p[-1] == '\n') &&
		    !strncasecmp(p, "SftpLogin=ftp", 13) &&
		    (p[13] == '\n' || p[13] == '\0'))
			return 1;
	return 0;
}

static void check_on_terminal(const char *via, const char *opts, int sftp)
{
	if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO) ||
	    (sftp && login_is_ftp(opts)))
		return;
	if (run_check(via, opts, sftp) == 0)
		return;
	if (add_keys_to_agent(opts) == 0 && run_check(via, opts, sftp) == 0)
		return;
	exit(EXIT_FAIL);
}

/* PING the daemon, starting it if need be. */
static void ensure_daemon(void)
{
	struct ipc_msg req, rep;
	char why[768], word[16];
	int fd, rc;

	ipc_init(&req, "PING");
	rc = shim_daemon_request(&req, &rep, &fd, 1, 10, why, sizeof(why));
	if (rc < 0)
		die(EXIT_FAIL, "%s", why);
	if (fd >= 0) {
		shim_reg_del(fd);
		close(fd);
	}
	if (ipc_word(&rep, word, sizeof(word)) < 0 || strcmp(word, "OK"))
		die(EXIT_FAIL, "ftp-tunneld did not answer PING with OK");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"via", required_argument, NULL, 'v'},
	    {"sftp", no_argument, NULL, 's'},
	    {"ports", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char opts[IPC_MAX] = "", host[256], shim[PATH_MAX];
	const char *via = getenv("FTP_TUNNEL_VIA"), *ports = NULL, *inherited;
	uint16_t port;
	int c, config = 0, sftp = 0;

	shim_init();
	/* '+': options end at COMMAND, whose own options are its own. */
	while ((c = getopt_long(argc, argv, "+hF:i:J:o:", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'F': {
			char abs[PATH_MAX];

			/* The command may change directory: keep it absolute.
			 */
			if (!realpath(optarg, abs))
				die(EXIT_USAGE, "-F %s: %s", optarg,
				    strerror(errno));
			if (setenv("FTP_TUNNEL_CONFIG", abs, 1) < 0)
				die(EXIT_FAIL, "setenv: %s", strerror(errno));
			config = 1;
			break;
		}
		case 'v':
			via = optarg;
			break;
		case 's':
			sftp = 1;
			break;
		case 'p':
			check_ports(optarg);
			ports = optarg;
			break;
		case 'i': {
			char o[PATH_MAX + 16];

			snprintf(o, sizeof(o), "IdentityFile=%s", optarg);
			add_option(opts, sizeof(opts), o);
			break;
		}
		case 'J': {
			char o[1100];

			if (strchr(optarg, '\n') ||
			    snprintf(o, sizeof(o), "ProxyJump=%s", optarg) >=
				(int)sizeof(o))
				die(EXIT_USAGE,
				    "-J %s: not a list of jump hosts", optarg);
			add_option(opts, sizeof(opts), o);
			break;
		}
		case 'o':
			add_option(opts, sizeof(opts), optarg);
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	find_shim(shim, sizeof(shim));
	find_daemon();
	if (sftp && setenv("FTP_TUNNEL_SFTP", "1", 1) < 0)
		die(EXIT_FAIL, "setenv: %s", strerror(errno));
	if (sftp && (!via || !*via)) {
		/* Each program's FTP server host is its SSH server: no
		 * single server to check a login with beforehand. */
		inherited = getenv("FTP_TUNNEL_OPTIONS");
		if (inherited && *inherited)
			add_line(opts, sizeof(opts), inherited);
		ensure_daemon();
		if (unsetenv("FTP_TUNNEL_VIA") < 0 ||
		    (*opts && setenv("FTP_TUNNEL_OPTIONS", opts, 1) < 0) ||
		    (ports && setenv("FTP_TUNNEL_PORTS", ports, 1) < 0))
			die(EXIT_FAIL, "setenv: %s", strerror(errno));
		run_wrapped(shim, argv + optind);
	}
	if (!via || !*via) {
		/* The configuration's routes decide, server by server:
		 * -F's file, else FTP_TUNNEL_CONFIG's, else the user's and
		 * the system's. */
		const struct conf *cf = shim_conf_get();

		if (cf && cf->bad)
			die(EXIT_USAGE, "%s", cf->err);
		if (!cf || !cf->nroutes)
			die(EXIT_USAGE,
			    "no SSH server: give --via [user@]host[:port] (or "
			    "set FTP_TUNNEL_VIA), or Route blocks in %s",
			    config ? "the -F file" : CONFFILE_SEARCH_TEXT);
		ensure_daemon();
		run_wrapped(shim, argv + optind);
	}
	if (strchr(via, '\n') ||
	    conf_parse_via(via, host, sizeof(host), &port) < 0)
		die(EXIT_USAGE, "--via %s: not [user@]host[:port]", via);
	/* ssh takes the first value it gets for a key: the command line's
	 * options before any inherited ones. */
	inherited = getenv("FTP_TUNNEL_OPTIONS");
	if (inherited && *inherited)
		add_line(opts, sizeof(opts), inherited);

	check_on_terminal(via, opts, sftp);
	ensure_daemon();
	if (setenv("FTP_TUNNEL_VIA", via, 1) < 0 ||
	    (*opts && setenv("FTP_TUNNEL_OPTIONS", opts, 1) < 0) ||
	    (ports && setenv("FTP_TUNNEL_PORTS", ports, 1) < 0))
		die(EXIT_FAIL, "setenv: %s", strerror(errno));
	run_wrapped(shim, argv + optind);
}

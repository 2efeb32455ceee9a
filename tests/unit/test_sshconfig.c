/* test_sshconfig.c — the ssh_config reader (daemon/config/sshconfig.c) and the
 * first-value-wins settings under it (daemon/ssh/sshopts.c): a table of
 * destination, command-line options, user file, system file and the files
 * Include may read, against the resulting settings or the error; then the
 * loader on real files (HOME, the environment variables, permissions). */
#include "check.h"
#include <errno.h>
#include <fnmatch.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sshconfig.h"

struct file {
	const char *path;
	const char *text;
};

struct tcase {
	const char *name;
	const char *dest;    /* as on the command line */
	const char *cli[4];  /* -o options, applied first */
	const char *user;    /* ~/.ssh/config */
	const char *sys;     /* /etc/ssh/ssh_config */
	struct file inc[4];  /* what Include can read */
	const char *want[3]; /* substrings of ssh_opts_key */
	const char *err;     /* substring of the error; NULL: success */
};

/* Debian 12's /etc/ssh/ssh_config, comments shortened. */
#define DEBIAN_SSH_CONFIG                                                      \
	"# This is the ssh client system-wide configuration file.\n"           \
	"Include /etc/ssh/ssh_config.d/*.conf\n"                               \
	"\n"                                                                   \
	"Host *\n"                                                             \
	"#   ForwardAgent no\n"                                                \
	"#   ProxyCommand ssh -q -W %h:%p gateway.example.com\n"               \
	"#   UserKnownHostsFile ~/.ssh/known_hosts.d/%k\n"                     \
	"    SendEnv LANG LC_*\n"                                              \
	"    HashKnownHosts yes\n"                                             \
	"    GSSAPIAuthentication yes\n"

static const struct tcase cases[] = {
    /* --- Host patterns ------------------------------------------------ */
    {"alias with everything",
     "myalias",
     {0},
     "Host myalias\n"
     "    HostName 127.0.0.1\n"
     "    User alice\n"
     "    Port 2222\n"
     "    IdentityFile ~/.ssh/key\n"
     "    UserKnownHostsFile ~/kh\n",
     NULL,
     {{0}},
     {"alice@127.0.0.1:2222 as myalias|", "|id=/home/u/.ssh/key|kh=/home/u/kh"},
     NULL},
    {"no match: defaults after the files",
     "other",
     {0},
     "Host myalias\n  Port 2222\n  User alice\n",
     NULL,
     {{0}},
     {"lu@other:22 as |"},
     NULL},
    {"wildcard and case",
     "FTP.Example.COM",
     {0},
     "Host *.example.com\n  Port 2\n",
     NULL,
     {{0}},
     {"@FTP.Example.COM:2 "},
     NULL},
    {"? matches one character",
     "h1",
     {0},
     "Host h??\n  Port 3\nHost h?\n  Port 4\n",
     NULL,
     {{0}},
     {"@h1:4 "},
     NULL},
    {"several patterns on a line",
     "beta",
     {0},
     "Host alpha beta gamma\n  Port 5\n",
     NULL,
     {{0}},
     {"@beta:5 "},
     NULL},
    {"negation excludes",
     "secret.corp",
     {0},
     "Host *.corp !secret.corp\n  Port 6\nHost *\n  Port 7\n",
     NULL,
     {{0}},
     {"@secret.corp:7 "},
     NULL},
    {"negation does not exclude others",
     "open.corp",
     {0},
     "Host *.corp !secret.corp\n  Port 6\n",
     NULL,
     {{0}},
     {"@open.corp:6 "},
     NULL},
    {"only negated patterns never match",
     "x",
     {0},
     "Host !y\n  Port 8\n",
     NULL,
     {{0}},
     {"@x:22 "},
     NULL},
    {"patterns match the name as given, not HostName",
     "a",
     {0},
     "Host a\n  HostName b\nHost b\n  Port 9\n",
     NULL,
     {{0}},
     {"lu@b:22 as a|"},
     NULL},
    {"Host=pattern",
     "a",
     {0},
     "Host=a\n  Port=10\n",
     NULL,
     {{0}},
     {"@a:10 "},
     NULL},

    /* --- first value wins --------------------------------------------- */
    {"first block wins",
     "myalias",
     {0},
     "Host myalias\n  Port 1\n  User first\nHost *\n  Port 2\n  User second\n",
     NULL,
     {{0}},
     {"first@myalias:1 "},
     NULL},
    {"a global value before any Host wins",
     "a",
     {0},
     "Port 11\nHost a\n  Port 12\n",
     NULL,
     {{0}},
     {"@a:11 "},
     NULL},
    {"user file before system file",
     "a",
     {0},
     "Host a\n  Port 13\n",
     "Host *\n  Port 14\n  User sysuser\n",
     {{0}},
     {"sysuser@a:13 "},
     NULL},
    {"system file alone", "a", {0}, NULL, "Port 15\n", {{0}}, {"@a:15 "}, NULL},
    {"-o wins over the files",
     "a",
     {"Port=16", "User=cli"},
     "Port 17\nUser file\n",
     "Port 18\n",
     {{0}},
     {"cli@a:16 "},
     NULL},
    {"the destination's user and port win",
     "dest@a:19",
     {0},
     "Port 20\nUser file\n",
     NULL,
     {{0}},
     {"dest@a:19 "},
     NULL},
    {"IdentityFile accumulates in order",
     "a",
     {"IdentityFile=/cli"},
     "IdentityFile /u1\nHost a\n  IdentityFile /u2\n",
     "IdentityFile /s1\n",
     {{0}},
     {"|id=/cli|id=/u1|id=/u2|id=/s1"},
     NULL},
    {"UserKnownHostsFile: the first list",
     "a",
     {0},
     "UserKnownHostsFile /k1 ~/k2\nUserKnownHostsFile /k3\n",
     "UserKnownHostsFile /k4\n",
     {{0}},
     {"|kh=/k1|kh=/home/u/k2"},
     NULL},
    {"UserKnownHostsFile none",
     "a",
     {0},
     "UserKnownHostsFile none\n",
     NULL,
     {{0}},
     {"|kh=/dev/null"},
     NULL},
    {"-o UserKnownHostsFile wins",
     "a",
     {"UserKnownHostsFile=/cli"},
     "UserKnownHostsFile /file\n",
     NULL,
     {{0}},
     {"|kh=/cli"},
     NULL},
    {"HostName: first wins, %h and %%",
     "web",
     {0},
     "Host web\n  HostName %h.example.com\n  HostName other\n",
     NULL,
     {{0}},
     {"@web.example.com:22 as web|"},
     NULL},
    {"-o HostName wins, files match the name as given",
     "a",
     {"HostName=real"},
     "Host a\n  HostName file\n  Port 21\n",
     NULL,
     {{0}},
     {"lu@real:21 as a|"},
     NULL},
    {"other settings",
     "a",
     {0},
     "StrictHostKeyChecking accept-new\nServerAliveInterval 1m30s\n"
     "ServerAliveCountMax 5\nConnectTimeout 10\nBatchMode yes\n"
     "IdentitiesOnly yes\n",
     "StrictHostKeyChecking no\nConnectTimeout 99\n",
     {{0}},
     {"|io=1|strict=2/1|alive=90/5|ct=10|batch=1/0"},
     NULL},

    /* --- tokens ------------------------------------------------------- */
    {"IdentityFile tokens",
     "ruser@a",
     {0},
     "Host a\n  HostName real.example\n"
     "  IdentityFile %d/k_%u_%h_%r_%n_%p_%i_%l_%%\n",
     NULL,
     {{0}},
     {"|id=/home/u/k_lu_real.example_ruser_a_22_1000_lh_%"},
     NULL},
    {"%r is the final user, %h the final host",
     "a",
     {0},
     "IdentityFile ~/.ssh/%r@%h\nHost a\n  HostName b\n  User late\n",
     NULL,
     {{0}},
     {"|id=/home/u/.ssh/late@b"},
     NULL},
    {"unknown token names the line",
     "a",
     {0},
     "Host a\n  IdentityFile ~/%z\n",
     NULL,
     {{0}},
     {0},
     "~/.ssh/config line 2: IdentityFile: unknown token %z"},
    {"HostName takes only %h",
     "a",
     {0},
     "HostName %u\n",
     NULL,
     {{0}},
     {0},
     "~/.ssh/config line 1: HostName: unknown token %u"},

    /* --- Include ------------------------------------------------------ */
    {"Include relative to ~/.ssh",
     "a",
     {0},
     "Include inc\nPort 30\n",
     NULL,
     {{"/home/u/.ssh/inc", "Host a\n  Port 31\n"}},
     {"@a:31 "},
     NULL},
    {"Include in the system file: /etc/ssh",
     "a",
     {0},
     NULL,
     "Include ssh_config.d/*.conf\nPort 32\n",
     {{"/etc/ssh/ssh_config.d/one.conf", "User one\n"},
      {"/etc/ssh/ssh_config.d/two.conf", "User two\nPort 33\n"}},
     {"one@a:33 "},
     NULL},
    {"Include in a block that does not apply is not read",
     "a",
     {0},
     "Host b\n  Include inc\n",
     NULL,
     {{"/home/u/.ssh/inc", "User inc\n"}},
     {"lu@a:22 "},
     NULL},
    {"Host lines in an included file stay there",
     "a",
     {0},
     "Host a\n  Include inc\n  Port 36\n",
     NULL,
     {{"/home/u/.ssh/inc", "Host zzz\n  User nobody\n"}},
     {"lu@a:36 "},
     NULL},
    {"Include ~ and absolute",
     "a",
     {0},
     "Include ~/x /abs/y\n",
     NULL,
     {{"/home/u/x", "User x\n"}, {"/abs/y", "Port 37\n"}},
     {"x@a:37 "},
     NULL},
    {"Include of a missing file is fine",
     "a",
     {0},
     "Include nothere\n",
     NULL,
     {{0}},
     {"@a:22 "},
     NULL},
    {"Include loops are stopped",
     "a",
     {0},
     "Include loop\n",
     NULL,
     {{"/home/u/.ssh/loop", "Include loop\n"}},
     {0},
     "Include nested too deeply"},
    {"an error in an included file names that file",
     "a",
     {0},
     "Include bad\n",
     NULL,
     {{"/home/u/.ssh/bad", "\nPort x\n"}},
     {0},
     "/home/u/.ssh/bad line 2: bad value 'x' for option Port"},

    /* --- Match -------------------------------------------------------- */
    {"Match all",
     "a",
     {0},
     "Host zzz\n  Port 1\nMatch all\n  Port 40\n",
     NULL,
     {{0}},
     {"@a:40 "},
     NULL},
    {"Match host sees HostName",
     "a",
     {0},
     "Host a\n  HostName real\nMatch host real\n  Port 41\n",
     NULL,
     {{0}},
     {"@real:41 "},
     NULL},
    {"Match originalhost sees the name as given",
     "a",
     {0},
     "Host a\n  HostName real\nMatch originalhost a,b\n  Port 42\n",
     NULL,
     {{0}},
     {"@real:42 "},
     NULL},
    {"Match !host",
     "a",
     {0},
     "Match !host b\n  Port 43\n",
     NULL,
     {{0}},
     {"@a:43 "},
     NULL},
    {"Match criteria are all needed",
     "a",
     {0},
     "Match host a user someoneelse\n  Port 44\n",
     NULL,
     {{0}},
     {"@a:22 "},
     NULL},
    {"Match user and localuser",
     "bob@a",
     {0},
     "Match user bob localuser lu\n  Port 45\n",
     NULL,
     {{0}},
     {"bob@a:45 "},
     NULL},
    {"Match exec is never guessed to match",
     "a",
     {0},
     "Match exec \"true\"\n  Port 46\nMatch all\n  Port 47\n",
     NULL,
     {{0}},
     {"@a:47 "},
     NULL},
    {"Match canonical does not match",
     "a",
     {0},
     "Match canonical all\n  Port 48\n",
     NULL,
     {{0}},
     {"@a:22 "},
     NULL},
    {"Match without criteria",
     "a",
     {0},
     "Match\n",
     NULL,
     {{0}},
     {0},
     "~/.ssh/config line 1: Match needs criteria"},

    /* --- ProxyJump, ProxyCommand -------------------------------------- */
    {"ProxyJump that applies",
     "bastion-1",
     {0},
     "# comment\nHost bastion-*\n  User x\n  ProxyJump jump.example\n",
     NULL,
     {{0}},
     {0},
     "~/.ssh/config line 4: ProxyJump (Host bastion-*) is not supported by "
     "ftp-tunnel; connect to the jump host's forwarded port instead, or "
     "use ssh -L to it"},
    {"ProxyCommand that applies, system file, no block",
     "a",
     {0},
     NULL,
     "ProxyCommand ssh -W %h:%p gw\n",
     {{0}},
     {0},
     "/etc/ssh/ssh_config line 1: ProxyCommand is not supported"},
    {"ProxyJump for other hosts",
     "a",
     {0},
     "Host b\n  ProxyJump gw\n  ProxyCommand nc %h %p\n",
     NULL,
     {{0}},
     {"@a:22 "},
     NULL},
    {"ProxyJump none",
     "a",
     {0},
     "ProxyJump none\nHost *\n  ProxyJump gw\n",
     NULL,
     {{0}},
     {"@a:22 "},
     NULL},
    {"ProxyCommand none stops a later ProxyJump",
     "a",
     {0},
     "Host a\n  ProxyCommand none\n",
     "ProxyJump gw\n",
     {{0}},
     {"@a:22 "},
     NULL},
    {"-o ProxyJump=none overrides the file",
     "a",
     {"ProxyJump=none"},
     "ProxyJump gw\n",
     NULL,
     {{0}},
     {"@a:22 "},
     NULL},

    /* --- syntax and values -------------------------------------------- */
    {"unknown keywords are ignored",
     "a",
     {0},
     "Ciphers aes128-ctr\nSendEnv LANG LC_*\nHashKnownHosts yes\n"
     "GSSAPIAuthentication yes\nForwardAgent yes\nControlMaster auto\n"
     "LocalForward 1 x:2\nPort 50\n",
     NULL,
     {{0}},
     {"@a:50 "},
     NULL},
    {"Debian's default ssh_config",
     "a",
     {0},
     NULL,
     DEBIAN_SSH_CONFIG,
     {{0}},
     {"lu@a:22 as |io=0|strict=0/0|alive=0/3|ct=0|batch=0/0"},
     NULL},
    {"Key = Value, quotes, comments, CRLF",
     "a",
     {0},
     "  Port = 51   # the port\r\n\tUser \"a b\"\r\n"
     "IdentityFile '/with space/k' \n",
     NULL,
     {{0}},
     {"a b@a:51 ", "|id=/with space/k"},
     NULL},
    {"escaped quote",
     "a",
     {0},
     "User \"x\\\"y\"\n",
     NULL,
     {{0}},
     {"x\"y@a:"},
     NULL},
    {"unterminated quote",
     "a",
     {0},
     "\n\nUser \"abc\n",
     NULL,
     {{0}},
     {0},
     "~/.ssh/config line 3: unterminated quote"},
    {"bad Port names file and line",
     "a",
     {0},
     "Host a\n  Port 99999\n",
     NULL,
     {{0}},
     {0},
     "~/.ssh/config line 2: bad value '99999' for option Port"},
    {"bad yes/no",
     "a",
     {0},
     NULL,
     "BatchMode maybe\n",
     {{0}},
     {0},
     "/etc/ssh/ssh_config line 1: bad value 'maybe' for option BatchMode"},
    {"bad StrictHostKeyChecking",
     "a",
     {0},
     "StrictHostKeyChecking sure\n",
     NULL,
     {{0}},
     {0},
     "line 1: bad value 'sure'"},
    {"bad time",
     "a",
     {0},
     "ConnectTimeout 5x\n",
     NULL,
     {{0}},
     {0},
     "line 1: bad value '5x' for option ConnectTimeout"},
    {"a value too many",
     "a",
     {0},
     "Port 1 2\n",
     NULL,
     {{0}},
     {0},
     "line 1: option Port takes one value"},
    {"missing value",
     "a",
     {0},
     "User\n",
     NULL,
     {{0}},
     {0},
     "line 1: option User needs a value"},
    {"bad values where no block applies are not ours",
     "a",
     {0},
     "Host b\n  Port nope\n",
     NULL,
     {{0}},
     {"@a:22 "},
     NULL},
    {"Host without a pattern",
     "a",
     {0},
     "Host\n",
     NULL,
     {{0}},
     {0},
     "line 1: Host needs a pattern"},
};

/* The Include callback: globs against the case's table of files. */
static int fake_include(struct sshconfig *c, const char *path,
			const char *incdir, int depth, char *err, size_t errlen)
{
	const struct tcase *t = c->arg;
	int i;

	for (i = 0; i < 4 && t->inc[i].path; i++)
		if (!fnmatch(path, t->inc[i].path, FNM_PATHNAME) &&
		    sshconfig_parse(c, t->inc[i].text, t->inc[i].path, incdir,
				    depth, err, errlen) < 0)
			return -1;
	return 0;
}

static const struct sshconfig_env env = {
    .home = "/home/u", .local_user = "lu", .local_host = "lh", .uid = 1000};

static int run(const struct tcase *t, struct ssh_opts *o, char *err,
	       size_t errlen)
{
	struct sshconfig c;
	int i;

	ssh_opts_init(o);
	if (ssh_opts_set_dest(o, t->dest) < 0) {
		snprintf(err, errlen, "bad test destination");
		return -1;
	}
	for (i = 0; i < 4 && t->cli[i]; i++)
		if (ssh_opts_set(o, t->cli[i], err, errlen) < 0)
			return -1;
	sshconfig_init(&c, o, &env);
	c.include = fake_include;
	c.arg = (void *)t;
	if (t->user && sshconfig_parse(&c, t->user, "~/.ssh/config",
				       "/home/u/.ssh", 0, err, errlen) < 0)
		return -1;
	if (t->sys && sshconfig_parse(&c, t->sys, "/etc/ssh/ssh_config",
				      "/etc/ssh", 0, err, errlen) < 0)
		return -1;
	return sshconfig_finish(o, &env, err, errlen);
}

static void test_table(void)
{
	size_t k;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct tcase *t = &cases[k];
		struct ssh_opts o;
		char err[1024] = "", key[4096];
		int rc = run(t, &o, err, sizeof(err)), i;

		ssh_opts_key(&o, key, sizeof(key));
		if (t->err) {
			CHECK(rc < 0 && strstr(err, t->err),
			      "%s: want error '%s', got rc %d '%s' (%s)",
			      t->name, t->err, rc, err, key);
			CHECK(!strchr(err, '\n'), "%s: one line: %s", t->name,
			      err);
		} else {
			CHECK(rc == 0, "%s: error %s", t->name, err);
			for (i = 0; i < 3 && t->want[i]; i++)
				CHECK(strstr(key, t->want[i]),
				      "%s: want '%s' in '%s'", t->name,
				      t->want[i], key);
		}
		ssh_opts_release(&o);
	}
}

/* The -o layer: REPLACE semantics and the set bits under them. */
static void test_opts(void)
{
	struct ssh_opts o;
	char err[256];
	char *args[] = {"7"};

	ssh_opts_init(&o);
	CHECK(o.port == 22 && o.set == 0, "fresh opts: nothing set");
	CHECK(ssh_opts_set(&o, "Port=5", err, sizeof(err)) == 0 &&
		  (o.set & SSH_SET_PORT),
	      "-o Port marks the port set");
	CHECK(ssh_opts_apply(&o, "port", args, 1, SSH_APPLY_FIRST, err,
			     sizeof(err)) == 1 &&
		  o.port == 5,
	      "a later file value is not applied");
	CHECK(ssh_opts_apply(&o, "PORT", args, 1, SSH_APPLY_REPLACE, err,
			     sizeof(err)) == 0 &&
		  o.port == 7,
	      "REPLACE (a second -o) replaces");
	CHECK(ssh_opts_apply(&o, "Ciphers", args, 1, SSH_APPLY_FIRST, err,
			     sizeof(err)) == SSH_OPTS_UNKNOWN,
	      "unknown keys are reported as such");
	CHECK(ssh_opts_set(&o, "Ciphers=x", err, sizeof(err)) < 0 &&
		  strstr(err, "unsupported option"),
	      "-o with an unknown key is an error: %s", err);
	CHECK(ssh_opts_set(&o, "ProxyJump=gw", err, sizeof(err)) < 0 &&
		  strstr(err, "not supported"),
	      "-o ProxyJump=host is an error: %s", err);
	CHECK(ssh_opts_set(&o, "ConnectTimeout=2m", err, sizeof(err)) == 0 &&
		  o.connect_timeout == 120,
	      "times take units");
	CHECK(ssh_opts_set_dest(&o, "u@h") == 0 && !strcmp(o.user, "u") &&
		  o.port == 7,
	      "a destination without a port keeps the port");
	CHECK(ssh_opts_set_dest(&o, "[::1]:2200") == 0 &&
		  !strcmp(o.host, "::1") && o.port == 2200,
	      "IPv6 destination");
	CHECK(ssh_opts_set_dest(&o, "@h") < 0, "bad destination");
	CHECK(ssh_opts_set(&o, "HostName=real", err, sizeof(err)) == 0 &&
		  ssh_opts_set_dest(&o, "nick") == 0 &&
		  !strcmp(o.host, "real") && !strcmp(o.alias, "nick"),
	      "-o HostName before the destination: the destination is the "
	      "alias (%s, %s)",
	      o.host, o.alias);
	ssh_opts_release(&o);
}

/* Session keys: settings that differ give different keys. */
static void test_keys(void)
{
	struct ssh_opts a, b;
	char ka[4096], kb[4096], err[256];

	ssh_opts_init(&a);
	ssh_opts_init(&b);
	ssh_opts_set_dest(&a, "u@h");
	ssh_opts_set_dest(&b, "u@h");
	ssh_opts_key(&a, ka, sizeof(ka));
	ssh_opts_key(&b, kb, sizeof(kb));
	CHECK(!strcmp(ka, kb), "same settings, same key");
	ssh_opts_set(&b, "IdentityFile=/k", err, sizeof(err));
	ssh_opts_key(&b, kb, sizeof(kb));
	CHECK(strcmp(ka, kb), "an identity makes another key");
	ssh_opts_set(&a, "IdentityFile=/k", err, sizeof(err));
	ssh_opts_set(&a, "HostName=h2", err, sizeof(err));
	ssh_opts_key(&a, ka, sizeof(ka));
	CHECK(strcmp(ka, kb), "another HostName makes another key");
	ssh_opts_release(&a);
	ssh_opts_release(&b);
}

static void put(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
	chmod(path, mode);
}

/* The loader on real files, in dir, which the password entry's home pw
 * shows (loader_in_home()); HOME names another directory. */
static void test_loader(const char *dir, const char *pw)
{
	char p[512], err[1024];
	struct ssh_opts o;
	int rc;

	snprintf(p, sizeof(p), "%s/.ssh", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/.ssh/conf.d", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/.ssh/config", dir);
	put(p, "Include conf.d/*.conf\nHost a\n  Port 60\n  IdentityFile ~/k\n",
	    0600);
	snprintf(p, sizeof(p), "%s/.ssh/conf.d/1.conf", dir);
	put(p, "Host a\n  User fromglob\n", 0644);
	snprintf(p, sizeof(p), "%s/sys", dir);
	put(p, "Port 61\nUser sys\nConnectTimeout 7\n", 0644);

	/* ssh takes ~ from the password entry, not from HOME: a HOME with
	 * other settings must not count. */
	snprintf(p, sizeof(p), "%s/elsewhere", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/elsewhere/.ssh", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/elsewhere/.ssh/config", dir);
	put(p, "Host a\n  Port 99\n  User fromhome\n", 0600);
	snprintf(p, sizeof(p), "%s/elsewhere", dir);
	setenv("HOME", p, 1);
	snprintf(p, sizeof(p), "%s/sys", dir);
	unsetenv("FTP_TUNNEL_SSH_CONFIG");
	setenv("FTP_TUNNEL_SSH_SYSTEM_CONFIG", p, 1);
	ssh_opts_init(&o);
	ssh_opts_set_dest(&o, "a");
	rc = sshconfig_load(&o, err, sizeof(err));
	CHECK(rc == 0 && o.port == 60 && !strcmp(o.user, "fromglob") &&
		  o.connect_timeout == 7,
	      "loader: ~/.ssh/config from the password entry's home, not "
	      "HOME; Include glob, system file "
	      "(rc %d %s: %s:%u)",
	      rc, err, o.user, o.port);
	snprintf(p, sizeof(p), "%s/k", pw);
	CHECK(o.nidentities == 1 && !strcmp(o.identities[0], p),
	      "loader: ~ is the password entry's home (%s)",
	      o.nidentities ? o.identities[0] : "none");
	ssh_opts_release(&o);

	setenv("FTP_TUNNEL_SSH_CONFIG", "none", 1);
	setenv("FTP_TUNNEL_SSH_SYSTEM_CONFIG", "none", 1);
	ssh_opts_init(&o);
	ssh_opts_set_dest(&o, "a");
	rc = sshconfig_load(&o, err, sizeof(err));
	CHECK(rc == 0 && o.port == 22 && o.nidentities == 0,
	      "loader: none and none read nothing");
	ssh_opts_release(&o);

	snprintf(p, sizeof(p), "%s/missing", dir);
	setenv("FTP_TUNNEL_SSH_CONFIG", p, 1);
	ssh_opts_init(&o);
	ssh_opts_set_dest(&o, "a");
	rc = sshconfig_load(&o, err, sizeof(err));
	CHECK(rc < 0 && strstr(err, "missing"),
	      "loader: a named file that is not there is an error: %s", err);
	ssh_opts_release(&o);

	snprintf(p, sizeof(p), "%s/.ssh/config", dir);
	chmod(p, 0664);
	unsetenv("FTP_TUNNEL_SSH_CONFIG");
	ssh_opts_init(&o);
	ssh_opts_set_dest(&o, "a");
	rc = sshconfig_load(&o, err, sizeof(err));
	CHECK(rc < 0 && strstr(err, "~/.ssh/config: bad owner or permissions"),
	      "loader: a user file others may write is refused: %s", err);
	ssh_opts_release(&o);
}

/* Runs test_loader() in a child whose private mount namespace shows a new
 * directory on the password entry's home (the real one is not touched),
 * and adds its counts. Needs root; skipped otherwise. */
static void loader_in_home(void)
{
	char dir[] = "/tmp/test_sshconfig.XXXXXX", cmd[600];
	struct passwd *pw = getpwuid(getuid());
	int fds[2], counts[2] = {0, 0}, st;
	pid_t pid;

	if (!pw || !pw->pw_dir || pw->pw_dir[0] != '/' || !mkdtemp(dir) ||
	    pipe(fds) < 0) {
		perror("loader setup");
		exit(2);
	}
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount(dir, pw->pw_dir, NULL, MS_BIND, NULL) < 0) {
			printf("skip loader tests: no private mount namespace "
			       "(%s)\n",
			       strerror(errno));
			_exit(0);
		}
		/* Only the child's own counts (it inherited the parent's). */
		counts[0] = -passed;
		counts[1] = -failed;
		test_loader(dir, pw->pw_dir);
		counts[0] += passed;
		counts[1] += failed;
		fflush(stdout);
		_exit(write(fds[1], counts, sizeof(counts)) ==
			      (ssize_t)sizeof(counts)
			  ? 0
			  : 3);
	}
	close(fds[1]);
	if (pid < 0 || read(fds[0], counts, sizeof(counts)) < 0)
		counts[0] = counts[1] = 0;
	close(fds[0]);
	if (pid > 0)
		waitpid(pid, &st, 0);
	passed += counts[0];
	failed += counts[1];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'",
		 dir); /* only our own mkdtemp directory */
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

int main(void)
{
	test_table();
	test_opts();
	test_keys();
	fflush(stdout);
	loader_in_home();
	printf("test_sshconfig: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

/* test_conf.c — the configuration file's Profile blocks (common/conf.c):
 * what they hold, their errors with file:line, a Route whose Via names a
 * profile, and the SSH settings a block takes being exactly those
 * ftp-tunnel -o takes. */
#include "check.h"
#include "conf.h"
#include "ftpopts.h"
#include "ssh.h"
#include "sshkeys.h"

#include <stdio.h>
#include <string.h>

static int parse_as(struct conf *c, const char *file, const char *text)
{
	return conf_parse(c, file, text, strlen(text), "/home/u");
}

static int parse(struct conf *c, const char *text)
{
	int rc;

	conf_init(c);
	rc = parse_as(c, "f", text);
	conf_finish(c);
	return rc;
}

static void bad(const char *text, const char *want)
{
	struct conf c;
	int rc = parse(&c, text);

	CHECK(rc < 0 && c.bad && strstr(c.err, want),
	      "\"%s\": want error containing \"%s\", got rc %d \"%s\"", text,
	      want, rc, c.err);
	conf_free(&c);
}

static void test_profile(void)
{
	struct conf c;
	const struct profile *p;
	int rc;

	rc = parse(&c, "# a site\n"
		       "Profile work\n"
		       "    HostName ssh.example.com\n"
		       "    User alice\n"
		       "    Port 2222\n"
		       "    IdentityFile ~/.ssh/id_work\n"
		       "    ServerAliveInterval 30\n"
		       "    FtpActiveMode passive\n"
		       "    FtpPassiveAddress reply\n"
		       "    LocalForward ftp/2121:ftp.internal:21\n"
		       "    LocalForward tcp/8080 web:80\n"
		       "    RemoteForward ftp/0 localhost:21\n"
		       "Profile plain\n"
		       "    LocalForward 127.0.0.2:2121:f:21\n");
	CHECK(rc == 0, "rc %d %s", rc, c.err);
	p = conf_profile(&c, "work");
	CHECK(p && !strcmp(p->host, "ssh.example.com") &&
		  !strcmp(p->user, "alice") && p->port == 2222 &&
		  p->line == 2 && !strcmp(p->file, "f"),
	      "work: host, user, port, line");
	CHECK(p && !strcmp(p->options, "IdentityFile=/home/u/.ssh/id_work\n"
				       "ServerAliveInterval=30\n"
				       "FtpActiveMode=passive\n"
				       "FtpPassiveAddress=reply\n"),
	      "work: options \"%s\"", p ? p->options : "");
	CHECK(p && p->ntunnels == 3 && !p->tunnels[0].remote &&
		  !strcmp(p->tunnels[0].spec, "ftp/2121:ftp.internal:21") &&
		  !strcmp(p->tunnels[1].spec, "tcp/8080:web:80") &&
		  p->tunnels[1].line == 11 && p->tunnels[2].remote &&
		  !strcmp(p->tunnels[2].spec, "ftp/0:localhost:21"),
	      "work: tunnels");
	p = conf_profile(&c, "plain");
	CHECK(p && !p->host[0] && !p->user[0] && p->port == 0 &&
		  p->ntunnels == 1,
	      "plain: nothing set but its tunnel");
	CHECK(!conf_profile(&c, "Work") && !conf_profile(&c, "nope"),
	      "names are exact");
	conf_free(&c);

	/* AllowRelay: forwards without a bind address listen everywhere;
	 * one with a bind address keeps it. */
	rc = parse(&c, "Profile r\n  LocalForward ftp/2121:f:21\n"
		       "  LocalForward 127.0.0.3:2122:f:21\n"
		       "  LocalForward [::1]:2123:f:21\n"
		       "  AllowRelay yes\n");
	p = conf_profile(&c, "r");
	CHECK(rc == 0 && p && !strcmp(p->tunnels[0].spec, "ftp/*:2121:f:21") &&
		  !strcmp(p->tunnels[1].spec, "127.0.0.3:2122:f:21") &&
		  !strcmp(p->tunnels[2].spec, "[::1]:2123:f:21"),
	      "AllowRelay: %s %s", p ? p->tunnels[0].spec : "",
	      p ? p->tunnels[1].spec : "");
	conf_free(&c);

	/* An empty bind address is one field already; a long spec keeps its
	 * last bytes (fuzz_conf found both). */
	{
		char text[900], host[201], want[300];

		memset(host, 'f', 200);
		host[200] = '\0';
		/* 599 bytes: ftp/, 2122 in 138 digits, host, 21 in 255. */
		snprintf(text, sizeof(text),
			 "Profile r\n  LocalForward :2121:f:21\n"
			 "  RemoteForward ftp/%0138d:%s:%0255d\n"
			 "  AllowRelay yes\n",
			 2122, host, 21);
		snprintf(want, sizeof(want), "ftp/*:2122:%s:21", host);
		rc = parse(&c, text);
		p = conf_profile(&c, "r");
		CHECK(rc == 0 && p &&
			  !strcmp(p->tunnels[0].spec, "*:2121:f:21") &&
			  !strcmp(p->tunnels[1].spec, want),
		      "AllowRelay, empty bind and long spec: %s | %.40s", c.err,
		      p ? p->tunnels[1].spec : "");
		conf_free(&c);
	}

	/* The first file's profile wins over a later file's. */
	conf_init(&c);
	rc = parse_as(&c, "user", "Profile x\n HostName a\n");
	rc |= parse_as(&c, "system", "Profile x\n HostName b\n");
	CHECK(rc == 0 && conf_profile(&c, "x") &&
		  !strcmp(conf_profile(&c, "x")->host, "a"),
	      "first file wins");
	conf_free(&c);

	/* TectiaConfig is recorded for ftp-tunnel. */
	rc = parse(&c, "TectiaConfig ~/.ssh2/ssh-broker-config.xml\n");
	CHECK(rc == 0 && c.ntectia == 1 &&
		  !strcmp(c.tectia[0], "/home/u/.ssh2/ssh-broker-config.xml"),
	      "TectiaConfig");
	conf_free(&c);
}

static void test_route_via_profile(void)
{
	struct conf c;
	int rc;

	rc = parse(&c, "Route ftp.example.com\n"
		       "    Via work\n"
		       "    FtpHost 10.0.0.5\n"
		       "    StrictHostKeyChecking yes\n"
		       "    FtpPassiveAddress control\n"
		       "Profile work\n"
		       "    HostName 192.0.2.7\n"
		       "    User bob\n"
		       "    Port 2200\n"
		       "    IdentityFile /k\n");
	CHECK(rc == 0 && c.nroutes == 1, "rc %d %s", rc, c.err);
	CHECK(!strcmp(c.routes[0].via, "bob@192.0.2.7:2200") &&
		  !strcmp(c.routes[0].via_host, "192.0.2.7") &&
		  c.routes[0].via_port == 2200,
	      "via %s host %s port %u", c.routes[0].via, c.routes[0].via_host,
	      c.routes[0].via_port);
	CHECK(!strcmp(c.routes[0].options,
		      "IdentityFile=/k\nStrictHostKeyChecking=yes\n"
		      "FtpPassiveAddress=control\n"),
	      "options: profile's, then the route's: \"%s\"",
	      c.routes[0].options);
	conf_free(&c);

	/* A Via that names no profile stays a host. */
	rc = parse(&c, "Route 10.0.0.1\n Via other:2022\n");
	CHECK(rc == 0 && !strcmp(c.routes[0].via, "other:2022") &&
		  c.routes[0].via_port == 2022,
	      "plain via");
	conf_free(&c);
	/* An IPv6 server. */
	rc =
	    parse(&c, "Route 10.0.0.1\n Via six\nProfile six\n HostName ::1\n");
	CHECK(rc == 0 && !strcmp(c.routes[0].via, "[::1]:22"), "v6 via %s",
	      c.routes[0].via);
	conf_free(&c);
}

static void test_errors(void)
{
	bad("Profile a\n  Tunnel foo\n",
	    "f:2: unknown keyword \"Tunnel\" in a Profile");
	bad("Profile a\nProfile b\nProfile a\n",
	    "f:3: Profile a defined twice (first at line 1)");
	bad("Profile a\n  Port 70000\n", "f:2: Port 70000: not a port");
	bad("Profile a\n  LocalForward ftp/99999:h:21\n",
	    "f:2: LocalForward: bad forward");
	bad("Profile a\n  LocalForward 2121\n", "f:2: LocalForward");
	bad("Profile a\n  RemoteForward a b c\n", "f:2: RemoteForward takes");
	bad("Profile\n", "f:1: Profile takes one name");
	bad("Profile a@b\n", "f:1: Profile takes one name");
	bad("Profile a\n  HostName x\n  HostName y\n",
	    "f:3: HostName given twice");
	bad("Profile a\n  HostName a[b]:c\n",
	    "f:2: HostName a[b]:c: not a host");
	{
		/* A via too long to write is an error, not the profile's
		 * name taken for the host. */
		struct conf c;
		char text[600], host[251], user[101];

		memset(host, 'h', 250);
		host[250] = '\0';
		memset(user, 'u', 100);
		user[100] = '\0';
		snprintf(text, sizeof(text),
			 "Profile p\n HostName %s\n User %s\n"
			 "Route 10.0.0.1\n Via p\n",
			 host, user);
		parse(&c, text);
		CHECK(c.bad && strstr(c.err, "f:4: Via p: the profile's"),
		      "via too long: %s", c.err);
		conf_free(&c);
	}
	bad("Profile a\n  AllowRelay maybe\n",
	    "f:2: AllowRelay maybe: want yes or no");
	bad("Profile a\n  FtpActiveMode sometimes\n",
	    "f:2: FtpActiveMode sometimes");
	bad("Profile a\n  FtpPassiveAddress any\n",
	    "f:2: FtpPassiveAddress any: want control or reply");
	bad("Route h\n Via v\n FtpPassiveAddress reply\n FtpPassiveAddress "
	    "reply\n",
	    "f:4: FtpPassiveAddress given twice in one Route");
	bad("Profile a\n  User \"\"\n", "f:2: User : not a user name");
	bad("Host x\n  User a\n", "f:1: Host blocks belong in ~/.ssh/config");
	bad("Frobnicate 1\n", "f:1: unknown keyword \"Frobnicate\"");
	bad("TectiaConfig relative.xml\n",
	    "f:1: TectiaConfig relative.xml: a file must be");
}

/* ProxyJump and ProxyCommand: carried as options to the daemon and to
 * ftp-tunnel, one or the other per block, a Route's profile's too. */
static void test_jumps(void)
{
	struct conf c;
	const struct profile *p;
	int rc;

	rc = parse(&c, "Profile in\n"
		       "    HostName 10.1.2.3\n"
		       "    ProxyJump alice@bastion:2222,ssh://b2\n"
		       "Profile pc\n"
		       "    ProxyCommand ssh -W %h:%p \"bastion\"\n"
		       "Route 10.9.9.9:21\n"
		       "    Via in\n");
	CHECK(rc == 0, "rc %d %s", rc, c.err);
	p = conf_profile(&c, "in");
	CHECK(
	    p && !strcmp(p->options, "ProxyJump=alice@bastion:2222,ssh://b2\n"),
	    "in: '%s'", p ? p->options : "");
	p = conf_profile(&c, "pc");
	CHECK(p && !strcmp(p->options, "ProxyCommand=ssh -W %h:%p bastion\n"),
	      "pc: '%s'", p ? p->options : "");
	CHECK(c.nroutes == 1 &&
		  !strcmp(c.routes[0].options,
			  "ProxyJump=alice@bastion:2222,ssh://b2\n"),
	      "the Route carries its profile's ProxyJump: '%s'",
	      c.nroutes ? c.routes[0].options : "");
	conf_free(&c);
	bad("Profile a\n  ProxyJump b\n  ProxyCommand nc %h %p\n",
	    "f:3: ProxyJump and ProxyCommand in one Profile");
	bad("Profile a\n  ProxyJump b,,c\n",
	    "f:2: ProxyJump b,,c: an empty jump host in 'b,,c'");
	bad("Profile a\n  ProxyJump u@\n", "f:2: ProxyJump u@: bad jump host");
	bad("Profile a\n  ProxyCommand nc %h %k\n",
	    "f:2: ProxyCommand: unknown token %k");
	bad("Route 10.0.0.1\n  Via h\n  ProxyCommand nc %h %p\n  ProxyJump b\n",
	    "f:4: ProxyJump and ProxyCommand in one Route");
}

/* One value of an SSH setting, and whether ftp-tunnel -o takes it. */
static const struct {
	const char *key, *value;
	int good;
} samples[] = {
    {"HostName", "ssh.example.com", 1},
    {"HostName", "", 0},
    {"HostName",
     "hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh"
     "hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh"
     "hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh"
     "hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh",
     0},
    {"Port", "2222", 1},
    {"Port", "0", 0},
    {"Port", "65536", 0},
    {"User", "alice", 1},
    {"User", "alice@corp", 1},
    {"User", "", 0},
    {"IdentityFile", "/k/id", 1},
    {"IdentitiesOnly", "yes", 1},
    {"IdentitiesOnly", "maybe", 0},
    {"UserKnownHostsFile", "/k/known_hosts", 1},
    {"UserKnownHostsFile", "none", 1},
    {"StrictHostKeyChecking", "accept-new", 1},
    {"StrictHostKeyChecking", "off", 1},
    {"StrictHostKeyChecking", "sure", 0},
    {"ServerAliveInterval", "1m30s", 1},
    {"ServerAliveInterval", "86401", 0},
    {"ServerAliveInterval", "5x", 0},
    {"ServerAliveCountMax", "1000", 1},
    {"ServerAliveCountMax", "-1", 0},
    {"ConnectTimeout", "1m", 1},
    {"ConnectTimeout", "0", 1},
    {"ConnectTimeout", "2d", 0},
    {"BatchMode", "true", 1},
    {"BatchMode", "sometimes", 0},
    {"MaxChannels", "100000", 1},
    {"MaxChannels", "100001", 0},
    {"Connections", "64", 1},
    {"Connections", "65", 0},
    {"ExitOnForwardFailure", "yes", 1},
    {"ExitOnForwardFailure", "maybe", 0},
    {"ProxyJump", "none", 1},
    {"ProxyJump", "bastion", 1},
    {"ProxyJump", "alice@b1:2222,ssh://b2", 1},
    {"ProxyJump", "b1,,b2", 0},
    {"ProxyJump", "u@", 0},
    {"ProxyJump", "h1,h2,h3,h4,h5,h6,h7,h8", 1},
    {"ProxyJump", "h1,h2,h3,h4,h5,h6,h7,h8,h9", 0},
    {"ProxyCommand", "none", 1},
    {"ProxyCommand", "nc %h %p", 1},
    {"ProxyCommand", "nc %h %k", 0},
    {"Compression", "yes", 0}, /* a key ftp-tunnel does not know */
};

/* Whether a Profile block (or a Route block) takes key value. */
static int conf_takes(const char *block, const char *key, const char *value)
{
	struct conf c;
	char text[700];
	int rc;

	snprintf(text, sizeof(text), "%s\n %s \"%s\"\n", block, key, value);
	rc = parse(&c, text);
	conf_free(&c);
	return rc == 0;
}

/* The disagreement that was: -o ConnectTimeout=1m worked, a Profile's
 * ConnectTimeout 1m was refused. Passed on in seconds. */
static void test_ssh_time(void)
{
	struct conf c;
	const struct profile *p;
	int rc = parse(&c, "Profile p\n ConnectTimeout 1m\n"
			   " ServerAliveInterval 1m30s\n"
			   "Route 10.0.0.1\n Via h\n ConnectTimeout 2m\n");

	p = conf_profile(&c, "p");
	CHECK(rc == 0 && p &&
		  !strcmp(p->options,
			  "ConnectTimeout=60\nServerAliveInterval=90\n") &&
		  !strcmp(c.routes[0].options, "ConnectTimeout=120\n"),
	      "rc %d %s / %s", rc, c.err, p ? p->options : "-");
	conf_free(&c);
}

/* Every key and value ftp-tunnel -o takes (ssh_opts_apply) a Profile
 * takes, and a Route too (but HostName: a Route has Via); what one
 * refuses the others refuse. */
static void test_ssh_keys_agree(void)
{
	size_t i;
	int k;

	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		struct ssh_opts o;
		char err[300], *args[1];
		int engine, prof, route;

		ssh_opts_init(&o);
		args[0] = (char *)samples[i].value;
		engine =
		    ssh_opts_apply(&o, samples[i].key, args, 1,
				   SSH_APPLY_REPLACE, err, sizeof(err)) == 0;
		ssh_opts_release(&o);
		prof =
		    conf_takes("Profile p", samples[i].key, samples[i].value);
		route = conf_takes("Route 10.0.0.1\n Via h", samples[i].key,
				   samples[i].value);
		CHECK(engine == samples[i].good && prof == samples[i].good,
		      "%s %s: -o %d, Profile %d, want %d", samples[i].key,
		      samples[i].value, engine, prof, samples[i].good);
		if (strcasecmp(samples[i].key, "HostName"))
			CHECK(route == samples[i].good,
			      "%s %s: Route %d, want %d", samples[i].key,
			      samples[i].value, route, samples[i].good);
		else
			CHECK(!route, "HostName in a Route");
	}
	/* Every key of the table has a value above that is taken. */
	for (k = 0; k < SSHKEY_COUNT; k++) {
		int found = 0;

		for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
			found |= !strcmp(samples[i].key, sshkeys[k].name) &&
				 samples[i].good;
		CHECK(found, "no accepted sample for %s", sshkeys[k].name);
	}
}

/* FtpActiveMode, FtpPassiveAddress and FtpPassiveAhead: what -o takes
 * (ftpopts_set) a Profile takes. */
static void test_ftp_keys_agree(void)
{
	static const struct {
		const char *key, *value;
		int good;
	} ftp[] = {
	    {"FtpActiveMode", "forward", 1},
	    {"FtpActiveMode", "passive", 1},
	    {"FtpActiveMode", "convert", 1},
	    {"FtpActiveMode", "AUTO", 1},
	    {"FtpActiveMode", "sometimes", 0},
	    {"FtpPassiveAddress", "control", 1},
	    {"FtpPassiveAddress", "Reply", 1},
	    {"FtpPassiveAddress", "any", 0},
	    {"FtpPassiveAhead", "yes", 1},
	    {"FtpPassiveAhead", "No", 1},
	    {"FtpPassiveAhead", "maybe", 0},
	};
	size_t i;

	for (i = 0; i < sizeof(ftp) / sizeof(ftp[0]); i++) {
		struct tunnel_opts t;
		char kv[100], err[200];
		int engine, prof;

		ftpopts_init(&t);
		snprintf(kv, sizeof(kv), "%s=%s", ftp[i].key, ftp[i].value);
		engine = ftpopts_set(&t, kv, err, sizeof(err)) == 0;
		prof = conf_takes("Profile p", ftp[i].key, ftp[i].value);
		CHECK(engine == ftp[i].good && prof == ftp[i].good,
		      "%s: -o %d, Profile %d, want %d", kv, engine, prof,
		      ftp[i].good);
		if (strcmp(ftp[i].key, "FtpActiveMode"))
			CHECK(conf_takes("Route 10.0.0.1\n Via h", ftp[i].key,
					 ftp[i].value) == ftp[i].good,
			      "%s in a Route", kv);
	}
	{
		struct tunnel_opts t;

		ftpopts_init(&t);
		CHECK(t.ftp_passive_ahead == 1, "FtpPassiveAhead default yes");
	}
}

/* SftpLogin's default follows the SSH user (ftpopts_settle): ftp without
 * one, tunnel with one; a value given wins either way. */
static void test_sftp_login_default(void)
{
	static const struct {
		const char *given; /* -o SftpLogin=..., or NULL */
		int user;	   /* an SSH user was given */
		int want_ftp;
	} cases[] = {
	    {NULL, 0, 1},     {NULL, 1, 0},  {"tunnel", 0, 0},
	    {"tunnel", 1, 0}, {"ftp", 0, 1}, {"FTP", 1, 1},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tunnel_opts t;
		struct ssh_opts o;
		char kv[64], err[200];

		ftpopts_init(&t);
		ssh_opts_init(&o);
		CHECK(t.sftp_login_ftp < 0, "unsettled after init");
		if (cases[i].given) {
			snprintf(kv, sizeof(kv), "SftpLogin=%s",
				 cases[i].given);
			CHECK(ftpopts_set(&t, kv, err, sizeof(err)) == 0,
			      "%s: %s", kv, err);
		}
		if (cases[i].user)
			CHECK(ssh_opts_set_dest(&o, "alice@h") == 0, "alice@h");
		else
			CHECK(ssh_opts_set_dest(&o, "h:2222") == 0, "h:2222");
		ftpopts_settle(&t, &o);
		CHECK(t.sftp_login_ftp == cases[i].want_ftp,
		      "SftpLogin %s, user %d: ftp %d, want %d",
		      cases[i].given ? cases[i].given : "(none)", cases[i].user,
		      t.sftp_login_ftp, cases[i].want_ftp);
		ssh_opts_release(&o);
	}
}

int main(void)
{
	test_sftp_login_default();
	test_ftp_keys_agree();
	test_ssh_time();
	test_ssh_keys_agree();
	test_profile();
	test_jumps();
	test_route_via_profile();
	test_errors();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

/* test_shimcfg.c — the configuration file's route parser and matcher
 * (common/conf.c, linked with the engine) and the shim's table of
 * resolved names (shim/names.c, included whole: it is pure and built
 * with the shim's flags elsewhere). */
#include "check.h"
#include "conf.h"
#include "conffile.h"
#include "../../shim/names.c"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct sockaddr_storage sa(const char *host, unsigned port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
	} else {
		fprintf(stderr, "bad test address %s\n", host);
		exit(2);
	}
	return ss;
}

/* Parses text as file "f" with home "/home/u"; 0 or -1. */
static int parse(struct conf *c, const char *text)
{
	conf_init(c);
	return conf_parse(c, "f", text, strlen(text), "/home/u");
}

/* has_name callback: the names table. */
static int in_table(void *arg, int name, const struct sockaddr *s)
{
	return shim_names_has(arg, name, s);
}

static int match(const struct conf *c, const char *host, unsigned port,
		 struct shim_names *t, int *name)
{
	struct sockaddr_storage ss = sa(host, port);
	int dummy;

	return conf_match(c, (struct sockaddr *)&ss, t ? in_table : NULL, t,
			  name ? name : &dummy);
}

/* Text that must fail with err (a substring of "f:LINE: ..."). */
static void bad(const char *text, const char *want)
{
	struct conf c;
	int rc = parse(&c, text);

	CHECK(rc < 0 && c.bad && strstr(c.err, want),
	      "\"%s\": want error containing \"%s\", got rc %d \"%s\"", text,
	      want, rc, c.err);
	CHECK(match(&c, "10.1.2.3", 21, NULL, NULL) == -1,
	      "a bad configuration matches nothing");
	conf_free(&c);
}

static void test_syntax(void)
{
	struct conf c;
	int rc;

	rc = parse(&c, "# comment\n\n"
		       "Route ftp.example.com          # a name\n"
		       "    Via alice@bastion.example.com:2222\n"
		       "    FtpHost 10.1.2.3\n"
		       "    IdentityFile ~/.ssh/id_ed25519\n"
		       "    userknownhostsfile=/k/kh ~/.ssh/kh2\n"
		       "    StrictHostKeyChecking = yes\n"
		       "ROUTE 10.0.0.0/8 192.0.2.7:2121 [2001:db8::/32]:990 "
		       "2001:db8:1::5\n"
		       "  via=bob@[2001:db8::1]\n"
		       "  Port 2022\n"
		       "  IdentityFile \"/keys/with space\"\n");
	CHECK(rc == 0 && !c.bad, "valid file: rc %d err %s", rc, c.err);
	CHECK(c.nroutes == 2, "2 routes, got %d", c.nroutes);
	CHECK(c.npats == 5, "5 patterns, got %d", c.npats);
	CHECK(c.nnames == 1 && !strcmp(c.names[0], "ftp.example.com"),
	      "one name");
	CHECK(!strcmp(c.routes[0].via, "alice@bastion.example.com:2222") &&
		  !strcmp(c.routes[0].via_host, "bastion.example.com") &&
		  c.routes[0].via_port == 2222,
	      "via 0: %s %s %u", c.routes[0].via, c.routes[0].via_host,
	      c.routes[0].via_port);
	CHECK(!strcmp(c.routes[0].ftphost, "10.1.2.3"), "ftphost");
	CHECK(!strcmp(c.routes[0].options,
		      "IdentityFile=/home/u/.ssh/id_ed25519\n"
		      "UserKnownHostsFile=/k/kh /home/u/.ssh/kh2\n"
		      "StrictHostKeyChecking=yes\n"),
	      "options 0: [%s]", c.routes[0].options);
	CHECK(c.routes[0].line == 3 && c.routes[1].line == 9, "lines %d %d",
	      c.routes[0].line, c.routes[1].line);
	CHECK(!strcmp(c.routes[1].via, "bob@[2001:db8::1]") &&
		  !strcmp(c.routes[1].via_host, "2001:db8::1") &&
		  c.routes[1].via_port == 2022,
	      "via 1: %s %s %u", c.routes[1].via, c.routes[1].via_host,
	      c.routes[1].via_port);
	CHECK(!strcmp(c.routes[1].options,
		      "Port=2022\nIdentityFile=/keys/with space\n"),
	      "options 1: [%s]", c.routes[1].options);
	CHECK(c.routes[1].ftphost[0] == '\0', "no ftphost");
	CHECK(conf_port_guarded(&c, 21) && conf_port_guarded(&c, 2121) &&
		  conf_port_guarded(&c, 990) && !conf_port_guarded(&c, 22),
	      "guarded ports");
	conf_free(&c);

	/* A Profile block ends a Route's; its keys are not the Route's
	 * (profiles have tests of their own in test_conf.c). */
	rc = parse(&c, "Route 192.0.2.1\n  Via h\n"
		       "Profile p1\n  LocalForward ftp/2121:f:21\n"
		       "  IdentityFile /k\n");
	CHECK(rc == 0 && c.nroutes == 1 && c.routes[0].options[0] == '\0',
	      "Profile after a Route: rc %d %s", rc, c.err);
	conf_free(&c);

	/* CRLF, tabs, Key=Value with no blanks, a trailing dot. */
	rc = parse(&c, "Route\tFTP.Example.COM.\r\n\tVia=h:22\r\n");
	CHECK(rc == 0 && c.nnames == 1 &&
		  !strcmp(c.names[0], "ftp.example.com"),
	      "CRLF: rc %d %s", rc, c.err);
	CHECK(conf_name_id(&c, "Ftp.example.com.") == 0 &&
		  conf_name_id(&c, "ftp.example.co") == -1 &&
		  conf_name_id(&c, "") == -1,
	      "name ids");
	conf_free(&c);

	/* An empty file, only comments: no routes, fine. */
	rc = parse(&c, "");
	CHECK(rc == 0 && c.nroutes == 0, "empty file");
	conf_free(&c);
	rc = parse(&c, "   # nothing\n#Route x\n");
	CHECK(rc == 0 && c.nroutes == 0, "comments only");
	conf_free(&c);

	/* ~ alone, home with a trailing slash. */
	conf_init(&c);
	rc = conf_parse(&c, "g",
			"Route h1\n Via v\n UserKnownHostsFile ~\n"
			"Route h2\n Via v\n IdentityFile ~/k\n",
			strlen("Route h1\n Via v\n UserKnownHostsFile ~\n"
			       "Route h2\n Via v\n IdentityFile ~/k\n"),
			"/");
	CHECK(rc == 0 &&
		  !strcmp(c.routes[0].options, "UserKnownHostsFile=/\n") &&
		  !strcmp(c.routes[1].options, "IdentityFile=/k\n"),
	      "home /: %s %s | %s", c.err, c.routes[0].options,
	      c.routes[1].options);
	conf_free(&c);
}

static void test_errors(void)
{
	bad("Foo bar\n", "f:1: unknown keyword \"Foo\"");
	bad("Via h\n", "f:1: unknown keyword \"Via\"");
	bad("\n\nRoute 10.0.0.1\n", "f:3: Route has no Via");
	bad("Route 10.0.0.1\nRoute 10.0.0.2\n Via h\n",
	    "f:1: Route has no Via");
	bad("Route\n Via h\n", "f:1: Route needs");
	bad("Route 10.0.0.1\n Via h\n Via g\n", "f:3: Via given twice");
	bad("Route 10.0.0.1\n Via h\n FtpHost a\n FtpHost b\n",
	    "f:4: FtpHost given twice");
	bad("Route 10.0.0.1\n Via h\n Port 1\n Port 2\n",
	    "f:4: Port given twice");
	bad("Route 10.0.0.1\n Via h\n IdentityFle /k\n",
	    "f:3: unknown keyword \"IdentityFle\" in a Route block");
	bad("Route 10.0.0.1\n Via h\n Compression yes\n",
	    "unknown keyword \"Compression\"");
	bad("Route 10.0.0.1\n Via h:0\n", "f:2: Via h:0: not");
	bad("Route 10.0.0.1\n Via h:x\n", "Via h:x: not");
	bad("Route 10.0.0.1\n Via @h\n", "Via @h: not");
	bad("Route 10.0.0.1\n Via a b\n", "Via takes one");
	bad("Route 10.0.0.1\n Via\n", "Via takes one");
	bad("Route 10.0.0.1:0\n Via h\n", "f:1: Route: bad port");
	bad("Route 10.0.0.1:65536\n Via h\n", "bad port");
	bad("Route 10.0.0.1:\n Via h\n", "bad port");
	bad("Route 10.0.0.0/33\n Via h\n", "bad prefix length");
	bad("Route 2001:db8::/129\n Via h\n", "bad prefix length");
	bad("Route 10.0.0.0/\n Via h\n", "bad prefix length");
	bad("Route 10.1\n Via h\n", "is not a host name, an address");
	bad("Route 300.1.2.3\n Via h\n", "is not a host name");
	bad("Route *.example.com\n Via h\n", "wildcards are not supported");
	bad("Route [ftp.example.com]:21\n Via h\n", "is not a host name");
	bad("Route [10.0.0.1\n Via h\n", "bad pattern");
	bad("Route host/24\n Via h\n", "is not a host name");
	bad("Route fe80::1%eth0\n Via h\n", "is not a host name");
	bad("Route 10.0.0.1\n Via h\n IdentityFile .ssh/id\n",
	    "f:3: IdentityFile .ssh/id: a file must be an absolute path");
	bad("Route 10.0.0.1\n Via h\n UserKnownHostsFile /a b\n",
	    "UserKnownHostsFile b: a file must be");
	bad("Route 10.0.0.1\n Via h\n IdentityFile /a /b\n", "takes one value");
	bad("Route 10.0.0.1\n Via h\n Port 0\n", "Port 0: not a port");
	bad("Route 10.0.0.1\n Via h\n BatchMode maybe\n", "want yes or no");
	bad("Route 10.0.0.1\n Via h\n StrictHostKeyChecking sure\n",
	    "want yes, no, ask or accept-new");
	bad("Route 10.0.0.1\n Via h\n ServerAliveInterval -1\n",
	    "not a number");
	bad("Route 10.0.0.1\n Via h\n ConnectTimeout\n", "needs a value");
	bad("Route 10.0.0.1\n Via h\n User \"\"\n", "not a user name");
	bad("Route 10.0.0.1\n Via h\n FtpHost 10.0.0.1:21\n",
	    "FtpHost 10.0.0.1:21: not a host name");
	bad("Route 10.0.0.1\n Via \"h\n", "f:2: unterminated quote");
	bad("Route 10.0.0.1\n Via 'h\n", "f:2: unterminated quote");
	bad("= x\n", "f:1: a line starting with '='");
	{
		char big[CONF_LINE_MAX + 64];

		memset(big, 'a', sizeof(big) - 2);
		memcpy(big, "Route ", 6);
		big[sizeof(big) - 2] = '\n';
		big[sizeof(big) - 1] = '\0';
		bad(big, "f:1: line too long");
	}
	{
		struct conf c;
		const char text[] = "Route 10.0.0.1\n Via h\0\n";
		int rc;

		conf_init(&c);
		rc = conf_parse(&c, "f", text, sizeof(text) - 1, NULL);
		CHECK(rc < 0 && strstr(c.err, "f: a NUL byte"), "NUL: %s",
		      c.err);
		conf_free(&c);
	}
	{
		/* ~ without a home. */
		struct conf c;
		const char text[] =
		    "Route 10.0.0.1\n Via h\n IdentityFile ~/k\n";
		int rc;

		conf_init(&c);
		rc = conf_parse(&c, "f", text, sizeof(text) - 1, NULL);
		CHECK(rc < 0 && strstr(c.err, "f:3: IdentityFile ~/k: no home"),
		      "no home: %s", c.err);
		conf_free(&c);
	}
	{
		/* Only the first error is kept; later ports still count. */
		struct conf c;
		int rc = parse(&c, "Bogus\nRoute 10.0.0.1:2121\n Via h\n"
				   "Route x.example:990\n");

		CHECK(rc < 0 && strstr(c.err, "f:1: unknown keyword \"Bogus\""),
		      "first error kept: %s", c.err);
		CHECK(conf_port_guarded(&c, 21) &&
			  conf_port_guarded(&c, 2121) &&
			  conf_port_guarded(&c, 990) &&
			  !conf_port_guarded(&c, 80),
		      "a bad file guards the ports it names, and 21");
		conf_free(&c);
	}
	{
		/* Two files: the error names the second; routes of the first
		 * stay parsed but none matches. */
		struct conf c;
		const char a[] = "Route 10.0.0.1\n Via h\n";
		const char b[] = "# x\nRoute 10.0.0.2\n  Via h\n  Colour red\n";
		int ra, rb;

		conf_init(&c);
		ra = conf_parse(&c, "/home/u/.config/ftp-tunnel/config", a,
				sizeof(a) - 1, "/home/u");
		rb = conf_parse(&c, "/etc/ftp-tunnel/config", b, sizeof(b) - 1,
				"/home/u");
		CHECK(ra == 0 && rb < 0 &&
			  !strncmp(c.err,
				   "/etc/ftp-tunnel/config:4: unknown "
				   "keyword \"Colour\"",
				   45),
		      "two files: %s", c.err);
		CHECK(match(&c, "10.0.0.1", 21, NULL, NULL) == -1,
		      "two files, one bad: nothing matches");
		conf_free(&c);
	}
	{
		struct conf c;

		conf_init(&c);
		conf_fail(&c, "/x", 0, "cannot read: %s", "Permission denied");
		conf_fail(&c, "/y", 3, "second");
		CHECK(!strcmp(c.err, "/x: cannot read: Permission denied"),
		      "fail: %s", c.err);
		conf_free(&c);
	}
}

static void test_match(void)
{
	struct conf c;
	struct shim_names t;
	struct sockaddr_storage ss;
	int rc, name;

	rc = parse(&c, "Route 192.0.2.7:2121 10.0.0.0/8\n Via a\n"
		       "Route ftp.example.com 10.1.0.0/16\n Via b\n"
		       "Route 2001:db8::/32 [2001:db8:ffff::1]:2121\n Via c\n"
		       "Route other.example.com:2121 0.0.0.0/0:990\n Via d\n"
		       "Route 10.9.9.9/32\n Via e\n");
	CHECK(rc == 0, "match config: %s", c.err);
	shim_names_init(&t);
	CHECK(match(&c, "10.1.2.3", 21, &t, NULL) == 0,
	      "CIDR, first route wins");
	CHECK(match(&c, "10.9.9.9", 21, &t, NULL) == 0,
	      "first route wins again");
	CHECK(match(&c, "10.1.2.3", 2121, &t, NULL) == -1,
	      "CIDR: port 21 only");
	CHECK(match(&c, "192.0.2.7", 2121, &t, NULL) == 0, "address:port");
	CHECK(match(&c, "192.0.2.7", 21, &t, NULL) == -1,
	      "address: other port");
	CHECK(match(&c, "11.0.0.1", 21, &t, NULL) == -1, "outside the network");
	CHECK(match(&c, "::ffff:10.4.5.6", 21, &t, NULL) == 0,
	      "IPv4-mapped IPv6 matches an IPv4 network");
	CHECK(match(&c, "2001:db8:1::1", 21, &t, NULL) == 2, "IPv6 CIDR");
	CHECK(match(&c, "2001:db9::1", 21, &t, NULL) == -1,
	      "outside IPv6 CIDR");
	CHECK(match(&c, "2001:db8:ffff::1", 2121, &t, NULL) == 2, "[v6]:port");
	CHECK(match(&c, "8.8.8.8", 990, &t, NULL) == 3, "0.0.0.0/0:990");
	CHECK(match(&c, "::1", 990, &t, NULL) == -1, "IPv4 /0 is not IPv6");

	/* Names: only what the table says. */
	CHECK(match(&c, "198.51.100.1", 21, &t, &name) == -1,
	      "a name not resolved: no match");
	ss = sa("198.51.100.1", 0);
	shim_names_record(&t, conf_name_id(&c, "FTP.example.com"),
			  (struct sockaddr *)&ss);
	CHECK(match(&c, "198.51.100.1", 21, &t, &name) == 1 &&
		  name == conf_name_id(&c, "ftp.example.com"),
	      "the resolved address of a name matches (name %d)", name);
	CHECK(match(&c, "::ffff:198.51.100.1", 21, &t, &name) == 1,
	      "... from an IPv6 socket too");
	CHECK(match(&c, "198.51.100.1", 2121, &t, &name) == -1,
	      "... on its port only");
	CHECK(match(&c, "198.51.100.2", 21, &t, &name) == -1,
	      "... not another address");
	ss = sa("198.51.100.9", 0);
	shim_names_record(&t, conf_name_id(&c, "other.example.com"),
			  (struct sockaddr *)&ss);
	CHECK(match(&c, "198.51.100.9", 2121, &t, &name) == 3 &&
		  !strcmp(c.names[name], "other.example.com"),
	      "a name with a port");
	CHECK(match(&c, "198.51.100.9", 21, &t, &name) == -1,
	      "a name with a port: not 21");
	CHECK(conf_names_on_port(&c, 2121) && conf_names_on_port(&c, 21) &&
		  !conf_names_on_port(&c, 990),
	      "names on port");
	ss = sa("10.1.7.7", 0);
	shim_names_record(&t, conf_name_id(&c, "ftp.example.com"),
			  (struct sockaddr *)&ss);
	CHECK(match(&c, "10.1.7.7", 21, &t, &name) == 0 && name == -1,
	      "an earlier address route beats a later name route");
	conf_free(&c);
}

static void test_names(void)
{
	struct shim_names t;
	struct sockaddr_storage ss;
	char a[64];
	int i, all;

	shim_names_init(&t);
	for (i = 0; i < SHIM_NAMES_MAX; i++) {
		snprintf(a, sizeof(a), "10.0.%d.%d", i / 256, i % 256);
		ss = sa(a, 0);
		shim_names_record(&t, 1, (struct sockaddr *)&ss);
	}
	CHECK(t.n == SHIM_NAMES_MAX, "full: %d", t.n);
	/* Use the first: the second is now the least recently used. */
	ss = sa("10.0.0.0", 0);
	CHECK(shim_names_has(&t, 1, (struct sockaddr *)&ss), "first there");
	CHECK(!shim_names_has(&t, 2, (struct sockaddr *)&ss), "other name: no");
	ss = sa("192.0.2.1", 0);
	shim_names_record(&t, 1, (struct sockaddr *)&ss);
	CHECK(t.n == SHIM_NAMES_MAX, "still bounded");
	CHECK(shim_names_has(&t, 1, (struct sockaddr *)&ss), "new one there");
	ss = sa("10.0.0.1", 0);
	CHECK(!shim_names_has(&t, 1, (struct sockaddr *)&ss),
	      "the least recently used went");
	ss = sa("10.0.0.0", 0);
	CHECK(shim_names_has(&t, 1, (struct sockaddr *)&ss),
	      "the recently used stayed");
	all = 1;
	for (i = 2; i < SHIM_NAMES_MAX; i++) {
		snprintf(a, sizeof(a), "10.0.%d.%d", i / 256, i % 256);
		ss = sa(a, 0);
		all &= shim_names_has(&t, 1, (struct sockaddr *)&ss);
	}
	CHECK(all, "the others stayed");
	/* Recording the same pair again does not take a second entry. */
	ss = sa("2001:db8::5", 0);
	shim_names_record(&t, 3, (struct sockaddr *)&ss);
	shim_names_record(&t, 3, (struct sockaddr *)&ss);
	for (i = 0, all = 0; i < t.n; i++)
		all += t.e[i].name == 3;
	CHECK(all == 1, "no duplicates (%d)", all);
	{
		struct sockaddr_un_like {
			sa_family_t f;
			char p[20];
		} u = {AF_UNIX, "x"};

		shim_names_record(&t, 4, (struct sockaddr *)&u);
		CHECK(!shim_names_has(&t, 4, (struct sockaddr *)&u),
		      "other families ignored");
	}
	shim_names_record(&t, -1, (struct sockaddr *)&ss);
	CHECK(!shim_names_has(&t, -1, (struct sockaddr *)&ss),
	      "name -1 ignored");
}

static void test_via(void)
{
	char host[64];
	uint16_t port;

	CHECK(conf_parse_via("u@h", host, sizeof(host), &port) == 0 &&
		  !strcmp(host, "h") && port == 22,
	      "u@h");
	CHECK(conf_parse_via("[::1]:2222", host, sizeof(host), &port) == 0 &&
		  !strcmp(host, "::1") && port == 2222,
	      "[::1]:2222");
	CHECK(conf_parse_via("2001:db8::1", host, sizeof(host), &port) == 0 &&
		  !strcmp(host, "2001:db8::1") && port == 22,
	      "bare v6");
	CHECK(conf_parse_via("h:+22", host, sizeof(host), &port) < 0, "h:+22");
	CHECK(conf_parse_via("h:", host, sizeof(host), &port) < 0, "h:");
	CHECK(conf_parse_via("u@", host, sizeof(host), &port) < 0, "u@");
}

/* Sftp yes: a Route may go without Via (the SSH server is the host the
 * program dialed); without Sftp yes, or with FtpHost, it may not. */
static void test_sftp_routes(void)
{
	struct conf c;
	int rc;

	rc = parse(&c, "Route 0.0.0.0/0 [::/0]:21\n Sftp yes\n User alice\n"
		       "Route 10.9.9.9\n Via bob@gw\n Sftp yes\n"
		       " SftpLogin ftp\n");
	CHECK(rc == 0 && c.nroutes == 2, "Sftp yes without Via: rc %d %s", rc,
	      c.err);
	if (rc == 0 && c.nroutes == 2) {
		CHECK(!c.routes[0].via[0] && c.routes[0].sftp &&
			  !c.routes[0].via_host[0] &&
			  !strcmp(c.routes[0].options, "User=alice\n"),
		      "route 0: via '%s' sftp %d options '%s'", c.routes[0].via,
		      c.routes[0].sftp, c.routes[0].options);
		CHECK(match(&c, "192.0.2.7", 21, NULL, NULL) == 0 &&
			  match(&c, "2001:db8::7", 21, NULL, NULL) == 0,
		      "the via-less route takes any host");
		CHECK(!strcmp(c.routes[1].via, "bob@gw") &&
			  !strcmp(c.routes[1].options, "SftpLogin=ftp\n"),
		      "route 1: via '%s' options '%s'", c.routes[1].via,
		      c.routes[1].options);
	}
	conf_free(&c);
	/* Sftp before or after the rest of the block. */
	CHECK(parse(&c, "Route 10.0.0.1\n Port 2222\n Sftp yes\n") == 0 &&
		  c.routes[0].via_port == 2222,
	      "Sftp last: %s", c.err);
	conf_free(&c);
	bad("Route 10.0.0.1\n Sftp no\n", "f:1: Route has no Via");
	bad("Route 10.0.0.1\n Sftp yes\n FtpHost 127.0.0.1\n",
	    "f:1: Route with Sftp yes and no Via has FtpHost");
	bad("Route 10.0.0.1\n Sftp maybe\n", "f:2: Sftp takes yes or no");
	bad("Route 10.0.0.1\n Sftp yes\n SftpLogin both\n",
	    "f:3: SftpLogin takes tunnel or ftp");
}

/* conffile_search's callback: records "path named" lines. */
static void record(void *arg, const char *path, int named)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 1024 - n, "%s %d\n", path, named);
}

/* The one search order, for ftp-tunnel and the shim: -F, else
 * FTP_TUNNEL_CONFIG, else the user's then the system's; a privileged
 * process reads only the system's file, whatever the variable says. */
static void test_search(void)
{
	char got[1024] = "", want[1024];
	const char *home;

	setenv("FTP_TUNNEL_CONFIG", "/tmp/by-env", 1);
	conffile_search("/tmp/by-F", 0, record, got);
	CHECK(!strcmp(got, "/tmp/by-F 1\n"), "-F: %s", got);
	got[0] = '\0';
	conffile_search(NULL, 0, record, got);
	CHECK(!strcmp(got, "/tmp/by-env 1\n"), "variable: %s", got);
	got[0] = '\0';
	conffile_search(NULL, 1, record, got);
	CHECK(!strcmp(got, "/etc/ftp-tunnel/config 0\n"), "privileged: %s",
	      got);
	unsetenv("FTP_TUNNEL_CONFIG");
	got[0] = '\0';
	conffile_search(NULL, 0, record, got);
	home = conffile_home();
	snprintf(want, sizeof(want),
		 "%s/.config/ftp-tunnel/config 0\n/etc/ftp-tunnel/config 0\n",
		 home ? home : "");
	CHECK(home && !strcmp(got, want), "default: %s", got);
}

/* Words are split as in ~/.ssh/config (sshkeys_split): single quotes,
 * backslash escapes, quotes inside a word. */
static void test_words(void)
{
	struct conf c;
	int rc = parse(&c, "Route 10.0.0.1\n"
			   " Via \"b\"astion\n"
			   " IdentityFile '/k/it is'\n"
			   " UserKnownHostsFile /k/a\\\\b \"/k/x\"\n"
			   "Route 10.0.0.2\n"
			   " Via=h # comment\n"
			   " IdentityFile /k/back\\ slash\n");

	CHECK(rc == 0 && c.nroutes == 2 &&
		  !strcmp(c.routes[0].via, "bastion") &&
		  !strcmp(c.routes[0].options,
			  "IdentityFile=/k/it is\n"
			  "UserKnownHostsFile=/k/a\\b /k/x\n") &&
		  !strcmp(c.routes[1].via, "h") &&
		  !strcmp(c.routes[1].options, "IdentityFile=/k/back slash\n"),
	      "rc %d %s [%s] [%s]", rc, c.err,
	      c.nroutes ? c.routes[0].options : "",
	      c.nroutes > 1 ? c.routes[1].options : "");
	conf_free(&c);
}

int main(void)
{
	test_search();
	test_words();
	test_syntax();
	test_errors();
	test_match();
	test_names();
	test_via();
	test_sftp_routes();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

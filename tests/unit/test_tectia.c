/* test_tectia.c — the reader of SSH Tectia's ssh-broker-config.xml
 * (daemon/config/tectia.c): profiles, tunnels, options, warnings, and every
 * error naming its file and line. */
#include "check.h"
#include "spec.h"
#include "tectia.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAXP 8

static struct profile prof[MAXP];
static int nprof;
static char err[1024];
static char warnings[8192];

static void collect(void *arg, const char *msg)
{
	size_t used = strlen(warnings);

	(void)arg;
	snprintf(warnings + used, sizeof(warnings) - used, "%s\n", msg);
}

/* Parses text as file "f" into prof[]; every tunnel must be a valid
 * forward spec. Returns tectia_parse()'s result. */
static int parse(const char *text)
{
	struct fwd_spec f;
	char e[700];
	int rc, i, j;

	warnings[0] = '\0';
	memset(prof, 0x5a, sizeof(prof));
	rc = tectia_parse("f", text, strlen(text), prof, MAXP, &nprof, err,
			  sizeof(err), collect, NULL);
	for (i = 0; rc == 0 && i < nprof; i++)
		for (j = 0; j < prof[i].ntunnels; j++)
			CHECK(spec_parse_forward(prof[i].tunnels[j].spec,
						 prof[i].tunnels[j].remote, &f,
						 e, sizeof(e)) == 0,
			      "tunnel spec '%s' does not parse",
			      prof[i].tunnels[j].spec);
	return rc;
}

/* A document: the root around body. */
static const char *doc(const char *body)
{
	static char buf[8192];

	snprintf(buf, sizeof(buf), "<secsh-broker>\n%s\n</secsh-broker>\n",
		 body);
	return buf;
}

/* One profile "p" (line 3) with the given tunnel elements (line 5 on). */
static const char *tunnels(const char *elems)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf),
		 "<profiles>\n<profile id=\"p\" host=\"h\">\n<tunnels>\n%s\n"
		 "</tunnels>\n</profile>\n</profiles>",
		 elems);
	return doc(buf);
}

static void good_tunnel(const char *elem, int remote, const char *spec)
{
	int rc = parse(tunnels(elem));

	CHECK(rc == 0 && nprof == 1 && prof[0].ntunnels == 1 &&
		  prof[0].tunnels[0].remote == remote &&
		  !strcmp(prof[0].tunnels[0].spec, spec) &&
		  prof[0].tunnels[0].line == 5,
	      "%s: want %s '%s' at line 5, got rc %d '%s' (%s)", elem,
	      remote ? "remote" : "local", spec, rc,
	      rc == 0 && nprof ? prof[0].tunnels[0].spec : "", err);
}

/* text must fail with "f:LINE: " followed by a message containing want. */
static void bad(const char *text, int line, const char *want)
{
	char prefix[32];
	int rc = parse(text);

	snprintf(prefix, sizeof(prefix), "f:%d: ", line);
	CHECK(rc < 0 && nprof == 0 && !strncmp(err, prefix, strlen(prefix)) &&
		  strstr(err, want),
	      "want error '%s...%s', got rc %d '%s'", prefix, want, rc, err);
}

static void bad_tunnel(const char *elem, const char *want)
{
	bad(tunnels(elem), 5, want);
}

/* The example of Tectia's manual (non-transparent FTP tunneling), in a
 * whole file with the DOCTYPE Tectia writes. */
static void test_manual_example(void)
{
	static const char text[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<!DOCTYPE secsh-broker SYSTEM \"/opt/tectia/share/auxdata/"
	    "ssh-broker-ng/ssh-broker-ng-config-1.dtd\">\n"
	    "<secsh-broker version=\"6.4\">\n"
	    "  <profiles>\n"
	    "    <profile id=\"id1\" name=\"ftpserver\" "
	    "host=\"ssh.example.com\"\n"
	    "             port=\"2222\" user=\"alice\">\n"
	    "      <tunnels>\n"
	    "        <local-tunnel type=\"FTP\" listen-port=\"1234\"\n"
	    "                      dst-host=\"127.0.0.1\" dst-port=\"21\"\n"
	    "                      allow-relay=\"NO\"/>\n"
	    "      </tunnels>\n"
	    "    </profile>\n"
	    "  </profiles>\n"
	    "</secsh-broker>\n";
	int rc = parse(text);

	CHECK(rc == 0 && nprof == 1, "manual example: rc %d n %d (%s)", rc,
	      nprof, err);
	if (rc || nprof != 1)
		return;
	CHECK(!strcmp(prof[0].name, "ftpserver"), "name '%s'", prof[0].name);
	CHECK(!strcmp(prof[0].host, "ssh.example.com"), "host");
	CHECK(!strcmp(prof[0].user, "alice"), "user");
	CHECK(prof[0].port == 2222, "port %u", prof[0].port);
	CHECK(!strcmp(prof[0].file, "f") && prof[0].line == 5,
	      "defined at %s:%d", prof[0].file, prof[0].line);
	CHECK(prof[0].options[0] == '\0', "options '%s'", prof[0].options);
	CHECK(prof[0].ntunnels == 1 && !prof[0].tunnels[0].remote &&
		  !strcmp(prof[0].tunnels[0].spec, "ftp/1234:127.0.0.1:21") &&
		  prof[0].tunnels[0].line == 8,
	      "tunnel '%s' line %d", prof[0].tunnels[0].spec,
	      prof[0].tunnels[0].line);
	CHECK(warnings[0] == '\0', "warnings: %s", warnings);
}

static void test_tunnels(void)
{
	/* FTP and TCP, any case; TCP without a type. */
	good_tunnel("<local-tunnel type=\"ftp\" listen-port=\"1234\" "
		    "dst-host=\"localhost\" dst-port=\"21\"/>",
		    0, "ftp/1234:localhost:21");
	good_tunnel("<local-tunnel type=\"TCP\" listen-port=\"8080\" "
		    "dst-host=\"web.example.com\" dst-port=\"80\"/>",
		    0, "8080:web.example.com:80");
	good_tunnel("<local-tunnel type=\"Tcp\" listen-port=\"8080\" "
		    "dst-host=\"web\" dst-port=\"80\"/>",
		    0, "8080:web:80");
	good_tunnel("<local-tunnel listen-port=\"8080\" dst-host=\"web\" "
		    "dst-port=\"80\"/>",
		    0, "8080:web:80");
	good_tunnel("<remote-tunnel type=\"FTP\" listen-port=\"2121\" "
		    "dst-host=\"localhost\" dst-port=\"21\"/>",
		    1, "ftp/2121:localhost:21");
	/* allow-relay: every address without a listen-address. */
	good_tunnel("<local-tunnel type=\"FTP\" listen-port=\"1234\" "
		    "dst-host=\"127.0.0.1\" dst-port=\"21\" "
		    "allow-relay=\"yes\"/>",
		    0, "ftp/*:1234:127.0.0.1:21");
	good_tunnel("<local-tunnel type=\"FTP\" listen-port=\"1234\" "
		    "dst-host=\"127.0.0.1\" dst-port=\"21\" "
		    "allow-relay=\"YES\"/>",
		    0, "ftp/*:1234:127.0.0.1:21");
	good_tunnel("<local-tunnel type=\"FTP\" listen-port=\"1234\" "
		    "dst-host=\"127.0.0.1\" dst-port=\"21\" "
		    "allow-relay=\"no\"/>",
		    0, "ftp/1234:127.0.0.1:21");
	good_tunnel("<remote-tunnel type=\"tcp\" listen-port=\"9000\" "
		    "dst-host=\"db\" dst-port=\"5432\" allow-relay=\"yes\"/>",
		    1, "*:9000:db:5432");
	/* listen-address is the bind address, relay or not. */
	good_tunnel("<local-tunnel type=\"FTP\" listen-port=\"1234\" "
		    "listen-address=\"10.0.0.5\" dst-host=\"ftp\" "
		    "dst-port=\"21\"/>",
		    0, "ftp/10.0.0.5:1234:ftp:21");
	good_tunnel("<local-tunnel type=\"FTP\" listen-port=\"1234\" "
		    "listen-address=\"10.0.0.5\" dst-host=\"ftp\" "
		    "dst-port=\"21\" allow-relay=\"yes\"/>",
		    0, "ftp/10.0.0.5:1234:ftp:21");
	good_tunnel("<local-tunnel listen-port=\" 1234 \" dst-host=\"ftp\" "
		    "dst-port=\"21\"/>",
		    0, "1234:ftp:21");
	/* IPv6 literals in brackets. */
	good_tunnel("<local-tunnel type=\"FTP\" listen-port=\"1234\" "
		    "dst-host=\"::1\" dst-port=\"21\"/>",
		    0, "ftp/1234:[::1]:21");
	good_tunnel("<local-tunnel type=\"FTP\" listen-port=\"1234\" "
		    "listen-address=\"::\" dst-host=\"2001:db8::7\" "
		    "dst-port=\"21\"/>",
		    0, "ftp/[::]:1234:[2001:db8::7]:21");
	good_tunnel("<remote-tunnel type=\"FTP\" listen-port=\"2121\" "
		    "listen-address=\"::1\" dst-host=\"::1\" dst-port=\"21\"/>",
		    1, "ftp/[::1]:2121:[::1]:21");

	/* Several, in order, each with its line. */
	CHECK(parse(tunnels("<local-tunnel type=\"FTP\" listen-port=\"1\" "
			    "dst-host=\"a\" dst-port=\"21\"/>\n"
			    "<remote-tunnel type=\"TCP\" listen-port=\"2\" "
			    "dst-host=\"b\" dst-port=\"22\"/>")) == 0 &&
		  prof[0].ntunnels == 2 &&
		  !strcmp(prof[0].tunnels[1].spec, "2:b:22") &&
		  prof[0].tunnels[1].remote && prof[0].tunnels[1].line == 6,
	      "two tunnels: %s", err);
}

static void test_static_tunnels(void)
{
	/* Tectia's static tunnel example, plus a profile defined after the
	 * static tunnel that names it. */
	static const char body[] =
	    "<static-tunnels>\n"			   /* 2 */
	    "  <tunnel type=\"tcp\" listen-port=\"143\"\n" /* 3 */
	    "          dst-host=\"imap.example.com\" dst-port=\"143\"\n"
	    "          allow-relay=\"no\" profile=\"id1\"/>\n"
	    "  <tunnel type=\"FTP\" listen-port=\"2121\" dst-host=\"ftp\"\n"
	    "          dst-port=\"21\" allow-relay=\"yes\" profile=\"id2\"/>\n"
	    "</static-tunnels>\n"
	    "<profiles>\n"
	    "  <profile id=\"id1\" user=\"user7\" "
	    "host=\"sshserver.example.com\">\n"
	    "    <tunnels><local-tunnel type=\"FTP\" listen-port=\"1234\" "
	    "dst-host=\"h\" dst-port=\"21\"/></tunnels>\n"
	    "  </profile>\n"
	    "  <profile id=\"id2\" name=\"second\" host=\"other\"/>\n"
	    "</profiles>";
	int rc = parse(doc(body));

	CHECK(rc == 0 && nprof == 2, "static tunnels: rc %d (%s)", rc, err);
	if (rc || nprof != 2)
		return;
	CHECK(!strcmp(prof[0].name, "id1") && !strcmp(prof[0].user, "user7"),
	      "profile id as its name: '%s'", prof[0].name);
	CHECK(
	    prof[0].ntunnels == 2 &&
		!strcmp(prof[0].tunnels[0].spec, "ftp/1234:h:21") &&
		!strcmp(prof[0].tunnels[1].spec, "143:imap.example.com:143") &&
		!prof[0].tunnels[1].remote && prof[0].tunnels[1].line == 3,
	    "static tunnel appended to id1: '%s' line %d",
	    prof[0].tunnels[1].spec, prof[0].tunnels[1].line);
	CHECK(!strcmp(prof[1].name, "second") && prof[1].ntunnels == 1 &&
		  !strcmp(prof[1].tunnels[0].spec, "ftp/*:2121:ftp:21") &&
		  prof[1].tunnels[0].line == 6,
	      "static tunnel of id2: '%s'", prof[1].tunnels[0].spec);
}

static void test_options(void)
{
	static const char body[] =
	    "<general>\n"					   /* 2 */
	    "  <crypto-lib mode=\"standard\"/>\n"		   /* 3 */
	    "  <strict-host-key-checking enable=\"No\"/>\n"	   /* 4 */
	    "  <known-hosts path=\"/home/u/.ssh/known_hosts\"/>\n" /* 5 */
	    "  <key-stores>\n"
	    "    <key-store type=\"software\" "
	    "init=\"key_files( /k/a , /k/b )\"/>\n"
	    "  </key-stores>\n"
	    "</general>\n"
	    "<default-settings>\n" /* 10 */
	    "  <ciphers><cipher name=\"aes128-ctr\"/></ciphers>\n"
	    "  <keepalive-interval time=\"30\"/>\n"
	    "</default-settings>\n"
	    "<profiles>\n"
	    "  <profile id=\"a\" host=\"h\" connect-on-startup=\"no\">\n" /* 15
									   */
	    "    <keepalive-interval time=\"5\"/>\n"
	    "    <tcp-connect-timeout time=\"10\"/>\n"
	    "    <authentication-methods>\n"
	    "      <auth-publickey>\n"
	    "        <key-selection policy=\"automatic\"/>\n" /* 20 */
	    "        <identity file=\"/k/mine\"/>\n"
	    "      </auth-publickey>\n"
	    "      <auth-password/>\n"
	    "    </authentication-methods>\n"
	    "  </profile>\n"
	    "  <profile id=\"b\" host=\"h2\"/>\n"
	    "</profiles>";
	int rc = parse(doc(body));

	CHECK(rc == 0 && nprof == 2, "options: rc %d (%s)", rc, err);
	if (rc || nprof != 2)
		return;
	/* The profile's own settings override the defaults by key. */
	CHECK(!strcmp(prof[0].options,
		      "UserKnownHostsFile=/home/u/.ssh/known_hosts\n"
		      "StrictHostKeyChecking=ask\n"
		      "ServerAliveInterval=5\n"
		      "ConnectTimeout=10\n"
		      "IdentityFile=/k/mine\n"),
	      "profile a options:\n%s", prof[0].options);
	CHECK(!strcmp(prof[1].options,
		      "UserKnownHostsFile=/home/u/.ssh/known_hosts\n"
		      "IdentityFile=/k/a\n"
		      "IdentityFile=/k/b\n"
		      "ServerAliveInterval=30\n"
		      "StrictHostKeyChecking=ask\n"),
	      "profile b options:\n%s", prof[1].options);
	CHECK(strstr(warnings, "f:3: <crypto-lib> is not used by ftp-tunnel; "
			       "ignored\n") &&
		  strstr(warnings, "f:11: <ciphers> is not used") &&
		  strstr(warnings, "f:15: attribute connect-on-startup of "
				   "<profile> is not used") &&
		  strstr(warnings, "f:20: <key-selection> is not used") &&
		  strstr(warnings, "f:23: <auth-password> is not used") &&
		  !strstr(warnings, "<cipher>"),
	      "warnings:\n%s", warnings);

	CHECK(
	    parse(doc("<general><strict-host-key-checking enable=\"yes\"/>"
		      "<accept-unknown-host-keys enable=\"yes\"/></general>"
		      "<profiles><profile id=\"a\" host=\"h\"/></profiles>")) ==
		    0 &&
		!strcmp(prof[0].options, "StrictHostKeyChecking=yes\n"),
	    "strict wins over accept-unknown: '%s'", prof[0].options);
	CHECK(
	    parse(doc("<general><accept-unknown-host-keys enable=\"yes\"/>"
		      "</general><profiles><profile id=\"a\" host=\"h\"/>"
		      "</profiles>")) == 0 &&
		!strcmp(prof[0].options, "StrictHostKeyChecking=accept-new\n"),
	    "accept-unknown: '%s'", prof[0].options);
}

/* gateway-profile: the other profile's server becomes a jump host of
 * this one, and so on outwards; <proxy> (SOCKS/HTTP) is named in a
 * warning with its line. */
static void test_gateways(void)
{
	static const char body[] =
	    "<profiles>\n"
	    "  <profile id=\"outer\" host=\"b1.example\" "
	    "user=\"jo\"/>\n" /* 3 */
	    "  <profile id=\"mid\" host=\"::1\" "
	    "port=\"2222\" gateway-profile=\"outer\"/>\n"
	    "  <profile id=\"in\" host=\"inner\" "
	    "gateway-profile=\"mid\">\n" /* 5 */
	    "    <proxy ruleset=\"socks5://fw:1080\"/>\n"
	    "  </profile>\n"
	    "</profiles>";
	int rc = parse(doc(body));

	CHECK(rc == 0 && nprof == 3, "gateways: rc %d (%s)", rc, err);
	if (rc || nprof != 3)
		return;
	CHECK(!strcmp(prof[0].options, ""), "outer: '%s'", prof[0].options);
	CHECK(!strcmp(prof[1].options, "ProxyJump=jo@b1.example\n"),
	      "mid: '%s'", prof[1].options);
	CHECK(!strcmp(prof[2].options, "ProxyJump=jo@b1.example,[::1]:2222\n"),
	      "in: '%s'", prof[2].options);
	CHECK(strstr(warnings, "f:6: <proxy> (Tectia's SOCKS/HTTP proxy rules) "
			       "is not supported by ftp-tunnel") != NULL,
	      "warnings:\n%s", warnings);
	CHECK(!strstr(warnings, "attribute gateway-profile"), "warnings:\n%s",
	      warnings);

	CHECK(parse(doc("<profiles><profile id=\"a\" host=\"h\" "
			"gateway-profile=\"b\"/>\n<profile id=\"b\" "
			"host=\"g\" gateway-profile=\"a\"/></profiles>")) < 0 &&
		  strstr(err, "f:2: profile a: its gateway-profiles lead back"),
	      "loop: %s", err);
	CHECK(parse(doc("<profiles><profile id=\"a\" host=\"h\" "
			"gateway-profile=\"nope\"/></profiles>")) < 0 &&
		  strstr(err, "gateway-profile 'nope' is not defined"),
	      "undefined: %s", err);
}

static void test_empty_and_names(void)
{
	CHECK(parse("<secsh-broker/>") == 0 && nprof == 0, "empty broker");
	CHECK(parse(doc("<profiles><profile id=\"x\" name=\"nice\" host=\"h\" "
			"user=\"\"/></profiles>")) == 0 &&
		  !strcmp(prof[0].name, "nice") && prof[0].user[0] == '\0' &&
		  prof[0].port == 0 && prof[0].ntunnels == 0,
	      "name attribute, empty user");
}

static void test_errors(void)
{
	/* Malformed XML: expat's message and line. */
	bad("<secsh-broker>\n<profiles>\n<profile id=\"a\" host=\"h\">\n"
	    "</profiles>\n</secsh-broker>\n",
	    4, "malformed XML: mismatched tag");
	bad("", 1, "malformed XML: no element found");
	bad("<secsh-broker>\n<profiles id=\"a\" id=\"b\"/>\n</secsh-broker>", 2,
	    "malformed XML: duplicate attribute");
	bad("<secsh-broker>\n\n<general>\n", 4, "malformed XML");
	bad("<secsh-broker>\n</secsh-broker>\n<x/>", 3, "malformed XML");
	bad("<?xml version=\"1.0\"?>\n<!DOCTYPE secsh-broker [\n"
	    "<!ENTITY a \"aaaa\">\n]>\n<secsh-broker/>",
	    3, "entity declarations are not supported");
	bad("<profiles/>", 1, "root element is <profiles>, not <secsh-broker>");

	/* Missing attributes. */
	bad_tunnel(
	    "<local-tunnel type=\"FTP\" dst-host=\"h\" dst-port=\"21\"/>",
	    "<local-tunnel> has no listen-port attribute");
	bad_tunnel("<local-tunnel type=\"FTP\" listen-port=\"1\" "
		   "dst-host=\"h\"/>",
		   "<local-tunnel> has no dst-port attribute");
	bad_tunnel("<remote-tunnel listen-port=\"1\" dst-port=\"2\"/>",
		   "<remote-tunnel> has no dst-host attribute");
	bad(doc("<profiles>\n<profile host=\"h\"/>\n</profiles>"), 3,
	    "<profile> has no id attribute");
	bad(doc("<profiles>\n<profile id=\"a\"/>\n</profiles>"), 3,
	    "<profile> has no host attribute");
	bad(doc("<static-tunnels>\n<tunnel listen-port=\"1\" dst-host=\"h\" "
		"dst-port=\"2\"/>\n</static-tunnels>"),
	    3, "<tunnel> has no profile attribute");

	/* Elements that are not Tectia's. */
	bad_tunnel("<frobnicate/>",
		   "unknown element <frobnicate> in <tunnels>");
	bad(doc("<profiles>\n<profile id=\"a\" host=\"h\">\n<tunnel/>\n"
		"</profile>\n</profiles>"),
	    4, "unknown element <tunnel> in <profile>");
	bad(doc("\n<frobnicate/>"), 3,
	    "unknown element <frobnicate> in <secsh-broker>");
	bad(doc("<profiles>\n<host/>\n</profiles>"), 3,
	    "unknown element <host> in <profiles>");
	bad(tunnels("<local-tunnel listen-port=\"1\" dst-host=\"h\" "
		    "dst-port=\"2\">\n<x/></local-tunnel>"),
	    6, "unknown element <x> in <local-tunnel>");
	bad(doc("<default-settings>\n<frob/>\n</default-settings>"), 3,
	    "unknown element <frob> in <default-settings>");
	bad(doc("<static-tunnels>\n<local-tunnel/>\n</static-tunnels>"), 3,
	    "unknown element <local-tunnel> in <static-tunnels>");
	/* Inside an ignored element nothing is checked. */
	CHECK(parse(doc("<general><cert-validation><frob/></cert-validation>"
			"</general>")) == 0,
	      "inside an ignored element: %s", err);

	/* Bad values. */
	bad_tunnel("<local-tunnel listen-port=\"0\" dst-host=\"h\" "
		   "dst-port=\"21\"/>",
		   "bad listen-port '0' in <local-tunnel> (1 to 65535)");
	bad_tunnel("<local-tunnel listen-port=\"65536\" dst-host=\"h\" "
		   "dst-port=\"21\"/>",
		   "bad listen-port '65536'");
	bad_tunnel("<local-tunnel listen-port=\"12a\" dst-host=\"h\" "
		   "dst-port=\"21\"/>",
		   "bad listen-port '12a'");
	bad_tunnel("<local-tunnel listen-port=\"1\" dst-host=\"h\" "
		   "dst-port=\"\"/>",
		   "bad dst-port ''");
	bad_tunnel("<local-tunnel listen-port=\"1\" dst-host=\"h\" "
		   "dst-port=\"-21\"/>",
		   "bad dst-port '-21'");
	bad_tunnel("<local-tunnel listen-port=\"99999999999\" dst-host=\"h\" "
		   "dst-port=\"21\"/>",
		   "bad listen-port");
	bad(doc("<profiles>\n<profile id=\"a\" host=\"h\" port=\"70000\"/>\n"
		"</profiles>"),
	    3, "bad port '70000' in <profile>");
	bad_tunnel("<local-tunnel type=\"SOCKS\" listen-port=\"1\" "
		   "dst-host=\"h\" dst-port=\"2\"/>",
		   "bad type 'SOCKS' in <local-tunnel> (FTP or TCP)");
	bad_tunnel("<local-tunnel listen-port=\"1\" dst-host=\"h\" "
		   "dst-port=\"2\" allow-relay=\"maybe\"/>",
		   "bad allow-relay 'maybe'");
	bad_tunnel("<local-tunnel listen-port=\"1\" dst-host=\"a b\" "
		   "dst-port=\"2\"/>",
		   "dst-host 'a b' in <local-tunnel> has a blank");
	bad_tunnel("<local-tunnel listen-port=\"1\" dst-host=\"[::1]\" "
		   "dst-port=\"2\"/>",
		   "bad dst-host '[::1]'");
	bad_tunnel("<local-tunnel listen-port=\"1\" dst-host=\"1:2:zz\" "
		   "dst-port=\"2\"/>",
		   "bad dst-host '1:2:zz'");
	bad_tunnel("<local-tunnel listen-port=\"1\" dst-host=\"h\" "
		   "dst-port=\"2\" listen-address=\"a/b\"/>",
		   "bad listen-address 'a/b'");
	bad_tunnel("<local-tunnel listen-port=\"1\" dst-host=\"h&#10;x\" "
		   "dst-port=\"2\"/>",
		   "has a control character");
	bad(doc("<profiles>\n<profile id=\"a\" host=\"h\">\n"
		"<keepalive-interval time=\"soon\"/>\n</profile>\n</profiles>"),
	    4, "bad time 'soon' in <keepalive-interval>");
	bad(doc("<profiles>\n<profile id=\"a\" name=\"my#x\" host=\"h\"/>\n"
		"</profiles>"),
	    3, "profile name 'my#x' has a character");
	bad(doc("<general>\n<strict-host-key-checking enable=\"sure\"/>\n"
		"</general>"),
	    3, "bad enable 'sure'");

	/* Duplicates and references. */
	bad(doc("<profiles>\n<profile id=\"a\" host=\"h\"/>\n"
		"<profile id=\"a\" host=\"h2\"/>\n</profiles>"),
	    4, "duplicate profile id 'a' (first at line 3)");
	bad(doc("<profiles>\n<profile id=\"a\" name=\"n\" host=\"h\"/>\n"
		"<profile id=\"b\" name=\"n\" host=\"h2\"/>\n</profiles>"),
	    4, "duplicate profile name 'n' (first at line 3)");
	bad(doc("<profiles>\n<profile id=\"a\" host=\"h\"/>\n</profiles>\n"
		"<static-tunnels>\n\n<tunnel listen-port=\"1\" dst-host=\"h\" "
		"dst-port=\"2\" profile=\"b\"/>\n</static-tunnels>"),
	    7, "static tunnel names profile 'b', which is not defined");
}

static void test_limits(void)
{
	char *text;
	size_t cap = 200000, used;
	int i;

	text = malloc(cap);
	if (!text)
		exit(2);
	/* More profiles than the caller has room for. */
	used = (size_t)snprintf(text, cap, "<secsh-broker><profiles>\n");
	for (i = 0; i <= MAXP; i++)
		used +=
		    (size_t)snprintf(text + used, cap - used,
				     "<profile id=\"p%d\" host=\"h\"/>\n", i);
	snprintf(text + used, cap - used, "</profiles></secsh-broker>");
	bad(text, MAXP + 2, "more than 8 profiles");

	/* More tunnels than a profile holds. */
	used = (size_t)snprintf(text, cap,
				"<secsh-broker><profiles>"
				"<profile id=\"p\" host=\"h\">"
				"<tunnels>\n");
	for (i = 0; i <= PROFILE_MAX_TUNNELS; i++)
		used += (size_t)snprintf(
		    text + used, cap - used,
		    "<local-tunnel listen-port=\"%d\" dst-host=\"h\" "
		    "dst-port=\"21\"/>\n",
		    1000 + i);
	snprintf(text + used, cap - used,
		 "</tunnels></profile></profiles></secsh-broker>");
	bad(text, PROFILE_MAX_TUNNELS + 2,
	    "profile p has more than 32 "
	    "tunnels");

	/* Nesting deeper than the reader follows (inside an ignored
	 * element, where nothing else is checked). */
	used = (size_t)snprintf(text, cap, "<secsh-broker><gui>\n");
	for (i = 0; i < TECTIA_DEPTH_MAX; i++)
		used += (size_t)snprintf(text + used, cap - used, "<a>");
	for (i = 0; i < TECTIA_DEPTH_MAX; i++)
		used += (size_t)snprintf(text + used, cap - used, "</a>");
	snprintf(text + used, cap - used, "</gui></secsh-broker>");
	bad(text, 2, "elements nested deeper than 64");

	/* Too large. */
	CHECK(tectia_parse("f", text, TECTIA_FILE_MAX + 1, prof, MAXP, &nprof,
			   err, sizeof(err), NULL, NULL) < 0 &&
		  strstr(err, "f:1: file larger than"),
	      "size limit: %s", err);
	free(text);
}

static void test_read_file(void)
{
	char path[] = "/tmp/test_tectia.XXXXXX";
	const char *text = tunnels("<local-tunnel type=\"FTP\" "
				   "listen-port=\"1234\" dst-host=\"h\" "
				   "dst-port=\"21\"/>");
	int fd = mkstemp(path), rc;

	CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text),
	      "temp file");
	if (fd >= 0)
		close(fd);
	rc =
	    tectia_read(path, prof, MAXP, &nprof, err, sizeof(err), NULL, NULL);
	CHECK(rc == 0 && nprof == 1 && !strcmp(prof[0].file, path) &&
		  !strcmp(prof[0].tunnels[0].spec, "ftp/1234:h:21"),
	      "tectia_read: rc %d (%s)", rc, err);
	/* Others could rewrite where the profiles connect: refused, as a
	 * native configuration or ssh_config would be. */
	CHECK(chmod(path, 0620) == 0, "chmod");
	rc =
	    tectia_read(path, prof, MAXP, &nprof, err, sizeof(err), NULL, NULL);
	CHECK(rc < 0 && strstr(err, path) &&
		  strstr(err, "bad owner or permissions"),
	      "group-writable: %s", err);
	CHECK(chmod(path, 0602) == 0, "chmod");
	rc =
	    tectia_read(path, prof, MAXP, &nprof, err, sizeof(err), NULL, NULL);
	CHECK(rc < 0 && strstr(err, "bad owner or permissions"),
	      "writable by others: %s", err);
	CHECK(chmod(path, 0644) == 0, "chmod");
	if (getuid() == 0) {
		/* Another user's file (root may read anyone's). */
		CHECK(chown(path, 65534, 65534) == 0, "chown");
		rc = tectia_read(path, prof, MAXP, &nprof, err, sizeof(err),
				 NULL, NULL);
		CHECK(rc < 0 && strstr(err, "bad owner or permissions"),
		      "another user's: %s", err);
	}
	unlink(path);
	rc =
	    tectia_read(path, prof, MAXP, &nprof, err, sizeof(err), NULL, NULL);
	CHECK(rc < 0 && strstr(err, "No such file"), "missing file: %s", err);
	rc = tectia_read("/tmp", prof, MAXP, &nprof, err, sizeof(err), NULL,
			 NULL);
	CHECK(rc < 0 && strstr(err, "/tmp: not a regular file"),
	      "directory: %s", err);
}

static struct tectia_rule rulev[4];

/* Parses body (inside the root) with rules read; returns the result. */
static int parse_rules(const char *body, struct tectia_rules *r)
{
	const char *text = doc(body);

	warnings[0] = '\0';
	memset(rulev, 0x5a, sizeof(rulev));
	r->v = rulev;
	r->max = 4;
	r->n = -1;
	return tectia_parse_ex("f", text, strlen(text), prof, MAXP, &nprof, r,
			       err, sizeof(err), collect, NULL);
}

#define GW                                                                     \
	"<profiles><profile id=\"p1\" name=\"gw\" host=\"gw.example\"/>"       \
	"</profiles>\n"

/* <filter-engine> ftp-proxy rules: each attribute's mapping. */
static void test_filter_rules(void)
{
	struct tectia_rules r;

	/* host, ports, profile-id (by its name), the default SftpLogin. */
	CHECK(parse_rules(GW "<filter-engine>\n<network id=\"n\">\n"
			     "<rule host=\"ftp.example.com\" ports=\"21-23\" "
			     "action=\"ftp-proxy\" profile-id=\"p1\"/>\n"
			     "</network>\n</filter-engine>",
			  &r) == 0,
	      "%s", err);
	CHECK(r.n == 1, "rules %d", r.n);
	CHECK(!strcmp(rulev[0].host, "ftp.example.com"), "%s", rulev[0].host);
	CHECK(rulev[0].port_lo == 21 && rulev[0].port_hi == 23, "%u-%u",
	      rulev[0].port_lo, rulev[0].port_hi);
	CHECK(!strcmp(rulev[0].via, "gw"), "via %s", rulev[0].via);
	CHECK(!rulev[0].hostname_from_app && !rulev[0].username_from_app,
	      "from-app flags set");
	CHECK(rulev[0].line == 5, "line %d", rulev[0].line);

	/* hostname-from-app: no profile needed; username-from-app; one
	 * port; ip-address as Tectia's manual spells the host. */
	CHECK(parse_rules("<filter-engine>\n<rule ip-address=\"10.1.2.3\" "
			  "ports=\"2121\" action=\"FTP-PROXY\" "
			  "hostname-from-app=\"yes\" "
			  "username-from-app=\"YES\"/>\n</filter-engine>",
			  &r) == 0,
	      "%s", err);
	CHECK(r.n == 1 && !strcmp(rulev[0].host, "10.1.2.3") &&
		  rulev[0].port_lo == 2121 && rulev[0].port_hi == 2121,
	      "rule %d %s", r.n, rulev[0].host);
	CHECK(rulev[0].hostname_from_app && rulev[0].username_from_app &&
		  !rulev[0].via[0],
	      "from-app: via '%s'", rulev[0].via);
	CHECK(!warnings[0], "from-app: warned %s", warnings);

	/* hostname-from-app with a profile-id: the profile is not the
	 * server, and its settings are not carried: said so. */
	CHECK(parse_rules(GW "<filter-engine>\n<rule action=\"ftp-proxy\" "
			     "hostname-from-app=\"yes\" profile-id=\"p1\"/>\n"
			     "</filter-engine>",
			  &r) == 0,
	      "%s", err);
	CHECK(r.n == 1 && !rulev[0].via[0] && !rulev[0].host[0],
	      "from-app with profile-id: via '%s'", rulev[0].via);
	CHECK(strstr(warnings, "f:4: <rule> profile-id=\"p1\" is not used "
			       "with hostname-from-app") != NULL,
	      "%s", warnings);

	/* A rule without host (or ".*", any) or ports. */
	CHECK(parse_rules(GW "<filter-engine>\n<rule action=\"ftp-proxy\" "
			     "profile-id=\"p1\"/>\n<rule ip-address=\".*\" "
			     "action=\"ftp-proxy\" profile-id=\"p1\"/>\n"
			     "</filter-engine>",
			  &r) == 0,
	      "%s", err);
	CHECK(r.n == 2 && !rulev[0].host[0] && !rulev[1].host[0] &&
		  rulev[0].port_lo == 0 && rulev[0].port_hi == 0,
	      "no host: %d '%s' '%s'", r.n, rulev[0].host, rulev[1].host);

	/* Other actions warn with their line; not kept. */
	CHECK(parse_rules("<filter-engine>\n<rule action=\"direct\"/>\n"
			  "<rule action=\"tunnel\" profile-id=\"x\"/>\n"
			  "<dns id=\"d\"/>\n</filter-engine>",
			  &r) == 0,
	      "%s", err);
	CHECK(r.n == 0, "rules %d", r.n);
	CHECK(strstr(warnings, "f:3: <rule action=\"direct\">") != NULL, "%s",
	      warnings);
	CHECK(strstr(warnings, "f:4: <rule action=\"tunnel\"> is not "
			       "supported") != NULL,
	      "%s", warnings);
	CHECK(strstr(warnings, "f:5: <dns> is not used") != NULL, "%s",
	      warnings);

	/* Errors name the line. */
	CHECK(parse_rules("<filter-engine>\n<rule action=\"ftp-proxy\" "
			  "profile-id=\"nope\"/>\n</filter-engine>",
			  &r) < 0 &&
		  strstr(err, "f:3: <rule> names profile-id 'nope'") &&
		  r.n == 0,
	      "%s", err);
	CHECK(parse_rules("<filter-engine>\n<rule action=\"ftp-proxy\"/>\n"
			  "</filter-engine>",
			  &r) < 0 &&
		  strstr(err, "f:3: <rule action=\"ftp-proxy\"> has no "
			      "profile-id"),
	      "%s", err);
	CHECK(parse_rules(GW "<filter-engine>\n<rule action=\"ftp-proxy\" "
			     "profile-id=\"p1\" ports=\"30-21\"/>\n"
			     "</filter-engine>",
			  &r) < 0 &&
		  strstr(err, "f:4: bad ports '30-21'"),
	      "%s", err);
	CHECK(parse_rules("<filter-engine>\n<rule ports=\"21\"/>\n"
			  "</filter-engine>",
			  &r) < 0 &&
		  strstr(err, "f:3: <rule> has no action"),
	      "%s", err);
	CHECK(parse_rules("<filter-engine>\n<rule action=\"ftp-proxy\" "
			  "hostname-from-app=\"maybe\"/>\n</filter-engine>",
			  &r) < 0 &&
		  strstr(err, "f:3: bad hostname-from-app"),
	      "%s", err);

	/* Without a rule array, <filter-engine> is ignored as before. */
	CHECK(parse("<secsh-broker><filter-engine><rule action=\"x\"/>"
		    "</filter-engine></secsh-broker>") == 0 &&
		  strstr(warnings, "<filter-engine> is not used"),
	      "%s / %s", err, warnings);
}

int main(void)
{
	test_manual_example();
	test_tunnels();
	test_static_tunnels();
	test_options();
	test_gateways();
	test_empty_and_names();
	test_errors();
	test_limits();
	test_read_file();
	test_filter_rules();
	printf("test_tectia: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

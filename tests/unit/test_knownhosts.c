/* test_knownhosts.c — the known_hosts reader (daemon/ssh/knownhosts.c): a table
 * of files (text, host, port, offered key) against the verdict, where it
 * came from and which lines are bad; then host patterns, names, and the
 * host key algorithm order. Keys and hashed names are real: made with
 * ssh-keygen (public halves only). */
#include "check.h"
#include <stdlib.h>
#include <string.h>

#include "knownhosts.h"

#define ED1                                                                    \
	"ssh-ed25519 "                                                         \
	"AAAAC3NzaC1lZDI1NTE5AAAAIMGcDUCxyysCmk7Fga3BD5lXuQDN6WvF7tKFApPSST7I"
#define ED2                                                                    \
	"ssh-ed25519 "                                                         \
	"AAAAC3NzaC1lZDI1NTE5AAAAIKcpBhV07Q5qUMrNthAaex3LduTHfi12xcurGs6vF7WA"
#define EC1                                                                    \
	"ecdsa-sha2-nistp256 "                                                 \
	"AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBLMQHv7kNPOlc1LQ" \
	"ZoTSDdeQ4jpc2wcjPoo9DIzwUodOX432v/SPnoGhC0QJXKw3J1D7pUSnD22wM/"       \
	"xLoic950w="
/* ssh-keygen -H of "[127.0.0.1]:2222 ED1" and "ftp.example.com ED1". */
#define HASHED_2222                                                            \
	"|1|fYG4KmFoCMzOU5tjayc48pMYyyg=|qj/BfiH25o0SIRzO/R5FZZ7OAuo="
#define HASHED_FTP                                                             \
	"|1|PPmaX4LOl+XXTJwAuuikq39dTXU=|tHOsbyM1rZxh3FiHDmKhNxd5pOU="
/* ED1's base64 with the ssh-rsa name in front: a blob that names another
 * type than the line. */
#define ED1_B64                                                                \
	"AAAAC3NzaC1lZDI1NTE5AAAAIMGcDUCxyysCmk7Fga3BD5lXuQDN6WvF7tKFApPSST7I"
#define LONG_NAME                                                              \
	"hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh" \
	"hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh" \
	"hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh" \
	"hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh"

struct tcase {
	const char *name;
	const char *text;
	const char *host;
	unsigned port;
	const char *offered; /* "type base64", or NULL: types only */
	enum kh_status want;
	long where; /* line of the match, revoked or changed entry */
	const char *changed_type;
	const char *bad;   /* the bad lines, "3,5," */
	const char *types; /* the known types, "ssh-ed25519," */
};

static const struct tcase cases[] = {
    {"plain match", "h1 " ED1 "\n", "h1", 22, ED1, KH_MATCH, 1, NULL, "",
     "ssh-ed25519,"},
    {"comment after the key", "h1 " ED1 " root@h1 and more\n", "h1", 22, ED1,
     KH_MATCH, 1, NULL, "", "ssh-ed25519,"},
    {"no entry", "h2 " ED1 "\n", "h1", 22, ED1, KH_UNKNOWN, 0, NULL, "", ""},
    {"empty file", "", "h1", 22, ED1, KH_UNKNOWN, 0, NULL, "", ""},
    {"comments and blank lines, CRLF too",
     "# c\n\n\r\n  \t\r\n   # indented\r\nh1 " ED1 "\r\n", "h1", 22, ED1,
     KH_MATCH, 6, NULL, "", "ssh-ed25519,"},
    {"last line without newline", "# c\nh1 " ED1, "h1", 22, ED1, KH_MATCH, 2,
     NULL, "", "ssh-ed25519,"},
    {"same type, other key", "h1 " ED2 "\n", "h1", 22, ED1, KH_CHANGED, 1,
     "ssh-ed25519", "", "ssh-ed25519,"},
    {"other type known: changed, naming it", "# x\nh1 " ED1 "\n", "h1", 22, EC1,
     KH_CHANGED, 2, "ssh-ed25519", "", "ssh-ed25519,"},
    {"changed names the same type over another", "h1 " EC1 "\nh1 " ED2 "\n",
     "h1", 22, ED1, KH_CHANGED, 2, "ssh-ed25519", "",
     "ecdsa-sha2-nistp256,ssh-ed25519,"},
    {"a match after a different key wins", "h1 " ED2 "\nh1 " ED1 "\n", "h1", 22,
     ED1, KH_MATCH, 2, NULL, "", "ssh-ed25519,"},
    {"both types known, one offered", "h1 " ED1 "\nh1 " EC1 "\n", "h1", 22, EC1,
     KH_MATCH, 2, NULL, "", "ssh-ed25519,ecdsa-sha2-nistp256,"},

    /* --- bad lines never hide the rest ------------------------------- */
    {"a line without a key", "h1\nh1 ssh-ed25519\nh1 " ED2 "\n", "h1", 22, ED1,
     KH_CHANGED, 3, "ssh-ed25519", "1,2,", "ssh-ed25519,"},
    {"a 272-byte host name is no error", LONG_NAME " " ED1 "\nh1 " ED1 "\n",
     "h1", 22, ED1, KH_MATCH, 2, NULL, "", "ssh-ed25519,"},
    {"a long host name matches", LONG_NAME " " ED1 "\n", LONG_NAME, 22, ED1,
     KH_MATCH, 1, NULL, "", "ssh-ed25519,"},
    {"bad base64", "h1 ssh-ed25519 AAAA*AAA\nh1 ssh-ed25519 A\nh1 " ED1 "\n",
     "h1", 22, ED1, KH_MATCH, 3, NULL, "1,2,", "ssh-ed25519,"},
    {"blob of another type than the line",
     "h1 ssh-rsa " ED1_B64 "\nh1 " ED1 "\n", "h1", 22, ED1, KH_MATCH, 2, NULL,
     "1,", "ssh-ed25519,"},
    {"unknown marker", "@revokd h1 " ED1 "\n@ h1 " ED1 "\nh1 " ED1 "\n", "h1",
     22, ED1, KH_MATCH, 3, NULL, "1,2,", "ssh-ed25519,"},
    {"marker alone", "@revoked\n@cert-authority   \nh1 " ED1 "\n", "h1", 22,
     ED1, KH_MATCH, 3, NULL, "1,2,", "ssh-ed25519,"},
    {"SSH1 key", "h1 1024 35 1234567\nh1 " ED1 "\n", "h1", 22, ED1, KH_MATCH, 2,
     NULL, "1,", "ssh-ed25519,"},
    {"bad hashed names",
     "|1|abc h1 " ED1 "\n|2|"
     "fYG4KmFoCMzOU5tjayc48pMYyyg=|qj/BfiH25o0SIRzO/"
     "R5FZZ7OAuo= " ED1 "\n|1|AAAA|AAAA " ED1 "\n[127.0.0.1]:2222 " ED1 "\n",
     "127.0.0.1", 2222, ED1, KH_MATCH, 4, NULL, "1,2,3,", "ssh-ed25519,"},
    {"NUL byte", "h1 " ED2 "\0junk\nh1 " ED1 "\n", "h1", 22, ED1, KH_MATCH, 2,
     NULL, "1,", "ssh-ed25519,"},
    {"key type name too long", "h1 ssh-" LONG_NAME " AAAA\nh1 " ED1 "\n", "h1",
     22, ED1, KH_MATCH, 2, NULL, "1,", "ssh-ed25519,"},

    /* --- markers -------------------------------------------------------- */
    {"@revoked refuses a listed key", "h1 " ED1 "\n@revoked h1 " ED1 "\n", "h1",
     22, ED1, KH_REVOKED, 2, NULL, "", "ssh-ed25519,"},
    {"@revoked with a wildcard", "@revoked * " ED1 "\n", "h1", 22, ED1,
     KH_REVOKED, 1, NULL, "", ""},
    {"@revoked for another host", "@revoked h2 " ED1 "\nh1 " ED1 "\n", "h1", 22,
     ED1, KH_MATCH, 2, NULL, "", "ssh-ed25519,"},
    {"@revoked other key: no effect", "@revoked * " ED2 "\n", "h1", 22, ED1,
     KH_UNKNOWN, 0, NULL, "", ""},
    {"@revoked is not a host name", "@revoked h1 " ED2 "\n", "h1", 22, ED2,
     KH_REVOKED, 1, NULL, "", ""},
    {"@cert-authority alone: unknown", "@cert-authority h1 " ED1 "\n", "h1", 22,
     ED1, KH_UNKNOWN, 0, NULL, "", ""},
    {"@cert-authority then the entry",
     "@cert-authority *.example " ED2 "\nh1 " ED1 "\n", "h1", 22, ED1, KH_MATCH,
     2, NULL, "", "ssh-ed25519,"},

    /* --- names and patterns --------------------------------------------- */
    {"[host]:port", "[127.0.0.1]:2222 " ED1 "\n", "127.0.0.1", 2222, ED1,
     KH_MATCH, 1, NULL, "", "ssh-ed25519,"},
    {"[host]:port is not the host on 22", "[127.0.0.1]:2222 " ED1 "\n",
     "127.0.0.1", 22, ED1, KH_UNKNOWN, 0, NULL, "", ""},
    {"plain host is not another port", "127.0.0.1 " ED1 "\n", "127.0.0.1", 2222,
     ED1, KH_UNKNOWN, 0, NULL, "", ""},
    {"list and case", "a.example,FTP.Example.COM,b " ED1 "\n",
     "ftp.example.com", 22, ED1, KH_MATCH, 1, NULL, "", "ssh-ed25519,"},
    {"wildcards", "*.example.com " ED2 "\n[10.0.0.?]:2222 " ED1 "\n",
     "10.0.0.7", 2222, ED1, KH_MATCH, 2, NULL, "", "ssh-ed25519,"},
    {"negation excludes", "*.example.com,!ftp.example.com " ED2 "\n",
     "ftp.example.com", 22, ED1, KH_UNKNOWN, 0, NULL, "", ""},
    {"negation first excludes too", "!ftp.example.com,* " ED2 "\n",
     "ftp.example.com", 22, ED1, KH_UNKNOWN, 0, NULL, "", ""},
    {"negation alone matches nothing", "!other " ED2 "\n", "ftp.example.com",
     22, ED1, KH_UNKNOWN, 0, NULL, "", ""},
    {"hashed [host]:port", "# hashed\n" HASHED_2222 " " ED1 "\n", "127.0.0.1",
     2222, ED1, KH_MATCH, 2, NULL, "", "ssh-ed25519,"},
    {"hashed name, changed", HASHED_FTP " " ED1 "\n", "FTP.example.com", 22,
     ED2, KH_CHANGED, 1, "ssh-ed25519", "", "ssh-ed25519,"},
    {"hashed other name", HASHED_FTP " " ED1 "\n", "ftp.example.org", 22, ED1,
     KH_UNKNOWN, 0, NULL, "", ""},

    /* --- types only (before the handshake) ------------------------------ */
    {"types collected once, revoked and CA left out",
     "h1 " ED1 "\nh1 " EC1 "\nh1 " ED2 "\n@revoked h1 " ED1
     "\n@cert-authority h1 " EC1 "\nh2 ssh-dss AAAAB3NzaC1kc3M=\n",
     "h1", 22, NULL, KH_UNKNOWN, 0, NULL, "",
     "ssh-ed25519,ecdsa-sha2-nistp256,"},
};

/* The offered key of a case, decoded the way a line is. */
static int offered_key(const char *offered, struct kh_line *l)
{
	char line[512];
	const char *why;

	snprintf(line, sizeof(line), "x %s", offered);
	return kh_parse_line(line, strlen(line), l, &why) == 1 ? 0 : -1;
}

static void run_case(const struct tcase *c)
{
	static struct kh_line off, l;
	struct kh_verdict v;
	char name[600], bad[256] = "", types[512] = "";
	const char *p, *nl, *end, *why;
	long lineno = 0;
	size_t len = strlen(c->text);
	int i;

	/* The NUL case: its text runs to the last newline. */
	if (!strcmp(c->name, "NUL byte"))
		len =
		    strlen(c->text) + 1 + strlen(c->text + strlen(c->text) + 1);
	kh_name(c->host, c->port, name, sizeof(name));
	if (c->offered) {
		CHECK(offered_key(c->offered, &off) == 0, "%s: offered key",
		      c->name);
		kh_verdict_init(&v, name, off.type, off.key, off.keylen);
	} else {
		kh_verdict_init(&v, name, NULL, NULL, 0);
	}
	end = c->text + len;
	for (p = c->text; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		lineno++;
		switch (kh_parse_line(p, (size_t)(nl - p), &l, &why)) {
		case -1:
			CHECK(why && why[0], "%s: line %ld: no reason", c->name,
			      lineno);
			snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad),
				 "%ld,", lineno);
			break;
		case 1:
			kh_verdict_add(&v, &l, (struct kh_where){0, lineno});
			break;
		}
	}
	for (i = 0; i < v.ntypes; i++)
		snprintf(types + strlen(types), sizeof(types) - strlen(types),
			 "%s,", v.types[i]);
	CHECK(v.status == c->want, "%s: status %d, want %d", c->name, v.status,
	      c->want);
	CHECK(!strcmp(bad, c->bad), "%s: bad lines '%s', want '%s'", c->name,
	      bad, c->bad);
	CHECK(!strcmp(types, c->types), "%s: types '%s', want '%s'", c->name,
	      types, c->types);
	if (c->want == KH_MATCH)
		CHECK(v.match.line == c->where, "%s: match at %ld, want %ld",
		      c->name, v.match.line, c->where);
	if (c->want == KH_REVOKED)
		CHECK(v.revoked.line == c->where,
		      "%s: revoked at %ld, want %ld", c->name, v.revoked.line,
		      c->where);
	if (c->want == KH_CHANGED) {
		CHECK(v.changed.line == c->where,
		      "%s: changed at %ld, want %ld", c->name, v.changed.line,
		      c->where);
		CHECK(c->changed_type &&
			  !strcmp(v.changed_type, c->changed_type),
		      "%s: changed type %s", c->name, v.changed_type);
	}
}

static void test_names(void)
{
	char out[64];

	kh_name("Host.Example", 22, out, sizeof(out));
	CHECK(!strcmp(out, "host.example"), "kh_name 22: %s", out);
	kh_name("::1", 2222, out, sizeof(out));
	CHECK(!strcmp(out, "[::1]:2222"), "kh_name v6: %s", out);
	kh_name("a-very-long-host-name.example.com", 65535, out, 10);
	CHECK(strlen(out) == 9, "kh_name truncates: %s", out);
}

static void test_patterns(void)
{
	static const struct {
		const char *hosts, *name;
		int want;
	} pats[] = {
	    {"h1", "h1", 1},
	    {"h1", "h10", 0},
	    {"h?", "h1", 1},
	    {"h?", "h", 0},
	    {"*", "", 1},
	    {"*", "anything", 1},
	    {"*a*b*c*d*e*f*g*h*i*j*k", "abcdefghijkabcdefghij", 0},
	    {"a*b*a", "abxba", 1},
	    {"**x", "yyx", 1},
	    {"H1,H2", "h2", 1},
	    {"h1,,h2", "h2", 1},
	    {",", "h2", 0},
	    {"!h2", "h2", -1},
	    {"*,!h2", "h2", -1},
	    {"*,!h2", "h3", 1},
	    {"!", "h3", 0},
	    {"[h]:2222", "[h]:2222", 1},
	    {"[h]:*", "[h]:2222", 1},
	};
	struct kh_line l;
	size_t i;

	for (i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		l.hosts = pats[i].hosts;
		l.hostslen = strlen(pats[i].hosts);
		CHECK(kh_match_host(&l, pats[i].name) == pats[i].want,
		      "pattern '%s' on '%s': want %d", pats[i].hosts,
		      pats[i].name, pats[i].want);
	}
}

static void test_order(void)
{
	/* libssh2 1.10's list on Debian 12 (certificates included). */
	static const char libssh2_110[] =
	    "ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"
	    "ecdsa-sha2-nistp256-cert-v01@openssh.com,"
	    "ecdsa-sha2-nistp384-cert-v01@openssh.com,"
	    "ecdsa-sha2-nistp521-cert-v01@openssh.com,ssh-ed25519,ssh-rsa,"
	    "ssh-dss";
	static const struct {
		const char *known[3];
		const char *supported, *want;
	} ords[] = {
	    {{0},
	     libssh2_110,
	     "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,"
	     "ecdsa-sha2-nistp521,ssh-rsa,ssh-dss"},
	    {{"ecdsa-sha2-nistp384"},
	     libssh2_110,
	     "ecdsa-sha2-nistp384,ssh-ed25519,ecdsa-sha2-nistp256,"
	     "ecdsa-sha2-nistp521,ssh-rsa,ssh-dss"},
	    {{"ssh-rsa", "ssh-ed25519"},
	     libssh2_110,
	     "ssh-ed25519,ssh-rsa,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,"
	     "ecdsa-sha2-nistp521,ssh-dss"},
	    /* A newer libssh2: the RSA SHA-2 signatures count as ssh-rsa,
	     * and a name OpenSSH's list lacks comes last in its place. */
	    {{"ssh-rsa"},
	     "ssh-new,ssh-rsa,rsa-sha2-256,rsa-sha2-512,ssh-ed25519",
	     "rsa-sha2-512,rsa-sha2-256,ssh-rsa,ssh-ed25519,ssh-new"},
	    {{"ssh-new"}, "ssh-ed25519,ssh-new", "ssh-new,ssh-ed25519"},
	    {{"sk-ssh-ed25519@openssh.com"}, "ssh-ed25519", "ssh-ed25519"},
	};
	char known[3][KH_TYPE_MAX], out[512];
	size_t i;
	int k, n, rc;

	for (i = 0; i < sizeof(ords) / sizeof(ords[0]); i++) {
		for (n = 0; n < 3 && ords[i].known[n]; n++)
			snprintf(known[n], KH_TYPE_MAX, "%s", ords[i].known[n]);
		rc = kh_order_algs((const char(*)[KH_TYPE_MAX])known, n,
				   ords[i].supported, out, sizeof(out));
		for (k = 1, n = 0; out[n]; n++)
			k += out[n] == ',';
		CHECK(rc > 0 && !strcmp(out, ords[i].want) && rc == k,
		      "order %zu: %d '%s', want '%s'", i, rc, out,
		      ords[i].want);
	}
	rc = kh_order_algs(NULL, 0, "ssh-ed25519,ssh-rsa", out, 12);
	CHECK(rc == -1, "order: too small an output (%d '%s')", rc, out);
	rc = kh_order_algs(NULL, 0, "ssh-ed25519,ssh-rsa", out, 12 + 8);
	CHECK(rc == 2 && !strcmp(out, "ssh-ed25519,ssh-rsa"),
	      "order: exact fit (%d '%s')", rc, out);
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	test_names();
	test_patterns();
	test_order();
	printf("%s: %d passed, %d failed\n", failed ? "FAIL" : "ok", passed,
	       failed);
	return failed != 0;
}

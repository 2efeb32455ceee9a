/* test_ftpcmd.c — table-driven tests of the SFTP bridge's FTP command
 * parser (daemon/sftp/ftpcmd.c) and its argument helpers. */
#include "ftpcmd.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* A line with its length, so NUL bytes can be inside. */
#define L(s) s, sizeof(s) - 1

static const struct {
	const char *line;
	size_t len;
	int rc;
	enum ftpcmd_verb verb;
	const char *word, *arg;
	int has_arg;
} parse_cases[] = {
    {L("USER alice"), 0, FTPCMD_USER, "USER", "alice", 1},
    {L("user alice"), 0, FTPCMD_USER, "USER", "alice", 1},
    {L("pAsS s3cret with spaces "), 0, FTPCMD_PASS, "PASS",
     "s3cret with spaces ", 1},
    {L("PASS"), 0, FTPCMD_PASS, "PASS", "", 0},
    {L("PWD"), 0, FTPCMD_PWD, "PWD", "", 0},
    {L("XPWD"), 0, FTPCMD_PWD, "XPWD", "", 0},
    {L("xcwd /tmp"), 0, FTPCMD_CWD, "XCWD", "/tmp", 1},
    {L("XCUP"), 0, FTPCMD_CDUP, "XCUP", "", 0},
    {L("CDUP"), 0, FTPCMD_CDUP, "CDUP", "", 0},
    {L("XMKD new dir"), 0, FTPCMD_MKD, "XMKD", "new dir", 1},
    {L("XRMD old"), 0, FTPCMD_RMD, "XRMD", "old", 1},
    {L("MKD d"), 0, FTPCMD_MKD, "MKD", "d", 1},
    {L("RMD d"), 0, FTPCMD_RMD, "RMD", "d", 1},
    /* A trailing space and nothing else: has_arg 1, arg "". */
    {L("CWD "), 0, FTPCMD_CWD, "CWD", "", 1},
    {L("LIST "), 0, FTPCMD_LIST, "LIST", "", 1},
    /* Everything after the first space is the argument, byte for byte. */
    {L("RETR  lead"), 0, FTPCMD_RETR, "RETR", " lead", 1},
    {L("RETR -x"), 0, FTPCMD_RETR, "RETR", "-x", 1},
    {L("STOR caf\xc3\xa9 \xe6\x97\xa5.txt"), 0, FTPCMD_STOR, "STOR",
     "caf\xc3\xa9 \xe6\x97\xa5.txt", 1},
    {L("LIST -la /dir"), 0, FTPCMD_LIST, "LIST", "-la /dir", 1},
    {L("EPRT |2|::1|5282|"), 0, FTPCMD_EPRT, "EPRT", "|2|::1|5282|", 1},
    {L("PORT 127,0,0,1,4,1"), 0, FTPCMD_PORT, "PORT", "127,0,0,1,4,1", 1},
    {L("EPSV ALL"), 0, FTPCMD_EPSV, "EPSV", "ALL", 1},
    {L("OPTS UTF8 ON"), 0, FTPCMD_OPTS, "OPTS", "UTF8 ON", 1},
    {L("SITE CHMOD 644 f"), 0, FTPCMD_SITE, "SITE", "CHMOD 644 f", 1},
    {L("MFMT 20260101000000 f"), 0, FTPCMD_MFMT, "MFMT", "20260101000000 f", 1},
    {L("HELP"), 0, FTPCMD_HELP, "HELP", "", 0},
    {L("FEAT"), 0, FTPCMD_FEAT, "FEAT", "", 0},
    {L("mlsd"), 0, FTPCMD_MLSD, "MLSD", "", 0},
    {L("MLST x"), 0, FTPCMD_MLST, "MLST", "x", 1},
    {L("STOU"), 0, FTPCMD_STOU, "STOU", "", 0},
    {L("APPE log"), 0, FTPCMD_APPE, "APPE", "log", 1},
    {L("ALLO 100"), 0, FTPCMD_ALLO, "ALLO", "100", 1},
    {L("ACCT x"), 0, FTPCMD_ACCT, "ACCT", "x", 1},
    {L("MODE S"), 0, FTPCMD_MODE, "MODE", "S", 1},
    {L("STRU F"), 0, FTPCMD_STRU, "STRU", "F", 1},
    {L("SYST"), 0, FTPCMD_SYST, "SYST", "", 0},
    {L("NOOP"), 0, FTPCMD_NOOP, "NOOP", "", 0},
    {L("QUIT"), 0, FTPCMD_QUIT, "QUIT", "", 0},
    {L("REST 100"), 0, FTPCMD_REST, "REST", "100", 1},
    {L("SIZE f"), 0, FTPCMD_SIZE, "SIZE", "f", 1},
    {L("MDTM f"), 0, FTPCMD_MDTM, "MDTM", "f", 1},
    {L("DELE f"), 0, FTPCMD_DELE, "DELE", "f", 1},
    {L("RNFR a"), 0, FTPCMD_RNFR, "RNFR", "a", 1},
    {L("RNTO b"), 0, FTPCMD_RNTO, "RNTO", "b", 1},
    {L("STAT"), 0, FTPCMD_STAT, "STAT", "", 0},
    {L("NLST"), 0, FTPCMD_NLST, "NLST", "", 0},
    {L("PASV"), 0, FTPCMD_PASV, "PASV", "", 0},
    {L("TYPE I"), 0, FTPCMD_TYPE, "TYPE", "I", 1},
    /* Unknown but well-formed verbs: for "502 AUTH not implemented". */
    {L("AUTH TLS"), 0, FTPCMD_UNKNOWN, "AUTH", "TLS", 1},
    {L("lprt 6,16,..."), 0, FTPCMD_UNKNOWN, "LPRT", "6,16,...", 1},
    {L("XYZ"), 0, FTPCMD_UNKNOWN, "XYZ", "", 0},
    /* Telnet: inetutils-ftp and tnftp before ABOR, with the urgent IAC
     * kept in line or lost (no SO_OOBINLINE). */
    {L("\xff\xf4\xff\xf2"
       "ABOR"),
     0, FTPCMD_ABOR, "ABOR", "", 0},
    {L("\xff\xf4\xf2"
       "ABOR"),
     0, FTPCMD_ABOR, "ABOR", "", 0},
    {L("\xf2"
       "ABOR"),
     0, FTPCMD_ABOR, "ABOR", "", 0},
    {L("\xff\xf4\xff"
       "ABOR"),
     0, FTPCMD_ABOR, "ABOR", "", 0},
    {L("AB\xff\xf1OR"), 0, FTPCMD_ABOR, "ABOR", "", 0},
    {L("\xff\xfd\x01NOOP"), 0, FTPCMD_NOOP, "NOOP", "", 0},
    /* IAC IAC is a 0xff in a name; a DM after the verb is data. */
    {L("RETR a\xff\xff"
       "b"),
     0, FTPCMD_RETR, "RETR",
     "a\xff"
     "b",
     1},
    {L("RETR \xf2x"), 0, FTPCMD_RETR, "RETR", "\xf2x", 1},
    {L("NOOP\xff"), 0, FTPCMD_NOOP, "NOOP", "", 0},
    /* Malformed. */
    {L(""), -1, 0, "", "", 0},
    {L("\xff\xf4"), -1, 0, "", "", 0},
    {L("PW"), -1, 0, "", "", 0},
    {L("ABORT"), -1, 0, "", "", 0},
    {L("RETRfile"), -1, 0, "", "", 0},
    {L("RETR\tfile"), -1, 0, "", "", 0},
    {L(" PWD"), -1, 0, "", "", 0},
    {L("PW1"), -1, 0, "", "", 0},
    {L("RETR a\0b"), -1, 0, "", "", 0},
    {L("RETR a\rb"), -1, 0, "", "", 0},
    {L("PWD\r"), -1, 0, "", "", 0},
    {L("\xc3\xa9tat"), -1, 0, "", "", 0},
};

static void test_parse(void)
{
	static struct ftpcmd c;
	size_t i;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		int rc =
		    ftpcmd_parse(parse_cases[i].line, parse_cases[i].len, &c);

		CHECK(rc == parse_cases[i].rc, "parse case %zu: rc %d", i, rc);
		if (rc < 0)
			continue;
		CHECK(c.verb == parse_cases[i].verb, "case %zu: verb %d", i,
		      (int)c.verb);
		CHECK(strcmp(c.word, parse_cases[i].word) == 0,
		      "case %zu: word '%s'", i, c.word);
		CHECK(strcmp(c.arg, parse_cases[i].arg) == 0,
		      "case %zu: arg '%s'", i, c.arg);
		CHECK(c.has_arg == parse_cases[i].has_arg,
		      "case %zu: has_arg %d", i, c.has_arg);
	}
}

/* The longest line that fits is taken whole; one byte more is refused. */
static void test_parse_long(void)
{
	static struct ftpcmd c;
	static char line[FTPCMD_LINE_MAX + 1];

	memcpy(line, "STOR ", 5);
	memset(line + 5, 'x', sizeof(line) - 5);
	CHECK(ftpcmd_parse(line, FTPCMD_LINE_MAX - 1, &c) == 0 &&
		  strlen(c.arg) == FTPCMD_LINE_MAX - 6,
	      "longest line");
	CHECK(ftpcmd_parse(line, FTPCMD_LINE_MAX, &c) == -1, "too long");
}

static const struct {
	const char *arg, *path;
} list_cases[] = {
    {"", ""},
    {"/dir", "/dir"},
    {"-la /dir", "/dir"},
    {"-l -a /dir", "/dir"},
    {"-a", ""},
    {"-la", ""},
    {"-R", ""},
    {"-la  my dir", "my dir"},
    {"-- -x", "-x"},
    {"--", ""},
    {"-", "-"},
    {"- x", "- x"},
    {"dir -l", "dir -l"},
    {" dir", " dir"},
    {"caf\xc3\xa9", "caf\xc3\xa9"},
};

static void test_list_path(void)
{
	size_t i;

	for (i = 0; i < sizeof(list_cases) / sizeof(list_cases[0]); i++) {
		const char *p = ftpcmd_list_path(list_cases[i].arg);

		CHECK(strcmp(p, list_cases[i].path) == 0,
		      "list_path '%s': '%s'", list_cases[i].arg, p);
	}
}

static const struct {
	const char *arg;
	int type;
} type_cases[] = {
    {"A", 'A'}, {"a", 'A'},   {"A N", 'A'}, {"a n", 'A'}, {"I", 'I'},
    {"i", 'I'}, {"L 8", 'I'}, {"l 8", 'I'}, {"A T", 0},	  {"A C", 0},
    {"E", 0},	{"L 7", 0},   {"L", 0},	    {"", 0},	  {"AN", 0},
    {"I ", 0},	{"A N ", 0},  {"X", 0},
};

static void test_type(void)
{
	size_t i;

	for (i = 0; i < sizeof(type_cases) / sizeof(type_cases[0]); i++)
		CHECK(ftpcmd_type(type_cases[i].arg) == type_cases[i].type,
		      "type '%s'", type_cases[i].arg);
}

static const struct {
	const char *arg;
	int rc;
	uint64_t off;
} rest_cases[] = {
    {"0", 0, 0},
    {"100", 0, 100},
    {"007", 0, 7},
    {"9223372036854775807", 0, INT64_MAX},
    {"9223372036854775808", -1, 0},
    {"18446744073709551616", -1, 0},
    {"", -1, 0},
    {"-1", -1, 0},
    {"+1", -1, 0},
    {" 1", -1, 0},
    {"1 ", -1, 0},
    {"1x", -1, 0},
    {"0x10", -1, 0},
};

static void test_rest(void)
{
	size_t i;

	for (i = 0; i < sizeof(rest_cases) / sizeof(rest_cases[0]); i++) {
		uint64_t off = 12345;
		int rc = ftpcmd_rest(rest_cases[i].arg, &off);

		CHECK(rc == rest_cases[i].rc &&
			  (rc < 0 || off == rest_cases[i].off),
		      "rest '%s': %d %llu", rest_cases[i].arg, rc,
		      (unsigned long long)off);
	}
}

static const struct {
	const char *arg;
	int rc;
	unsigned mode;
	const char *path;
} chmod_cases[] = {
    {"CHMOD 755 f", 0, 0755, "f"},
    {"chmod 644 my file", 0, 0644, "my file"},
    {"CHMOD 4755 -x", 0, 04755, "-x"},
    {"CHMOD 0 f", 0, 0, "f"},
    {"CHMOD 7777 f", 0, 07777, "f"},
    {"CHMOD 17777 f", -1, 0, NULL},
    {"CHMOD 8 f", -1, 0, NULL},
    {"CHMOD 75a f", -1, 0, NULL},
    {"CHMOD 755", -1, 0, NULL},
    {"CHMOD 755 ", -1, 0, NULL},
    {"CHMOD  755 f", -1, 0, NULL},
    {"CHMOD", -1, 0, NULL},
    {"CHMODX 755 f", -1, 0, NULL},
    {"UMASK 022", -1, 0, NULL},
    {"", -1, 0, NULL},
};

static void test_site_chmod(void)
{
	size_t i;

	for (i = 0; i < sizeof(chmod_cases) / sizeof(chmod_cases[0]); i++) {
		unsigned mode = 1;
		const char *path = NULL;
		int rc = ftpcmd_site_chmod(chmod_cases[i].arg, &mode, &path);

		CHECK(rc == chmod_cases[i].rc, "chmod '%s': %d",
		      chmod_cases[i].arg, rc);
		if (rc == 0)
			CHECK(mode == chmod_cases[i].mode &&
				  strcmp(path, chmod_cases[i].path) == 0,
			      "chmod '%s': %o '%s'", chmod_cases[i].arg, mode,
			      path);
	}
}

static const struct {
	const char *arg;
	int rc;
	int64_t t;
	const char *path;
} mfmt_cases[] = {
    {"19700101000000 f", 0, 0, "f"},
    {"20261207053100 a b", 0, 1796621460, "a b"},
    {"20000229120000 f", 0, 951825600, "f"},
    {"20380119031408 f", 0, 2147483648LL, "f"},
    {"19691231235959 f", 0, -1, "f"},
    {"20261207053100.123 f", 0, 1796621460, "f"},
    {"19700101000060 f", 0, 60, "f"},
    {"99991231235959 f", 0, 253402300799LL, "f"},
    {"20010229000000 f", -1, 0, NULL},
    {"21000229000000 f", -1, 0, NULL},
    {"20261301000000 f", -1, 0, NULL},
    {"20261200000000 f", -1, 0, NULL},
    {"20261207240000 f", -1, 0, NULL},
    {"20261207236000 f", -1, 0, NULL},
    {"2026120705310 f", -1, 0, NULL},
    {"20261207053100", -1, 0, NULL},
    {"20261207053100 ", -1, 0, NULL},
    {"20261207053100. f", -1, 0, NULL},
    {"20261207053100x f", -1, 0, NULL},
    {"", -1, 0, NULL},
};

static void test_mfmt(void)
{
	size_t i;

	for (i = 0; i < sizeof(mfmt_cases) / sizeof(mfmt_cases[0]); i++) {
		int64_t t = 7;
		const char *path = NULL;
		int rc = ftpcmd_mfmt(mfmt_cases[i].arg, &t, &path);

		CHECK(rc == mfmt_cases[i].rc, "mfmt '%s': %d",
		      mfmt_cases[i].arg, rc);
		if (rc == 0)
			CHECK(t == mfmt_cases[i].t &&
				  strcmp(path, mfmt_cases[i].path) == 0,
			      "mfmt '%s': %lld '%s'", mfmt_cases[i].arg,
			      (long long)t, path);
	}
}

int main(void)
{
	test_parse();
	test_parse_long();
	test_list_path();
	test_type();
	test_rest();
	test_site_chmod();
	test_mfmt();
	printf("test_ftpcmd: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}

/* test_feat.c — the SFTP bridge's FEAT, HELP and SYST texts
 * (daemon/sftp/feat.c): exact FEAT text, well-formed multi-line replies
 * (RFC 959 §4.2), every command ftpcmd knows listed in HELP. */
#include "feat.h"
#include "ftpcmd.h"
#include "listing.h"

#include <stdio.h>
#include <string.h>

#include "check.h"

/* A multi-line reply: "ccc-" first, "ccc " last, the lines between not
 * starting with a digit, every line ending in CRLF, no bare CR or LF. */
static int well_formed(const char *r, const char *code)
{
	const char *line = r, *end;
	int first = 1;

	while ((end = strstr(line, "\r\n")) != NULL) {
		const char *next = end + 2;
		size_t n = (size_t)(end - line);

		if (memchr(line, '\r', n) || memchr(line, '\n', n))
			return 0;
		if (first && (strncmp(line, code, 3) || line[3] != '-'))
			return 0;
		if (*next == '\0')
			return strncmp(line, code, 3) == 0 && line[3] == ' ';
		if (!first && line[0] >= '0' && line[0] <= '9')
			return 0;
		first = 0;
		line = next;
	}
	return 0;
}

static void test_feat(void)
{
	static const char want[] =
	    "211-Features:\r\n"
	    " EPRT\r\n"
	    " EPSV\r\n"
	    " MDTM\r\n"
	    " MFMT\r\n"
	    " MLST type*;size*;modify*;perm*;UNIX.mode*;\r\n"
	    " PASV\r\n"
	    " REST STREAM\r\n"
	    " SIZE\r\n"
	    " TVFS\r\n"
	    " UTF8\r\n"
	    "211 End\r\n";
	char buf[512];
	size_t len;
	int n;

	n = feat_reply(LISTING_FACT_ALL, buf, sizeof(buf));
	CHECK(n == (int)strlen(want) && strcmp(buf, want) == 0, "FEAT: %d '%s'",
	      n, buf);
	CHECK(well_formed(buf, "211"), "FEAT well-formed");
	n = feat_reply(LISTING_FACT_TYPE, buf, sizeof(buf));
	CHECK(n > 0 && strstr(buf, " MLST type*;size;modify;perm;UNIX.mode;"
				   "\r\n") != NULL,
	      "FEAT with OPTS MLST type: '%s'", buf);
	n = (int)strlen(want);
	for (len = 0; len <= (size_t)n + 1; len++)
		CHECK(feat_reply(LISTING_FACT_ALL, buf, len) ==
			  (len > (size_t)n ? n : -1),
		      "FEAT in %zu", len);
}

static void test_help_list(void)
{
	static struct ftpcmd c;
	int seen[FTPCMD_HELP + 1] = {0};
	char buf[1024], *p, *line;
	int n, v;

	n = feat_help("", buf, sizeof(buf));
	CHECK(n > 0 && (size_t)n == strlen(buf), "HELP: %d", n);
	CHECK(well_formed(buf, "214"), "HELP well-formed: '%s'", buf);
	CHECK(feat_help("NOSUCH", buf, sizeof(buf)) == n, "HELP unknown");
	/* Every listed word is a command ftpcmd knows, and every command
	 * ftpcmd knows is listed. */
	line = strstr(buf, "\r\n") + 2;
	for (p = strtok(line, " \r\n"); p != NULL; p = strtok(NULL, " \r\n")) {
		if (strcmp(p, "214") == 0)
			break;
		CHECK(ftpcmd_parse(p, strlen(p), &c) == 0 &&
			  c.verb != FTPCMD_UNKNOWN,
		      "HELP lists '%s', unknown to ftpcmd", p);
		seen[c.verb]++;
	}
	for (v = 1; v <= FTPCMD_HELP; v++)
		CHECK(seen[v] == 1, "verb %d listed %d times", v, seen[v]);
	n = feat_help("", buf, sizeof(buf));
	CHECK(feat_help("", buf, (size_t)n + 1) == n, "HELP in n+1");
	CHECK(feat_help("", buf, (size_t)n) == -1, "HELP in n");
}

static const struct {
	const char *arg, *want;
} help_cases[] = {
    {"RETR", "214 Syntax: RETR <path>\r\n"},
    {"retr", "214 Syntax: RETR <path>\r\n"},
    {"Site", "214-The following SITE commands are recognized.\r\n"
	     " CHMOD\r\n"
	     "214 Help OK.\r\n"},
    {"TYPE", "214 Syntax: TYPE A | TYPE I\r\n"},
    {"RETRX", NULL},
    {"RET", NULL},
};

static void test_help_words(void)
{
	char buf[1024], all[1024];
	size_t i;

	feat_help("", all, sizeof(all));
	for (i = 0; i < sizeof(help_cases) / sizeof(help_cases[0]); i++) {
		const char *want =
		    help_cases[i].want ? help_cases[i].want : all;
		int n = feat_help(help_cases[i].arg, buf, sizeof(buf));

		CHECK(n == (int)strlen(want) && strcmp(buf, want) == 0,
		      "HELP '%s': '%s'", help_cases[i].arg, buf);
	}
	CHECK(feat_help("RETR", buf, 26) == 25, "syntax in 26");
	CHECK(feat_help("RETR", buf, 25) == -1, "syntax in 25");
	CHECK(strcmp(FEAT_SYST_REPLY, "215 UNIX Type: L8\r\n") == 0, "SYST");
}

int main(void)
{
	test_feat();
	test_help_list();
	test_help_words();
	printf("test_feat: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}

/* feat.c — the FEAT, HELP and SYST texts of the SFTP bridge. */
#include "feat.h"

#include <stdio.h>
#include <string.h>

#include "listing.h"

/* Every command ftpcmd.c knows, by its RFC name, with its syntax. The X
 * forms (RFC 1123 §4.1.3.1: XPWD, XCWD, XCUP, XMKD, XRMD) answer too
 * but are not listed, as in vsftpd. */
static const struct {
	const char *word, *syntax;
} commands[] = {
    {"ABOR", "ABOR"},
    {"ACCT", "ACCT <account>"},
    {"ALLO", "ALLO <bytes>"},
    {"APPE", "APPE <path>"},
    {"CDUP", "CDUP"},
    {"CWD", "CWD <path>"},
    {"DELE", "DELE <path>"},
    {"EPRT", "EPRT |<af>|<address>|<port>|"},
    {"EPSV", "EPSV [<af>|ALL]"},
    {"FEAT", "FEAT"},
    {"HELP", "HELP [<command>]"},
    {"LIST", "LIST [-<options>] [<path>]"},
    {"MDTM", "MDTM <path>"},
    {"MFMT", "MFMT <YYYYMMDDHHMMSS> <path>"},
    {"MKD", "MKD <path>"},
    {"MLSD", "MLSD [<path>]"},
    {"MLST", "MLST [<path>]"},
    {"MODE", "MODE S"},
    {"NLST", "NLST [-<options>] [<path>]"},
    {"NOOP", "NOOP"},
    {"OPTS", "OPTS MLST <facts> | OPTS UTF8 ON"},
    {"PASS", "PASS <password>"},
    {"PASV", "PASV"},
    {"PORT", "PORT <h1,h2,h3,h4,p1,p2>"},
    {"PWD", "PWD"},
    {"QUIT", "QUIT"},
    {"REST", "REST <offset>"},
    {"RETR", "RETR <path>"},
    {"RMD", "RMD <path>"},
    {"RNFR", "RNFR <path>"},
    {"RNTO", "RNTO <path>"},
    {"SITE", "SITE CHMOD <octal mode> <path>"},
    {"SIZE", "SIZE <path>"},
    {"STAT", "STAT [<path>]"},
    {"STOR", "STOR <path>"},
    {"STOU", "STOU"},
    {"STRU", "STRU F"},
    {"SYST", "SYST"},
    {"TYPE", "TYPE A | TYPE I"},
    {"USER", "USER <name>"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* Appends s at *o, keeping room for a NUL; -1 once it does not fit. */
static int put(char *buf, size_t len, size_t *o, const char *s)
{
	size_t n = strlen(s);

	if (*o + n + 1 > len)
		return -1;
	memcpy(buf + *o, s, n + 1);
	*o += n;
	return 0;
}

int feat_reply(unsigned facts, char *buf, size_t len)
{
	char mlst[128];
	size_t o = 0;

	if (listing_mlst_feat(facts, mlst, sizeof(mlst)) < 0)
		return -1;
	/* RFC 2389 §3.2: each feature on its own line after one space. */
	if (put(buf, len, &o,
		"211-Features:\r\n"
		" EPRT\r\n"
		" EPSV\r\n"
		" MDTM\r\n"
		" MFMT\r\n") < 0 ||
	    put(buf, len, &o, " ") < 0 || put(buf, len, &o, mlst) < 0 ||
	    put(buf, len, &o, "\r\n") < 0 ||
	    put(buf, len, &o,
		" PASV\r\n"
		" REST STREAM\r\n"
		" SIZE\r\n"
		" TVFS\r\n"
		" UTF8\r\n"
		"211 End\r\n") < 0)
		return -1;
	return (int)o;
}

static int same_word(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		char x = *a >= 'a' && *a <= 'z' ? (char)(*a - 'a' + 'A') : *a;

		if (x != *b)
			return 0;
	}
	return *a == '\0' && *b == '\0';
}

int feat_help(const char *arg, char *buf, size_t len)
{
	size_t o = 0, k;

	if (same_word(arg, "SITE"))
		return put(buf, len, &o,
			   "214-The following SITE commands are recognized.\r\n"
			   " CHMOD\r\n"
			   "214 Help OK.\r\n") < 0
			   ? -1
			   : (int)o;
	for (k = 0; k < NCOMMANDS; k++)
		if (same_word(arg, commands[k].word))
			return put(buf, len, &o, "214 Syntax: ") < 0 ||
				       put(buf, len, &o, commands[k].syntax) <
					   0 ||
				       put(buf, len, &o, "\r\n") < 0
				   ? -1
				   : (int)o;
	if (put(buf, len, &o,
		"214-The following commands are recognized.\r\n") < 0)
		return -1;
	/* Eight to a line, each line after one space (RFC 959 §4.2 wants
	 * no line of a multi-line reply to start with the code). */
	for (k = 0; k < NCOMMANDS; k++)
		if (put(buf, len, &o, " ") < 0 ||
		    put(buf, len, &o, commands[k].word) < 0 ||
		    ((k % 8 == 7 || k + 1 == NCOMMANDS) &&
		     put(buf, len, &o, "\r\n") < 0))
			return -1;
	if (put(buf, len, &o, "214 Help OK.\r\n") < 0)
		return -1;
	return (int)o;
}

/* ftpcmd.c — parses one FTP command line for the SFTP bridge's server. */
#include "ftpcmd.h"

#include <string.h>

/* Telnet (RFC 854) bytes a client may put in the control stream. */
#define TN_IAC 0xff
#define TN_DM 0xf2
#define TN_SE 0xf0
#define TN_WILL 0xfb
#define TN_DONT 0xfe

static const struct {
	const char *word;
	enum ftpcmd_verb verb;
} verbs[] = {
    {"USER", FTPCMD_USER}, {"PASS", FTPCMD_PASS}, {"ACCT", FTPCMD_ACCT},
    {"QUIT", FTPCMD_QUIT}, {"NOOP", FTPCMD_NOOP}, {"SYST", FTPCMD_SYST},
    {"FEAT", FTPCMD_FEAT}, {"OPTS", FTPCMD_OPTS}, {"PWD", FTPCMD_PWD},
    {"XPWD", FTPCMD_PWD},  {"CWD", FTPCMD_CWD},	  {"XCWD", FTPCMD_CWD},
    {"CDUP", FTPCMD_CDUP}, {"XCUP", FTPCMD_CDUP}, {"TYPE", FTPCMD_TYPE},
    {"MODE", FTPCMD_MODE}, {"STRU", FTPCMD_STRU}, {"ALLO", FTPCMD_ALLO},
    {"PASV", FTPCMD_PASV}, {"EPSV", FTPCMD_EPSV}, {"PORT", FTPCMD_PORT},
    {"EPRT", FTPCMD_EPRT}, {"LIST", FTPCMD_LIST}, {"NLST", FTPCMD_NLST},
    {"MLSD", FTPCMD_MLSD}, {"MLST", FTPCMD_MLST}, {"STAT", FTPCMD_STAT},
    {"RETR", FTPCMD_RETR}, {"STOR", FTPCMD_STOR}, {"APPE", FTPCMD_APPE},
    {"STOU", FTPCMD_STOU}, {"REST", FTPCMD_REST}, {"ABOR", FTPCMD_ABOR},
    {"SIZE", FTPCMD_SIZE}, {"MDTM", FTPCMD_MDTM}, {"MFMT", FTPCMD_MFMT},
    {"DELE", FTPCMD_DELE}, {"MKD", FTPCMD_MKD},	  {"XMKD", FTPCMD_MKD},
    {"RMD", FTPCMD_RMD},   {"XRMD", FTPCMD_RMD},  {"RNFR", FTPCMD_RNFR},
    {"RNTO", FTPCMD_RNTO}, {"SITE", FTPCMD_SITE}, {"HELP", FTPCMD_HELP},
};

static int is_alpha(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static unsigned char upper(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? (unsigned char)(c - 'a' + 'A') : c;
}

/* Copies line to out without its Telnet commands; returns the length.
 * inetutils-ftp and tnftp send "IAC IP" then "IAC DM" as TCP urgent data
 * before ABOR (RFC 959 §4.1.3): "\xff\xf4\xff\xf2ABOR". A receiver without
 * SO_OOBINLINE loses the urgent byte (the second IAC), so "\xff\xf4\xf2ABOR"
 * arrives: a DM left without its IAC before the verb is dropped as well.
 * IAC IAC is a data byte 0xff; WILL/WONT/DO/DONT carry an option byte; an
 * IAC before any other byte (a lost command byte) is dropped alone. */
static size_t strip_telnet(const unsigned char *in, size_t n,
			   unsigned char *out)
{
	size_t i = 0, o = 0;

	while (i < n) {
		if (in[i] != TN_IAC) {
			if (o == 0 && in[i] == TN_DM) {
				i++;
				continue;
			}
			out[o++] = in[i++];
		} else if (i + 1 == n) {
			i++;
		} else if (in[i + 1] == TN_IAC) {
			out[o++] = TN_IAC;
			i += 2;
		} else if (in[i + 1] >= TN_WILL && in[i + 1] <= TN_DONT) {
			i += i + 2 < n ? 3 : 2;
		} else if (in[i + 1] >= TN_SE) {
			i += 2;
		} else {
			i++;
		}
	}
	return o;
}

int ftpcmd_parse(const char *line, size_t len, struct ftpcmd *out)
{
	unsigned char *t = (unsigned char *)out->arg;
	size_t n, w, k;

	out->verb = FTPCMD_UNKNOWN;
	out->word[0] = '\0';
	out->arg[0] = '\0';
	out->has_arg = 0;
	/* The text is built in arg and then moved down over the verb: the
	 * line must leave room there for its NUL. */
	if (len >= sizeof(out->arg))
		return -1;
	/* curl, lib/pingpong.c, likewise: NUL in a control line is an error;
	 * a CR could only come from a client splitting lines oddly. */
	if (memchr(line, '\0', len) || memchr(line, '\r', len))
		return -1;
	n = strip_telnet((const unsigned char *)line, len, t);
	for (w = 0; w < n && w < 5 && is_alpha(t[w]); w++)
		;
	if (w < 3 || w > 4 || (w < n && t[w] != ' '))
		return -1;
	for (k = 0; k < w; k++)
		out->word[k] = (char)upper(t[k]);
	out->word[w] = '\0';
	for (k = 0; k < sizeof(verbs) / sizeof(verbs[0]); k++)
		if (strcmp(verbs[k].word, out->word) == 0)
			out->verb = verbs[k].verb;
	/* RFC 959 §4.1: one space separates verb and argument. Everything
	 * after it is the argument byte for byte, spaces included: a file
	 * name may start or end with one. */
	if (w < n) {
		out->has_arg = 1;
		memmove(t, t + w + 1, n - w - 1);
		n -= w + 1;
	} else {
		n = 0;
	}
	t[n] = '\0';
	return 0;
}

const char *ftpcmd_list_path(const char *arg)
{
	const char *p = arg;

	/* Clients pass ls options: lftp "LIST -a", wget and Python scripts
	 * "LIST -la /dir", "NLST -R". As in vsftpd and proftpd, a word that
	 * starts with '-' at the front is an option, so a file named "-x"
	 * can only be listed as "./-x". "--" ends the options; a lone "-"
	 * is a name. */
	while (p[0] == '-' && p[1] != '\0' && p[1] != ' ') {
		int end = p[1] == '-' && (p[2] == '\0' || p[2] == ' ');

		while (*p != '\0' && *p != ' ')
			p++;
		while (*p == ' ')
			p++;
		if (end)
			break;
	}
	return p;
}

int ftpcmd_type(const char *arg)
{
	unsigned char c = upper((unsigned char)arg[0]);

	/* RFC 959 §3.1.1: ASCII with the default format control N only
	 * (Telnet and carriage-control formats are not made here); image,
	 * and local byte size 8, which is image (RFC 959 §3.1.1.4). */
	if (c == 'A' &&
	    (arg[1] == '\0' ||
	     (arg[1] == ' ' && upper((unsigned char)arg[2]) == 'N' &&
	      arg[3] == '\0')))
		return 'A';
	if (c == 'I' && arg[1] == '\0')
		return 'I';
	if (c == 'L' && arg[1] == ' ' && arg[2] == '8' && arg[3] == '\0')
		return 'I';
	return 0;
}

/* Reads a decimal number from *p of at most max; 0 and *p past it, or -1
 * (no digit, or above max). */
static int read_dec(const char **p, uint64_t max, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;

	if (!is_digit((unsigned char)*s))
		return -1;
	for (; is_digit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');

		if (x > (max - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*v = x;
	*p = s;
	return 0;
}

int ftpcmd_rest(const char *arg, uint64_t *off)
{
	uint64_t v;

	/* At most 2^63-1, so the offset fits an off_t as well as the SFTP
	 * uint64. */
	if (read_dec(&arg, INT64_MAX, &v) < 0 || *arg != '\0')
		return -1;
	*off = v;
	return 0;
}

int ftpcmd_site_chmod(const char *arg, unsigned *mode, const char **path)
{
	static const char word[] = "CHMOD ";
	unsigned m = 0;
	size_t k;

	for (k = 0; word[k] != '\0'; k++)
		if (upper((unsigned char)arg[k]) != (unsigned char)word[k])
			return -1;
	arg += k;
	/* "SITE CHMOD 755 f", as lftp's and tnftp's chmod send it; four
	 * digits carry setuid, setgid and sticky. */
	for (k = 0; arg[k] >= '0' && arg[k] <= '7'; k++) {
		if (k == 4)
			return -1;
		m = m * 8 + (unsigned)(arg[k] - '0');
	}
	if (k == 0 || arg[k] != ' ' || arg[k + 1] == '\0')
		return -1;
	*mode = m;
	*path = arg + k + 1;
	return 0;
}

/* Days from 1970-01-01 to the given date of the proleptic Gregorian
 * calendar (the usual era arithmetic: years of 365.2425 days in 400-year
 * cycles of 146097 days, counted from March so leap days come last). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static unsigned month_days(int64_t y, unsigned m)
{
	static const unsigned char days[12] = {31, 28, 31, 30, 31, 30,
					       31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return days[m - 1] + (m == 2 && leap);
}

/* n digits from s as a number. */
static unsigned digits(const char *s, int n)
{
	unsigned v = 0;

	while (n-- > 0)
		v = v * 10 + (unsigned)(*s++ - '0');
	return v;
}

int ftpcmd_mfmt(const char *arg, int64_t *t, const char **path)
{
	unsigned y, mo, d, h, mi, s;
	int k;

	for (k = 0; k < 14; k++)
		if (!is_digit((unsigned char)arg[k]))
			return -1;
	y = digits(arg, 4);
	mo = digits(arg + 4, 2);
	d = digits(arg + 6, 2);
	h = digits(arg + 8, 2);
	mi = digits(arg + 10, 2);
	s = digits(arg + 12, 2);
	arg += 14;
	/* RFC 3659 §2.3 time-val allows a fraction; SFTP v3 keeps seconds. */
	if (*arg == '.') {
		if (!is_digit((unsigned char)arg[1]))
			return -1;
		for (arg++; is_digit((unsigned char)*arg); arg++)
			;
	}
	if (*arg != ' ' || arg[1] == '\0')
		return -1;
	/* A leap second (60) is taken as the next second's start. */
	if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 ||
	    mi > 59 || s > 60)
		return -1;
	*t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	*path = arg + 1;
	return 0;
}

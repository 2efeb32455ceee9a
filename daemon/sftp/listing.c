/* listing.c — LIST, NLST and MLSD/MLST lines from SFTP attributes. */
#include "listing.h"

#include <inttypes.h>
#include <libssh2.h>
#include <libssh2_sftp.h>
#include <stdio.h>
#include <string.h>

/* Half a Gregorian year: `ls -l` shows the time of day for files modified
 * less than this long ago, and the year otherwise. */
#define HALF_YEAR 15778476
/* A file up to this far in the future still shows its time of day: the
 * SSH server's clock and ours need not agree on a file just stored. */
#define CLOCK_SKEW 3600
/* Times are clamped to years 0000 to 9999, which YYYYMMDDHHMMSS and
 * "Mon DD  YYYY" can show. */
#define T_MIN (-62167219200LL)
#define T_MAX 253402300799LL

struct civil {
	int64_t year;
	unsigned month, day, hour, min, sec; /* month 1-12 */
};

static int64_t clamp_time(int64_t t)
{
	return t < T_MIN ? T_MIN : t > T_MAX ? T_MAX : t;
}

/* The UTC calendar date of t (the inverse of ftpcmd.c's days_from_civil:
 * 400-year eras of 146097 days, years counted from March so the leap day
 * is the last day of a year). */
static struct civil civil_from_time(int64_t t)
{
	struct civil c;
	int64_t days = t / 86400, secs = t % 86400, era;
	unsigned doe, yoe, doy, mp;

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	c.hour = (unsigned)(secs / 3600);
	c.min = (unsigned)(secs / 60 % 60);
	c.sec = (unsigned)(secs % 60);
	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = (unsigned)(days - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	c.day = doy - (153 * mp + 2) / 5 + 1;
	c.month = mp < 10 ? mp + 3 : mp - 9;
	c.year = (int64_t)yoe + era * 400 + (c.month <= 2);
	return c;
}

int listing_time(int64_t t, char *buf, size_t len)
{
	struct civil c = civil_from_time(clamp_time(t));
	int n;

	n = snprintf(buf, len, "%04u%02u%02u%02u%02u%02u", (unsigned)c.year,
		     c.month, c.day, c.hour, c.min, c.sec);
	return n < 0 || (size_t)n >= len ? -1 : n;
}

/* Appends name to buf at *o, a CR or LF shown as '?' (as `ls -q` does):
 * either would end the line early and let a file name forge listing
 * lines. -1 when it does not fit with `reserve` bytes after it. */
static int put_name(char *buf, size_t len, size_t *o, const char *name,
		    size_t reserve)
{
	size_t n = strlen(name), k;

	if (*o + n + reserve > len)
		return -1;
	for (k = 0; k < n; k++)
		buf[*o + k] =
		    name[k] == '\r' || name[k] == '\n' ? '?' : name[k];
	*o += n;
	return 0;
}

/* Ends a line with CRLF and NUL; the length, or -1. */
static int put_end(char *buf, size_t len, size_t o)
{
	if (o + 3 > len)
		return -1;
	memcpy(buf + o, "\r\n", 3);
	return (int)(o + 2);
}

/* The ten characters of `ls -l`'s mode column. Without permissions the
 * type is not known either: a plain file with no access is shown. */
static void mode_string(const struct listing_attrs *a, char m[11])
{
	static const char rwx[] = "rwxrwxrwx";
	unsigned long p = a->flags & LIBSSH2_SFTP_ATTR_PERMISSIONS
			      ? a->permissions
			      : LIBSSH2_SFTP_S_IFREG;
	int k;

	switch (p & LIBSSH2_SFTP_S_IFMT) {
	case LIBSSH2_SFTP_S_IFDIR:
		m[0] = 'd';
		break;
	case LIBSSH2_SFTP_S_IFLNK:
		m[0] = 'l';
		break;
	case LIBSSH2_SFTP_S_IFCHR:
		m[0] = 'c';
		break;
	case LIBSSH2_SFTP_S_IFBLK:
		m[0] = 'b';
		break;
	case LIBSSH2_SFTP_S_IFIFO:
		m[0] = 'p';
		break;
	case LIBSSH2_SFTP_S_IFSOCK:
		m[0] = 's';
		break;
	default:
		m[0] = '-';
		break;
	}
	for (k = 0; k < 9; k++)
		m[1 + k] = p & (0400UL >> k) ? rwx[k] : '-';
	/* setuid, setgid, sticky replace x as `ls` shows them. */
	if (p & 04000)
		m[3] = m[3] == 'x' ? 's' : 'S';
	if (p & 02000)
		m[6] = m[6] == 'x' ? 's' : 'S';
	if (p & 01000)
		m[9] = m[9] == 'x' ? 't' : 'T';
	m[10] = '\0';
}

/* "Dec  7 05:31" or "Dec  7  2025". */
static void date_string(int64_t t, int64_t now, char d[13])
{
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr",
					   "May", "Jun", "Jul", "Aug",
					   "Sep", "Oct", "Nov", "Dec"};
	struct civil c;
	int recent;

	t = clamp_time(t);
	now = clamp_time(now);
	recent = t - now <= CLOCK_SKEW && now - t < HALF_YEAR;
	c = civil_from_time(t);
	if (recent)
		snprintf(d, 13, "%s %2u %02u:%02u", months[c.month - 1], c.day,
			 c.hour, c.min);
	else
		snprintf(d, 13, "%s %2u  %04u", months[c.month - 1], c.day,
			 (unsigned)c.year);
}

int listing_list_line_link(const char *name, const char *target,
			   const struct listing_attrs *a, int64_t now,
			   char *buf, size_t len)
{
	char mode[11], date[13], owner[24], group[24];
	uint64_t size = a->flags & LIBSSH2_SFTP_ATTR_SIZE ? a->size : 0;
	int64_t t = a->flags & LIBSSH2_SFTP_ATTR_ACMODTIME
			? (int64_t)(a->mtime > T_MAX ? T_MAX : a->mtime)
			: 0;
	size_t o;
	int n;

	mode_string(a, mode);
	date_string(t, now, date);
	/* SFTP v3 gives numbers only; without them a '-' holds the column,
	 * which wget, curl and lftp read as a name. */
	if (a->flags & LIBSSH2_SFTP_ATTR_UIDGID) {
		snprintf(owner, sizeof(owner), "%lu", a->uid);
		snprintf(group, sizeof(group), "%lu", a->gid);
	} else {
		strcpy(owner, "-");
		strcpy(group, "-");
	}
	/* SFTP v3 has no link count: 1, as vsftpd shows for its own. */
	n = snprintf(buf, len, "%s %3u %-8s %-8s %8" PRIu64 " %s ", mode, 1,
		     owner, group, size, date);
	if (n < 0 || (size_t)n >= len)
		return -1;
	o = (size_t)n;
	if (put_name(buf, len, &o, name, 3) < 0)
		return -1;
	if (target != NULL && (put_name(buf, len, &o, " -> ", 3) < 0 ||
			       put_name(buf, len, &o, target, 3) < 0))
		return -1;
	return put_end(buf, len, o);
}

int listing_list_line(const char *name, const struct listing_attrs *a,
		      int64_t now, char *buf, size_t len)
{
	return listing_list_line_link(name, NULL, a, now, buf, len);
}

int listing_nlst_line(const char *name, char *buf, size_t len)
{
	size_t o = 0;

	if (put_name(buf, len, &o, name, 3) < 0)
		return -1;
	return put_end(buf, len, o);
}

/* RFC 3659 §7.5.1 type, or NULL when the type is not known. Other file
 * types than file and dir are OS-specific (§7.5.1.4); "OS.unix=symlink"
 * is what proftpd sends, and Python's mlsd() splits a fact at its first
 * '=' so the value keeps its own. */
static const char *mlsx_type(const char *name, const struct listing_attrs *a)
{
	if (strcmp(name, ".") == 0)
		return "cdir";
	if (strcmp(name, "..") == 0)
		return "pdir";
	if (!(a->flags & LIBSSH2_SFTP_ATTR_PERMISSIONS))
		return NULL;
	switch (a->permissions & LIBSSH2_SFTP_S_IFMT) {
	case LIBSSH2_SFTP_S_IFDIR:
		return "dir";
	case LIBSSH2_SFTP_S_IFLNK:
		return "OS.unix=symlink";
	case LIBSSH2_SFTP_S_IFCHR:
		return "OS.unix=chr";
	case LIBSSH2_SFTP_S_IFBLK:
		return "OS.unix=blk";
	case LIBSSH2_SFTP_S_IFIFO:
		return "OS.unix=fifo";
	case LIBSSH2_SFTP_S_IFSOCK:
		return "OS.unix=socket";
	default:
		return "file";
	}
}

/* RFC 3659 §7.5.5 perm, from the owner's bits: SFTP v3 does not say who
 * we are, and the SSH login usually owns what it works on. An
 * approximation either way (a group's or others' bits, ACLs, a
 * read-only mount, and for delete and rename the parent directory, all
 * matter): the SFTP server has the last word when the command comes. */
static void mlsx_perm(unsigned long p, int dir, char *out)
{
	int r = (p & 0400) != 0, w = (p & 0200) != 0, x = (p & 0100) != 0;
	size_t o = 0;

	if (dir) {
		/* c create, d delete, e enter, f rename, l list, m mkdir,
		 * p purge: the order of §7.5.5's list. */
		if (w)
			out[o++] = 'c';
		if (w)
			out[o++] = 'd';
		if (x)
			out[o++] = 'e';
		if (w)
			out[o++] = 'f';
		if (r)
			out[o++] = 'l';
		if (w) {
			out[o++] = 'm';
			out[o++] = 'p';
		}
	} else {
		/* a append, d delete, f rename, r retrieve, w store. */
		if (w) {
			out[o++] = 'a';
			out[o++] = 'd';
			out[o++] = 'f';
		}
		if (r)
			out[o++] = 'r';
		if (w)
			out[o++] = 'w';
	}
	out[o] = '\0';
}

int listing_mlsx_line(const char *name, const struct listing_attrs *a,
		      unsigned facts, char *buf, size_t len)
{
	const char *type = mlsx_type(name, a);
	int perms = (a->flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) != 0;
	int dir = type != NULL &&
		  (strcmp(type, "dir") == 0 || strcmp(type, "cdir") == 0 ||
		   strcmp(type, "pdir") == 0);
	char tmp[64];
	size_t o = 0;
	int n;

	if (len == 0)
		return -1;
	buf[0] = '\0';
#define PUT(...)                                                               \
	do {                                                                   \
		n = snprintf(buf + o, len - o, __VA_ARGS__);                   \
		if (n < 0 || (size_t)n >= len - o)                             \
			return -1;                                             \
		o += (size_t)n;                                                \
	} while (0)
	if ((facts & LISTING_FACT_TYPE) && type != NULL)
		PUT("type=%s;", type);
	/* §7.5.5: size applies to non-directory file types. */
	if ((facts & LISTING_FACT_SIZE) &&
	    (a->flags & LIBSSH2_SFTP_ATTR_SIZE) && !dir)
		PUT("size=%" PRIu64 ";", a->size);
	if ((facts & LISTING_FACT_MODIFY) &&
	    (a->flags & LIBSSH2_SFTP_ATTR_ACMODTIME)) {
		listing_time(a->mtime > T_MAX ? T_MAX : (int64_t)a->mtime, tmp,
			     sizeof(tmp));
		PUT("modify=%s;", tmp);
	}
	if ((facts & LISTING_FACT_PERM) && perms) {
		mlsx_perm(a->permissions, dir, tmp);
		PUT("perm=%s;", tmp);
	}
	if ((facts & LISTING_FACT_UNIX_MODE) && perms)
		PUT("UNIX.mode=%04lo;", a->permissions & 07777);
#undef PUT
	/* §7.2: one space between the facts and the name, even when there
	 * are no facts; Python's mlsd() splits the line at that space. */
	if (o + 1 >= len)
		return -1;
	buf[o++] = ' ';
	if (put_name(buf, len, &o, name, 3) < 0)
		return -1;
	return put_end(buf, len, o);
}

static const struct {
	const char *name;
	unsigned fact;
} fact_names[] = {
    {"type", LISTING_FACT_TYPE},	   {"size", LISTING_FACT_SIZE},
    {"modify", LISTING_FACT_MODIFY},	   {"perm", LISTING_FACT_PERM},
    {"UNIX.mode", LISTING_FACT_UNIX_MODE},
};

#define NFACTS (sizeof(fact_names) / sizeof(fact_names[0]))

/* "type*;size;" with '*' after the facts in `facts` when star, only the
 * facts in `facts` otherwise; after prefix. */
static int fact_list(const char *prefix, unsigned facts, int star, char *buf,
		     size_t len)
{
	size_t o, k;
	int n;

	n = snprintf(buf, len, "%s", prefix);
	if (n < 0 || (size_t)n >= len)
		return -1;
	o = (size_t)n;
	for (k = 0; k < NFACTS; k++) {
		int on = (facts & fact_names[k].fact) != 0;

		if (!star && !on)
			continue;
		n = snprintf(buf + o, len - o, "%s%s;", fact_names[k].name,
			     star && on ? "*" : "");
		if (n < 0 || (size_t)n >= len - o)
			return -1;
		o += (size_t)n;
	}
	return (int)o;
}

int listing_mlst_feat(unsigned facts, char *buf, size_t len)
{
	return fact_list("MLST ", facts, 1, buf, len);
}

int listing_mlst_facts(unsigned facts, char *buf, size_t len)
{
	return fact_list("", facts, 0, buf, len);
}

static int same_word(const char *a, size_t n, const char *b)
{
	size_t k;

	if (strlen(b) != n)
		return 0;
	for (k = 0; k < n; k++) {
		unsigned char x = (unsigned char)a[k], y = (unsigned char)b[k];

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return 0;
	}
	return 1;
}

unsigned listing_mlst_opts(const char *arg)
{
	unsigned facts = 0;

	/* Whole OPTS argument or only its part after "MLST ": both work
	 * (arg[4] is read only when the first four bytes are "MLST"). */
	if (same_word(arg, strnlen(arg, 4), "MLST") &&
	    (arg[4] == ' ' || arg[4] == '\0'))
		arg += arg[4] == ' ' ? 5 : 4;
	/* §7.9: fact names separated by ';', case-insensitive; names not
	 * known here are ignored. */
	while (*arg != '\0') {
		const char *s = arg;
		size_t k;

		while (*arg != '\0' && *arg != ';')
			arg++;
		for (k = 0; k < NFACTS; k++)
			if (same_word(s, (size_t)(arg - s), fact_names[k].name))
				facts |= fact_names[k].fact;
		if (*arg == ';')
			arg++;
	}
	return facts;
}

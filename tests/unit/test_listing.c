/* test_listing.c — table-driven tests of the SFTP bridge's LIST, NLST
 * and MLSD/MLST lines (daemon/sftp/listing.c). The `ls -l` lines are the
 * form wget, curl's wildcard parser and lftp read: mode, links, owner,
 * group, size, "Mon DD HH:MM" or "Mon DD  YYYY", name. */
#include "listing.h"

#include <libssh2.h>
#include <libssh2_sftp.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

#define ALL                                                                    \
	(LIBSSH2_SFTP_ATTR_SIZE | LIBSSH2_SFTP_ATTR_UIDGID |                   \
	 LIBSSH2_SFTP_ATTR_PERMISSIONS | LIBSSH2_SFTP_ATTR_ACMODTIME)
#define REG LIBSSH2_SFTP_S_IFREG
#define DIR LIBSSH2_SFTP_S_IFDIR
#define LNK LIBSSH2_SFTP_S_IFLNK

/* 2026-12-07 05:31:00 UTC; six months before it is 1780842984. */
#define NOW 1796621460

static const struct {
	const char *name, *target;
	struct listing_attrs a;
	long long now;
	const char *line;
} list_cases[] = {
    {"name",
     NULL,
     {ALL, 4096, 1000, 1000, REG | 0644, 0, NOW},
     NOW,
     "-rw-r--r--   1 1000     1000         4096 Dec  7 05:31 name\r\n"},
    {"dir",
     NULL,
     {ALL, 4096, 0, 0, DIR | 0755, 0, 1765000000},
     NOW,
     "drwxr-xr-x   1 0        0            4096 Dec  6  2025 dir\r\n"},
    {"link",
     NULL,
     {ALL, 7, 1000, 100, LNK | 0777, 0, NOW},
     NOW,
     "lrwxrwxrwx   1 1000     100             7 Dec  7 05:31 link\r\n"},
    {"link",
     "/etc/hosts",
     {ALL, 10, 1000, 100, LNK | 0777, 0, NOW},
     NOW,
     "lrwxrwxrwx   1 1000     100            10 Dec  7 05:31 link -> "
     "/etc/hosts\r\n"},
    /* The six-month rule: the boundary, and a clock skew of an hour. */
    {"old",
     NULL,
     {ALL, 1, 1, 1, REG | 0600, 0, 1780842984},
     NOW,
     "-rw-------   1 1        1               1 Jun  7  2026 old\r\n"},
    {"recent",
     NULL,
     {ALL, 1, 1, 1, REG | 0600, 0, 1780842985},
     NOW,
     "-rw-------   1 1        1               1 Jun  7 14:36 recent\r\n"},
    {"skew",
     NULL,
     {ALL, 1, 1, 1, REG | 0600, 0, NOW + 3600},
     NOW,
     "-rw-------   1 1        1               1 Dec  7 06:31 skew\r\n"},
    {"future",
     NULL,
     {ALL, 1, 1, 1, REG | 0600, 0, NOW + 3601},
     NOW,
     "-rw-------   1 1        1               1 Dec  7  2026 future\r\n"},
    {"leap",
     NULL,
     {ALL, 0, 1, 1, REG | 0644, 0, 951825600},
     NOW,
     "-rw-r--r--   1 1        1               0 Feb 29  2000 leap\r\n"},
    {"far",
     NULL,
     {ALL, 0, 1, 1, REG | 0644, 0, 4294967295UL},
     NOW,
     "-rw-r--r--   1 1        1               0 Feb  7  2106 far\r\n"},
    {"clamped",
     NULL,
     {ALL, 0, 1, 1, REG | 0644, 0, ~0UL},
     NOW,
     "-rw-r--r--   1 1        1               0 Dec 31  9999 clamped\r\n"},
    /* setuid, setgid, sticky with and without x. */
    {"s",
     NULL,
     {ALL, 1, 1, 1, REG | 06755, 0, NOW},
     NOW,
     "-rwsr-sr-x   1 1        1               1 Dec  7 05:31 s\r\n"},
    {"S",
     NULL,
     {ALL, 1, 1, 1, REG | 06644, 0, NOW},
     NOW,
     "-rwSr-Sr--   1 1        1               1 Dec  7 05:31 S\r\n"},
    {"tmp",
     NULL,
     {ALL, 1, 0, 0, DIR | 01777, 0, NOW},
     NOW,
     "drwxrwxrwt   1 0        0               1 Dec  7 05:31 tmp\r\n"},
    {"T",
     NULL,
     {ALL, 1, 0, 0, DIR | 01770, 0, NOW},
     NOW,
     "drwxrwx--T   1 0        0               1 Dec  7 05:31 T\r\n"},
    {"dev",
     NULL,
     {ALL, 0, 0, 0, LIBSSH2_SFTP_S_IFCHR | 0666, 0, NOW},
     NOW,
     "crw-rw-rw-   1 0        0               0 Dec  7 05:31 dev\r\n"},
    {"fifo",
     NULL,
     {ALL, 0, 0, 0, LIBSSH2_SFTP_S_IFIFO | 0644, 0, NOW},
     NOW,
     "prw-r--r--   1 0        0               0 Dec  7 05:31 fifo\r\n"},
    {"sock",
     NULL,
     {ALL, 0, 0, 0, LIBSSH2_SFTP_S_IFSOCK | 0755, 0, NOW},
     NOW,
     "srwxr-xr-x   1 0        0               0 Dec  7 05:31 sock\r\n"},
    {"blk",
     NULL,
     {ALL, 0, 0, 0, LIBSSH2_SFTP_S_IFBLK | 0660, 0, NOW},
     NOW,
     "brw-rw----   1 0        0               0 Dec  7 05:31 blk\r\n"},
    /* Big numbers widen their column. */
    {"big",
     NULL,
     {ALL, 18446744073709551615ULL, 4294967295UL, 123456789, REG | 0644, 0,
      NOW},
     NOW,
     "-rw-r--r--   1 4294967295 123456789 18446744073709551615 Dec  7 "
     "05:31 big\r\n"},
    /* Fields the server did not send. */
    {"bare",
     NULL,
     {0, 99, 5, 5, DIR | 0755, 0, NOW},
     NOW,
     "----------   1 -        -               0 Jan  1  1970 bare\r\n"},
    {"nosize",
     NULL,
     {LIBSSH2_SFTP_ATTR_PERMISSIONS, 99, 5, 5, DIR | 0755, 0, NOW},
     NOW,
     "drwxr-xr-x   1 -        -               0 Jan  1  1970 nosize\r\n"},
    /* Names byte for byte: spaces, UTF-8, a leading '-'; CR/LF as '?'. */
    {" my file ",
     NULL,
     {ALL, 1, 1, 1, REG | 0644, 0, NOW},
     NOW,
     "-rw-r--r--   1 1        1               1 Dec  7 05:31  my file \r\n"},
    {"caf\xc3\xa9 \xe6\x97\xa5",
     NULL,
     {ALL, 1, 1, 1, REG | 0644, 0, NOW},
     NOW,
     "-rw-r--r--   1 1        1               1 Dec  7 05:31 caf\xc3\xa9 "
     "\xe6\x97\xa5\r\n"},
    {"-x",
     NULL,
     {ALL, 1, 1, 1, REG | 0644, 0, NOW},
     NOW,
     "-rw-r--r--   1 1        1               1 Dec  7 05:31 -x\r\n"},
    {"a\r\n-rw-r--r-- 1 0 0 1 Dec  7 05:31 forged",
     NULL,
     {ALL, 1, 1, 1, REG | 0644, 0, NOW},
     NOW,
     "-rw-r--r--   1 1        1               1 Dec  7 05:31 a?"
     "?-rw-r--r-- "
     "1 0 0 1 Dec  7 05:31 forged\r\n"},
    {"l",
     "t\nx",
     {ALL, 1, 1, 1, LNK | 0777, 0, NOW},
     NOW,
     "lrwxrwxrwx   1 1        1               1 Dec  7 05:31 l -> t?x\r\n"},
    /* A nonsense `now` still gives a line. */
    {"n",
     NULL,
     {ALL, 1, 1, 1, REG | 0644, 0, NOW},
     -9223372036854775807LL - 1,
     "-rw-r--r--   1 1        1               1 Dec  7  2026 n\r\n"},
};

static void test_list(void)
{
	char buf[512];
	size_t i;

	for (i = 0; i < sizeof(list_cases) / sizeof(list_cases[0]); i++) {
		const char *want = list_cases[i].line;
		int n = listing_list_line_link(
		    list_cases[i].name, list_cases[i].target, &list_cases[i].a,
		    list_cases[i].now, buf, sizeof(buf));

		CHECK(n == (int)strlen(want) && strcmp(buf, want) == 0,
		      "list case %zu: %d\n got '%s'\nwant '%s'", i, n,
		      n < 0 ? "" : buf, want);
		if (list_cases[i].target == NULL) {
			char b2[512];

			n = listing_list_line(
			    list_cases[i].name, &list_cases[i].a,
			    list_cases[i].now, b2, sizeof(b2));
			CHECK(n >= 0 && strcmp(b2, buf) == 0,
			      "list case %zu without target", i);
		}
	}
}

/* Every buffer size: -1 below the line's length + 1, the line from it. */
static void test_sizes(void)
{
	static const struct listing_attrs a = {ALL,	   4096, 1000, 1000,
					       REG | 0644, 0,	 NOW};
	char buf[128];
	size_t len;
	int full, n;

	full =
	    listing_list_line_link("name", "target", &a, NOW, buf, sizeof(buf));
	for (len = 0; len <= (size_t)full + 1; len++) {
		n = listing_list_line_link("name", "target", &a, NOW, buf, len);
		CHECK(len > (size_t)full ? n == full : n == -1,
		      "list in %zu: %d", len, n);
	}
	full =
	    listing_mlsx_line("name", &a, LISTING_FACT_ALL, buf, sizeof(buf));
	for (len = 0; len <= (size_t)full + 1; len++) {
		n = listing_mlsx_line("name", &a, LISTING_FACT_ALL, buf, len);
		CHECK(len > (size_t)full ? n == full : n == -1,
		      "mlsx in %zu: %d", len, n);
	}
	full = listing_nlst_line("name", buf, sizeof(buf));
	CHECK(full == 6 && strcmp(buf, "name\r\n") == 0, "nlst");
	CHECK(listing_nlst_line("name", buf, 7) == 6, "nlst in 7");
	CHECK(listing_nlst_line("name", buf, 6) == -1, "nlst in 6");
	CHECK(listing_nlst_line("a\nb", buf, 7) == 5 &&
		  strcmp(buf, "a?b\r\n") == 0,
	      "nlst LF");
	full = listing_mlst_feat(LISTING_FACT_ALL, buf, sizeof(buf));
	for (len = 0; len <= (size_t)full + 1; len++) {
		n = listing_mlst_feat(LISTING_FACT_ALL, buf, len);
		CHECK(len > (size_t)full ? n == full : n == -1,
		      "feat in %zu: %d", len, n);
	}
	CHECK(listing_time(0, buf, 15) == 14, "time in 15");
	CHECK(listing_time(0, buf, 14) == -1, "time in 14");
}

static const struct {
	const char *name;
	struct listing_attrs a;
	unsigned facts;
	const char *line;
} mlsx_cases[] = {
    {"f",
     {ALL, 4096, 1000, 1000, REG | 0644, 0, NOW},
     LISTING_FACT_ALL,
     "type=file;size=4096;modify=20261207053100;perm=adfrw;UNIX.mode=0644;"
     " f\r\n"},
    {"ro",
     {ALL, 1, 1, 1, REG | 0444, 0, NOW},
     LISTING_FACT_ALL,
     "type=file;size=1;modify=20261207053100;perm=r;UNIX.mode=0444; ro\r\n"},
    {"wo",
     {ALL, 1, 1, 1, REG | 0200, 0, NOW},
     LISTING_FACT_PERM,
     "perm=adfw; wo\r\n"},
    {"none",
     {ALL, 1, 1, 1, REG | 0077, 0, NOW},
     LISTING_FACT_PERM | LISTING_FACT_UNIX_MODE,
     "perm=;UNIX.mode=0077; none\r\n"},
    {"d",
     {ALL, 4096, 0, 0, DIR | 0755, 0, NOW},
     LISTING_FACT_ALL,
     "type=dir;modify=20261207053100;perm=cdeflmp;UNIX.mode=0755; d\r\n"},
    {"rx",
     {ALL, 4096, 0, 0, DIR | 0555, 0, NOW},
     LISTING_FACT_PERM,
     "perm=el; rx\r\n"},
    {"x",
     {ALL, 4096, 0, 0, DIR | 0111, 0, NOW},
     LISTING_FACT_PERM,
     "perm=e; x\r\n"},
    {".",
     {ALL, 4096, 0, 0, DIR | 0755, 0, NOW},
     LISTING_FACT_TYPE | LISTING_FACT_SIZE,
     "type=cdir; .\r\n"},
    {"..",
     {ALL, 4096, 0, 0, DIR | 01777, 0, NOW},
     LISTING_FACT_TYPE | LISTING_FACT_UNIX_MODE,
     "type=pdir;UNIX.mode=1777; ..\r\n"},
    {"..", {0, 0, 0, 0, 0, 0, 0}, LISTING_FACT_ALL, "type=pdir; ..\r\n"},
    {"ln",
     {ALL, 9, 0, 0, LNK | 0777, 0, NOW},
     LISTING_FACT_TYPE | LISTING_FACT_SIZE,
     "type=OS.unix=symlink;size=9; ln\r\n"},
    {"p",
     {ALL, 0, 0, 0, LIBSSH2_SFTP_S_IFIFO | 0600, 0, NOW},
     LISTING_FACT_TYPE,
     "type=OS.unix=fifo; p\r\n"},
    {"s",
     {ALL, 0, 0, 0, 06755 | REG, 0, NOW},
     LISTING_FACT_UNIX_MODE,
     "UNIX.mode=6755; s\r\n"},
    /* Facts chosen by OPTS MLST, and facts the server did not send. */
    {"f", {ALL, 4096, 1000, 1000, REG | 0644, 0, NOW}, 0, " f\r\n"},
    {"f",
     {LIBSSH2_SFTP_ATTR_SIZE, 12, 0, 0, 0, 0, 0},
     LISTING_FACT_ALL,
     "size=12; f\r\n"},
    {"f",
     {LIBSSH2_SFTP_ATTR_ACMODTIME, 12, 0, 0, 0, 5, 0},
     LISTING_FACT_ALL,
     "modify=19700101000000; f\r\n"},
    {"f",
     {ALL, 4096, 1000, 1000, REG | 0644, 0, NOW},
     LISTING_FACT_SIZE | LISTING_FACT_MODIFY,
     "size=4096;modify=20261207053100; f\r\n"},
    /* Names: spaces and ';' and '=' are fine after the single space. */
    {" a;b=c ",
     {ALL, 1, 0, 0, REG | 0644, 0, NOW},
     LISTING_FACT_TYPE,
     "type=file;  a;b=c \r\n"},
    {"caf\xc3\xa9",
     {ALL, 1, 0, 0, REG | 0644, 0, NOW},
     LISTING_FACT_TYPE,
     "type=file; caf\xc3\xa9\r\n"},
    {"a\r\nb",
     {ALL, 1, 0, 0, REG | 0644, 0, NOW},
     LISTING_FACT_TYPE,
     "type=file; a?"
     "?b\r\n"},
};

static void test_mlsx(void)
{
	char buf[512];
	size_t i;

	for (i = 0; i < sizeof(mlsx_cases) / sizeof(mlsx_cases[0]); i++) {
		const char *want = mlsx_cases[i].line;
		int n =
		    listing_mlsx_line(mlsx_cases[i].name, &mlsx_cases[i].a,
				      mlsx_cases[i].facts, buf, sizeof(buf));

		CHECK(n == (int)strlen(want) && strcmp(buf, want) == 0,
		      "mlsx case %zu: %d\n got '%s'\nwant '%s'", i, n,
		      n < 0 ? "" : buf, want);
	}
}

static const struct {
	const char *arg;
	unsigned facts;
} opts_cases[] = {
    {"type;size;modify;perm;UNIX.mode;", LISTING_FACT_ALL},
    {"MLST type;size;", LISTING_FACT_TYPE | LISTING_FACT_SIZE},
    {"mlst TYPE;Size", LISTING_FACT_TYPE | LISTING_FACT_SIZE},
    {"MLST", 0},
    {"MLST ", 0},
    {"", 0},
    {"unix.mode;", LISTING_FACT_UNIX_MODE},
    {"sizd;charset;unique;type;", LISTING_FACT_TYPE},
    {";;modify;;", LISTING_FACT_MODIFY},
    {"typ", 0},
    {"types", 0},
    {"MLS", 0},
    {"MLSTtype;", 0},
};

static void test_opts(void)
{
	char buf[128];
	size_t i;

	for (i = 0; i < sizeof(opts_cases) / sizeof(opts_cases[0]); i++)
		CHECK(listing_mlst_opts(opts_cases[i].arg) ==
			  opts_cases[i].facts,
		      "opts '%s': %u", opts_cases[i].arg,
		      listing_mlst_opts(opts_cases[i].arg));
	CHECK(listing_mlst_feat(LISTING_FACT_ALL, buf, sizeof(buf)) > 0 &&
		  strcmp(buf, "MLST type*;size*;modify*;perm*;UNIX.mode*;") ==
		      0,
	      "feat all: '%s'", buf);
	CHECK(listing_mlst_feat(LISTING_FACT_TYPE | LISTING_FACT_PERM, buf,
				sizeof(buf)) > 0 &&
		  strcmp(buf, "MLST type*;size;modify;perm*;UNIX.mode;") == 0,
	      "feat some: '%s'", buf);
	CHECK(listing_mlst_facts(LISTING_FACT_SIZE | LISTING_FACT_UNIX_MODE,
				 buf, sizeof(buf)) == 15 &&
		  strcmp(buf, "size;UNIX.mode;") == 0,
	      "facts: '%s'", buf);
	CHECK(listing_mlst_facts(0, buf, sizeof(buf)) == 0 &&
		  strcmp(buf, "") == 0,
	      "no facts");
}

static const struct {
	long long t;
	const char *s;
} time_cases[] = {
    {0, "19700101000000"},
    {NOW, "20261207053100"},
    {951825600, "20000229120000"},
    {4294967295LL, "21060207062815"},
    {-1, "19691231235959"},
    {253402300799LL, "99991231235959"},
    {253402300800LL, "99991231235959"},
    {-62167219200LL, "00000101000000"},
    {-9223372036854775807LL - 1, "00000101000000"},
};

static void test_time(void)
{
	char buf[32];
	size_t i;

	for (i = 0; i < sizeof(time_cases) / sizeof(time_cases[0]); i++)
		CHECK(listing_time(time_cases[i].t, buf, sizeof(buf)) == 14 &&
			  strcmp(buf, time_cases[i].s) == 0,
		      "time %lld: '%s'", time_cases[i].t, buf);
}

int main(void)
{
	test_list();
	test_sizes();
	test_mlsx();
	test_opts();
	test_time();
	printf("test_listing: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}

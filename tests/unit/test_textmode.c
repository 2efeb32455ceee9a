/* test_textmode.c — the SFTP bridge's TYPE A conversion
 * (daemon/sftp/textmode.c): sample texts converted whole, split at every
 * byte boundary, fed one byte at a time and written into small output
 * buffers must all give the same bytes. */
#include "textmode.h"

#include <stdio.h>
#include <string.h>

#include "check.h"

#define L(s) s, sizeof(s) - 1

static const struct {
	const char *in;
	size_t inlen;
	const char *net;
	size_t netlen;
} to_net_cases[] = {
    {L(""), L("")},
    {L("a"), L("a")},
    {L("\n"), L("\r\n")},
    {L("a\nb\n"), L("a\r\nb\r\n")},
    {L("\n\n\n"), L("\r\n\r\n\r\n")},
    {L("dos\r\nline\r\n"), L("dos\r\nline\r\n")},
    {L("mixed\r\nunix\n"), L("mixed\r\nunix\r\n")},
    {L("lone\rcr\n"), L("lone\rcr\r\n")},
    {L("\r"), L("\r")},
    {L("\r\r\n\n"), L("\r\r\n\r\n")},
    {L("nul\0\n\xff\n"), L("nul\0\r\n\xff\r\n")},
    {L("caf\xc3\xa9\n"), L("caf\xc3\xa9\r\n")},
};

static const struct {
	const char *net;
	size_t netlen;
	const char *out;
	size_t outlen;
} from_net_cases[] = {
    {L(""), L("")},
    {L("a"), L("a")},
    {L("\r\n"), L("\n")},
    {L("a\r\nb\r\n"), L("a\nb\n")},
    {L("bare\nlf\n"), L("bare\nlf\n")},
    {L("lone\rcr"), L("lone\rcr")},
    {L("\r"), L("\r")},
    {L("end\r"), L("end\r")},
    {L("\r\r\n"), L("\r\n")},
    {L("\r\r\r"), L("\r\r\r")},
    {L("\r\n\r\n\r"), L("\n\n\r")},
    {L("\n\r"), L("\n\r")},
    {L("x\r\0\r\n"), L("x\r\0\n")},
    {L("caf\xc3\xa9\r\n"), L("caf\xc3\xa9\n")},
};

/* Runs one direction over in cut into chunks of `chunk` bytes after a
 * first cut at `split`, with at most `cap` bytes of output per call.
 * Returns the output length (-1 when a call made no progress). */
static long run(int to_net, const char *in, size_t inlen, size_t split,
		size_t chunk, size_t cap, char *out, size_t outsize)
{
	struct textmode t = {0};
	size_t pos = 0, o = 0;

	while (pos < inlen) {
		size_t end = pos < split ? split : pos + chunk;
		size_t used, n;

		if (end > inlen)
			end = inlen;
		while (pos < end) {
			size_t room = outsize - o < cap ? outsize - o : cap;

			if (to_net)
				n = textmode_to_net(&t, in + pos, end - pos,
						    &used, out + o, room);
			else
				n = textmode_from_net(&t, in + pos, end - pos,
						      &used, out + o, room);
			if (n == 0 && used == 0)
				return -1;
			pos += used;
			o += n;
		}
	}
	if (!to_net) {
		size_t n;

		while ((n = textmode_from_net_end(&t, out + o, cap)) > 0)
			o += n;
		if (t.held_cr)
			return -1;
	}
	return (long)o;
}

static void check_all_ways(int to_net, int i, const char *in, size_t inlen,
			   const char *want, size_t wantlen)
{
	static const size_t caps[] = {2, 3, 4096};
	char out[256];
	size_t split, c, chunk;

	for (c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		for (split = 0; split <= inlen; split++) {
			/* One byte at a time, and the rest whole. */
			for (chunk = 1; chunk <= inlen + 1;
			     chunk += inlen > 0 ? inlen : 1) {
				long n = run(to_net, in, inlen, split, chunk,
					     caps[c], out, sizeof(out));

				CHECK(
				    n == (long)wantlen &&
					memcmp(out, want, wantlen) == 0,
				    "%s case %d: split %zu chunk %zu cap %zu: "
				    "%ld bytes",
				    to_net ? "to_net" : "from_net", i, split,
				    chunk, caps[c], n);
			}
		}
	}
}

/* from_net with room for one byte: a held CR goes out alone, then the
 * byte after it. */
static void test_from_net_cap1(void)
{
	struct textmode t = {0};
	char out[4];
	size_t used, n;

	n = textmode_from_net(&t, "a\r", 2, &used, out, 1);
	CHECK(n == 1 && used == 1 && out[0] == 'a' && !t.held_cr, "a");
	n = textmode_from_net(&t, "\r", 1, &used, out, 1);
	CHECK(n == 0 && used == 1 && t.held_cr, "CR held");
	n = textmode_from_net(&t, "b", 1, &used, out, 1);
	CHECK(n == 1 && used == 0 && out[0] == '\r' && !t.held_cr,
	      "held CR written first");
	n = textmode_from_net(&t, "b", 1, &used, out, 1);
	CHECK(n == 1 && used == 1 && out[0] == 'b', "then b");
	CHECK(textmode_from_net_end(&t, out, 1) == 0, "nothing held at end");
	t.held_cr = 1;
	CHECK(textmode_from_net_end(&t, out, 0) == 0 && t.held_cr,
	      "no room at end keeps the CR");
	CHECK(textmode_from_net_end(&t, out, 1) == 1 && out[0] == '\r' &&
		  !t.held_cr,
	      "CR flushed at end");
}

/* to_net with room for one byte stops before a LF, never splits CRLF. */
static void test_to_net_cap1(void)
{
	struct textmode t = {0};
	char out[4];
	size_t used, n;

	n = textmode_to_net(&t, "\n", 1, &used, out, 1);
	CHECK(n == 0 && used == 0, "LF needs 2 bytes");
	n = textmode_to_net(&t, "x\n", 2, &used, out, 1);
	CHECK(n == 1 && used == 1 && out[0] == 'x', "x then stop");
	n = textmode_to_net(&t, "\r", 1, &used, out, 1);
	CHECK(n == 1 && used == 1 && t.held_cr, "CR written, remembered");
	n = textmode_to_net(&t, "\n", 1, &used, out, 1);
	CHECK(n == 1 && used == 1 && out[0] == '\n', "LF after CR stays a LF");
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(to_net_cases) / sizeof(to_net_cases[0]); i++)
		check_all_ways(1, (int)i, to_net_cases[i].in,
			       to_net_cases[i].inlen, to_net_cases[i].net,
			       to_net_cases[i].netlen);
	for (i = 0; i < sizeof(from_net_cases) / sizeof(from_net_cases[0]); i++)
		check_all_ways(0, (int)i, from_net_cases[i].net,
			       from_net_cases[i].netlen, from_net_cases[i].out,
			       from_net_cases[i].outlen);
	test_from_net_cap1();
	test_to_net_cap1();
	printf("test_textmode: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}

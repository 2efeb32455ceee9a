/* test_ftppath.c — table-driven tests of the SFTP bridge's path joining
 * and quoting (daemon/sftp/ftppath.c). */
#include "ftppath.h"

#include <stdio.h>
#include <string.h>

#include "check.h"

static const struct {
	const char *cwd, *arg, *out;
} join_cases[] = {
    {"/", "", "/"},
    {"/home/alice", "", "/home/alice"},
    {"/home/alice", "f", "/home/alice/f"},
    {"/home/alice", "/etc/passwd", "/etc/passwd"},
    {"/home/alice", "..", "/home"},
    {"/home/alice", "../..", "/"},
    {"/home/alice", "../../../../..", "/"},
    {"/home/alice", "/../../x", "/x"},
    {"/", "..", "/"},
    {"/", "../a/../../b", "/b"},
    {"/home/alice", "a//b///c", "/home/alice/a/b/c"},
    {"/home/alice", "dir/", "/home/alice/dir"},
    {"/home/alice", "./dir/./", "/home/alice/dir"},
    {"/home/alice", ".", "/home/alice"},
    {"/home/alice", "//", "/"},
    {"/home/alice/", "x", "/home/alice/x"},
    {"/home//alice/.", "x", "/home/alice/x"},
    {"/a", "...", "/a/..."},
    {"/a", "..x/.x", "/a/..x/.x"},
    {"/a", "my file ", "/a/my file "},
    {"/a", " lead", "/a/ lead"},
    {"/a", "-x", "/a/-x"},
    {"/a", "caf\xc3\xa9/\xe6\x97\xa5", "/a/caf\xc3\xa9/\xe6\x97\xa5"},
    {"/a", "back\\slash", "/a/back\\slash"},
    {"/a", "~", "/a/~"},
    {"/a", "q\"uote", "/a/q\"uote"},
};

static void test_join(void)
{
	char out[256];
	size_t i;

	for (i = 0; i < sizeof(join_cases) / sizeof(join_cases[0]); i++) {
		int rc = ftppath_join(join_cases[i].cwd, join_cases[i].arg, out,
				      sizeof(out));

		CHECK(rc == 0 && strcmp(out, join_cases[i].out) == 0,
		      "join '%s' '%s': %d '%s'", join_cases[i].cwd,
		      join_cases[i].arg, rc, rc == 0 ? out : "");
	}
}

/* Sizes: exactly fitting works, a byte less fails; an intermediate
 * segment that would not fit is fine when ".." takes it away again. */
static void test_join_sizes(void)
{
	char out[8];

	CHECK(ftppath_join("/", "abcdef", out, 8) == 0 &&
		  strcmp(out, "/abcdef") == 0,
	      "exact fit");
	CHECK(ftppath_join("/", "abcdefg", out, 8) == -1, "one too many");
	CHECK(ftppath_join("/ab", "cdefgh", out, 8) == -1, "cwd + arg");
	CHECK(ftppath_join("/ab", "cd", out, 8) == 0 &&
		  strcmp(out, "/ab/cd") == 0,
	      "cwd + arg fit");
	CHECK(ftppath_join("/", "toolongname/../x", out, 8) == 0 &&
		  strcmp(out, "/x") == 0,
	      "lost segment taken back: '%s'", out);
	CHECK(ftppath_join("/", "toolongname/y/../../x", out, 8) == 0 &&
		  strcmp(out, "/x") == 0,
	      "two lost segments taken back");
	CHECK(ftppath_join("/", "toolongname/y/../x", out, 8) == -1,
	      "lost segment stays");
	CHECK(ftppath_join("/", "", out, 2) == 0 && strcmp(out, "/") == 0,
	      "root in 2");
	CHECK(ftppath_join("/", "", out, 1) == -1, "root in 1");
	CHECK(ftppath_join("/", "a", out, 2) == -1, "/a in 2");
}

static const struct {
	const char *path, *base;
} base_cases[] = {
    {"/a/b", "b"}, {"/a", "a"},	  {"b", "b"}, {"/", "/"},
    {"//", "/"},   {"/a/b/", ""}, {"", ""},   {"/a/b c", "b c"},
};

static void test_base(void)
{
	size_t i;

	for (i = 0; i < sizeof(base_cases) / sizeof(base_cases[0]); i++)
		CHECK(strcmp(ftppath_base(base_cases[i].path),
			     base_cases[i].base) == 0,
		      "base '%s'", base_cases[i].path);
}

static const struct {
	const char *path;
	size_t outlen;
	int rc;
	const char *out;
} quote_cases[] = {
    {"/", 64, 0, "\"/\""},
    {"/home/alice", 64, 0, "\"/home/alice\""},
    {"/a\"b", 64, 0, "\"/a\"\"b\""},
    {"/\"\"", 64, 0, "\"/\"\"\"\"\""},
    {"/my dir", 64, 0, "\"/my dir\""},
    {"/caf\xc3\xa9", 64, 0, "\"/caf\xc3\xa9\""},
    {"/a\nb", 64, -1, ""},
    {"/a\rb", 64, -1, ""},
    {"/ab", 6, 0, "\"/ab\""},
    {"/ab", 5, -1, ""},
    {"/\"", 6, 0, "\"/\"\"\""},
    {"/\"", 5, -1, ""},
    {"", 3, 0, "\"\""},
    {"", 2, -1, ""},
    {"", 0, -1, NULL},
};

static void test_quote(void)
{
	char out[64];
	size_t i;

	for (i = 0; i < sizeof(quote_cases) / sizeof(quote_cases[0]); i++) {
		int rc;

		memset(out, 'Z', sizeof(out));
		rc = ftppath_quote(quote_cases[i].path, out,
				   quote_cases[i].outlen);
		CHECK(rc == quote_cases[i].rc, "quote case %zu: %d", i, rc);
		if (quote_cases[i].out != NULL)
			CHECK(strcmp(out, quote_cases[i].out) == 0,
			      "quote case %zu: '%s'", i, out);
		else
			CHECK(out[0] == 'Z', "quote case %zu wrote", i);
	}
}

int main(void)
{
	test_join();
	test_join_sizes();
	test_base();
	test_quote();
	printf("test_ftppath: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}

/* test_json.c — json_escape: a table of inputs and the exact JSON text. */
#include <stdio.h>
#include <string.h>

#include "json.h"

static const struct {
	const char *in, *want;
} cases[] = {
    {"", "\"\""},
    {"plain", "\"plain\""},
    {"a\"b\\c", "\"a\\\"b\\\\c\""},
    {"tab\tnl\ncr\r", "\"tab\\tnl\\ncr\\r\""},
    {"\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\""},
    {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
     "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
    {"bad \xff end", "\"bad \\ufffd end\""},
    {"overlong \xc0\xaf", "\"overlong \\ufffd\\ufffd\""},
    {"surrogate \xed\xa0\x80", "\"surrogate \\ufffd\\ufffd\\ufffd\""},
    {"cut \xe2\x82", "\"cut \\ufffd\\ufffd\""},
    {"too big \xf4\x90\x80\x80", "\"too big \\ufffd\\ufffd\\ufffd\\ufffd\""},
};

int main(void)
{
	char out[256];
	size_t i;
	int fails = 0, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = json_escape(cases[i].in, out, sizeof(out));
		if (n < 0 || strcmp(out, cases[i].want) ||
		    (size_t)n != strlen(out)) {
			printf("FAIL case %zu: got %s want %s\n", i,
			       n < 0 ? "(overflow)" : out, cases[i].want);
			fails++;
		}
	}
	/* The documented bound always fits; one byte less may not. */
	n = json_escape("\x01\x01", out, 6 * 2 + 3);
	if (n != 14) {
		printf("FAIL bound: %d\n", n);
		fails++;
	}
	if (json_escape("\x01\x01", out, 14) != -1) {
		printf("FAIL overflow not reported\n");
		fails++;
	}
	printf("%s: %zu cases, %d failed\n", fails ? "FAIL" : "ok",
	       sizeof(cases) / sizeof(cases[0]) + 2, fails);
	return fails != 0;
}

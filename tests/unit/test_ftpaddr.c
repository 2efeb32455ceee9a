/* test_ftpaddr.c — table-driven tests of the SFTP bridge's PORT and EPRT
 * parsers and its 227 reply (daemon/sftp/ftpaddr.c). */
#include "ftpaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "check.h"

static const struct {
	const char *arg;
	int rc;
	const char *host; /* when rc is 0 */
	unsigned port;
} port_cases[] = {
    {"127,0,0,1,4,1", 0, "127.0.0.1", 1025},
    {"10,1,60,99,6,12", 0, "10.1.60.99", 1548},
    {"192,168,1,2,255,255", 0, "192.168.1.2", 65535},
    /* Some clients put spaces after the commas. */
    {"127, 0, 0, 1, 4, 1", 0, "127.0.0.1", 1025},
    {"127,0,0,1,0,0", -1, NULL, 0},   /* port 0 */
    {"127,0,0,1,4", -1, NULL, 0},     /* too few */
    {"127,0,0,1,4,1,2", -1, NULL, 0}, /* too many */
    {"256,0,0,1,4,1", -1, NULL, 0},   /* out of range */
    {"127,0,0,1,4,256", -1, NULL, 0},
    {"127,0,0,1,4,1x", -1, NULL, 0},
    {"", -1, NULL, 0},
    {"a,b,c,d,e,f", -1, NULL, 0},
    {"127,0,0,1,-4,1", -1, NULL, 0},
    {"0000127,0,0,1,4,1", -1, NULL, 0}, /* more digits than any byte */
};

static const struct {
	const char *arg;
	int rc;
	const char *host;
	unsigned port;
} eprt_cases[] = {
    {"|1|132.235.1.2|6275|", 0, "132.235.1.2", 6275}, /* RFC 2428 §2 */
    {"|2|1080::8:800:200C:417A|5282|", 0, "1080::8:800:200c:417a", 5282},
    {"|2|::1|40000|", 0, "::1", 40000},
    {"|2|::|40000|", 0, "::", 40000},	    /* lftp on loopback */
    {"!1!10.0.0.1!21!", 0, "10.0.0.1", 21}, /* any delimiter 33-126 */
    {"|3|x|21|", -2, NULL, 0},		    /* unknown family: 522 */
    {"|1|::1|21|", -1, NULL, 0},	    /* family and address differ */
    {"|2|127.0.0.1|21|", -1, NULL, 0},
    {"|1|1.2.3.4|0|", -1, NULL, 0},
    {"|1|1.2.3.4|65536|", -1, NULL, 0},
    {"|1|1.2.3.4|21", -1, NULL, 0},
    {"|1|1.2.3.4|21|x", -1, NULL, 0},
    {"|1||21|", -1, NULL, 0},
    {"1|1.2.3.4|21|", -1, NULL, 0}, /* a digit is no delimiter */
    {" |1|1.2.3.4|21|", -1, NULL, 0},
    {"", -1, NULL, 0},
};

static void test_port(void)
{
	size_t i;

	for (i = 0; i < sizeof(port_cases) / sizeof(port_cases[0]); i++) {
		struct sockaddr_storage a;
		char host[64] = "";
		int rc = ftpaddr_port(port_cases[i].arg, &a);

		if (rc == 0)
			addr_host((struct sockaddr *)&a, host, sizeof(host));
		CHECK(rc == port_cases[i].rc &&
			  (rc != 0 || (!strcmp(host, port_cases[i].host) &&
				       addr_port((struct sockaddr *)&a) ==
					   port_cases[i].port)),
		      "PORT '%s': %d %s", port_cases[i].arg, rc, host);
	}
}

static void test_eprt(void)
{
	size_t i;

	for (i = 0; i < sizeof(eprt_cases) / sizeof(eprt_cases[0]); i++) {
		struct sockaddr_storage a;
		char host[64] = "";
		int rc = ftpaddr_eprt(eprt_cases[i].arg, &a);

		if (rc == 0)
			addr_host((struct sockaddr *)&a, host, sizeof(host));
		CHECK(rc == eprt_cases[i].rc &&
			  (rc != 0 || (!strcmp(host, eprt_cases[i].host) &&
				       addr_port((struct sockaddr *)&a) ==
					   eprt_cases[i].port)),
		      "EPRT '%s': %d %s", eprt_cases[i].arg, rc, host);
	}
}

static void test_227(void)
{
	struct sockaddr_storage a;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a;
	char out[80];

	addr_parse("10.1.60.99", 1548, &a);
	CHECK(ftpaddr_227((struct sockaddr *)&a, out, sizeof(out)) == 0 &&
		  !strcmp(out,
			  "227 Entering Passive Mode (10,1,60,99,6,12).\r\n"),
	      "227 v4: %s", out);
	/* An IPv4-mapped address (an IPv6 socket on an IPv4 connection). */
	memset(&a, 0, sizeof(a));
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(65535);
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &s6->sin6_addr);
	CHECK(ftpaddr_227((struct sockaddr *)&a, out, sizeof(out)) == 0 &&
		  !strcmp(out,
			  "227 Entering Passive Mode (127,0,0,1,255,255).\r\n"),
	      "227 mapped: %s", out);
	addr_parse("::1", 21, &a);
	CHECK(ftpaddr_227((struct sockaddr *)&a, out, sizeof(out)) < 0,
	      "227 for ::1 refused");
	addr_parse("10.1.60.99", 1548, &a);
	CHECK(ftpaddr_227((struct sockaddr *)&a, out, 20) < 0,
	      "227 into a small buffer refused");
}

int main(void)
{
	test_port();
	test_eprt();
	test_227();
	printf("test_ftpaddr: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}

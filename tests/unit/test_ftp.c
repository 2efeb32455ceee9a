/* test_ftp.c — table-driven tests of the FTP control-channel rewriter.
 *
 * Each case is a script of bytes from each side and answers to requests,
 * with the bytes each side must receive. Every case is run whole, then
 * with each chunk split at every byte boundary, then one byte at a time;
 * all runs must give the same bytes. */
#include "ftp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum op { OP_END, OP_C, OP_S, OP_REQ, OP_PREADY, OP_AREADY, OP_FAIL };

struct step {
	enum op op;
	const char *data;
	size_t len;
};

struct blob {
	const char *p;
	size_t n;
};

#define CL(s)                                                                  \
	{                                                                      \
		OP_C, s, sizeof(s) - 1                                         \
	}
#define SV(s)                                                                  \
	{                                                                      \
		OP_S, s, sizeof(s) - 1                                         \
	}
#define REQ(s)                                                                 \
	{                                                                      \
		OP_REQ, s, 0                                                   \
	}
#define PREADY(s)                                                              \
	{                                                                      \
		OP_PREADY, s, 0                                                \
	}
#define AREADY(s)                                                              \
	{                                                                      \
		OP_AREADY, s, 0                                                \
	}
#define FAILED(s)                                                              \
	{                                                                      \
		OP_FAIL, s, 0                                                  \
	}
#define B(s)                                                                   \
	{                                                                      \
		s, sizeof(s) - 1                                               \
	}
#define NONE                                                                   \
	{                                                                      \
		NULL, 0                                                        \
	}

#define MAX_STEPS 24

struct tcase {
	const char *name;
	const char *client_addr; /* NULL: 127.0.0.1 */
	enum ftp_active_mode mode;
	int server_family; /* 0: AF_INET */
	int allow_auth;
	int fallback; /* active_fallback */
	int ahead;    /* passive_ahead */
	struct step steps[MAX_STEPS];
	struct blob to_client;
	struct blob to_server;
	int fatal;
};

#define VSFTPD_HI "220 (vsFTPd 3.0.3)\r\n"
#define PURE_HI                                                                \
	"220---------- Welcome to Pure-FTPd [privsep] [TLS] ----------\r\n"    \
	"220-You are user number 1 of 50 allowed.\r\n"                         \
	"220-Local time is now 12:00. Server port: 21.\r\n"                    \
	"220 You will be disconnected after 15 minutes of inactivity.\r\n"
#define PASV_227 "227 Entering Passive Mode (10,1,60,99,117,49).\r\n"
#define OUT_227 "227 Entering Passive Mode (127,0,0,1,156,64).\r\n"
#define EPSV_229 "229 Entering Extended Passive Mode (|||30001|)\r\n"
#define OUT_229 "229 Entering Extended Passive Mode (|||40000|)\r\n"
#define FATAL_421(why) "421 ftp-tunnel closed the session: " why ".\r\n"
#define NO_AUTH                                                                \
	"534 AUTH not available through ftp-tunnel: the SSH tunnel already "   \
	"encrypts the session.\r\n"
#define BOUNCE_HOST                                                            \
	"500 Illegal PORT command (the address is not the client's).\r\n"
#define BOUNCE_PORT "500 Illegal PORT command (port below 1024).\r\n"
#define NOT_IMPL "502 Command not implemented (use PASV or EPSV).\r\n"
#define VSFTPD_FEAT                                                            \
	"211-Features:\r\n AUTH TLS\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n"   \
	" PBSZ\r\n PROT\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n UTF8\r\n"        \
	"211 End\r\n"
#define VSFTPD_FEAT_HIDDEN                                                     \
	"211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n"                \
	" REST STREAM\r\n SIZE\r\n TVFS\r\n UTF8\r\n"                          \
	"211 End\r\n"

static const struct tcase cases[] = {
    {"vsftpd login, PASV, LIST",
     .steps = {SV(VSFTPD_HI), CL("USER anonymous\r\n"),
	       SV("331 Please specify the password.\r\n"), CL("PASS x@\r\n"),
	       SV("230 Login successful.\r\n"), CL("PASV\r\n"), SV(PASV_227),
	       REQ("PASSIVE 10.1.60.99:30001"), PREADY("127.0.0.1:40000"),
	       CL("LIST\r\n"),
	       SV("150 Here comes the directory listing.\r\n"
		  "226 Directory send OK.\r\n")},
     .to_client = B(VSFTPD_HI "331 Please specify the password.\r\n"
			      "230 Login successful.\r\n" OUT_227
			      "150 Here comes the directory listing.\r\n"
			      "226 Directory send OK.\r\n"),
     .to_server = B("USER anonymous\r\nPASS x@\r\nPASV\r\nLIST\r\n")},
    {"pure-ftpd greeting, 227 without final dot",
     .steps = {SV(PURE_HI), CL("PASV\r\n"),
	       SV("227 Entering Passive Mode (127,0,0,1,117,48)\r\n"),
	       REQ("PASSIVE 127.0.0.1:30000"), PREADY("127.0.0.1:40000")},
     .to_client = B(PURE_HI OUT_227), .to_server = B("PASV\r\n")},
    {"proftpd greeting, 227 without parentheses",
     .steps = {SV("220 ProFTPD Server (Debian) [::ffff:127.0.0.1]\r\n"),
	       CL("PASV\r\n"),
	       SV("227 Entering Passive Mode 10,1,60,99,6,12\r\n"),
	       REQ("PASSIVE 10.1.60.99:1548"), PREADY("127.0.0.1:40000")},
     .to_client =
	 B("220 ProFTPD Server (Debian) [::ffff:127.0.0.1]\r\n" OUT_227),
     .to_server = B("PASV\r\n")},
    {"227 =h1,...",
     .steps = {SV(VSFTPD_HI), CL("PASV\r\n"), SV("227 =10,1,60,99,6,12\r\n"),
	       REQ("PASSIVE 10.1.60.99:1548"), PREADY("127.0.0.1:40000")},
     .to_client = B(VSFTPD_HI OUT_227), .to_server = B("PASV\r\n")},
    {"227 with digits before the address",
     .steps = {SV(VSFTPD_HI), CL("PASV\r\n"),
	       SV("227 Mode 2 (v4) ok (10,1,60,99,6,12)\r\n"),
	       REQ("PASSIVE 10.1.60.99:1548"), PREADY("127.0.0.1:40000")},
     .to_client = B(VSFTPD_HI OUT_227), .to_server = B("PASV\r\n")},
    {"bare LF kept, rewritten line gets CRLF",
     .steps = {SV("220 hi\n"), CL("USER a\n"), SV("331 pw\n"), CL("pasv\n"),
	       SV("227 Entering Passive Mode (10,1,60,99,117,49).\n"),
	       REQ("PASSIVE 10.1.60.99:30001"), PREADY("127.0.0.1:40000"),
	       CL("NOOP\r\n"), SV("200 ok\n")},
     .to_client = B("220 hi\n331 pw\n" OUT_227 "200 ok\n"),
     .to_server = B("USER a\npasv\nNOOP\r\n")},
    {"227 followed by a tab or text is still a 227 (ftplib reads it)",
     .steps = {SV(VSFTPD_HI), CL("PASV\r\n"),
	       SV("227\tEntering Passive Mode (10,1,60,99,6,12)\r\n"),
	       REQ("PASSIVE 10.1.60.99:1548"), PREADY("127.0.0.1:40000"),
	       CL("PASV\r\n"),
	       SV("227Entering Passive Mode (10,1,60,99,6,12)\r\n"),
	       REQ("PASSIVE 10.1.60.99:1548"), PREADY("127.0.0.1:40000"),
	       CL("NOOP\r\n"), SV("227x\r\n")},
     .to_client =
	 B(VSFTPD_HI OUT_227 OUT_227 FATAL_421("227 reply not answering PASV")),
     .to_server = B("PASV\r\nPASV\r\nNOOP\r\n"), .fatal = 1},
    {"multi-line reply ends at its code and any byte but '-'",
     .steps = {SV(VSFTPD_HI), CL("HELP\r\n"),
	       SV("214-The following commands are recognized.\r\n"
		  "214-x\r\n 227 (1,2,3,4,5,6)\r\n214\tHelp OK.\r\n"),
	       CL("PASV\r\n"), SV(PASV_227), REQ("PASSIVE 10.1.60.99:30001"),
	       PREADY("127.0.0.1:40000")},
     .to_client = B(VSFTPD_HI
		    "214-The following commands are recognized.\r\n"
		    "214-x\r\n 227 (1,2,3,4,5,6)\r\n214\tHelp OK.\r\n" OUT_227),
     .to_server = B("HELP\r\nPASV\r\n")},
    {"227 number above 255",
     .steps = {SV(VSFTPD_HI), CL("PASV\r\n"),
	       SV("227 Entering Passive Mode (256,1,60,99,6,12).\r\n"),
	       REQ("NONE"), CL("NOOP\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("malformed 227 reply")),
     .to_server = B("PASV\r\n"), .fatal = 1},
    {"227 with five numbers",
     .steps = {SV(VSFTPD_HI), CL("PASV\r\n"),
	       SV("227 Entering Passive Mode (10,1,60,99,6).\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("malformed 227 reply")),
     .to_server = B("PASV\r\n"), .fatal = 1},
    {"227 with seven numbers",
     .steps = {SV(VSFTPD_HI), CL("PASV\r\n"),
	       SV("227 Entering Passive Mode (10,1,60,99,6,12,1).\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("malformed 227 reply")),
     .to_server = B("PASV\r\n"), .fatal = 1},
    {"227 with a four-digit number",
     .steps = {SV(VSFTPD_HI), CL("PASV\r\n"),
	       SV("227 Entering Passive Mode (0010,1,60,99,6,12).\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("malformed 227 reply")),
     .to_server = B("PASV\r\n"), .fatal = 1},
    {"227 port 0",
     .steps = {SV(VSFTPD_HI), CL("PASV\r\n"),
	       SV("227 Entering Passive Mode (10,1,60,99,0,0).\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("malformed 227 reply")),
     .to_server = B("PASV\r\n"), .fatal = 1},
    {"227 without an address",
     .steps = {SV(VSFTPD_HI), CL("PASV\r\n"), SV("227\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("malformed 227 reply")),
     .to_server = B("PASV\r\n"), .fatal = 1},
    {"EPSV and 229",
     .steps = {SV(VSFTPD_HI), CL("EPSV\r\n"), SV(EPSV_229),
	       REQ("PASSIVE *:30001"), PREADY("127.0.0.1:40000")},
     .to_client = B(VSFTPD_HI OUT_229), .to_server = B("EPSV\r\n")},
    {"EPSV 2, IPv6 listener, 229 with '!' delimiter", .client_addr = "::1",
     .steps = {SV(VSFTPD_HI), CL("EPSV 2\r\n"),
	       SV("229 Extended Passive (!!!30001!)\r\n"),
	       REQ("PASSIVE *:30001"), PREADY("[::1]:40000")},
     /* The server side is IPv4: "EPSV 2" would get 522 there. */
     .to_client = B(VSFTPD_HI OUT_229), .to_server = B("EPSV\r\n")},
    {"229 with '(' as delimiter, text before",
     .steps = {SV(VSFTPD_HI), CL("EPSV\r\n"),
	       SV("229 Entering Extended Passive Mode (EPSV) ((((30001()\r\n"),
	       REQ("PASSIVE *:30001"), PREADY("127.0.0.1:40000")},
     .to_client = B(VSFTPD_HI OUT_229), .to_server = B("EPSV\r\n")},
    {"229 port 0",
     .steps = {SV(VSFTPD_HI), CL("EPSV\r\n"),
	       SV("229 Entering Extended Passive Mode (|||0|)\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("malformed 229 reply")),
     .to_server = B("EPSV\r\n"), .fatal = 1},
    {"229 port 65536",
     .steps = {SV(VSFTPD_HI), CL("EPSV\r\n"),
	       SV("229 Entering Extended Passive Mode (|||65536|)\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("malformed 229 reply")),
     .to_server = B("EPSV\r\n"), .fatal = 1},
    {"229 mixed delimiters",
     .steps = {SV(VSFTPD_HI), CL("EPSV\r\n"),
	       SV("229 Entering Extended Passive Mode (|||30001!)\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("malformed 229 reply")),
     .to_server = B("EPSV\r\n"), .fatal = 1},
    {"229 with an address field",
     .steps =
	 {SV(VSFTPD_HI), CL("EPSV\r\n"),
	  SV("229 Entering Extended Passive Mode (|1|10.0.0.1|30001|)\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("malformed 229 reply")),
     .to_server = B("EPSV\r\n"), .fatal = 1},
    {"229 with a digit delimiter",
     .steps = {SV(VSFTPD_HI), CL("EPSV\r\n"),
	       SV("229 Entering Extended Passive Mode (11130001)\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("malformed 229 reply")),
     .to_server = B("EPSV\r\n"), .fatal = 1},
    {"227 answering NOOP",
     .steps = {SV(VSFTPD_HI), CL("NOOP\r\n"), SV(PASV_227)},
     .to_client = B(VSFTPD_HI FATAL_421("227 reply not answering PASV")),
     .to_server = B("NOOP\r\n"), .fatal = 1},
    {"229 answering PASV",
     .steps = {SV(VSFTPD_HI), CL("PASV\r\n"), SV(EPSV_229)},
     .to_client = B(VSFTPD_HI FATAL_421("229 reply not answering EPSV")),
     .to_server = B("PASV\r\n"), .fatal = 1},
    {"227 answering EPSV",
     .steps = {SV(VSFTPD_HI), CL("EPSV\r\n"), SV(PASV_227)},
     .to_client = B(VSFTPD_HI FATAL_421("227 reply not answering PASV")),
     .to_server = B("EPSV\r\n"), .fatal = 1},
    {"227 as the greeting", .steps = {CL("PASV\r\n"), SV(PASV_227)},
     .to_client = B(FATAL_421("227 reply not answering PASV")),
     .to_server = B("PASV\r\n"), .fatal = 1},
    {"227 with nothing outstanding", .steps = {SV(VSFTPD_HI), SV(PASV_227)},
     .to_client = B(VSFTPD_HI FATAL_421("227 reply not answering PASV")),
     .fatal = 1},
    {"227 after a 1xx answers the earlier command",
     .steps = {SV(VSFTPD_HI), CL("RETR a\r\nPASV\r\n"),
	       SV("150 Opening BINARY mode data connection.\r\n" PASV_227)},
     .to_client =
	 B(VSFTPD_HI "150 Opening BINARY mode data connection.\r\n" FATAL_421(
	     "227 reply not answering PASV")),
     .to_server = B("RETR a\r\nPASV\r\n"), .fatal = 1},
    {"1xx does not complete, 226 does",
     .steps = {SV(VSFTPD_HI), CL("RETR a\r\nPASV\r\n"),
	       SV("150 Opening BINARY mode data connection.\r\n"
		  "226 Transfer complete.\r\n" PASV_227),
	       REQ("PASSIVE 10.1.60.99:30001"), PREADY("127.0.0.1:40000")},
     .to_client = B(VSFTPD_HI "150 Opening BINARY mode data connection.\r\n"
			      "226 Transfer complete.\r\n" OUT_227),
     .to_server = B("RETR a\r\nPASV\r\n")},
    {"pipelined PASV and LIST, replies fed while held",
     .steps = {SV(VSFTPD_HI), CL("PASV\r\nLIST\r\n"),
	       SV(PASV_227 "150 Here comes the directory listing.\r\n"
			   "226 Directory send OK.\r\n"),
	       REQ("PASSIVE 10.1.60.99:30001"), PREADY("127.0.0.1:40000")},
     .to_client =
	 B(VSFTPD_HI OUT_227 "150 Here comes the directory listing.\r\n"
			     "226 Directory send OK.\r\n"),
     .to_server = B("PASV\r\nLIST\r\n")},
    {"commands before the greeting, 120 then 220",
     .steps = {CL("USER a\r\nPASV\r\n"),
	       SV("120 Service ready in 1 minute.\r\n220 Ready.\r\n"
		  "331 Password required.\r\n" PASV_227),
	       REQ("PASSIVE 10.1.60.99:30001"), PREADY("127.0.0.1:40000")},
     .to_client = B("120 Service ready in 1 minute.\r\n220 Ready.\r\n"
		    "331 Password required.\r\n" OUT_227),
     .to_server = B("USER a\r\nPASV\r\n")},
    {"multi-line 227 becomes one line",
     .steps = {SV(VSFTPD_HI), CL("PASV\r\n"),
	       SV("227-Entering Passive Mode\r\n"
		  " (10,1,60,99,117,49)\r\n227 OK\r\n"),
	       REQ("PASSIVE 10.1.60.99:30001"), PREADY("127.0.0.1:40000"),
	       CL("NOOP\r\n"), SV("200 NOOP ok.\r\n")},
     .to_client = B(VSFTPD_HI OUT_227 "200 NOOP ok.\r\n"),
     .to_server = B("PASV\r\nNOOP\r\n")},
    {"multi-line 229 becomes one line",
     .steps = {SV(VSFTPD_HI), CL("EPSV\r\n"),
	       SV("229-Entering Extended Passive Mode\r\n"
		  "229-(|||30001|)\r\n229 \r\n"),
	       REQ("PASSIVE *:30001"), PREADY("127.0.0.1:40000")},
     .to_client = B(VSFTPD_HI OUT_229), .to_server = B("EPSV\r\n")},
    {"227 inside another multi-line reply is fatal",
     .steps = {SV(VSFTPD_HI), CL("PASS x\r\n"),
	       SV("230-Welcome\r\n227 Entering Passive Mode (1,2,3,4,5,6)\r\n"
		  "230 Login successful.\r\n")},
     .to_client = B(VSFTPD_HI "230-Welcome\r\n" FATAL_421(
	 "227/229 line inside another reply")),
     .to_server = B("PASS x\r\n"), .fatal = 1},
    {"padded 227 inside another multi-line reply passes",
     .steps = {SV(VSFTPD_HI), CL("PASS x\r\n"),
	       SV("230-Welcome\r\n 227 Entering Passive Mode (1,2,3,4,5,6)\r\n"
		  "230 Login successful.\r\n")},
     .to_client = B(VSFTPD_HI "230-Welcome\r\n"
			      " 227 Entering Passive Mode (1,2,3,4,5,6)\r\n"
			      "230 Login successful.\r\n"),
     .to_server = B("PASS x\r\n")},
    {"FEAT hides AUTH, PBSZ, PROT",
     .steps = {SV(VSFTPD_HI), CL("FEAT\r\n"), SV(VSFTPD_FEAT)},
     .to_client = B(VSFTPD_HI VSFTPD_FEAT_HIDDEN), .to_server = B("FEAT\r\n")},
    {"FEAT lines written with the code are filtered too",
     .steps = {SV(VSFTPD_HI), CL("FEAT\r\n"),
	       SV("211-Extensions supported:\r\n211-AUTH TLS\r\n"
		  "211-SIZE\r\n211 END\r\n")},
     .to_client = B(VSFTPD_HI "211-Extensions supported:\r\n211-SIZE\r\n"
			      "211 END\r\n"),
     .to_server = B("FEAT\r\n")},
    {"FEAT with allow_auth passes whole", .allow_auth = 1,
     .steps = {SV(VSFTPD_HI), CL("FEAT\r\n"), SV(VSFTPD_FEAT)},
     .to_client = B(VSFTPD_HI VSFTPD_FEAT), .to_server = B("FEAT\r\n")},
    {"STAT 211 block is not filtered",
     .steps = {SV(VSFTPD_HI), CL("STAT\r\n"),
	       SV("211-FTP server status:\r\n AUTH is here\r\n"
		  "211 End of status\r\n")},
     .to_client = B(VSFTPD_HI "211-FTP server status:\r\n AUTH is here\r\n"
			      "211 End of status\r\n"),
     .to_server = B("STAT\r\n")},
    {"AUTH TLS refused, session goes on",
     .steps = {SV(VSFTPD_HI), CL("AUTH TLS\r\n"), CL("auth ssl\r\n"),
	       CL("USER a\r\n"), SV("331 pw\r\n")},
     .to_client = B(VSFTPD_HI NO_AUTH NO_AUTH "331 pw\r\n"),
     .to_server = B("USER a\r\n")},
    {"AUTH allowed: TLS passes unread", .allow_auth = 1,
     .steps = {SV(VSFTPD_HI), CL("AUTH TLS\r\n"),
	       SV("234 Proceed with negotiation.\r\n"),
	       CL("\x16\x03\x01\x00\x05hello\n\x00\xff"),
	       SV("\x16\x03\x03\x00\x02\x00\x00\n\n")},
     .to_client = B(VSFTPD_HI "234 Proceed with negotiation.\r\n"
			      "\x16\x03\x03\x00\x02\x00\x00\n\n"),
     .to_server = B("AUTH TLS\r\n\x16\x03\x01\x00\x05hello\n\x00\xff")},
    {"AUTH allowed: a partial line goes out unread", .allow_auth = 1,
     .steps = {SV(VSFTPD_HI), CL("AUTH TLS\r\n\x16\x03"),
	       SV("234 AUTH TLS OK.\r\n"), CL("\x01\n")},
     .to_client = B(VSFTPD_HI "234 AUTH TLS OK.\r\n"),
     .to_server = B("AUTH TLS\r\n\x16\x03\x01\n")},
    {"AUTH allowed but refused by the server", .allow_auth = 1,
     .steps = {SV(VSFTPD_HI), CL("AUTH TLS\r\n"),
	       SV("530 Please login with USER and PASS.\r\n"), CL("PASV\r\n"),
	       SV(PASV_227), REQ("PASSIVE 10.1.60.99:30001"),
	       PREADY("127.0.0.1:40000")},
     .to_client =
	 B(VSFTPD_HI "530 Please login with USER and PASS.\r\n" OUT_227),
     .to_server = B("AUTH TLS\r\nPASV\r\n")},
    {"LPSV, LPRT, LPASV, SPSV answered here",
     .steps = {SV(VSFTPD_HI),
	       CL("LPSV\r\nLPRT 4,4,127,0,0,1,2,195,80\r\nlpasv\r\nSPSV\r\n")},
     .to_client = B(VSFTPD_HI NOT_IMPL NOT_IMPL NOT_IMPL NOT_IMPL)},
    {"local replies wait their turn",
     .steps = {SV(VSFTPD_HI), CL("NOOP\r\nAUTH TLS\r\nNOOP\r\n"),
	       SV("200 a\r\n"), SV("200 b\r\n")},
     .to_client = B(VSFTPD_HI "200 a\r\n" NO_AUTH "200 b\r\n"),
     .to_server = B("NOOP\r\nNOOP\r\n")},
    {"local reply waits for the greeting",
     .steps = {CL("AUTH TLS\r\n"), SV(PURE_HI)},
     .to_client = B(PURE_HI NO_AUTH)},
    {"local reply waits for a multi-line reply to end",
     .steps = {SV(VSFTPD_HI), SV("421-Timeout\r\n"), CL("LPSV\r\n"),
	       SV("421 bye\r\n")},
     .to_client = B(VSFTPD_HI "421-Timeout\r\n421 bye\r\n" NOT_IMPL)},
    {"unsolicited 421 passes", .steps = {SV(VSFTPD_HI), SV("421 Timeout.\r\n")},
     .to_client = B(VSFTPD_HI "421 Timeout.\r\n")},
    {"text outside a reply passes",
     .steps = {SV(VSFTPD_HI), SV("hello there\r\n"), CL("NOOP\r\n"),
	       SV("200 NOOP ok.\r\n")},
     .to_client = B(VSFTPD_HI "hello there\r\n200 NOOP ok.\r\n"),
     .to_server = B("NOOP\r\n")},
    {"empty line answered here", .steps = {SV(VSFTPD_HI), CL("\r\n \r\n")},
     .to_client = B(VSFTPD_HI "500 Empty command.\r\n500 Empty command.\r\n")},
    {"Telnet IP/DM before ABOR passes byte-identical",
     .steps = {SV(VSFTPD_HI),
	       CL("\xff\xf4\xff\xf2"
		  "ABOR\r\n"),
	       SV("225 No transfer to ABOR.\r\n")},
     .to_client = B(VSFTPD_HI "225 No transfer to ABOR.\r\n"),
     .to_server = B("\xff\xf4\xff\xf2"
		    "ABOR\r\n")},
    {"Telnet bytes before PASV, IAC inside a reply",
     .steps = {SV(VSFTPD_HI), CL("\xff\xf1\xff\xfb\x01PaSv\r\n"),
	       SV("227 Entering\xff\xf1 Passive Mode (10,1,60,99,117,49).\r\n"),
	       REQ("PASSIVE 10.1.60.99:30001"), PREADY("127.0.0.1:40000"),
	       CL("NOOP\r\n"), SV("200 \xff\xff ok\r\n")},
     .to_client = B(VSFTPD_HI OUT_227 "200 \xff\xff ok\r\n"),
     .to_server = B("\xff\xf1\xff\xfb\x01PaSv\r\nNOOP\r\n")},
    {"Telnet command before a reply code",
     .steps = {SV(VSFTPD_HI), CL("NOOP\r\n"),
	       SV("2\xff\xf1"
		  "00 ok\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("Telnet command before a reply code")),
     .to_server = B("NOOP\r\n"), .fatal = 1},
    {"PASV with an IPv6 listener",
     .steps = {SV(VSFTPD_HI), CL("PASV\r\n"), SV(PASV_227),
	       REQ("PASSIVE 10.1.60.99:30001"), PREADY("[::1]:40000"),
	       CL("NOOP\r\n"), SV("200 NOOP ok.\r\n")},
     .to_client = B(VSFTPD_HI "425 Can't open data connection: the tunnel's "
			      "data listener is IPv6, use EPSV.\r\n"
			      "200 NOOP ok.\r\n"),
     .to_server = B("PASV\r\nNOOP\r\n")},
    {"PASV with a v4-mapped listener",
     .steps = {SV(VSFTPD_HI), CL("PASV\r\n"), SV(PASV_227),
	       REQ("PASSIVE 10.1.60.99:30001"),
	       PREADY("[::ffff:127.0.0.1]:40000")},
     .to_client = B(VSFTPD_HI OUT_227), .to_server = B("PASV\r\n")},
    {"passive request failed",
     .steps = {SV(VSFTPD_HI), CL("PASV\r\n"), SV(PASV_227),
	       REQ("PASSIVE 10.1.60.99:30001"),
	       FAILED("channel open refused.\r\n"), REQ("NONE"), CL("EPSV\r\n"),
	       SV(EPSV_229), REQ("PASSIVE *:30001"), FAILED(NULL)},
     .to_client =
	 B(VSFTPD_HI "425 Can't open data connection: channel open refused.\r\n"
		     "425 Can't open data connection: unknown error.\r\n"),
     .to_server = B("PASV\r\nEPSV\r\n")},
    {"PORT forwarded",
     .steps = {SV(VSFTPD_HI), CL("PORT 127,0,0,1,195,80\r\n"),
	       REQ("ACTIVE 127.0.0.1:50000"), AREADY("127.0.0.1:40001"),
	       REQ("NONE"),
	       SV("200 PORT command successful. Consider using PASV.\r\n"),
	       CL("RETR f\r\n"),
	       SV("150 Opening BINARY mode data connection for f (3 "
		  "bytes).\r\n226 Transfer complete.\r\n")},
     .to_client =
	 B(VSFTPD_HI "200 PORT command successful. Consider using PASV.\r\n"
		     "150 Opening BINARY mode data connection for f (3 "
		     "bytes).\r\n226 Transfer complete.\r\n"),
     .to_server = B("PORT 127,0,0,1,156,65\r\nRETR f\r\n")},
    {"EPRT |1| forwarded as EPRT |1|",
     .steps = {SV(VSFTPD_HI), CL("EPRT |1|127.0.0.1|50000|\r\n"),
	       REQ("ACTIVE 127.0.0.1:50000"), AREADY("127.0.0.1:40001"),
	       SV("200 EPRT command successful. Consider using EPSV.\r\n")},
     .to_client =
	 B(VSFTPD_HI "200 EPRT command successful. Consider using EPSV.\r\n"),
     .to_server = B("EPRT |1|127.0.0.1|40001|\r\n")},
    {"EPRT with '!' delimiter, IPv6 server side",
     .steps = {SV(VSFTPD_HI), CL("eprt !1!127.0.0.1!50000!\r\n"),
	       REQ("ACTIVE 127.0.0.1:50000"), AREADY("[::1]:40001")},
     .to_client = B(VSFTPD_HI), .to_server = B("EPRT |2|::1|40001|\r\n")},
    {"PORT to an IPv6 server side becomes EPRT |2|",
     .steps = {SV(VSFTPD_HI), CL("PORT 127,0,0,1,195,80\r\n"),
	       REQ("ACTIVE 127.0.0.1:50000"), AREADY("[2001:db8::5]:40001")},
     .to_client = B(VSFTPD_HI),
     .to_server = B("EPRT |2|2001:db8::5|40001|\r\n")},
    {"EPRT |2| to an IPv4 server side becomes EPRT |1|", .client_addr = "::1",
     .steps = {SV(VSFTPD_HI), CL("EPRT |2|::1|50000|\r\n"),
	       REQ("ACTIVE [::1]:50000"), AREADY("[::ffff:127.0.0.1]:40001")},
     .to_client = B(VSFTPD_HI), .to_server = B("EPRT |1|127.0.0.1|40001|\r\n")},
    {"EPRT naming :: (lftp on IPv6) means the client itself",
     .client_addr = "::1",
     .steps = {SV(VSFTPD_HI), CL("EPRT |2|::|50000|\r\n"),
	       REQ("ACTIVE [::1]:50000"), AREADY("127.0.0.1:40001")},
     .to_client = B(VSFTPD_HI), .to_server = B("EPRT |1|127.0.0.1|40001|\r\n")},
    {"PORT naming 0.0.0.0 means the client itself",
     .steps = {SV(VSFTPD_HI), CL("PORT 0,0,0,0,195,80\r\n"),
	       REQ("ACTIVE 127.0.0.1:50000"), AREADY("127.0.0.1:40001")},
     .to_client = B(VSFTPD_HI), .to_server = B("PORT 127,0,0,1,156,65\r\n")},
    {"EPSV 1 goes to the server as a bare EPSV",
     .steps = {SV(VSFTPD_HI), CL("EPSV 1\r\n"), SV(EPSV_229),
	       REQ("PASSIVE *:30001"), PREADY("127.0.0.1:40000")},
     .to_client = B(VSFTPD_HI OUT_229), .to_server = B("EPSV\r\n")},
    {"v4-mapped client address accepts PORT", .client_addr = "::ffff:127.0.0.1",
     .steps = {SV(VSFTPD_HI), CL("PORT 127,0,0,1,195,80\r\n"),
	       REQ("ACTIVE 127.0.0.1:50000"), AREADY("127.0.0.1:40001")},
     .to_client = B(VSFTPD_HI), .to_server = B("PORT 127,0,0,1,156,65\r\n")},
    {"PORT bounce refused, session goes on",
     .steps = {SV(VSFTPD_HI), CL("PORT 10,0,0,1,195,80\r\n"),
	       CL("PORT 127,0,0,1,0,21\r\n"), CL("EPRT |1|10.0.0.1|50000|\r\n"),
	       CL("EPRT |2|::1|50000|\r\n"), CL("EPRT |1|127.0.0.1|1023|\r\n"),
	       REQ("NONE"), CL("NOOP\r\n"), SV("200 NOOP ok.\r\n")},
     .to_client =
	 B(VSFTPD_HI BOUNCE_HOST BOUNCE_PORT BOUNCE_HOST BOUNCE_HOST BOUNCE_PORT
	   "200 NOOP ok.\r\n"),
     .to_server = B("NOOP\r\n")},
    {"EPRT |2| bounce to another IPv6 host", .client_addr = "2001:db8::1",
     .steps = {SV(VSFTPD_HI), CL("EPRT |2|2001:db8::2|50000|\r\n"),
	       CL("EPRT |2|2001:DB8:0::1|50000|\r\n"),
	       REQ("ACTIVE [2001:db8::1]:50000"), AREADY("127.0.0.1:40001")},
     .to_client = B(VSFTPD_HI BOUNCE_HOST),
     .to_server = B("EPRT |1|127.0.0.1|40001|\r\n")},
    {"no client address: every PORT refused", .client_addr = "",
     .steps = {SV(VSFTPD_HI), CL("PORT 127,0,0,1,195,80\r\n")},
     .to_client = B(VSFTPD_HI BOUNCE_HOST)},
    {"PORT verb read as letters: blanks before, no space after",
     .steps = {SV(VSFTPD_HI), CL(" \tport127,0,0,1,195,80\r\n"),
	       REQ("ACTIVE 127.0.0.1:50000"), AREADY("127.0.0.1:40001"),
	       CL("PORTX 10,0,0,1,0,21\r\n")},
     .to_client = B(VSFTPD_HI),
     .to_server = B("PORT 127,0,0,1,156,65\r\nPORTX 10,0,0,1,0,21\r\n")},
    {"PORT followed by punctuation is a malformed PORT",
     .steps = {SV(VSFTPD_HI), CL("PORT?127,0,0,1,195,80\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("malformed PORT command")), .fatal = 1},
    {"PORT with five numbers",
     .steps = {SV(VSFTPD_HI), CL("PORT 127,0,0,1,195\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("malformed PORT command")), .fatal = 1},
    {"PORT with seven numbers",
     .steps = {SV(VSFTPD_HI), CL("PORT 127,0,0,1,195,80,1\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("malformed PORT command")), .fatal = 1},
    {"PORT number above 255",
     .steps = {SV(VSFTPD_HI), CL("PORT 127,0,0,1,256,80\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("malformed PORT command")), .fatal = 1},
    {"PORT without argument", .steps = {SV(VSFTPD_HI), CL("PORT\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("malformed PORT command")), .fatal = 1},
    {"PORT with trailing text",
     .steps = {SV(VSFTPD_HI), CL("PORT 127,0,0,1,195,80 x\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("malformed PORT command")), .fatal = 1},
    {"EPRT without the last delimiter",
     .steps = {SV(VSFTPD_HI), CL("EPRT |1|127.0.0.1|50000\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("malformed EPRT command")), .fatal = 1},
    {"EPRT |1| with an IPv6 address",
     .steps = {SV(VSFTPD_HI), CL("EPRT |1|::1|50000|\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("malformed EPRT command")), .fatal = 1},
    {"EPRT port 65536",
     .steps = {SV(VSFTPD_HI), CL("EPRT |1|127.0.0.1|65536|\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("malformed EPRT command")), .fatal = 1},
    {"EPRT without argument", .steps = {SV(VSFTPD_HI), CL("EPRT\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("malformed EPRT command")), .fatal = 1},
    {"EPRT with an empty address",
     .steps = {SV(VSFTPD_HI), CL("EPRT |1||50000|\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("malformed EPRT command")), .fatal = 1},
    {"EPRT with a letter for the protocol",
     .steps = {SV(VSFTPD_HI), CL("EPRT |x|127.0.0.1|50000|\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("malformed EPRT command")), .fatal = 1},
    {"EPRT with an overlong address",
     .steps =
	 {SV(VSFTPD_HI),
	  CL("EPRT |2|0000:0000:0000:0000:0000:0000:0000:0000:0001|5000|\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("malformed EPRT command")), .fatal = 1},
    {"EPRT with a digit delimiter",
     .steps = {SV(VSFTPD_HI), CL("EPRT 818127.0.0.18500008\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("malformed EPRT command")), .fatal = 1},
    {"EPRT with text after the last delimiter",
     .steps = {SV(VSFTPD_HI), CL("EPRT |1|127.0.0.1|50000|x\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("malformed EPRT command")), .fatal = 1},
    {"EPRT |3| unsupported",
     .steps = {SV(VSFTPD_HI), CL("EPRT |3|x|50000|\r\nEPRT |12|x|1|\r\n")},
     .to_client =
	 B(VSFTPD_HI "522 Network protocol not supported, use (1,2).\r\n"
		     "522 Network protocol not supported, use (1,2).\r\n")},
    {"forwarded PORT failed: 425 in turn, nothing sent",
     .steps = {SV(VSFTPD_HI), CL("NOOP\r\nPORT 127,0,0,1,195,80\r\n"),
	       REQ("ACTIVE 127.0.0.1:50000"), FAILED("tcpip-forward refused"),
	       REQ("NONE"), SV("200 NOOP ok.\r\n")},
     .to_client = B(VSFTPD_HI "200 NOOP ok.\r\n"
			      "425 Can't open data connection: tcpip-forward "
			      "refused.\r\n"),
     .to_server = B("NOOP\r\n")},
    {"active request answered with no address",
     .steps = {SV(VSFTPD_HI), CL("PORT 127,0,0,1,195,80\r\n"),
	       REQ("ACTIVE 127.0.0.1:50000"), AREADY(NULL)},
     .to_client =
	 B(VSFTPD_HI "425 Can't open data connection: internal error.\r\n")},
    {"passive listener on port 0",
     .steps = {SV(VSFTPD_HI), CL("PASV\r\n"), SV(PASV_227),
	       REQ("PASSIVE 10.1.60.99:30001"), PREADY("127.0.0.1:0")},
     .to_client =
	 B(VSFTPD_HI "425 Can't open data connection: no data port.\r\n"),
     .to_server = B("PASV\r\n")},
    {"wrong answer to an active request",
     .steps = {SV(VSFTPD_HI), CL("PORT 127,0,0,1,195,80\r\n"),
	       REQ("ACTIVE 127.0.0.1:50000"), PREADY("127.0.0.1:40000")},
     .to_client =
	 B(VSFTPD_HI "425 Can't open data connection: internal error.\r\n")},
    {"converted PORT, IPv4 server", .mode = FTP_ACTIVE_CONVERT,
     .steps = {SV(VSFTPD_HI), CL("PORT 127,0,0,1,195,80\r\n"), SV(PASV_227),
	       REQ("CONVERTED 10.1.60.99:30001 127.0.0.1:50000"), AREADY(NULL),
	       CL("RETR f\r\n"),
	       SV("150 Opening BINARY mode data connection.\r\n"
		  "226 Transfer complete.\r\n")},
     .to_client = B(VSFTPD_HI "200 PORT command successful.\r\n"
			      "150 Opening BINARY mode data connection.\r\n"
			      "226 Transfer complete.\r\n"),
     .to_server = B("PASV\r\nRETR f\r\n")},
    {"converted EPRT, IPv6 server", .mode = FTP_ACTIVE_CONVERT,
     .server_family = AF_INET6, .client_addr = "::1",
     .steps = {SV(VSFTPD_HI), CL("EPRT |2|::1|50000|\r\n"), SV(EPSV_229),
	       REQ("CONVERTED *:30001 [::1]:50000"), AREADY(NULL)},
     .to_client = B(VSFTPD_HI "200 EPRT command successful.\r\n"),
     .to_server = B("EPSV\r\n")},
    {"converted PORT after EPSV ALL uses EPSV", .mode = FTP_ACTIVE_CONVERT,
     .steps = {SV(VSFTPD_HI), CL("EPSV ALL\r\n"), SV("200 EPSV ALL ok.\r\n"),
	       CL("PORT 127,0,0,1,195,80\r\n"), SV(EPSV_229),
	       REQ("CONVERTED *:30001 127.0.0.1:50000"), AREADY(NULL)},
     .to_client = B(VSFTPD_HI "200 EPSV ALL ok.\r\n"
			      "200 PORT command successful.\r\n"),
     .to_server = B("EPSV ALL\r\nEPSV\r\n")},
    {"EPSV ALL passes, then a 229 to it is fatal",
     .steps = {SV(VSFTPD_HI), CL("EPSV ALL\r\n"), SV(EPSV_229)},
     .to_client = B(VSFTPD_HI FATAL_421("229 reply not answering EPSV")),
     .to_server = B("EPSV ALL\r\n"), .fatal = 1},
    {"converted PORT refused by the server", .mode = FTP_ACTIVE_CONVERT,
     .steps = {SV(VSFTPD_HI), CL("PORT 127,0,0,1,195,80\r\n"),
	       SV("425-Too many\r\n425 Cannot open passive connection.\r\n"),
	       REQ("NONE"), CL("NOOP\r\n"), SV("200 NOOP ok.\r\n")},
     .to_client = B(VSFTPD_HI "425-Too many\r\n"
			      "425 Cannot open passive connection.\r\n"
			      "200 NOOP ok.\r\n"),
     .to_server = B("PASV\r\nNOOP\r\n")},
    {"converted PORT answered 200 by the server", .mode = FTP_ACTIVE_CONVERT,
     .steps = {SV(VSFTPD_HI), CL("PORT 127,0,0,1,195,80\r\n"),
	       SV("200 ok\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("unexpected reply to PASV/EPSV")),
     .to_server = B("PASV\r\n"), .fatal = 1},
    {"converted PORT answered with a 229", .mode = FTP_ACTIVE_CONVERT,
     .steps = {SV(VSFTPD_HI), CL("PORT 127,0,0,1,195,80\r\n"), SV(EPSV_229)},
     .to_client = B(VSFTPD_HI FATAL_421("229 reply not answering EPSV")),
     .to_server = B("PASV\r\n"), .fatal = 1},
    {"converted PORT failed", .mode = FTP_ACTIVE_CONVERT,
     .steps = {SV(VSFTPD_HI), CL("PORT 127,0,0,1,195,80\r\n"), SV(PASV_227),
	       REQ("CONVERTED 10.1.60.99:30001 127.0.0.1:50000"),
	       FAILED("no route")},
     .to_client = B(VSFTPD_HI "425 Can't open data connection: no route.\r\n"),
     .to_server = B("PASV\r\n")},
    {"refused PASV: fallback forwards the PORT, and later ones",
     .mode = FTP_ACTIVE_CONVERT, .fallback = 1,
     .steps = {SV(VSFTPD_HI), CL("PORT 127,0,0,1,195,80\r\n"),
	       SV("502 PASV not implemented.\r\n"),
	       REQ("ACTIVE 127.0.0.1:50000"), AREADY("127.0.0.1:40001"),
	       SV("200 PORT ok.\r\n"), CL("EPRT |1|127.0.0.1|50001|\r\n"),
	       REQ("ACTIVE 127.0.0.1:50001"), AREADY("127.0.0.1:40002"),
	       SV("200 EPRT ok.\r\n")},
     .to_client = B(VSFTPD_HI "200 PORT ok.\r\n200 EPRT ok.\r\n"),
     .to_server = B("PASV\r\nPORT 127,0,0,1,156,65\r\n"
		    "EPRT |1|127.0.0.1|40002|\r\n")},
    {"refused PASV, multi-line: fallback swallows all of it",
     .mode = FTP_ACTIVE_CONVERT, .fallback = 1,
     .steps = {SV(VSFTPD_HI), CL("EPRT |1|127.0.0.1|50000|\r\n"),
	       SV("500-no\r\n passive\r\n500 here\r\n"),
	       REQ("ACTIVE 127.0.0.1:50000"), AREADY("127.0.0.1:40001"),
	       SV("200 EPRT ok.\r\n")},
     .to_client = B(VSFTPD_HI "200 EPRT ok.\r\n"),
     .to_server = B("PASV\r\nEPRT |1|127.0.0.1|40001|\r\n")},
    {"a 4xx to PASV is no refusal: the client gets it, no fallback",
     .mode = FTP_ACTIVE_CONVERT, .fallback = 1,
     .steps = {SV(VSFTPD_HI), CL("PORT 127,0,0,1,195,80\r\n"),
	       SV("425 Cannot open passive connection.\r\n"), REQ("NONE")},
     .to_client = B(VSFTPD_HI "425 Cannot open passive connection.\r\n"),
     .to_server = B("PASV\r\n")},
    {"refused PASV with a command behind it: no fallback",
     .mode = FTP_ACTIVE_CONVERT, .fallback = 1,
     .steps = {SV(VSFTPD_HI), CL("PORT 127,0,0,1,195,80\r\nNOOP\r\n"),
	       SV("502 no PASV.\r\n200 NOOP ok.\r\n"), REQ("NONE")},
     .to_client = B(VSFTPD_HI "502 no PASV.\r\n200 NOOP ok.\r\n"),
     .to_server = B("PASV\r\nNOOP\r\n")},
    {"converted bounce refused", .mode = FTP_ACTIVE_CONVERT,
     .steps = {SV(VSFTPD_HI), CL("PORT 10,9,9,9,195,80\r\n")},
     .to_client = B(VSFTPD_HI BOUNCE_HOST)},
    {"NUL byte in a command",
     .steps = {SV(VSFTPD_HI), CL("USER a\0b\r\n"), CL("NOOP\r\n")},
     .to_client = B(VSFTPD_HI FATAL_421("NUL byte in a control line")),
     .fatal = 1},
    {"NUL byte in a reply", .steps = {SV("220 a\0b\r\n")},
     .to_client = B(FATAL_421("NUL byte in a control line")), .fatal = 1},
/* PASV sent ahead: one passive transfer (A_XFER1), after whose 226 the
 * rewriter sends its own PASV; A_227B is the server's reply to it. */
#define A_XFER1                                                                \
	SV(VSFTPD_HI), CL("PASV\r\n"), SV(PASV_227),                           \
	    REQ("PASSIVE 10.1.60.99:30001"), PREADY("127.0.0.1:40000"),        \
	    CL("RETR a\r\n"), SV(A_150 A_226)
#define A_150 "150 Opening BINARY mode data connection.\r\n"
#define A_226 "226 Transfer complete.\r\n"
#define A_227B "227 Entering Passive Mode (10,1,60,99,117,50).\r\n"
#define A_OUT1 VSFTPD_HI OUT_227 A_150 A_226
    {"PASV ahead: lftp's SIZE, MDTM, PASV, RETR", .ahead = 1,
     .steps = {A_XFER1, CL("SIZE b\r\n"), SV(A_227B "213 4096\r\n"),
	       CL("MDTM b\r\n"), SV("213 20261207000000\r\n"), CL("PASV\r\n"),
	       REQ("PASSIVE 10.1.60.99:30002"), PREADY("127.0.0.1:40000"),
	       CL("RETR b\r\n"), SV(A_150 A_226)},
     .to_client =
	 B(A_OUT1 "213 4096\r\n213 20261207000000\r\n" OUT_227 A_150 A_226),
     .to_server = B("PASV\r\nRETR a\r\nPASV\r\nSIZE b\r\nMDTM b\r\nRETR "
		    "b\r\n")},
    {"PASV ahead off: the client's PASV goes to the server",
     .steps = {A_XFER1, CL("SIZE b\r\n"), SV("213 4096\r\n"), CL("PASV\r\n"),
	       SV(A_227B), REQ("PASSIVE 10.1.60.99:30002"),
	       PREADY("127.0.0.1:40000")},
     .to_client = B(A_OUT1 "213 4096\r\n" OUT_227),
     .to_server = B("PASV\r\nRETR a\r\nSIZE b\r\nPASV\r\n")},
    {"PASV ahead: not before a PASV at once", .ahead = 1,
     .steps = {A_XFER1, CL("PASV\r\n"), SV(A_227B),
	       REQ("PASSIVE 10.1.60.99:30002"), PREADY("127.0.0.1:40000")},
     .to_client = B(A_OUT1 OUT_227),
     .to_server = B("PASV\r\nRETR a\r\nPASV\r\n")},
    {"PASV ahead: a PASV before its reply waits for it", .ahead = 1,
     .steps = {A_XFER1, CL("TYPE I\r\nPASV\r\nRETR b\r\n"),
	       SV(A_227B "200 Switching to Binary mode.\r\n"),
	       REQ("PASSIVE 10.1.60.99:30002"), PREADY("127.0.0.1:40000"),
	       SV(A_150 A_226)},
     .to_client =
	 B(A_OUT1 "200 Switching to Binary mode.\r\n" OUT_227 A_150 A_226),
     .to_server = B("PASV\r\nRETR a\r\nPASV\r\nTYPE I\r\nRETR b\r\n")},
    {"PASV ahead: EPSV is answered from a 227", .ahead = 1,
     .steps = {A_XFER1, CL("NOOP\r\n"), SV(A_227B "200 NOOP ok.\r\n"),
	       CL("EPSV\r\n"), REQ("PASSIVE 10.1.60.99:30002"),
	       PREADY("127.0.0.1:40000")},
     .to_client = B(A_OUT1 "200 NOOP ok.\r\n" OUT_229),
     .to_server = B("PASV\r\nRETR a\r\nPASV\r\nNOOP\r\n")},
    {"PASV ahead refused: the client's PASV goes to the server", .ahead = 1,
     .steps = {A_XFER1, CL("NOOP\r\nPASV\r\nRETR b\r\n"),
	       SV("425 Not now.\r\n200 NOOP ok.\r\n"), SV(A_227B),
	       REQ("PASSIVE 10.1.60.99:30002"), PREADY("127.0.0.1:40000")},
     .to_client = B(A_OUT1 "200 NOOP ok.\r\n" OUT_227),
     .to_server = B("PASV\r\nRETR a\r\nPASV\r\nNOOP\r\nPASV\r\nRETR b\r\n")},
    {"PASV ahead refused, multi-line, unclaimed", .ahead = 1,
     .steps = {A_XFER1, CL("NOOP\r\n"),
	       SV("500-No.\r\n 227 not this\r\n500 No.\r\n200 NOOP ok.\r\n"),
	       CL("PASV\r\n"), SV(A_227B), REQ("PASSIVE 10.1.60.99:30002"),
	       PREADY("127.0.0.1:40000")},
     .to_client = B(A_OUT1 "200 NOOP ok.\r\n" OUT_227),
     .to_server = B("PASV\r\nRETR a\r\nPASV\r\nNOOP\r\nPASV\r\n")},
    {"PASV ahead: PORT after it drops it, replies in order", .ahead = 1,
     .steps = {A_XFER1, CL("NOOP\r\nPORT 127,0,0,1,195,80\r\n"),
	       REQ("ACTIVE 127.0.0.1:50000"), AREADY("127.0.0.1:40001"),
	       SV(A_227B "200 NOOP ok.\r\n200 PORT command successful.\r\n"),
	       CL("RETR b\r\n"), SV(A_150 A_226)},
     .to_client = B(
	 A_OUT1 "200 NOOP ok.\r\n200 PORT command successful.\r\n" A_150 A_226),
     .to_server = B("PASV\r\nRETR a\r\nPASV\r\nNOOP\r\nPORT "
		    "127,0,0,1,156,65\r\nRETR b\r\n")},
    {"PASV ahead: other commands and QUIT after it", .ahead = 1,
     .steps = {A_XFER1, CL("TYPE A\r\nCWD x\r\nQUIT\r\n"),
	       SV(A_227B "200 Switching to ASCII mode.\r\n"
			 "250 Directory successfully changed.\r\n"
			 "221 Goodbye.\r\n")},
     .to_client = B(A_OUT1 "200 Switching to ASCII mode.\r\n"
			   "250 Directory successfully changed.\r\n"
			   "221 Goodbye.\r\n"),
     .to_server = B("PASV\r\nRETR a\r\nPASV\r\nTYPE A\r\nCWD x\r\nQUIT\r\n")},
    {"PASV ahead: not before QUIT", .ahead = 1,
     .steps = {A_XFER1, CL("QUIT\r\n"), SV("221 Goodbye.\r\n")},
     .to_client = B(A_OUT1 "221 Goodbye.\r\n"),
     .to_server = B("PASV\r\nRETR a\r\nQUIT\r\n")},
    {"PASV ahead: a transfer without PASV gets 425 here", .ahead = 1,
     .steps = {A_XFER1, CL("SIZE b\r\nRETR b\r\n"), SV(A_227B "213 4096\r\n")},
     .to_client = B(A_OUT1 "213 4096\r\n425 Use PORT or PASV first.\r\n"),
     .to_server = B("PASV\r\nRETR a\r\nPASV\r\nSIZE b\r\n")},
    {"PASV ahead: not when the client pipelined", .ahead = 1,
     .steps = {SV(VSFTPD_HI), CL("PASV\r\n"), SV(PASV_227),
	       REQ("PASSIVE 10.1.60.99:30001"), PREADY("127.0.0.1:40000"),
	       CL("RETR a\r\nNOOP\r\n"), SV(A_150 A_226 "200 NOOP ok.\r\n"),
	       CL("SIZE b\r\n"), SV("213 4096\r\n")},
     .to_client = B(A_OUT1 "200 NOOP ok.\r\n213 4096\r\n"),
     .to_server = B("PASV\r\nRETR a\r\nNOOP\r\nSIZE b\r\n")},
    {"PASV ahead: not after a refused transfer", .ahead = 1,
     .steps = {SV(VSFTPD_HI), CL("PASV\r\n"), SV(PASV_227),
	       REQ("PASSIVE 10.1.60.99:30001"), PREADY("127.0.0.1:40000"),
	       CL("RETR a\r\n"), SV("550 Failed to open file.\r\n"),
	       CL("SIZE b\r\n"), SV("213 4096\r\n")},
     .to_client =
	 B(VSFTPD_HI OUT_227 "550 Failed to open file.\r\n213 4096\r\n"),
     .to_server = B("PASV\r\nRETR a\r\nSIZE b\r\n")},
    {"PASV ahead: EPSV session sends EPSV", .ahead = 1,
     .steps = {SV(VSFTPD_HI), CL("EPSV\r\n"), SV(EPSV_229),
	       REQ("PASSIVE *:30001"), PREADY("127.0.0.1:40000"),
	       CL("LIST\r\n"), SV(A_150 A_226), CL("PWD\r\n"),
	       SV("229 Entering Extended Passive Mode (|||30002|)\r\n"
		  "257 \"/\"\r\n"),
	       CL("EPSV\r\n"), REQ("PASSIVE *:30002"),
	       PREADY("127.0.0.1:40000")},
     .to_client = B(VSFTPD_HI OUT_229 A_150 A_226 "257 \"/\"\r\n" OUT_229),
     .to_server = B("EPSV\r\nLIST\r\nEPSV\r\nPWD\r\n")},
    {"PASV ahead: converted PORT answered from it", .ahead = 1,
     .mode = FTP_ACTIVE_CONVERT,
     .steps = {SV(VSFTPD_HI), CL("PORT 127,0,0,1,195,80\r\n"), SV(PASV_227),
	       REQ("CONVERTED 10.1.60.99:30001 127.0.0.1:50000"), AREADY(NULL),
	       CL("RETR a\r\n"), SV(A_150 A_226), CL("TYPE I\r\n"),
	       SV(A_227B "200 Switching to Binary mode.\r\n"),
	       CL("PORT 127,0,0,1,195,81\r\n"),
	       REQ("CONVERTED 10.1.60.99:30002 127.0.0.1:50001"), AREADY(NULL),
	       CL("RETR b\r\n"), SV(A_150 A_226)},
     .to_client = B(VSFTPD_HI "200 PORT command successful.\r\n" A_150 A_226
			      "200 Switching to Binary mode.\r\n"
			      "200 PORT command successful.\r\n" A_150 A_226),
     .to_server = B("PASV\r\nRETR a\r\nPASV\r\nTYPE I\r\nRETR b\r\n")},
    {"PASV ahead refused: a converted EPRT sends its own", .ahead = 1,
     .mode = FTP_ACTIVE_CONVERT,
     .steps = {SV(VSFTPD_HI), CL("PORT 127,0,0,1,195,80\r\n"), SV(PASV_227),
	       REQ("CONVERTED 10.1.60.99:30001 127.0.0.1:50000"), AREADY(NULL),
	       CL("RETR a\r\n"), SV(A_150 A_226),
	       CL("TYPE I\r\nEPRT |1|127.0.0.1|50001|\r\n"),
	       SV("425 Busy.\r\n200 Switching to Binary mode.\r\n"), SV(A_227B),
	       REQ("CONVERTED 10.1.60.99:30002 127.0.0.1:50001"), AREADY(NULL)},
     .to_client = B(VSFTPD_HI "200 PORT command successful.\r\n" A_150 A_226
			      "200 Switching to Binary mode.\r\n"
			      "200 EPRT command successful.\r\n"),
     .to_server = B("PASV\r\nRETR a\r\nPASV\r\nTYPE I\r\nPASV\r\n")},
    {"PASV ahead: a 229 for the PASV sent ahead ends the session", .ahead = 1,
     .steps = {A_XFER1, CL("NOOP\r\n"), SV(EPSV_229)},
     .to_client = B(A_OUT1 FATAL_421("229 reply not answering EPSV")),
     .to_server = B("PASV\r\nRETR a\r\nPASV\r\nNOOP\r\n"), .fatal = 1},
};

#define QMAX (64 * 1024)

struct run {
	struct ftp_rw *rw;
	uint8_t q[2][QMAX];
	size_t qlen[2];
	uint8_t got[2][QMAX];
	size_t glen[2];
	int fatal;
	char err[512];
};

static int passed, failed;

static void check(int ok, const char *what, const char *name)
{
	if (ok) {
		passed++;
		return;
	}
	failed++;
	printf("FAIL: %s: %s\n", name, what);
}

static void run_err(struct run *r, const char *msg)
{
	if (!r->err[0])
		snprintf(r->err, sizeof(r->err), "%s", msg);
}

/* "1.2.3.4:5", "[::1]:5", "::1" (port 0), "" (AF_UNSPEC). Addresses are
 * built in a struct of their own type and copied, not cast (aliasing). */
static void parse_sa(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	char host[64];
	const char *colon;
	size_t n;

	memset(ss, 0, sizeof(*ss));
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (!*s)
		return;
	sin6.sin6_family = AF_INET6;
	if (s[0] == '[') {
		colon = strchr(s, ']');
		n = (size_t)(colon - s - 1);
		memcpy(host, s + 1, n);
		host[n] = '\0';
		inet_pton(AF_INET6, host, &sin6.sin6_addr);
		sin6.sin6_port = htons((uint16_t)atoi(colon + 2));
		memcpy(ss, &sin6, sizeof(sin6));
		return;
	}
	colon = strchr(s, ':');
	if (colon && strchr(colon + 1, ':')) {
		inet_pton(AF_INET6, s, &sin6.sin6_addr);
		memcpy(ss, &sin6, sizeof(sin6));
		return;
	}
	n = colon ? (size_t)(colon - s) : strlen(s);
	memcpy(host, s, n);
	host[n] = '\0';
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, host, &sin.sin_addr);
	if (colon)
		sin.sin_port = htons((uint16_t)atoi(colon + 1));
	memcpy(ss, &sin, sizeof(sin));
}

static void fmt_sa(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	char host[INET6_ADDRSTRLEN];

	memcpy(&sin, ss, sizeof(sin));
	memcpy(&sin6, ss, sizeof(sin6));
	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &sin.sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(sin.sin_port));
	} else if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &sin6.sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(sin6.sin6_port));
	} else {
		snprintf(buf, size, "*:%u", ntohs(sin6.sin6_port));
	}
}

static void fmt_req(const struct ftp_req *req, char *buf, size_t size)
{
	char a[80], b[80];

	if (!req) {
		snprintf(buf, size, "NONE");
		return;
	}
	fmt_sa(&req->target, a, sizeof(a));
	fmt_sa(&req->client_target, b, sizeof(b));
	switch (req->kind) {
	case FTP_REQ_PASSIVE:
		snprintf(buf, size, "PASSIVE %s", a);
		break;
	case FTP_REQ_ACTIVE:
		snprintf(buf, size, "ACTIVE %s", a);
		break;
	case FTP_REQ_CONVERTED:
		snprintf(buf, size, "CONVERTED %s %s", a, b);
		break;
	default:
		snprintf(buf, size, "BAD KIND %d", (int)req->kind);
	}
}

static void drain(struct run *r)
{
	const uint8_t *p;
	size_t n;
	int side;

	for (side = 0; side < 2; side++) {
		p = ftp_rw_output(r->rw, (enum ftp_side)side, &n);
		if (n > FTP_OUT_MAX)
			run_err(r, "output above FTP_OUT_MAX");
		if (n > QMAX - r->glen[side]) {
			run_err(r, "test output buffer full");
			n = QMAX - r->glen[side];
		}
		memcpy(r->got[side] + r->glen[side], p, n);
		r->glen[side] += n;
		ftp_rw_consume(r->rw, (enum ftp_side)side, n);
	}
}

/* Feeds what is queued, as the glue would, until nothing moves. */
static void drive(struct run *r)
{
	ssize_t k;
	int side, moved;

	do {
		moved = 0;
		drain(r);
		for (side = 0; side < 2; side++) {
			if (!r->qlen[side])
				continue;
			k = ftp_rw_feed(r->rw, (enum ftp_side)side, r->q[side],
					r->qlen[side]);
			if (k == FTP_RW_FATAL) {
				r->fatal = 1;
				r->qlen[0] = r->qlen[1] = 0;
				if (!ftp_rw_failed(r->rw))
					run_err(r, "FATAL but not failed");
				if (ftp_rw_feed(r->rw, FTP_CLIENT,
						(const uint8_t *)"x",
						1) != FTP_RW_FATAL)
					run_err(r, "feed after FATAL");
				break;
			}
			if (k < 0 || (size_t)k > r->qlen[side]) {
				run_err(r, "feed returned a bad count");
				return;
			}
			if (k > 0)
				moved = 1;
			memmove(r->q[side], r->q[side] + k,
				r->qlen[side] - (size_t)k);
			r->qlen[side] -= (size_t)k;
		}
		drain(r);
	} while (moved);
	if (ftp_rw_request(r->rw) &&
	    (ftp_rw_feed(r->rw, FTP_CLIENT, (const uint8_t *)"x", 1) != 0 ||
	     ftp_rw_feed(r->rw, FTP_SERVER, (const uint8_t *)"x", 1) != 0))
		run_err(r, "feed consumed while a request is pending");
}

static void push(struct run *r, enum ftp_side side, const char *p, size_t n)
{
	if (r->fatal)
		return;
	memcpy(r->q[side] + r->qlen[side], p, n);
	r->qlen[side] += n;
	drive(r);
}

static void make_cfg(const struct tcase *tc, struct ftp_rw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	parse_sa(tc->client_addr ? tc->client_addr : "127.0.0.1",
		 &cfg->client_addr);
	cfg->active_mode = tc->mode;
	cfg->server_family = tc->server_family ? tc->server_family : AF_INET;
	cfg->allow_auth = tc->allow_auth;
	cfg->active_fallback = tc->fallback;
	cfg->passive_ahead = tc->ahead;
}

/* Runs tc; step `split` (if >= 0) is fed in two parts cut at `at`;
 * `bytewise` feeds every chunk one byte at a time. */
static void run_case(const struct tcase *tc, int split, size_t at, int bytewise,
		     struct run *r)
{
	struct ftp_rw_config cfg;
	struct sockaddr_storage ss;
	const struct step *st;
	char buf[256], msg[400];
	size_t i;
	int s;

	memset(r, 0, sizeof(*r));
	make_cfg(tc, &cfg);
	r->rw = ftp_rw_new(&cfg);
	if (!r->rw) {
		run_err(r, "ftp_rw_new failed");
		return;
	}
	for (s = 0; s < MAX_STEPS && tc->steps[s].op != OP_END; s++) {
		st = &tc->steps[s];
		switch (st->op) {
		case OP_C:
		case OP_S: {
			enum ftp_side side =
			    st->op == OP_C ? FTP_CLIENT : FTP_SERVER;

			if (bytewise) {
				for (i = 0; i < st->len; i++)
					push(r, side, st->data + i, 1);
			} else if (s == split) {
				push(r, side, st->data, at);
				push(r, side, st->data + at, st->len - at);
			} else {
				push(r, side, st->data, st->len);
			}
			break;
		}
		case OP_REQ:
			fmt_req(ftp_rw_request(r->rw), buf, sizeof(buf));
			if (strcmp(buf, st->data) != 0) {
				snprintf(msg, sizeof(msg),
					 "step %d: request %s, want %s", s, buf,
					 st->data);
				run_err(r, msg);
			}
			break;
		case OP_PREADY:
			parse_sa(st->data, &ss);
			ftp_rw_passive_ready(r->rw, (struct sockaddr *)&ss);
			drive(r);
			break;
		case OP_AREADY:
			if (st->data)
				parse_sa(st->data, &ss);
			ftp_rw_active_ready(
			    r->rw, st->data ? (struct sockaddr *)&ss : NULL);
			drive(r);
			break;
		case OP_FAIL:
			ftp_rw_request_failed(r->rw, st->data);
			drive(r);
			break;
		case OP_END:
			break;
		}
	}
	drive(r);
	if (r->qlen[0] || r->qlen[1])
		run_err(r, "input left unconsumed");
	if (ftp_rw_request(r->rw))
		run_err(r, "request left pending");
	ftp_rw_free(r->rw);
	r->rw = NULL;
}

static void show(const char *what, const uint8_t *p, size_t n)
{
	size_t i;

	printf("  %s (%zu): \"", what, n);
	for (i = 0; i < n; i++) {
		if (p[i] >= 32 && p[i] < 127 && p[i] != '"' && p[i] != '\\')
			putchar(p[i]);
		else
			printf("\\x%02x", p[i]);
	}
	printf("\"\n");
}

static int same_run(const struct run *a, const struct run *b)
{
	int side;

	if (a->fatal != b->fatal || b->err[0])
		return 0;
	for (side = 0; side < 2; side++)
		if (a->glen[side] != b->glen[side] ||
		    memcmp(a->got[side], b->got[side], a->glen[side]) != 0)
			return 0;
	return 1;
}

static struct run base, var;

static void test_case(const struct tcase *tc)
{
	const struct blob *want[2] = {&tc->to_client, &tc->to_server};
	int s, ok, side, split_ok;
	size_t at;
	char what[700];

	run_case(tc, -1, 0, 0, &base);
	ok = !base.err[0] && base.fatal == tc->fatal;
	for (side = 0; side < 2; side++)
		ok = ok && base.glen[side] == want[side]->n &&
		     (!want[side]->n || memcmp(base.got[side], want[side]->p,
					       want[side]->n) == 0);
	check(ok, "expected output", tc->name);
	if (!ok) {
		if (base.err[0])
			printf("  %s\n", base.err);
		printf("  fatal %d, want %d\n", base.fatal, tc->fatal);
		for (side = 0; side < 2; side++) {
			show(side ? "to server" : "to client", base.got[side],
			     base.glen[side]);
			show("    wanted",
			     (const uint8_t *)(want[side]->p ? want[side]->p
							     : ""),
			     want[side]->n);
		}
	}

	split_ok = 1;
	for (s = 0; s < MAX_STEPS && tc->steps[s].op != OP_END && split_ok;
	     s++) {
		if (tc->steps[s].op != OP_C && tc->steps[s].op != OP_S)
			continue;
		for (at = 1; at < tc->steps[s].len && split_ok; at++) {
			run_case(tc, s, at, 0, &var);
			if (!same_run(&base, &var)) {
				split_ok = 0;
				snprintf(what, sizeof(what),
					 "split step %d at %zu differs%s%s", s,
					 at, var.err[0] ? ": " : "", var.err);
				check(0, what, tc->name);
			}
		}
	}
	if (split_ok)
		check(1, "", tc->name);

	run_case(tc, -1, 0, 1, &var);
	ok = same_run(&base, &var);
	snprintf(what, sizeof(what), "byte at a time differs%s%s",
		 var.err[0] ? ": " : "", var.err);
	check(ok, what, tc->name);
}

/* --- tests outside the table ---------------------------------------- */

static struct ftp_rw *new_rw(enum ftp_active_mode mode)
{
	struct ftp_rw_config cfg;
	struct tcase tc;

	memset(&tc, 0, sizeof(tc));
	tc.mode = mode;
	make_cfg(&tc, &cfg);
	return ftp_rw_new(&cfg);
}

static ssize_t feed_str(struct ftp_rw *rw, enum ftp_side side, const char *s)
{
	return ftp_rw_feed(rw, side, (const uint8_t *)s, strlen(s));
}

static size_t out_len(struct ftp_rw *rw, enum ftp_side side)
{
	size_t n;

	ftp_rw_output(rw, side, &n);
	return n;
}

static void drop_out(struct ftp_rw *rw, enum ftp_side side)
{
	ftp_rw_consume(rw, side, out_len(rw, side));
}

static void test_line_max(void)
{
	static uint8_t line[FTP_LINE_MAX + 2];
	struct ftp_rw *rw;
	ssize_t k;

	/* Exactly FTP_LINE_MAX with CRLF: taken and forwarded. */
	rw = new_rw(FTP_ACTIVE_FORWARD);
	memset(line, 'x', sizeof(line));
	memcpy(line, "SITE ", 5);
	line[FTP_LINE_MAX - 2] = '\r';
	line[FTP_LINE_MAX - 1] = '\n';
	k = ftp_rw_feed(rw, FTP_CLIENT, line, FTP_LINE_MAX);
	check(k == FTP_LINE_MAX && out_len(rw, FTP_SERVER) == FTP_LINE_MAX,
	      "line of FTP_LINE_MAX with CRLF taken", "line max");
	ftp_rw_free(rw);

	/* Same length with a bare LF. */
	rw = new_rw(FTP_ACTIVE_FORWARD);
	line[FTP_LINE_MAX - 2] = 'x';
	k = ftp_rw_feed(rw, FTP_CLIENT, line, FTP_LINE_MAX);
	check(k == FTP_LINE_MAX, "line of FTP_LINE_MAX with LF taken",
	      "line max");
	ftp_rw_free(rw);

	/* One byte more: fatal, 421 queued, nothing forwarded. */
	rw = new_rw(FTP_ACTIVE_FORWARD);
	line[FTP_LINE_MAX - 1] = 'x';
	line[FTP_LINE_MAX] = '\n';
	k = ftp_rw_feed(rw, FTP_CLIENT, line, FTP_LINE_MAX + 1);
	check(k == FTP_RW_FATAL && ftp_rw_failed(rw) &&
		  out_len(rw, FTP_SERVER) == 0,
	      "line of FTP_LINE_MAX + 1 fatal", "line max");
	{
		size_t n;
		const uint8_t *p = ftp_rw_output(rw, FTP_CLIENT, &n);
		const char *want = FATAL_421("control line too long");

		check(n == strlen(want) && memcmp(p, want, n) == 0,
		      "421 for the client", "line max");
	}
	/* Fed in pieces the same. */
	ftp_rw_free(rw);
	rw = new_rw(FTP_ACTIVE_FORWARD);
	k = ftp_rw_feed(rw, FTP_SERVER, line, 100);
	check(k == 100, "partial line taken", "line max");
	k = ftp_rw_feed(rw, FTP_SERVER, line + 100, FTP_LINE_MAX + 1 - 100);
	check(k == FTP_RW_FATAL, "overlong in pieces fatal", "line max");
	ftp_rw_free(rw);
}

static void test_fifo_bound(void)
{
	static char buf[100 * 6 + 1];
	struct ftp_rw *rw = new_rw(FTP_ACTIVE_FORWARD);
	ssize_t k, k2;
	int i;

	feed_str(rw, FTP_SERVER, VSFTPD_HI);
	for (i = 0; i < 100; i++)
		memcpy(buf + i * 6, "NOOP\r\n", 6);
	buf[600] = '\0';
	k = feed_str(rw, FTP_CLIENT, buf);
	check(k >= 64 * 6 && k < 65 * 6, "FIFO stops the client at 64",
	      "fifo bound");
	check(out_len(rw, FTP_SERVER) == 64 * 6, "64 commands forwarded",
	      "fifo bound");
	k2 = feed_str(rw, FTP_CLIENT, buf + k);
	check(k2 == 0, "still stopped", "fifo bound");
	feed_str(rw, FTP_SERVER, "200 NOOP ok.\r\n");
	k2 = feed_str(rw, FTP_CLIENT, buf + k);
	check(k2 >= 1 && k2 <= 6, "one reply lets one command through",
	      "fifo bound");
	ftp_rw_free(rw);
}

static void test_out_bound(void)
{
	static char line[1001], all[30 * 1002 + 1];
	struct ftp_rw *rw = new_rw(FTP_ACTIVE_FORWARD);
	size_t off = 0, total;
	ssize_t k;
	int i;

	feed_str(rw, FTP_SERVER, VSFTPD_HI);
	memset(line, 'x', sizeof(line) - 1);
	memcpy(line, "STOR ", 5);
	for (i = 0; i < 30; i++) {
		memcpy(all + i * 1002, line, 1000);
		memcpy(all + i * 1002 + 1000, "\r\n", 2);
	}
	total = 30 * 1002;
	k = ftp_rw_feed(rw, FTP_CLIENT, (const uint8_t *)all, total);
	check(k > 0 && (size_t)k < total &&
		  out_len(rw, FTP_SERVER) <= FTP_OUT_MAX,
	      "server output full stops the client", "output bound");
	off = (size_t)k;
	check(ftp_rw_feed(rw, FTP_CLIENT, (const uint8_t *)all + off,
			  total - off) == 0,
	      "nothing more while full", "output bound");
	drop_out(rw, FTP_SERVER);
	while (off < total) {
		k = ftp_rw_feed(rw, FTP_CLIENT, (const uint8_t *)all + off,
				total - off);
		if (k <= 0)
			break;
		off += (size_t)k;
		check(out_len(rw, FTP_SERVER) <= FTP_OUT_MAX, "bounded",
		      "output bound");
		drop_out(rw, FTP_SERVER);
	}
	check(off == total, "all taken after draining", "output bound");

	/* Replies to a client that does not read. */
	off = 0;
	for (i = 0; i < 30; i++) {
		memcpy(all + i * 1002, "200-", 4);
		memcpy(all + i * 1002 + 4, line + 4, 996);
		memcpy(all + i * 1002 + 1000, "\r\n", 2);
	}
	k = ftp_rw_feed(rw, FTP_SERVER, (const uint8_t *)all, total);
	check(k > 0 && (size_t)k < total &&
		  out_len(rw, FTP_CLIENT) <= FTP_OUT_MAX,
	      "client output full stops the server", "output bound");
	ftp_rw_free(rw);
}

/* Partly consumed output, then more: the buffer compacts, bytes keep. */
static void test_out_compact(void)
{
	static char want[40 * 1002];
	static uint8_t got[sizeof(want)];
	char line[1100];
	struct ftp_rw *rw = new_rw(FTP_ACTIVE_FORWARD);
	size_t glen = 0, n, wlen = 0, k;
	const uint8_t *p;
	int i;

	feed_str(rw, FTP_SERVER, VSFTPD_HI);
	drop_out(rw, FTP_CLIENT);
	for (i = 0; i < 40; i++) {
		snprintf(line, sizeof(line), "SITE %03d %0989d\r\n", i, 0);
		memcpy(want + wlen, line, strlen(line));
		wlen += strlen(line);
		k = 0;
		while (k < strlen(line)) {
			ssize_t r = feed_str(rw, FTP_CLIENT, line + k);

			if (r <= 0) {
				/* Take a third: the rest stays queued. */
				p = ftp_rw_output(rw, FTP_SERVER, &n);
				n = n / 3 + 1;
				memcpy(got + glen, p, n);
				glen += n;
				ftp_rw_consume(rw, FTP_SERVER, n);
				continue;
			}
			k += (size_t)r;
		}
		feed_str(rw, FTP_SERVER, "200 ok\r\n");
	}
	p = ftp_rw_output(rw, FTP_SERVER, &n);
	memcpy(got + glen, p, n);
	glen += n;
	check(glen == wlen && memcmp(got, want, wlen) == 0,
	      "bytes intact through compaction", "output compact");
	ftp_rw_free(rw);
}

/* A multi-line 227 longer than the block bound ends the session. */
static void test_block_max(void)
{
	static char buf[12 * 1024];
	struct ftp_rw *rw = new_rw(FTP_ACTIVE_FORWARD);
	size_t off = 0;
	int i;

	feed_str(rw, FTP_SERVER, VSFTPD_HI);
	feed_str(rw, FTP_CLIENT, "PASV\r\n");
	off +=
	    (size_t)snprintf(buf, sizeof(buf), "227-Entering Passive Mode\r\n");
	for (i = 0; i < 10; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
					"227-%01000d\r\n", 0);
	snprintf(buf + off, sizeof(buf) - off, "227 (10,1,60,99,117,49)\r\n");
	check(feed_str(rw, FTP_SERVER, buf) == FTP_RW_FATAL,
	      "overlong 227 block fatal", "block max");
	ftp_rw_free(rw);
}

static void test_pending_and_misc(void)
{
	struct ftp_rw *rw = new_rw(FTP_ACTIVE_FORWARD);
	struct sockaddr_in sin;
	const struct ftp_req *req;

	feed_str(rw, FTP_SERVER, VSFTPD_HI "331 pw\r\n");
	feed_str(rw, FTP_CLIENT, "PASV\r\n");
	feed_str(rw, FTP_SERVER, PASV_227);
	req = ftp_rw_request(rw);
	check(req && req->kind == FTP_REQ_PASSIVE, "passive request raised",
	      "pending");
	check(feed_str(rw, FTP_CLIENT, "NOOP\r\n") == 0 &&
		  feed_str(rw, FTP_SERVER, "200 x\r\n") == 0,
	      "nothing consumed while pending", "pending");
	/* The wrong kind of answer fails the request rather than hang. */
	drop_out(rw, FTP_CLIENT);
	ftp_rw_active_ready(rw, NULL);
	{
		size_t n;
		const uint8_t *p = ftp_rw_output(rw, FTP_CLIENT, &n);
		const char *want =
		    "425 Can't open data connection: internal error.\r\n";

		check(!ftp_rw_request(rw) && n == strlen(want) &&
			  memcmp(p, want, n) == 0,
		      "wrong kind of answer gives 425", "pending");
	}
	check(feed_str(rw, FTP_CLIENT, "NOOP\r\n") == 6,
	      "feeding resumes after the answer", "pending");
	ftp_rw_free(rw);

	rw = new_rw(FTP_ACTIVE_FORWARD);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	ftp_rw_passive_ready(rw, (struct sockaddr *)&sin);
	ftp_rw_active_ready(rw, NULL);
	ftp_rw_request_failed(rw, "x");
	check(out_len(rw, FTP_CLIENT) == 0 && !ftp_rw_request(rw),
	      "answers without a request do nothing", "pending");
	ftp_rw_free(rw);
	ftp_rw_free(NULL);
	check(ftp_rw_new(NULL) == NULL, "ftp_rw_new(NULL)", "misc");
}

/* The rewriter's named state through a session: a multi-line greeting,
 * a collected 227, AUTH accepted, and a fatal line. */
static void test_states(void)
{
	struct ftp_rw_config cfg;
	struct ftp_rw *rw;
	struct tcase tc;

	memset(&tc, 0, sizeof(tc));
	tc.mode = FTP_ACTIVE_FORWARD;
	tc.allow_auth = 1;
	make_cfg(&tc, &cfg);
	rw = ftp_rw_new(&cfg);
	check(strcmp(ftp_rw_state_name(rw), "lines") == 0, "starts in lines",
	      "states");
	feed_str(rw, FTP_SERVER, "220-Welcome\r\n");
	check(strcmp(ftp_rw_state_name(rw), "multi") == 0,
	      "a multi-line greeting is multi", "states");
	feed_str(rw, FTP_SERVER, "220 ready\r\n");
	check(strcmp(ftp_rw_state_name(rw), "lines") == 0,
	      "its last line ends multi", "states");
	feed_str(rw, FTP_CLIENT, "PASV\r\n");
	feed_str(rw, FTP_SERVER, "227-Entering Passive Mode\r\n");
	check(strcmp(ftp_rw_state_name(rw), "collect") == 0,
	      "a multi-line 227 is collected", "states");
	feed_str(rw, FTP_SERVER, "227 (127,0,0,1,4,1)\r\n");
	check(strcmp(ftp_rw_state_name(rw), "lines") == 0 && ftp_rw_request(rw),
	      "the collected 227 raises its request", "states");
	ftp_rw_request_failed(rw, "test");
	feed_str(rw, FTP_CLIENT, "AUTH TLS\r\n");
	feed_str(rw, FTP_SERVER, "234 go ahead\r\n");
	check(strcmp(ftp_rw_state_name(rw), "opaque") == 0,
	      "234 to AUTH makes it opaque", "states");
	ftp_rw_free(rw);

	rw = new_rw(FTP_ACTIVE_FORWARD);
	feed_str(rw, FTP_SERVER, VSFTPD_HI);
	ftp_rw_feed(rw, FTP_CLIENT, (const uint8_t *)"NO\0OP\r\n", 7);
	check(strcmp(ftp_rw_state_name(rw), "failed") == 0 && ftp_rw_failed(rw),
	      "a NUL byte fails it", "states");
	ftp_rw_free(rw);
}

/* ftp_rw_downloads counts the commands whose data comes from the server
 * only, as they pass to it, in any case and after blanks. */
static void test_downloads(void)
{
	struct ftp_rw *rw = new_rw(FTP_ACTIVE_FORWARD);

	feed_str(rw, FTP_SERVER, VSFTPD_HI);
	feed_str(rw, FTP_CLIENT, "STOR a\r\nAPPE b\r\nSIZE c\r\n");
	check(ftp_rw_downloads(rw) == 0, "STOR, APPE, SIZE are no downloads",
	      "downloads");
	feed_str(rw, FTP_CLIENT, "RETR a\r\nlist\r\n NLST\r\nMLSD x\r\n");
	check(ftp_rw_downloads(rw) == 4, "RETR, list, NLST, MLSD are",
	      "downloads");
	feed_str(rw, FTP_CLIENT, "RETRY\r\nMLST x\r\n");
	check(ftp_rw_downloads(rw) == 4, "whole verbs only", "downloads");
	feed_str(rw, FTP_CLIENT, "MODE s\r\nRETR a\r\n");
	check(ftp_rw_downloads(rw) == 5, "MODE S keeps counting", "downloads");
	feed_str(rw, FTP_CLIENT, "MODE B\r\nRETR a\r\nMODE S\r\nRETR b\r\n");
	check(ftp_rw_downloads(rw) == 5,
	      "after MODE B, no download counts, even back in MODE S",
	      "downloads");
	ftp_rw_free(rw);
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		test_case(&cases[i]);
	test_line_max();
	test_fifo_bound();
	test_out_bound();
	test_out_compact();
	test_block_max();
	test_pending_and_misc();
	test_states();
	test_downloads();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

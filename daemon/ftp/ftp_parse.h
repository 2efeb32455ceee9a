/* ftp_parse.h — the FTP rewriter's recognisers: one small pure parser per
 * syntax (227, 229, PORT, EPRT, reply codes, FEAT lines, Telnet commands),
 * each documented by the forms real peers send. They recognise; ftp.c
 * decides and writes the replacement. No I/O, no state, no globals. */
#ifndef FTP_PARSE_H
#define FTP_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* RFC 854 Telnet commands that may appear on the control connection. */
#define TN_IAC 255
#define TN_WILL 251
#define TN_DONT 254

/* Character classes of the control connection (ASCII, RFC 959 §4.1). */
int ftp_is_digit(uint8_t c);
int ftp_is_alpha(uint8_t c);
/* Space, tab or CR. */
int ftp_is_blank(uint8_t c);
/* Whether the n bytes at p are the upper-case word w, in any case. */
int ftp_word_is(const uint8_t *p, size_t n, const char *w);

/* Copies the n bytes at in without their Telnet commands to out (room for
 * n bytes); returns the length copied. */
size_t ftp_strip_telnet(const uint8_t *in, size_t n, uint8_t *out);
/* The text length of a line of len bytes ending in LF (CRLF or LF cut). */
size_t ftp_text_len(const uint8_t *line, size_t len);

/* A reply's code: three digits at t, sep set to the byte after them (0
 * at the end). Returns the code, or -1 when t does not start with one. */
int ftp_reply_code(const uint8_t *t, size_t n, uint8_t *sep);
/* Whether a FEAT reply line names AUTH, PBSZ or PROT. */
int ftp_hidden_feature(const uint8_t *t, size_t n);

/* The address in a 227 reply's text (after "227 "): 0 and *ss set to an
 * AF_INET address, or -1 when malformed. */
int ftp_parse_227(const uint8_t *p, size_t n, struct sockaddr_storage *ss);
/* The port in a 229 reply's text (after "229 "): 0 and *ss set to a
 * port-only target (a sockaddr_in6 of family AF_UNSPEC, see ftp.h's
 * FTP_REQ_PASSIVE), or -1 when malformed or port 0. */
int ftp_parse_229(const uint8_t *p, size_t n, struct sockaddr_storage *ss);
/* PORT's argument: 0 and *ss set to an AF_INET address, or -1. */
int ftp_parse_port(const uint8_t *p, size_t n, struct sockaddr_storage *ss);
/* EPRT's argument: 0 and *ss set, -1 when malformed, 1 for a network
 * protocol other than 1 (IPv4) and 2 (IPv6). */
int ftp_parse_eprt(const uint8_t *p, size_t n, struct sockaddr_storage *ss);

#endif

/* feat.h — the fixed texts of the SFTP bridge's FTP server: the FEAT
 * reply (RFC 2389), the HELP reply (RFC 959 §4.1.3) and SYST's. Pure:
 * the caller sends what these write. */
#ifndef SFTP_FEAT_H
#define SFTP_FEAT_H

#include <stddef.h>

/* SYST: wget, lftp and curl's wildcard parser read LIST as `ls -l` after
 * this answer (RFC 959 §5.3.1; "L8" as vsftpd says it). */
#define FEAT_SYST_REPLY "215 UNIX Type: L8\r\n"

/* The whole FEAT reply, CRLF line ends, from "211-Features:" to
 * "211 End": EPRT, EPSV, MDTM, MFMT, MLST (the facts in `facts` marked,
 * as listing_mlst_feat writes them), PASV, REST STREAM, SIZE, TVFS, UTF8.
 * UTF8 (RFC 2640) because names go through byte for byte: the caller
 * answers "OPTS UTF8 ON" with 200. Returns the length written
 * (NUL-terminated), or -1 when buf is too small (512 bytes suffice). */
int feat_reply(unsigned facts, char *buf, size_t len);

/* The HELP reply for HELP's argument (case-insensitive): "" or an
 * unknown word gives "214-" and the commands recognised; "SITE" the SITE
 * commands; a command's name "214 Syntax: RETR <path>". Returns the
 * length written (NUL-terminated), or -1 when buf is too small (1024
 * bytes suffice). */
int feat_help(const char *arg, char *buf, size_t len);

#endif

/* version.h — the version ftp-tunnel reports (status, --version). */
#ifndef VERSION_H
#define VERSION_H

#define FTP_TUNNEL_VERSION "0.1.0"

#endif

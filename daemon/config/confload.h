/* confload.h — the configuration files ftp-tunnel reads, and finding a
 * profile in them. */
#ifndef CONFLOAD_H
#define CONFLOAD_H

#include <stddef.h>

#include "conf.h"

/* Reads file (-F), else $FTP_TUNNEL_CONFIG, else
 * ~/.config/ftp-tunnel/config then /etc/ftp-tunnel/config (missing files
 * are fine) into c, which the caller has conf_init'ed. An XML file given
 * with -F is a Tectia ssh-broker-config.xml: its profiles are read by
 * confload_profile. 0, or -1 with "file:line: what" in err. */
int confload_files(struct conf *c, const char *file, char *err, size_t errlen);

/* Copies the profile called name into *out: the configuration's own
 * profiles first, then those of its TectiaConfig files, then (without
 * -F) Tectia's own files, ~/.ssh2/ssh-broker-config.xml and
 * /etc/ssh2/ssh-broker-config.xml. 1 found, 0 not found, -1 with a
 * message in err (a file that cannot be read or parsed). */
int confload_profile(const struct conf *c, const char *name,
		     struct profile *out, char *err, size_t errlen);

#endif

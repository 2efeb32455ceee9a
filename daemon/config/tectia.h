/* tectia.h — reads SSH Tectia's Connection Broker configuration
 * (ssh-broker-config.xml) into connection profiles (include/profile.h).
 *
 * What is read: <profiles><profile> (id, name, host, port, user), their
 * <tunnels> (<local-tunnel>, <remote-tunnel>), <static-tunnels><tunnel
 * profile="ID"> (appended to that profile as local tunnels), and the
 * settings of <general>, <default-settings> and <profile> that have an
 * OpenSSH equivalent (profile.options); with tectia_parse_ex(), the
 * <filter-engine> ftp-proxy rules too. Other Tectia elements are reported
 * through the warning callback as "FILE:LINE: <x> is not used by
 * ftp-tunnel; ignored". Malformed XML, elements that are not Tectia's,
 * missing or bad attributes, duplicate profile ids and static tunnels
 * naming an unknown profile are errors ("FILE:LINE: ...").
 *
 * Pure apart from tectia_read()'s one read of the file: no globals, no
 * logging, no network. Bounded: files up to TECTIA_FILE_MAX bytes, element
 * nesting up to TECTIA_DEPTH_MAX, no entity declarations. */
#ifndef TECTIA_H
#define TECTIA_H

#include <stddef.h>

#include "profile.h"

#define TECTIA_FILE_MAX (4 * 1024 * 1024)
#define TECTIA_DEPTH_MAX 64
#define TECTIA_STATIC_MAX 1024 /* <static-tunnels> entries in one file */
#define TECTIA_RULES_MAX 256   /* <filter-engine> rules kept */

/* A <filter-engine> <rule action="ftp-proxy"> (Tectia's FTP-SFTP
 * conversion), for `ftp-tunnel import-tectia` to print as a Route. */
struct tectia_rule {
	char host[256];		    /* its host/ip-address; "" = any */
	unsigned port_lo, port_hi;  /* its ports; 0, 0 = not given */
	char via[PROFILE_NAME_MAX]; /* profile-id's profile name, or "" */
	int hostname_from_app;	    /* the SSH server is the dialed host */
	int username_from_app;	    /* the FTP login is the SSH login */
	int line;
};

struct tectia_rules {
	struct tectia_rule *v; /* v[0..max), filled by tectia_parse_ex() */
	int max, n;
};

/* Called once per warning with "FILE:LINE: message" (borrowed, valid
 * during the call only). */
typedef void (*tectia_warn_fn)(void *arg, const char *msg);

/* Parses len bytes of text, named file_name in messages, into out[0..max)
 * and sets *n to the number of profiles. Returns 0, or -1 with
 * "FILE:LINE: message" in err (and *n = 0): the first error ends the
 * parse. warn may be NULL. Does not block. */
int tectia_parse(const char *file_name, const char *text, size_t len,
		 struct profile *out, int max, int *n, char *err, size_t errlen,
		 tectia_warn_fn warn, void *warn_arg);

/* tectia_parse() that also reads <filter-engine> into rules (NULL: the
 * element is ignored, as tectia_parse() does). Rules with other actions
 * than ftp-proxy are reported through warn. */
int tectia_parse_ex(const char *file_name, const char *text, size_t len,
		    struct profile *out, int max, int *n,
		    struct tectia_rules *rules, char *err, size_t errlen,
		    tectia_warn_fn warn, void *warn_arg);

/* tectia_parse() on the contents of the file at path; a file that cannot
 * be read or is larger than TECTIA_FILE_MAX is an error ("PATH: ..."). */
int tectia_read(const char *path, struct profile *out, int max, int *n,
		char *err, size_t errlen, tectia_warn_fn warn, void *warn_arg);

/* tectia_read() with rules, as tectia_parse_ex(). */
int tectia_read_ex(const char *path, struct profile *out, int max, int *n,
		   struct tectia_rules *rules, char *err, size_t errlen,
		   tectia_warn_fn warn, void *warn_arg);

#endif

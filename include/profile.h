/* profile.h — a connection profile: one SSH server, how to log in to it,
 * and the tunnels to open through it. Profiles come from the native
 * configuration file (common/conf.c: "Profile NAME" blocks) and from SSH
 * Tectia's ssh-broker-config.xml (daemon/config/tectia.c: <profile> elements);
 * ftp-tunnel PROFILE starts one. Plain data: no pointers, copyable. */
#ifndef PROFILE_H
#define PROFILE_H

#include <stdint.h>

#define PROFILE_NAME_MAX 128
#define PROFILE_MAX_TUNNELS 32
#define PROFILE_OPTS_MAX 3072
#define PROFILE_SPEC_MAX 600

struct profile_tunnel {
	int remote;		     /* RemoteForward / <remote-tunnel> */
	char spec[PROFILE_SPEC_MAX]; /* -L/-R syntax:
					[ftp/|tcp/][bind:]port:host:hostport */
	int line;		     /* where it was defined */
};

struct profile {
	char name[PROFILE_NAME_MAX];
	char file[256]; /* where it was defined, for messages */
	int line;
	char host[256]; /* the SSH server; "" = the profile's name */
	char user[128]; /* "" = not set */
	uint16_t port;	/* 0 = not set */
	/* Every other setting as "Key=Value\n" lines, in the syntax of
	 * ftp-tunnel -o (ssh_opts_set and FtpActiveMode). */
	char options[PROFILE_OPTS_MAX];
	struct profile_tunnel tunnels[PROFILE_MAX_TUNNELS];
	int ntunnels;
};

#endif

/* fuzz_spec.c — libFuzzer target for the small parsers of specs and
 * addresses: spec_parse_forward, spec_parse_dest (common/spec.c),
 * conf_parse_via (common/conf.c) and addr_parse (common/addr.c). Outputs
 * go to buffers of their exact size (ASan sees one byte too many), are
 * NUL-terminated, and what parsed prints back and re-parses alike.
 *
 * Input: byte 0 is flags (bit 0 remote; bits 1-3 the size of the output
 * buffers), bytes 1-2 a port for addr_parse, then the string (up to its
 * first NUL). */
#include "addr.h"
#include "conf.h"
#include "spec.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HDR 3
static const size_t sizes[8] = {1, 2, 3, 8, 17, 64, 255, 256};

static void die(const char *what, const char *s)
{
	fprintf(stderr, "fuzz_spec: %s: \"%s\"\n", what, s);
	abort();
}

static int terminated(const char *buf, size_t len)
{
	return memchr(buf, '\0', len) != NULL;
}

static void check_forward(const char *s, uint8_t flags)
{
	struct fwd_spec fs, again;
	size_t elen = sizes[(flags >> 1) & 7];
	char *err = malloc(elen), back[600], e2[400];
	int remote = flags & 1;

	if (!err)
		die("out of memory", s);
	if (spec_parse_forward(s, remote, &fs, err, elen) < 0) {
		if (!terminated(err, elen))
			die("forward: error not terminated", s);
		free(err);
		return;
	}
	free(err);
	if (!terminated(fs.bind, sizeof(fs.bind)) ||
	    !terminated(fs.host, sizeof(fs.host)))
		die("forward: field not terminated", s);
	if (fs.sftp != !strncasecmp(s, "sftp/", 5) ||
	    (fs.sftp && (remote || fs.hostport || !fs.port)))
		die("forward: sftp/ misread", s);
	if (!fs.sftp && (fs.remote != remote || !fs.host[0] || !fs.hostport ||
			 (!fs.port && !remote)))
		die("forward: fields out of range", s);
	if (fs.ftp != !strncasecmp(s, "ftp/", 4))
		die("forward: ftp/ prefix misread", s);
	/* Printed in -L syntax by spec_format, it reads the same. */
	if (spec_format(&fs, back, sizeof(back)) < 0)
		die("forward: does not print", s);
	if (spec_parse_forward(back, remote, &again, e2, sizeof(e2)) < 0)
		die("forward: printed back, does not parse", back);
	if (again.ftp != fs.ftp || again.sftp != fs.sftp ||
	    again.port != fs.port || again.hostport != fs.hostport ||
	    strcmp(again.bind, fs.bind) || strcmp(again.host, fs.host))
		die("forward: printed back, parses to other fields", back);
}

/* spec_parse_dest (the daemon's reading of a via) and conf_parse_via
 * (the shim's and the config file's) read one syntax: where the first
 * takes a destination, the second takes the same host and port. */
static void check_dest(const char *s, uint8_t flags)
{
	size_t len = sizes[(flags >> 1) & 7];
	char *user = malloc(len), *host = malloc(len), *vhost = malloc(len);
	char back[700], u2[256], h2[256];
	uint16_t port = 22, vport = 0, p2 = 22;
	int rc, vrc;

	if (!user || !host || !vhost)
		die("out of memory", s);
	user[0] = host[0] = '\0';
	rc = spec_parse_dest(s, user, len, host, len, &port);
	vrc = conf_parse_via(s, vhost, len, &vport);
	if (!terminated(user, len) || !terminated(host, len))
		die("dest: field not terminated", s);
	if (vrc == 0 && (!terminated(vhost, len) || !vhost[0] || !vport))
		die("via: bad host or port", s);
	if (rc == 0) {
		if (!host[0] || !port)
			die("dest: empty host or port 0", s);
		if (vrc < 0)
			die("via refuses what dest takes", s);
		if (strcmp(host, vhost) || port != vport)
			die("via and dest read it differently", s);
		/* Printed back, it reads the same; a host with a ']' (a
		 * "bare IPv6 address" that is none) has no printed form. */
		if (strchr(host, ']'))
			goto out;
		snprintf(back, sizeof(back), "%s%s%s%s%s:%u", user,
			 user[0] ? "@" : "",
			 strchr(host, ':') || host[0] == '[' ? "[" : "", host,
			 strchr(host, ':') || host[0] == '[' ? "]" : "", port);
		u2[0] = h2[0] = '\0';
		if (spec_parse_dest(back, u2, sizeof(u2), h2, sizeof(h2), &p2) <
			0 ||
		    strcmp(u2, user) || strcmp(h2, host) || p2 != port)
			die("dest: printed back, reads otherwise", back);
	}
out:
	free(vhost);
	free(host);
	free(user);
}

static void check_addr(const char *s, uint16_t port)
{
	struct sockaddr_storage ss, again;
	char host[INET6_ADDRSTRLEN], fmt[INET6_ADDRSTRLEN + 8];

	if (addr_parse(s, port, &ss) < 0)
		return;
	if ((ss.ss_family != AF_INET && ss.ss_family != AF_INET6) ||
	    addr_port((struct sockaddr *)&ss) != port)
		die("addr: bad family or port", s);
	addr_host((struct sockaddr *)&ss, host, sizeof(host));
	addr_format((struct sockaddr *)&ss, fmt, sizeof(fmt));
	if (addr_parse(host, port, &again) < 0 ||
	    memcmp(&ss, &again, sizeof(ss)))
		die("addr: printed back, parses otherwise", host);
	if (!addr_same_host((struct sockaddr *)&ss, (struct sockaddr *)&again))
		die("addr: not the same host as itself", host);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < HDR)
		return 0;
	s = malloc(size - HDR + 1);
	if (!s)
		die("out of memory", "");
	memcpy(s, data + HDR, size - HDR);
	s[size - HDR] = '\0';
	check_forward(s, data[0]);
	check_dest(s, data[0]);
	check_addr(s, (uint16_t)(data[1] << 8 | data[2]));
	free(s);
	return 0;
}

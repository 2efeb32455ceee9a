/* sshopts.c — SSH connection options, set the way ssh_config(5) names them
 * ("-o Key=Value" or "Key Value", keys case-insensitive). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ssh.h"

void ssh_opts_init(struct ssh_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->port = 22;
	o->alive_count_max = 3;
}

void ssh_opts_release(struct ssh_opts *o)
{
	int i;

	for (i = 0; i < o->nidentities; i++)
		free(o->identities[i]);
	for (i = 0; i < o->nknown_hosts; i++)
		free(o->known_hosts[i]);
	o->nidentities = o->nknown_hosts = 0;
}

static int parse_bool(const char *v, int *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true"))
		*out = 1;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false"))
		*out = 0;
	else
		return -1;
	return 0;
}

static int parse_uint(const char *v, long max, long *out)
{
	char *end;
	long n;

	if (!isdigit((unsigned char)*v))
		return -1;
	n = strtol(v, &end, 10);
	if (*end || n < 0 || n > max)
		return -1;
	*out = n;
	return 0;
}

int ssh_opts_set(struct ssh_opts *o, const char *keyval, char *err,
		 size_t errlen)
{
	char key[64];
	const char *v;
	size_t klen = strcspn(keyval, "= \t");
	long n;
	int b;

	if (klen == 0 || klen >= sizeof(key)) {
		snprintf(err, errlen, "bad option '%s' (expected Key=Value)",
			 keyval);
		return -1;
	}
	memcpy(key, keyval, klen);
	key[klen] = '\0';
	v = keyval + klen;
	v += strspn(v, " \t");
	if (*v == '=')
		v++;
	v += strspn(v, " \t");
	if (!*v) {
		snprintf(err, errlen, "option %s needs a value", key);
		return -1;
	}

	if (!strcasecmp(key, "Port")) {
		if (parse_uint(v, 65535, &n) || n == 0)
			goto bad;
		o->port = (uint16_t)n;
	} else if (!strcasecmp(key, "User")) {
		snprintf(o->user, sizeof(o->user), "%s", v);
	} else if (!strcasecmp(key, "IdentityFile")) {
		if (o->nidentities >= SSH_MAX_IDENTITIES) {
			snprintf(err, errlen, "too many identity files");
			return -1;
		}
		o->identities[o->nidentities++] = strdup(v);
	} else if (!strcasecmp(key, "IdentitiesOnly")) {
		if (parse_bool(v, &b))
			goto bad;
		o->identities_only = b;
	} else if (!strcasecmp(key, "UserKnownHostsFile")) {
		/* Space-separated list, as in ssh_config. */
		char *copy = strdup(v), *save = NULL, *tok;

		for (tok = strtok_r(copy, " \t", &save); tok;
		     tok = strtok_r(NULL, " \t", &save))
			if (o->nknown_hosts < SSH_MAX_KNOWN_HOSTS)
				o->known_hosts[o->nknown_hosts++] = strdup(tok);
		free(copy);
	} else if (!strcasecmp(key, "StrictHostKeyChecking")) {
		if (!strcasecmp(v, "yes") || !strcasecmp(v, "true"))
			o->strict = SSH_STRICT_YES;
		else if (!strcasecmp(v, "accept-new"))
			o->strict = SSH_STRICT_ACCEPT_NEW;
		else if (!strcasecmp(v, "no") || !strcasecmp(v, "off") ||
			 !strcasecmp(v, "false"))
			o->strict = SSH_STRICT_NO;
		else if (!strcasecmp(v, "ask"))
			o->strict = SSH_STRICT_ASK;
		else
			goto bad;
		o->strict_set = 1;
	} else if (!strcasecmp(key, "ServerAliveInterval")) {
		if (parse_uint(v, 86400, &n))
			goto bad;
		o->alive_interval = (int)n;
	} else if (!strcasecmp(key, "ServerAliveCountMax")) {
		if (parse_uint(v, 1000, &n))
			goto bad;
		o->alive_count_max = (int)n;
	} else if (!strcasecmp(key, "ConnectTimeout")) {
		if (parse_uint(v, 86400, &n))
			goto bad;
		o->connect_timeout = (int)n;
	} else if (!strcasecmp(key, "BatchMode")) {
		if (parse_bool(v, &b))
			goto bad;
		o->batch_mode = b;
	} else if (!strcasecmp(key, "ExitOnForwardFailure")) {
		/* Always on: a tunnel that is not there is an error. */
		if (parse_bool(v, &b))
			goto bad;
	} else {
		snprintf(err, errlen,
			 "unsupported option '%s' (see ftp-tunnel(1) for the "
			 "options it knows)",
			 key);
		return -1;
	}
	return 0;
bad:
	snprintf(err, errlen, "bad value '%s' for option %s", v, key);
	return -1;
}

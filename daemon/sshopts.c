/* sshopts.c — SSH connection options, set the way ssh_config(5) names them
 * ("-o Key=Value" or "Key Value", keys case-insensitive), with a record of
 * which ones have a value so that the first value obtained can win. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spec.h"
#include "ssh.h"

void ssh_opts_init(struct ssh_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->port = 22;
	o->alive_count_max = 3;
	o->max_channels = SSH_DEFAULT_MAX_CHANNELS;
}

void ssh_opts_release(struct ssh_opts *o)
{
	int i;

	for (i = 0; i < o->nidentities; i++)
		free(o->identities[i]);
	for (i = 0; i < o->nknown_hosts; i++)
		free(o->known_hosts[i]);
	o->nidentities = o->nknown_hosts = 0;
	explicit_bzero(o->login_password, sizeof(o->login_password));
	o->login_given = 0;
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

/* A time as ssh_config(5) writes it: seconds, or numbers with units
 * ("90", "1m30s", "2h"; s m h d w, any case). */
static int parse_time(const char *v, long max, long *out)
{
	long total = 0, n;
	char *end;

	if (!isdigit((unsigned char)*v))
		return -1;
	while (*v) {
		if (!isdigit((unsigned char)*v))
			return -1;
		n = strtol(v, &end, 10);
		switch (*end) {
		case '\0':
			break;
		case 's': case 'S': end++; break;
		case 'm': case 'M': n *= 60; end++; break;
		case 'h': case 'H': n *= 3600; end++; break;
		case 'd': case 'D': n *= 86400; end++; break;
		case 'w': case 'W': n *= 604800; end++; break;
		default:
			return -1;
		}
		if (n < 0 || n > max || total > max - n)
			return -1;
		total += n;
		v = end;
	}
	*out = total;
	return 0;
}

static int parse_strict(const char *v, enum ssh_strict *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true"))
		*out = SSH_STRICT_YES;
	else if (!strcasecmp(v, "accept-new"))
		*out = SSH_STRICT_ACCEPT_NEW;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "off") ||
		 !strcasecmp(v, "false"))
		*out = SSH_STRICT_NO;
	else if (!strcasecmp(v, "ask"))
		*out = SSH_STRICT_ASK;
	else
		return -1;
	return 0;
}

/* The settings that take one value of a simple type. */
enum kind { K_PORT, K_USER, K_BOOL, K_STRICT, K_UINT, K_TIME, K_IGNORED };
static const struct {
	const char *key;
	enum kind kind;
	unsigned bit;
	long max;
} simple[] = {
    {"Port", K_PORT, SSH_SET_PORT, 65535},
    {"User", K_USER, SSH_SET_USER, 0},
    {"IdentitiesOnly", K_BOOL, SSH_SET_IDENTITIES_ONLY, 0},
    {"StrictHostKeyChecking", K_STRICT, SSH_SET_STRICT, 0},
    {"ServerAliveInterval", K_TIME, SSH_SET_ALIVE_INTERVAL, 86400},
    {"ServerAliveCountMax", K_UINT, SSH_SET_ALIVE_COUNT, 1000},
    {"ConnectTimeout", K_TIME, SSH_SET_CONNECT_TIMEOUT, 86400},
    {"BatchMode", K_BOOL, SSH_SET_BATCH, 0},
    /* Ours, not OpenSSH's: channels one SSH connection may carry. */
    {"MaxChannels", K_UINT, SSH_SET_MAX_CHANNELS, 100000},
    /* Ours too: SSH connections for concurrent FTP sessions. */
    {"Connections", K_UINT, SSH_SET_CONNECTIONS, 64},
    /* Always on: a tunnel that is not there is an error. */
    {"ExitOnForwardFailure", K_IGNORED, 0, 0},
};

/* Stores a checked simple value into its field. */
static void store_simple(struct ssh_opts *o, unsigned bit, const char *v,
			 long n, int b, enum ssh_strict st)
{
	switch (bit) {
	case SSH_SET_PORT: o->port = (uint16_t)n; break;
	case SSH_SET_USER: snprintf(o->user, sizeof(o->user), "%s", v); break;
	case SSH_SET_IDENTITIES_ONLY: o->identities_only = b; break;
	case SSH_SET_STRICT: o->strict = st; break;
	case SSH_SET_ALIVE_INTERVAL: o->alive_interval = (int)n; break;
	case SSH_SET_ALIVE_COUNT: o->alive_count_max = (int)n; break;
	case SSH_SET_CONNECT_TIMEOUT: o->connect_timeout = (int)n; break;
	case SSH_SET_BATCH: o->batch_mode = b; break;
	case SSH_SET_MAX_CHANNELS: o->max_channels = (int)n; break;
	case SSH_SET_CONNECTIONS: o->connections = (int)n; break;
	}
}

static int apply_simple(struct ssh_opts *o, size_t k, const char *v,
			enum ssh_apply how, char *err, size_t errlen)
{
	enum ssh_strict st = SSH_STRICT_ASK;
	long n = 0;
	int b = 0, bad = 0;

	switch (simple[k].kind) {
	case K_PORT:
		bad = parse_uint(v, simple[k].max, &n) || n == 0;
		break;
	case K_USER:
		bad = strlen(v) >= sizeof(o->user);
		break;
	case K_BOOL:
	case K_IGNORED:
		bad = parse_bool(v, &b);
		break;
	case K_STRICT:
		bad = parse_strict(v, &st);
		break;
	case K_UINT:
		bad = parse_uint(v, simple[k].max, &n);
		break;
	case K_TIME:
		bad = parse_time(v, simple[k].max, &n);
		break;
	}
	if (bad) {
		snprintf(err, errlen, "bad value '%s' for option %s", v,
			 simple[k].key);
		return -1;
	}
	if (!simple[k].bit)
		return 0;
	if (how == SSH_APPLY_FIRST && (o->set & simple[k].bit))
		return 1;
	store_simple(o, simple[k].bit, v, n, b, st);
	o->set |= simple[k].bit;
	return 0;
}

static int apply_known_hosts(struct ssh_opts *o, char *const *args, int nargs,
			     enum ssh_apply how, char *err, size_t errlen)
{
	int i;

	if (how == SSH_APPLY_FIRST && (o->set & SSH_SET_KNOWN_HOSTS))
		return 1;
	/* -o given twice adds to the list, as before this option was
	 * tracked; a file's list replaces nothing (it comes first or not at
	 * all). */
	for (i = 0; i < nargs; i++) {
		if (o->nknown_hosts >= SSH_MAX_KNOWN_HOSTS) {
			snprintf(err, errlen, "too many known hosts files");
			return -1;
		}
		/* "none": no file, so nothing is known and nothing is kept. */
		o->known_hosts[o->nknown_hosts] =
		    strdup(strcasecmp(args[i], "none") ? args[i] : "/dev/null");
		if (!o->known_hosts[o->nknown_hosts]) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		o->nknown_hosts++;
	}
	o->set |= SSH_SET_KNOWN_HOSTS;
	return 0;
}

static int apply_hostname(struct ssh_opts *o, const char *v,
			  enum ssh_apply how, char *err, size_t errlen)
{
	if (!*v || strlen(v) >= sizeof(o->host)) {
		snprintf(err, errlen, "bad value '%s' for option HostName", v);
		return -1;
	}
	if (how == SSH_APPLY_FIRST && (o->set & SSH_SET_HOSTNAME))
		return 1;
	/* Keep the name the user gave, for messages. */
	if (!o->alias[0] && strcasecmp(o->host, v))
		snprintf(o->alias, sizeof(o->alias), "%s", o->host);
	snprintf(o->host, sizeof(o->host), "%s", v);
	o->set |= SSH_SET_HOSTNAME;
	return 0;
}

int ssh_opts_apply(struct ssh_opts *o, const char *key, char *const *args,
		   int nargs, enum ssh_apply how, char *err, size_t errlen)
{
	static const char *const others[] = {"UserKnownHostsFile", "IdentityFile",
					     "HostName", "ProxyJump",
					     "ProxyCommand"};
	size_t k;
	int known = 0;

	for (k = 0; k < sizeof(others) / sizeof(others[0]); k++)
		known |= !strcasecmp(key, others[k]);
	for (k = 0; k < sizeof(simple) / sizeof(simple[0]); k++)
		known |= !strcasecmp(key, simple[k].key);
	if (!known)
		return SSH_OPTS_UNKNOWN;
	if (nargs < 1) {
		snprintf(err, errlen, "option %s needs a value", key);
		return -1;
	}
	if (!strcasecmp(key, "UserKnownHostsFile"))
		return apply_known_hosts(o, args, nargs, how, err, errlen);
	if (nargs > 1) {
		snprintf(err, errlen, "option %s takes one value", key);
		return -1;
	}
	if (!strcasecmp(key, "IdentityFile")) {
		if (o->nidentities >= SSH_MAX_IDENTITIES) {
			snprintf(err, errlen, "too many identity files");
			return -1;
		}
		o->identities[o->nidentities] = strdup(args[0]);
		if (!o->identities[o->nidentities]) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		o->nidentities++;
		return 0;
	}
	if (!strcasecmp(key, "HostName"))
		return apply_hostname(o, args[0], how, err, errlen);
	if (!strcasecmp(key, "ProxyJump") || !strcasecmp(key, "ProxyCommand")) {
		/* Only "none", which lets -o cancel a file's proxy. */
		if (strcasecmp(args[0], "none")) {
			snprintf(err, errlen,
				 "%s is not supported by ftp-tunnel", key);
			return -1;
		}
		if (how == SSH_APPLY_FIRST && (o->set & SSH_SET_PROXY))
			return 1;
		o->set |= SSH_SET_PROXY;
		return 0;
	}
	for (k = 0; strcasecmp(key, simple[k].key); k++)
		;
	return apply_simple(o, k, args[0], how, err, errlen);
}

int ssh_opts_set(struct ssh_opts *o, const char *keyval, char *err,
		 size_t errlen)
{
	char key[64], *args[SSH_MAX_KNOWN_HOSTS + 1], *copy, *save = NULL;
	const char *v;
	size_t klen = strcspn(keyval, "= \t");
	int nargs = 0, rc;

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
	copy = strdup(v);
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!strcasecmp(key, "UserKnownHostsFile")) {
		/* Space-separated list, as in ssh_config. */
		char *tok;

		for (tok = strtok_r(copy, " \t", &save);
		     tok && nargs < SSH_MAX_KNOWN_HOSTS + 1;
		     tok = strtok_r(NULL, " \t", &save))
			args[nargs++] = tok;
	} else {
		args[nargs++] = copy;
	}
	rc = ssh_opts_apply(o, key, args, nargs, SSH_APPLY_REPLACE, err,
			    errlen);
	free(copy);
	if (rc == SSH_OPTS_UNKNOWN) {
		snprintf(err, errlen,
			 "unsupported option '%s' (see ftp-tunnel(1) for the "
			 "options it knows)",
			 key);
		return -1;
	}
	return rc < 0 ? -1 : 0;
}

int ssh_opts_set_dest(struct ssh_opts *o, const char *dest)
{
	char user[sizeof(o->user)] = "", host[sizeof(o->host)];
	uint16_t port = 0;

	if (spec_parse_dest(dest, user, sizeof(user), host, sizeof(host),
			    &port) < 0)
		return -1;
	if (user[0]) {
		snprintf(o->user, sizeof(o->user), "%s", user);
		o->set |= SSH_SET_USER;
	}
	if (port) {
		o->port = port;
		o->set |= SSH_SET_PORT;
	}
	if (o->set & SSH_SET_HOSTNAME) {
		/* -o HostName came first: the destination is its alias. */
		snprintf(o->alias, sizeof(o->alias), "%s",
			 strcasecmp(o->host, host) ? host : "");
	} else {
		snprintf(o->host, sizeof(o->host), "%s", host);
		o->alias[0] = '\0';
	}
	return 0;
}

void ssh_opts_key(const struct ssh_opts *o, char *buf, size_t len)
{
	size_t n = 0;
	int i;

#define ADD(...)                                                               \
	do {                                                                   \
		if (n < len)                                                   \
			n += (size_t)snprintf(buf + n, len - n, __VA_ARGS__);  \
	} while (0)
	if (!len)
		return;
	buf[0] = '\0';
	ADD("%s@%s:%u as %s|io=%d|strict=%d/%d|alive=%d/%d|ct=%d|batch=%d/%d"
	    "|maxch=%d|conns=%d",
	    o->user, o->host, o->port, o->alias, o->identities_only, o->strict,
	    !!(o->set & SSH_SET_STRICT), o->alive_interval, o->alive_count_max,
	    o->connect_timeout, o->batch_mode, o->no_auth_prompt,
	    o->max_channels, o->connections);
	for (i = 0; i < o->nidentities; i++)
		ADD("|id=%s", o->identities[i]);
	for (i = 0; i < o->nknown_hosts; i++)
		ADD("|kh=%s", o->known_hosts[i]);
#undef ADD
}

/* sshopts.c — SSH connection options, set the way ssh_config(5) names them
 * ("-o Key=Value" or "Key Value", keys case-insensitive), with a record of
 * which ones have a value so that the first value obtained can win. The
 * keys and the checking of their values are common/sshkeys.c's (shared
 * with the configuration file's parser); this file stores them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spec.h"
#include "ssh.h"
#include "sshkeys.h"

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

/* Which bit of o->set records each key (0: never recorded). */
static const unsigned set_bit[SSHKEY_COUNT] = {
    [SSHKEY_HOSTNAME] = SSH_SET_HOSTNAME,
    [SSHKEY_PORT] = SSH_SET_PORT,
    [SSHKEY_USER] = SSH_SET_USER,
    [SSHKEY_IDENTITIES_ONLY] = SSH_SET_IDENTITIES_ONLY,
    [SSHKEY_KNOWN_HOSTS] = SSH_SET_KNOWN_HOSTS,
    [SSHKEY_STRICT] = SSH_SET_STRICT,
    [SSHKEY_ALIVE_INTERVAL] = SSH_SET_ALIVE_INTERVAL,
    [SSHKEY_ALIVE_COUNT] = SSH_SET_ALIVE_COUNT,
    [SSHKEY_CONNECT_TIMEOUT] = SSH_SET_CONNECT_TIMEOUT,
    [SSHKEY_BATCH] = SSH_SET_BATCH,
    [SSHKEY_MAX_CHANNELS] = SSH_SET_MAX_CHANNELS,
    [SSHKEY_CONNECTIONS] = SSH_SET_CONNECTIONS,
    [SSHKEY_PROXY_JUMP] = SSH_SET_PROXY,
    [SSHKEY_PROXY_COMMAND] = SSH_SET_PROXY,
};

static enum ssh_strict strict_of(long v)
{
	switch (v) {
	case SSHKEYS_STRICT_YES:
		return SSH_STRICT_YES;
	case SSHKEYS_STRICT_ACCEPT_NEW:
		return SSH_STRICT_ACCEPT_NEW;
	case SSHKEYS_STRICT_NO:
		return SSH_STRICT_NO;
	default:
		return SSH_STRICT_ASK;
	}
}

/* Stores a checked value (v as given, n as sshkeys_value read it) into
 * its field. */
static void store(struct ssh_opts *o, int id, const char *v, long n)
{
	switch (id) {
	case SSHKEY_HOSTNAME:
		/* Keep the name the user gave, for messages. */
		if (!o->alias[0] && strcasecmp(o->host, v))
			snprintf(o->alias, sizeof(o->alias), "%s", o->host);
		snprintf(o->host, sizeof(o->host), "%s", v);
		break;
	case SSHKEY_PORT:
		o->port = (uint16_t)n;
		break;
	case SSHKEY_USER:
		snprintf(o->user, sizeof(o->user), "%s", v);
		break;
	case SSHKEY_IDENTITIES_ONLY:
		o->identities_only = (int)n;
		break;
	case SSHKEY_STRICT:
		o->strict = strict_of(n);
		break;
	case SSHKEY_ALIVE_INTERVAL:
		o->alive_interval = (int)n;
		break;
	case SSHKEY_ALIVE_COUNT:
		o->alive_count_max = (int)n;
		break;
	case SSHKEY_CONNECT_TIMEOUT:
		o->connect_timeout = (int)n;
		break;
	case SSHKEY_BATCH:
		o->batch_mode = (int)n;
		break;
	case SSHKEY_MAX_CHANNELS:
		o->max_channels = (int)n;
		break;
	case SSHKEY_CONNECTIONS:
		o->connections = (int)n;
		break;
	default:
		break; /* ExitOnForwardFailure, ProxyJump none: no field */
	}
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

static int add_identity(struct ssh_opts *o, const char *v, char *err,
			size_t errlen)
{
	if (o->nidentities >= SSH_MAX_IDENTITIES) {
		snprintf(err, errlen, "too many identity files");
		return -1;
	}
	o->identities[o->nidentities] = strdup(v);
	if (!o->identities[o->nidentities]) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	o->nidentities++;
	return 0;
}

/* ProxyJump and ProxyCommand compete, as in ssh_config(5): whichever
 * comes first wins, and "none" is a value that wins too. */
static int apply_proxy(struct ssh_opts *o, const char *key, const char *v,
		       enum ssh_apply how, char *err, size_t errlen)
{
	int jump = !strcasecmp(key, "ProxyJump"), none = !strcasecmp(v, "none");

	(void)err;
	(void)errlen; /* sshkeys_value checked v */
	if (how == SSH_APPLY_FIRST && (o->set & SSH_SET_PROXY))
		return 1;
	o->proxy_jump[0] = o->proxy_command[0] = '\0';
	if (!none)
		snprintf(jump ? o->proxy_jump : o->proxy_command,
			 sizeof(o->proxy_jump), "%s", v);
	o->set |= SSH_SET_PROXY;
	return 0;
}

int ssh_opts_apply(struct ssh_opts *o, const char *key, char *const *args,
		   int nargs, enum ssh_apply how, char *err, size_t errlen)
{
	int id = sshkeys_find(key);
	char why[200];
	long n;

	if (id < 0)
		return SSH_OPTS_UNKNOWN;
	key = sshkeys[id].name;
	if (nargs < 1) {
		snprintf(err, errlen, "option %s needs a value", key);
		return -1;
	}
	if (id == SSHKEY_KNOWN_HOSTS)
		return apply_known_hosts(o, args, nargs, how, err, errlen);
	if (nargs > 1) {
		snprintf(err, errlen, "option %s takes one value", key);
		return -1;
	}
	if (sshkeys_value(id, args[0], &n, why, sizeof(why)) < 0) {
		/* The messages ftp-tunnel(1) and its tests know. */
		if (sshkeys[id].type == SSHKEY_T_JUMP ||
		    sshkeys[id].type == SSHKEY_T_COMMAND)
			snprintf(err, errlen, "%s: %s", key, why);
		else
			snprintf(err, errlen, "bad value '%s' for option %s",
				 args[0], key);
		return -1;
	}
	if (id == SSHKEY_PROXY_JUMP || id == SSHKEY_PROXY_COMMAND)
		return apply_proxy(o, key, args[0], how, err, errlen);
	if (id == SSHKEY_IDENTITY_FILE)
		return add_identity(o, args[0], err, errlen);
	if (!set_bit[id])
		return 0;
	if (how == SSH_APPLY_FIRST && (o->set & set_bit[id]))
		return 1;
	store(o, id, args[0], n);
	o->set |= set_bit[id];
	return 0;
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
	rc =
	    ssh_opts_apply(o, key, args, nargs, SSH_APPLY_REPLACE, err, errlen);
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
	    "|maxch=%d|conns=%d|pj=%s|pc=%s|jd=%d",
	    o->user, o->host, o->port, o->alias, o->identities_only, o->strict,
	    !!(o->set & SSH_SET_STRICT), o->alive_interval, o->alive_count_max,
	    o->connect_timeout, o->batch_mode, o->no_auth_prompt,
	    o->max_channels, o->connections, o->proxy_jump, o->proxy_command,
	    o->jump_depth);
	for (i = 0; i < o->nidentities; i++)
		ADD("|id=%s", o->identities[i]);
	for (i = 0; i < o->nknown_hosts; i++)
		ADD("|kh=%s", o->known_hosts[i]);
#undef ADD
}

/* sshkeys.c — the option keys ftp-tunnel knows, the checking of their
 * values and the words of a "Key value" line (sshkeys.h), shared by -o,
 * ~/.ssh/config and the configuration file's blocks so that they accept
 * the same things. Pure. */
#include "sshkeys.h"

#include "spec.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct sshkey sshkeys[SSHKEY_COUNT] = {
    [SSHKEY_HOSTNAME] = {"HostName", SSHKEY_T_HOST, 256},
    [SSHKEY_PORT] = {"Port", SSHKEY_T_PORT, 65535},
    [SSHKEY_USER] = {"User", SSHKEY_T_TEXT, SSHKEYS_USER_MAX},
    [SSHKEY_IDENTITY_FILE] = {"IdentityFile", SSHKEY_T_FILE,
			      SSHKEYS_MAX_IDENTITIES},
    [SSHKEY_IDENTITIES_ONLY] = {"IdentitiesOnly", SSHKEY_T_BOOL, 0},
    [SSHKEY_KNOWN_HOSTS] = {"UserKnownHostsFile", SSHKEY_T_FILES,
			    SSHKEYS_MAX_KNOWN_HOSTS},
    [SSHKEY_STRICT] = {"StrictHostKeyChecking", SSHKEY_T_STRICT, 0},
    [SSHKEY_ALIVE_INTERVAL] = {"ServerAliveInterval", SSHKEY_T_TIME, 86400},
    [SSHKEY_ALIVE_COUNT] = {"ServerAliveCountMax", SSHKEY_T_UINT, 1000},
    [SSHKEY_CONNECT_TIMEOUT] = {"ConnectTimeout", SSHKEY_T_TIME, 86400},
    [SSHKEY_BATCH] = {"BatchMode", SSHKEY_T_BOOL, 0},
    /* Ours, not OpenSSH's: channels one SSH connection may carry. */
    [SSHKEY_MAX_CHANNELS] = {"MaxChannels", SSHKEY_T_UINT, 100000},
    /* Ours too: SSH connections for concurrent FTP sessions. */
    [SSHKEY_CONNECTIONS] = {"Connections", SSHKEY_T_UINT, 64},
    /* Always on: a tunnel that is not there is an error. */
    [SSHKEY_EXIT_ON_FORWARD_FAILURE] = {"ExitOnForwardFailure", SSHKEY_T_BOOL,
					0},
    /* One or the other ("none": neither), the first one given winning
     * over the other as in ssh_config(5); daemon/ssh/transport.c. */
    [SSHKEY_PROXY_JUMP] = {"ProxyJump", SSHKEY_T_JUMP, SSHKEYS_PROXY_MAX},
    [SSHKEY_PROXY_COMMAND] = {"ProxyCommand", SSHKEY_T_COMMAND,
			      SSHKEYS_PROXY_MAX},
};

/* ProxyJump: "none", or jump hosts separated by commas, each
 * "[user@]host[:port]" or the same as an ssh:// URI. */
static int check_jumps(const char *v, long max, char *why, size_t whylen)
{
	char copy[SSHKEYS_PROXY_MAX], user[SSHKEYS_USER_MAX], host[256];
	char *save = NULL, *hop;
	size_t len = strlen(v);
	uint16_t port;
	int n = 0;

	if (!strcasecmp(v, "none"))
		return 0;
	if (len >= (size_t)max || len >= sizeof(copy)) {
		snprintf(why, whylen, "the list is too long");
		return -1;
	}
	if (!len || v[0] == ',' || v[len - 1] == ',' || strstr(v, ",,")) {
		snprintf(why, whylen,
			 "an empty jump host in '%s' (expected "
			 "[user@]host[:port][,...])",
			 v);
		return -1;
	}
	memcpy(copy, v, len + 1);
	for (hop = strtok_r(copy, ",", &save); hop;
	     hop = strtok_r(NULL, ",", &save)) {
		if (++n > SSHKEYS_MAX_JUMPS) {
			snprintf(why, whylen, "more than %d jump hosts",
				 SSHKEYS_MAX_JUMPS);
			return -1;
		}
		if (!strncasecmp(hop, "ssh://", 6))
			hop += 6;
		port = 0;
		if (spec_parse_dest(hop, user, sizeof(user), host, sizeof(host),
				    &port) < 0) {
			snprintf(why, whylen,
				 "bad jump host '%s' (expected "
				 "[user@]host[:port][,...])",
				 hop);
			return -1;
		}
	}
	return 0;
}

/* ProxyCommand: "none", or a command whose tokens are those of OpenSSH
 * that name the connection. */
static int check_command(const char *v, long max, char *why, size_t whylen)
{
	const char *p;

	if (strlen(v) >= (size_t)max || strchr(v, '\n')) {
		snprintf(why, whylen, "too long, or more than one line");
		return -1;
	}
	for (p = strchr(v, '%'); p; p = strchr(p + 2, '%')) {
		if (!p[1] || !strchr("hpnr%", p[1])) {
			snprintf(why, whylen,
				 "unknown token %%%c (ftp-tunnel knows %%h %%p "
				 "%%r %%n and %%%%)",
				 p[1] ? p[1] : ' ');
			return -1;
		}
	}
	return 0;
}

int sshkeys_find(const char *key)
{
	int i;

	for (i = 0; i < SSHKEY_COUNT; i++)
		if (!strcasecmp(key, sshkeys[i].name))
			return i;
	return -1;
}

int sshkeys_yes_no(const char *v)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true"))
		return 1;
	if (!strcasecmp(v, "no") || !strcasecmp(v, "false"))
		return 0;
	return -1;
}

static int parse_strict(const char *v, long *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true"))
		*out = SSHKEYS_STRICT_YES;
	else if (!strcasecmp(v, "accept-new"))
		*out = SSHKEYS_STRICT_ACCEPT_NEW;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "off") ||
		 !strcasecmp(v, "false"))
		*out = SSHKEYS_STRICT_NO;
	else if (!strcasecmp(v, "ask"))
		*out = SSHKEYS_STRICT_ASK;
	else
		return -1;
	return 0;
}

/* Decimal digits only, 0 to max. */
static int parse_uint(const char *v, long max, long *out)
{
	unsigned long n;
	char *end;

	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || n > (unsigned long)max)
		return -1;
	*out = (long)n;
	return 0;
}

/* A time as ssh_config(5) writes it: seconds, or numbers with units
 * ("90", "1m30s", "2h"; s m h d w, any case), 0 to max seconds. */
static int parse_time(const char *v, long max, long *out)
{
	unsigned long n;
	long total = 0, unit;
	char *end;

	if (!*v)
		return -1;
	while (*v) {
		if (!isdigit((unsigned char)*v))
			return -1;
		errno = 0;
		n = strtoul(v, &end, 10);
		switch (*end) {
		case '\0':
			unit = 1;
			break;
		case 's':
		case 'S':
			unit = 1;
			end++;
			break;
		case 'm':
		case 'M':
			unit = 60;
			end++;
			break;
		case 'h':
		case 'H':
			unit = 3600;
			end++;
			break;
		case 'd':
		case 'D':
			unit = 86400;
			end++;
			break;
		case 'w':
		case 'W':
			unit = 604800;
			end++;
			break;
		default:
			return -1;
		}
		/* Checked before multiplying: no overflow. */
		if (errno || n > (unsigned long)max / (unsigned long)unit ||
		    total > max - (long)n * unit)
			return -1;
		total += (long)n * unit;
		v = end;
	}
	*out = total;
	return 0;
}

int sshkeys_value(int id, const char *v, long *n, char *why, size_t whylen)
{
	const struct sshkey *k;

	*n = 0;
	if (id < 0 || id >= SSHKEY_COUNT) {
		snprintf(why, whylen, "not an option ftp-tunnel knows");
		return -1;
	}
	k = &sshkeys[id];
	switch (k->type) {
	case SSHKEY_T_HOST:
		if (*v && strlen(v) < (size_t)k->max)
			return 0;
		snprintf(why, whylen, "not a host name or an address");
		return -1;
	case SSHKEY_T_PORT:
		if (parse_uint(v, k->max, n) == 0 && *n > 0)
			return 0;
		snprintf(why, whylen, "not a port (1 to 65535)");
		return -1;
	case SSHKEY_T_TEXT:
		if (*v && strlen(v) < (size_t)k->max)
			return 0;
		snprintf(why, whylen, "not a user name (1 to %ld bytes)",
			 k->max - 1);
		return -1;
	case SSHKEY_T_FILE:
	case SSHKEY_T_FILES:
		return 0;
	case SSHKEY_T_BOOL:
		*n = sshkeys_yes_no(v);
		if (*n >= 0)
			return 0;
		*n = 0;
		snprintf(why, whylen, "want yes or no");
		return -1;
	case SSHKEY_T_STRICT:
		if (parse_strict(v, n) == 0)
			return 0;
		snprintf(why, whylen, "want yes, no, ask or accept-new");
		return -1;
	case SSHKEY_T_UINT:
		if (parse_uint(v, k->max, n) == 0)
			return 0;
		snprintf(why, whylen, "not a number from 0 to %ld", k->max);
		return -1;
	case SSHKEY_T_TIME:
		if (parse_time(v, k->max, n) == 0)
			return 0;
		snprintf(why, whylen,
			 "not a number of seconds from 0 to %ld, or a time "
			 "such as 1m30s",
			 k->max);
		return -1;
	case SSHKEY_T_JUMP:
		return check_jumps(v, k->max, why, whylen);
	case SSHKEY_T_COMMAND:
		return check_command(v, k->max, why, whylen);
	}
	snprintf(why, whylen, "not a value ftp-tunnel knows");
	return -1;
}

int sshkeys_ftp_active(const char *v)
{
	if (!strcasecmp(v, "forward"))
		return SSHKEYS_ACTIVE_FORWARD;
	if (!strcasecmp(v, "passive") || !strcasecmp(v, "convert"))
		return SSHKEYS_ACTIVE_CONVERT;
	if (!strcasecmp(v, "auto"))
		return SSHKEYS_ACTIVE_AUTO;
	return -1;
}

int sshkeys_ftp_passive_reply(const char *v)
{
	if (!strcasecmp(v, "control"))
		return 0;
	if (!strcasecmp(v, "reply"))
		return 1;
	return -1;
}

int sshkeys_sftp_login(const char *v)
{
	if (!strcasecmp(v, "tunnel"))
		return 0;
	if (!strcasecmp(v, "ftp"))
		return 1;
	return -1;
}

#define WS " \t\r\n"

int sshkeys_split(char *s, char **w, int max)
{
	int n = 0;

	s += strspn(s, WS);
	if (!*s || *s == '#')
		return 0;
	w[n++] = s;
	s += strcspn(s, WS "=");
	if (*s) {
		int eq = *s == '=';

		*s++ = '\0';
		s += strspn(s, WS);
		if (!eq && *s == '=')
			s++;
		s += strspn(s, WS);
	}
	while (*s && *s != '#') {
		char *out = s, quote = 0;

		if (n >= max)
			return SSHKEYS_SPLIT_MANY;
		w[n++] = out;
		while (*s) {
			if (*s == '\\' &&
			    (s[1] == '"' || s[1] == '\'' || s[1] == '\\' ||
			     (!quote && s[1] == ' '))) {
				*out++ = s[1];
				s += 2;
			} else if (!quote && strchr(WS, *s)) {
				break;
			} else if (!quote && (*s == '"' || *s == '\'')) {
				quote = *s++;
			} else if (quote && *s == quote) {
				quote = 0;
				s++;
			} else {
				*out++ = *s++;
			}
		}
		if (quote)
			return SSHKEYS_SPLIT_QUOTE;
		if (*s)
			s++;
		*out = '\0';
		s += strspn(s, WS);
	}
	return n;
}

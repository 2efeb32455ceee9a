/* sshkeys.h — the option keys of ftp-tunnel -o, of ~/.ssh/config and of
 * the configuration file's Profile and Route blocks, in one place: the
 * table of the SSH keys (names, kinds of value, limits), the checking of a
 * value, the values of ftp-tunnel's own keys (FtpActiveMode,
 * FtpPassiveAddress, SftpLogin), and the splitting of an
 * ssh_config-style "Key value" line into words (one syntax for
 * ~/.ssh/config and the configuration file).
 *
 * Pure (no I/O, no globals but the constant table, no libssh2): the shim
 * links it through common/conf.c. daemon/ssh/sshopts.c applies checked
 * values to struct ssh_opts; common/conf.c checks a block's lines with the
 * same functions, so a value one accepts the other accepts too. */
#ifndef SSHKEYS_H
#define SSHKEYS_H

#include <stddef.h>

/* The keys, in the table's order (sshkeys[id]). */
enum sshkey_id {
	SSHKEY_HOSTNAME,
	SSHKEY_PORT,
	SSHKEY_USER,
	SSHKEY_IDENTITY_FILE,
	SSHKEY_IDENTITIES_ONLY,
	SSHKEY_KNOWN_HOSTS,
	SSHKEY_STRICT,
	SSHKEY_ALIVE_INTERVAL,
	SSHKEY_ALIVE_COUNT,
	SSHKEY_CONNECT_TIMEOUT,
	SSHKEY_BATCH,
	SSHKEY_MAX_CHANNELS,
	SSHKEY_CONNECTIONS,
	SSHKEY_EXIT_ON_FORWARD_FAILURE,
	SSHKEY_PROXY_JUMP,
	SSHKEY_PROXY_COMMAND,
	SSHKEY_COUNT
};

/* What a key's value is. */
enum sshkey_type {
	SSHKEY_T_HOST,	 /* a host name or address, shorter than max bytes */
	SSHKEY_T_PORT,	 /* 1 to 65535 */
	SSHKEY_T_TEXT,	 /* a non-empty word shorter than max bytes */
	SSHKEY_T_FILE,	 /* one file; the key may be repeated, max files */
	SSHKEY_T_FILES,	 /* up to max files in one value, or "none" */
	SSHKEY_T_BOOL,	 /* yes/true or no/false */
	SSHKEY_T_STRICT, /* enum sshkeys_strict */
	SSHKEY_T_UINT,	 /* 0 to max */
	SSHKEY_T_TIME,	 /* seconds, or ssh_config(5)'s 1m30s; 0 to max */
	/* "none", or [user@]host[:port] jump hosts, comma-separated, at
	 * most SSHKEYS_MAX_JUMPS */
	SSHKEY_T_JUMP,
	/* "none", or a shell command with the tokens %h %p %r %n %% only,
	 * shorter than max */
	SSHKEY_T_COMMAND,
};

struct sshkey {
	const char *name; /* as ssh_config(5) spells it */
	enum sshkey_type type;
	long max; /* see the type */
};

#define SSHKEYS_MAX_IDENTITIES 16
#define SSHKEYS_MAX_KNOWN_HOSTS 8
#define SSHKEYS_USER_MAX 128 /* a user name and its NUL */
/* Jump hosts in a row at most: ProxyJump blocks that name each other
 * would otherwise chain connections without end. */
#define SSHKEYS_MAX_JUMPS 8
/* ProxyJump's list and ProxyCommand's command line, with the NUL. */
#define SSHKEYS_PROXY_MAX 1024

extern const struct sshkey sshkeys[SSHKEY_COUNT];

/* The id of key (any case), or -1 for a key ftp-tunnel does not know. */
int sshkeys_find(const char *key);

/* StrictHostKeyChecking's values. */
enum sshkeys_strict {
	SSHKEYS_STRICT_ASK,
	SSHKEYS_STRICT_YES,
	SSHKEYS_STRICT_ACCEPT_NEW,
	SSHKEYS_STRICT_NO
};

/* Checks one value of key id (one file of a SSHKEY_T_FILES list). 0 with
 * *n set: the number, port or seconds, 1/0 for yes/no, an enum
 * sshkeys_strict, 0 for the other types. -1 with what the value should be
 * in why ("not a port (1 to 65535)"), for a message that names the key and
 * the value. Files are checked for length only: where a relative name is
 * refused is the caller's rule. */
int sshkeys_value(int id, const char *v, long *n, char *why, size_t whylen);

/* A yes/no value (yes, true, no, false; any case): 1, 0, or -1. */
int sshkeys_yes_no(const char *v);

/* FtpActiveMode, FtpPassiveAddress and SftpLogin (ftp-tunnel's own keys, not
 * ssh_config's): the value, or -1 when it is none of those below. */
enum sshkeys_active {
	SSHKEYS_ACTIVE_FORWARD, /* forward */
	SSHKEYS_ACTIVE_CONVERT, /* passive, convert */
	SSHKEYS_ACTIVE_AUTO	/* auto */
};
int sshkeys_ftp_active(const char *v);
/* 0 for control, 1 for reply, -1 otherwise. */
int sshkeys_ftp_passive_reply(const char *v);
/* SftpLogin: 0 for tunnel (ftp-tunnel's own SSH login serves an sftp/
 * tunnel's FTP logins), 1 for ftp (each FTP login's USER and PASS log in
 * to SSH), -1 otherwise. */
int sshkeys_sftp_login(const char *v);

/* Splits a line (NUL-terminated, changed in place) as ssh does with
 * ssh_config: the keyword ends at white space or one '='; arguments are
 * separated by white space, "double" or 'single' quoted, with \" \' \\
 * (and "\ " outside quotes) escaped; a '#' at the start of a word ends the
 * line. Up to max (at least 1) words into w, pointing into s. Returns
 * their number (0: blank or comment), SSHKEYS_SPLIT_QUOTE for an
 * unterminated quote, SSHKEYS_SPLIT_MANY for more than max words. */
#define SSHKEYS_SPLIT_QUOTE (-1)
#define SSHKEYS_SPLIT_MANY (-2)
int sshkeys_split(char *s, char **w, int max);

#endif

/* sshconfig.h — OpenSSH's client configuration (~/.ssh/config,
 * /etc/ssh/ssh_config) applied to struct ssh_opts: a parser that takes the
 * text of one file, and a loader that finds and reads the files.
 *
 * Precedence is ssh_config(5)'s: what is set in the ssh_opts before
 * (the command line) wins, then the user's file, then the system's; for
 * each setting the first value obtained wins, IdentityFile accumulates.
 */
#ifndef SSHCONFIG_H
#define SSHCONFIG_H

#include <stddef.h>

#include "ssh.h"

#define SSHCONFIG_MAX_DEPTH 16 /* Include nesting */

/* What the tokens and "~" in paths expand to. Strings borrowed. */
struct sshconfig_env {
	const char *home;	/* ~ and %d */
	const char *local_user; /* %u, and User's default */
	const char *local_host; /* %l */
	unsigned long uid;	/* %i */
};

struct sshconfig;
/* Reads the files an Include names and parses each (sshconfig_parse, at
 * depth). path is absolute and may be a glob; incdir is passed on. 0, or
 * -1 with one line in err. */
typedef int (*sshconfig_include_fn)(struct sshconfig *c, const char *path,
				    const char *incdir, int depth, char *err,
				    size_t errlen);

/* One reading of the configuration for one destination. */
struct sshconfig {
	struct ssh_opts *o;	      /* borrowed: settings are applied here */
	struct sshconfig_env env;     /* borrowed strings */
	char given[256];	      /* the host as given: Host patterns */
	sshconfig_include_fn include; /* NULL: Include is an error */
	void *arg;		      /* for include */
};

/* Starts a reading for o's destination (o->host as given, or o->alias
 * when -o HostName replaced it). */
void sshconfig_init(struct sshconfig *c, struct ssh_opts *o,
		    const struct sshconfig_env *env);
/* Applies the text of one file, named fname in messages; relative Include
 * paths are taken in incdir. Does no I/O but through c->include. 0, or -1
 * with one line naming fname and the line in err. */
int sshconfig_parse(struct sshconfig *c, const char *text, const char *fname,
		    const char *incdir, int depth, char *err, size_t errlen);
/* After every file: the defaults (User = the local user, Port 22) where
 * nothing was set, then the tokens and "~" of IdentityFile and
 * UserKnownHostsFile expanded. 0, or -1 with err. */
int sshconfig_finish(struct ssh_opts *o, const struct sshconfig_env *env,
		     char *err, size_t errlen);

/* The loader: reads the user's file ($FTP_TUNNEL_SSH_CONFIG, or
 * ~/.ssh/config) and the system's ($FTP_TUNNEL_SSH_SYSTEM_CONFIG, or
 * /etc/ssh/ssh_config) for o's destination, then sshconfig_finish. Blocks
 * (reads files). 0, or -1 with one line in err. */
int sshconfig_load(struct ssh_opts *o, char *err, size_t errlen);

#endif

/* fgrun.h — a foreground ftp-tunnel at work: the settings its command
 * line settled (main.c) and the run of its tunnels (fgrun.c).
 *
 * Threads: the main thread runs signals, the status socket and the pool
 * (connpool.h); the SSH connection the tunnels run on (own), its tunnels
 * and their FTP sessions live on own's worker, like every SSH connection
 * of ftp-tunneld; extra connections on workers of their own. The worker
 * tells the main thread what ends the process through the pool's queue
 * (connpool_post_main). Without own (every tunnel an sftp/ one with
 * SftpLogin=ftp) the tunnels run on the main thread. */
#ifndef FGRUN_H
#define FGRUN_H

#include <stdatomic.h>
#include <stdint.h>

#include "connpool.h"
#include "fgsock.h"
#include "ipc.h"
#include "profile.h"
#include "spec.h"
#include "ssh.h"
#include "tunnel.h"

#define MAX_TUNNELS 64
#define MAX_CLI_OPTIONS 64

/* What the command line settled (main.c fills it), then what fgrun
 * keeps while the tunnels run. */
struct cli {
	struct loop *loop;
	struct ssh_opts opts;
	struct fwd_spec specs[MAX_TUNNELS];
	struct tunnel *tunnels[MAX_TUNNELS]; /* own's worker's, or alone's */
	char tnames[MAX_TUNNELS][600];	     /* their names, for status */
	atomic_int up[MAX_TUNNELS];	     /* reported up */
	int ntunnels;
	int pending; /* tunnels not yet up (the tunnels' thread) */
	int ready_fd;
	int exit_code;
	int stop_signal; /* the signal that stopped us, or 0 */
	int check;	 /* --check: connect, authenticate, exit */
	/* --check-sftp: --check for ftp-tunnel-wrap --sftp, whose login
	 * may be each FTP login's (SftpLogin=ftp): nothing to check then. */
	int check_sftp;
	struct tunnel_opts topts;
	int ftp_sessions;      /* on own */
	struct connpool *pool; /* own and, for -L ftp/ tunnels, extras */
	struct pool_conn *own; /* the tunnels' session, or NULL */
	/* SftpLogin=ftp alone (no own): the tunnels' thread, and its way
	 * back to the main thread. */
	struct worker *alone;
	struct taskq *mainq;
	int may_prompt;	      /* own's login may ask on the terminal */
	atomic_int logged_in; /* own is ready: it asks nothing more */
	atomic_int own_down;  /* own failed or was lost */
	char pool_key[CONNPOOL_KEY_MAX];
	/* -o, -p, -l, -i, -J as "Key=Value", applied after a profile's. */
	struct {
		const char *key; /* "Port=" etc., or "" for -o */
		const char *arg; /* argv's */
	} cli_options[MAX_CLI_OPTIONS];
	int ncli_options;
	/* -f: the settings and tunnels as given, for the daemon's HOLD. */
	int hold;
	struct ipc_msg *hold_req;
	char spec_text[MAX_TUNNELS][PROFILE_SPEC_MAX];
	/* For `ftp-tunnel status`: our socket, what we were started as. */
	struct fgsock *status;
	const char *name; /* the profile or destination (argv's) */
	int profile;	  /* name is a profile's */
	char command[900];
	uint64_t started_ms;
	unsigned long ctl_ids; /* FTP control connections so far */
};

/* Runs c's tunnels (or, with c->check, only logs in) until a signal, a
 * STOP or an error, then frees what it made. Returns the status to exit
 * with: 0, 1 (a tunnel failed), 255 (the SSH connection failed or was
 * lost). */
int fgrun(struct cli *c);

#endif

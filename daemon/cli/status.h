/* status.h — `ftp-tunnel status [--json]` and `ftp-tunnel stop`: the
 * command line's requests to the user's daemon (docs/IPC.txt). */
#ifndef CLI_STATUS_H
#define CLI_STATUS_H

/* Whether argv (as main got it) asks for one of these commands. */
int status_cli_wanted(int argc, char **argv);
/* Runs it; returns the exit status. Blocks (bounded by timeouts). */
int status_cli_main(int argc, char **argv);

#endif

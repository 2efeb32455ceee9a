/* tty.h — questions to the user on the controlling terminal. */
#ifndef TTY_H
#define TTY_H

#include <stddef.h>

/* Nonzero when /dev/tty can be opened for reading and writing. */
int tty_available(void);
/* Prints prompt on /dev/tty and reads one line into out (without newline).
 * echo=0 hides the input. Blocks; SIGINT, SIGTERM, SIGHUP or SIGQUIT
 * during the prompt restore the terminal and end the process by that
 * signal. Returns 0, or -1 (no terminal, EOF). */
int tty_ask(const char *prompt, int echo, char *out, size_t outlen);

#endif

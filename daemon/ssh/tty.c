/* tty.c — prompts on /dev/tty, so they work with stdin/stdout redirected. */
#include "tty.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

int tty_available(void)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/* The signals that end a prompt. The programs block them for their
 * signalfd, so a plain blocking read would never see them: we wait for
 * them beside the terminal, and re-raise one after the terminal is
 * restored (as readpassphrase(3) does). */
static int stop_signals_fd(sigset_t *old)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigprocmask(SIG_BLOCK, &set, old);
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		sigprocmask(SIG_SETMASK, old, NULL);
	return fd;
}

/* Reads one line from fd; returns 0, -1 on EOF or error, or the number
 * of a stop signal that arrived first. */
static int read_line(int fd, int sigfd, char *out, size_t outlen)
{
	size_t n = 0;
	char c;

	for (;;) {
		struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
				      {.fd = sigfd, .events = POLLIN}};
		struct signalfd_siginfo si;

		if (poll(p, sigfd >= 0 ? 2 : 1, -1) < 0)
			continue;
		if (sigfd >= 0 && (p[1].revents & POLLIN) &&
		    read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			return (int)si.ssi_signo;
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (read(fd, &c, 1) <= 0)
			return -1;
		if (c == '\n' || c == '\r')
			break;
		if (n + 1 < outlen)
			out[n++] = c;
	}
	out[n] = '\0';
	return 0;
}

static void die_of(int sig)
{
	sigset_t set;

	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	raise(sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	_exit(128 + sig); /* only if the default action did not end us */
}

int tty_ask(const char *prompt, int echo, char *out, size_t outlen)
{
	struct termios saved, quiet;
	sigset_t old_mask;
	int fd, sigfd = -1, restore = 0, rc = -1;

	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || outlen == 0)
		goto out;
	/* Quiet the terminal before the prompt shows: an answer typed as
	 * soon as the prompt appears must not be flushed away. */
	if (!echo && tcgetattr(fd, &saved) == 0) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	if (write(fd, prompt, strlen(prompt)) < 0)
		goto out;
	sigfd = stop_signals_fd(&old_mask);
	rc = read_line(fd, sigfd, out, outlen);
out:
	if (restore) {
		tcsetattr(fd, TCSAFLUSH, &saved);
		ssize_t w = write(fd, "\n", 1); /* the newline echo ate */
		(void)w;
	}
	if (sigfd >= 0) {
		close(sigfd);
		if (rc <= 0)
			sigprocmask(SIG_SETMASK, &old_mask, NULL);
	}
	if (fd >= 0)
		close(fd);
	if (rc > 0) {
		memset(out, 0, outlen);
		die_of(rc);
	}
	return rc;
}

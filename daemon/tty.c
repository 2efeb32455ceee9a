/* tty.c — prompts on /dev/tty, so they work with stdin/stdout redirected. */
#include "tty.h"

#include <fcntl.h>
#include <string.h>
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

int tty_ask(const char *prompt, int echo, char *out, size_t outlen)
{
	struct termios saved, quiet;
	int fd, restore = 0, rc = -1;
	size_t n = 0;
	char c;

	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || outlen == 0)
		goto out;
	if (write(fd, prompt, strlen(prompt)) < 0)
		goto out;
	if (!echo && tcgetattr(fd, &saved) == 0) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	for (;;) {
		ssize_t r = read(fd, &c, 1);

		if (r <= 0)
			goto out;
		if (c == '\n' || c == '\r')
			break;
		if (n + 1 < outlen)
			out[n++] = c;
	}
	out[n] = '\0';
	rc = 0;
out:
	if (restore) {
		tcsetattr(fd, TCSAFLUSH, &saved);
		ssize_t w = write(fd, "\n", 1); /* the newline echo ate */
		(void)w;
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

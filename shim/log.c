/* log.c — the shim's only output: one-line messages on stderr, written
 * with a single write(2) so lines from threads and processes never mix and
 * no stdio buffer of the program is touched. */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static void say(const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void say(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];
	int n, m;
	int saved = errno;

	n = snprintf(line, sizeof(line), "%s", prefix);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* Nowhere else to report it. */
	}
	errno = saved;
}

void shim_say(const char *fmt, ...)
{
	va_list ap;

	/* A privileged program's stderr is its caller's to read: it is told
	 * nothing the program's own errno does not say, unless logging was
	 * asked for. */
	if (!shim_cfg.debug && shim_privileged())
		return;
	va_start(ap, fmt);
	say("ftp-tunnel: ", fmt, ap);
	va_end(ap);
}

void shim_debug(const char *fmt, ...)
{
	char prefix[48];
	va_list ap;

	if (!shim_cfg.debug)
		return;
	snprintf(prefix, sizeof(prefix), "ftp-tunnel[%ld]: ", (long)getpid());
	va_start(ap, fmt);
	say(prefix, fmt, ap);
	va_end(ap);
}

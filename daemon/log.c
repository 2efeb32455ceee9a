/* log.c — leveled logging; one line per message, written atomically. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Process-wide by nature: the level is set once by main from -v. */
static int log_level = LOG_LVL_WARN;
static const char *log_prefix = "ftp-tunnel";

void log_set_level(int level)
{
	log_level = level;
}

int log_get_level(void)
{
	return log_level;
}

void log_set_prefix(const char *prefix)
{
	log_prefix = prefix;
}

void log_msg(int level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info",
					    "debug", "trace"};
	char line[1024];
	int n;
	va_list ap;

	if (level > log_level)
		return;
	n = snprintf(line, sizeof(line), "%s: %s%s", log_prefix,
		     level == LOG_LVL_INFO ? "" : names[level],
		     level == LOG_LVL_INFO ? "" : ": ");
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	/* One write(2) per line, so lines of concurrent processes don't mix. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

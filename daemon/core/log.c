/* log.c — leveled logging; one line per message, written atomically, to
 * stderr, an appended file or syslog. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[] = {"error", "warning", "info", "debug",
					  "trace"};

/* Process-wide by nature: main sets them once from its options. */
static int log_level = LOG_LVL_WARN;
static const char *log_prefix = "ftp-tunnel";
static int log_fd = STDERR_FILENO; /* -1: syslog */
static int log_to_file;

void log_set_level(int level)
{
	if (level < LOG_LVL_ERR)
		level = LOG_LVL_ERR;
	if (level > LOG_LVL_TRACE)
		level = LOG_LVL_TRACE;
	log_level = level;
}

int log_get_level(void)
{
	return log_level;
}

int log_parse_level(const char *name)
{
	int i;

	if (name[0] >= '0' && name[0] <= '4' && !name[1])
		return name[0] - '0';
	if (!strcasecmp(name, "warn"))
		return LOG_LVL_WARN;
	for (i = LOG_LVL_ERR; i <= LOG_LVL_TRACE; i++)
		if (!strcasecmp(name, level_names[i]))
			return i;
	return -1;
}

void log_set_prefix(const char *prefix)
{
	log_prefix = prefix;
}

int log_open(const char *where)
{
	int fd;

	if (!strcmp(where, "stderr")) {
		fd = STDERR_FILENO;
	} else if (!strcmp(where, "syslog")) {
		openlog(log_prefix, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		fd = -1;
	} else {
		fd = open(where, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			  0600);
		if (fd < 0)
			return -errno;
	}
	if (log_to_file)
		close(log_fd);
	if (log_fd < 0 && fd >= 0)
		closelog();
	log_fd = fd;
	log_to_file = fd > STDERR_FILENO;
	return 0;
}

int log_stderr_useful(void)
{
	struct stat st, null;

	if (fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return !(S_ISCHR(st.st_mode) && stat("/dev/null", &null) == 0 &&
		 st.st_rdev == null.st_rdev);
}

void log_msg(int level, const char *fmt, ...)
{
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG,
				   LOG_DEBUG};
	char line[1100];
	int n = 0, body;
	va_list ap;

	if (level > log_level)
		return;
	if (log_to_file) {
		/* A file is read later: when, and which process. */
		struct timeval tv;
		struct tm tm;

		gettimeofday(&tv, NULL);
		localtime_r(&tv.tv_sec, &tm);
		n = (int)strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S", &tm);
		n += snprintf(line + n, sizeof(line) - (size_t)n,
			      ".%03ld %s[%d]: ", (long)tv.tv_usec / 1000,
			      log_prefix, (int)getpid());
	} else if (log_fd >= 0) {
		n = snprintf(line, sizeof(line), "%s: ", log_prefix);
	}
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	body = n;
	if (level != LOG_LVL_INFO)
		n += snprintf(line + n, sizeof(line) - (size_t)n,
			      "%s: ", level_names[level]);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (log_fd < 0) {
		/* syslog adds the ident and the pid itself. */
		syslog(prio[level], "%s", line + body);
		return;
	}
	n = (int)strlen(line);
	line[n++] = '\n';
	/* One write(2) per line, so lines of concurrent processes don't mix. */
	if (write(log_fd, line, (size_t)n) < 0)
		return;
}

/* log.h — leveled logging, one line per message, to stderr, a file or
 * syslog. */
#ifndef LOG_H
#define LOG_H

enum log_level {
	LOG_LVL_ERR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
	LOG_LVL_TRACE
};

/* Messages above `level` are dropped. Default LOG_LVL_WARN; values out
 * of range are clamped. */
void log_set_level(int level);
int log_get_level(void);
/* A level's name ("error", "warn" or "warning", "info", "debug",
 * "trace") or number (0-4) to its value; -1 if it is neither. */
int log_parse_level(const char *name);
/* Prefix for every line, e.g. the program name; also the syslog ident.
 * Borrowed. */
void log_set_prefix(const char *prefix);

/* Where lines go from now on: "stderr" (the default), "syslog"
 * (facility LOG_DAEMON, the prefix as ident, with the pid), or a file
 * path, appended to (created mode 0600), each line with a timestamp and
 * the pid. 0, or -errno (the destination is then unchanged). */
int log_open(const char *where);
/* Whether stderr goes somewhere a person or a journal reads: open, and
 * not /dev/null (where a daemon started by the shim has it). */
int log_stderr_useful(void);

void log_msg(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_trace(...) log_msg(LOG_LVL_TRACE, __VA_ARGS__)

#endif

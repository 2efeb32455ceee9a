/* log.h — leveled logging to stderr (or syslog in the daemon). */
#ifndef LOG_H
#define LOG_H

enum log_level { LOG_LVL_ERR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG,
		 LOG_LVL_TRACE };

/* Messages above `level` are dropped. Default LOG_LVL_WARN. */
void log_set_level(int level);
int log_get_level(void);
/* Prefix for every line, e.g. the program name. Borrowed. */
void log_set_prefix(const char *prefix);

void log_msg(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_trace(...) log_msg(LOG_LVL_TRACE, __VA_ARGS__)

#endif

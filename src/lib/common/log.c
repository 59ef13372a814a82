#include <stdio.h>

#include "internal.h"
#include "banned.h"

/* One line of log text; longer messages are truncated (they are one-liners by contract). */
#define PV_LOG_LINE_MAX 2048

static pv_log_fn log_callback;
static void *log_user;
static enum pv_log_level log_max_level = PV_LOG_INFO;

void pv_log_set_callback(pv_log_fn fn, void *user)
{
	log_callback = fn;
	log_user = user;
}

void pv_log_set_level(enum pv_log_level max_level)
{
	log_max_level = max_level;
}

enum pv_log_level pv_log_get_level(void)
{
	return log_max_level;
}

const char *pv_log_level_name(enum pv_log_level level)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };

	if ((unsigned)level < PV_ARRAY_SIZE(names))
		return names[level];
	return "log";
}

void pv_vlog(enum pv_log_level level, const char *module, const char *fmt, va_list ap)
{
	char line[PV_LOG_LINE_MAX];

	if (!log_callback || level > log_max_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	log_callback(level, module ? module : "piprov", line, log_user);
}

void pv_log(enum pv_log_level level, const char *module, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pv_vlog(level, module, fmt, ap);
	va_end(ap);
}

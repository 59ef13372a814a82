#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "cli.h"
#include "banned.h"

int cli_fail(int status)
{
	fprintf(stderr, "piprov: error: %s\n", status ? pv_last_error() : "unknown failure");
	return CLI_EXIT_FAILURE;
}

int cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("piprov: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_EXIT_FAILURE;
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = cli_usage_vprint(fmt, ap);
	va_end(ap);
	return rc;
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	if (cli_quiet())
		return;
	fputs("piprov: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_log_to_stderr(enum pv_log_level level, const char *module, const char *message,
		       void *user)
{
	(void)user;
	if (level <= PV_LOG_WARN)
		fprintf(stderr, "piprov: %s: %s: %s\n", pv_log_level_name(level), module, message);
	else
		fprintf(stderr, "piprov: %s: %s\n", module, message);
}

int cli_print_json(json_t *value)
{
	char *text;

	if (!value)
		return cli_error("out of memory");
	text = json_dumps(value, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(value);
	if (!text)
		return cli_error("out of memory");
	puts(text);
	free(text);
	return CLI_EXIT_OK;
}

/* Messages of both programs name the command that prints them ("piprov eeprom check: ..."),
 * set once by the dispatcher (cli_messages.h). */
#include <stdarg.h>
#include <stdio.h>

#include "cli_messages.h"
#include "piprov/text.h"
#include "banned.h"

static char command_name[160] = "piprov";
static bool quiet;

void cli_quiet_set(bool value)
{
	quiet = value;
}

bool cli_quiet(void)
{
	return quiet;
}

void cli_name_set(const char *name)
{
	pv_strlcpy(command_name, name, sizeof(command_name));
}

const char *cli_name(void)
{
	return command_name;
}

int cli_usage_hint(void)
{
	fprintf(stderr, "Try '%s --help'.\n", command_name);
	return 2;
}

int cli_usage_vprint(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", command_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	return cli_usage_hint();
}

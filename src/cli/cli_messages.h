/* The name in messages: the program and the command words ("piprov eeprom check",
 * "piprov-node netboot"), and usage errors in the one shape both programs use:
 *   piprov eeprom check: unrecognized option '--x'
 *   Try 'piprov eeprom check --help'. */
#ifndef PIPROV_CLI_MESSAGES_H
#define PIPROV_CLI_MESSAGES_H

#include <stdarg.h>
#include <stdbool.h>

/* Set by the dispatcher before a command runs (copied; at most 159 bytes kept). */
void cli_name_set(const char *name);
const char *cli_name(void);
/* -q (errors only): set by the dispatcher; warnings and progress are not printed then. */
void cli_quiet_set(bool quiet);
bool cli_quiet(void);
/* "Try '<name> --help'." on stderr; returns 2 (the usage exit status). For getopt's '?':
 * getopt has already printed "<argv[0]>: unrecognized option ..." with argv[0] = name. */
int cli_usage_hint(void);
/* "<name>: <formatted>" and the hint; returns 2. */
int cli_usage_vprint(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif

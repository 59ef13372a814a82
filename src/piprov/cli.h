/* Shared plumbing of the piprov command line: the only layer that prints or exits. */
#ifndef PIPROV_CLI_H
#define PIPROV_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "piprov/error.h"
#include "piprov/log.h"
#include "cli_messages.h"

/* Exit statuses of every piprov command. */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAILURE = 1, /* the operation failed (or, for usb flash: some boards failed) */
	CLI_EXIT_USAGE = 2,   /* bad command line */
};

/* What every command gets: the global options (parsed once, before or after the command
 * name, by cli_globals_parse(); see docs/HACKING.md), already merged with the environment. */
struct cli_context {
	const char *argv0;    /* "piprov" */
	int verbosity;        /* 0 default, 1 = -v (info), 2 = -vv (debug) */
	bool quiet;           /* -q: errors only */
	bool json;            /* --json: machine-readable output */
	/* --inventory FILE, else $PIPROV_INVENTORY, else NULL (pv_inventory_path() gives the
	 * default file); inventory_from_option: it came from the command line. */
	const char *inventory;
	bool inventory_from_option;
	/* --root DIR, else $PIPROV_ROOT, else NULL ("/"): the board's root directory. */
	const char *root;
	bool root_from_option;
};

/* What main.c's dispatcher checks for a command (and `piprov help --commands` lists). */
enum cli_command_flags {
	CLI_JSON = 1u << 0,  /* takes --json (without it, --json is a usage error) */
	CLI_WAITS = 1u << 1, /* waits for boards or devices: usage errors come before */
};

/* A command: `piprov NAME args...`, or a group of subcommands `piprov NAME SUB args...`.
 * fn gets argv with argv[0] = the full command name ("piprov eeprom check", so getopt's
 * messages name it) and runs its own getopt_long (optind already 1); on getopt's '?' it
 * returns cli_usage_hint(). Returns an enum cli_exit value. A group has subs (ending in a
 * { NULL } entry) and usage (its help text; fn is then NULL): the dispatcher picks the
 * subcommand, prints the group's help for `--help` anywhere in its arguments, and the
 * errors for a missing or unknown subcommand. */
struct cli_command {
	const char *name;
	int (*fn)(int argc, char **argv, struct cli_context *ctx);
	const char *summary;
	unsigned flags;                 /* enum cli_command_flags */
	const struct cli_command *subs;
	void (*usage)(FILE *out);
};

/* Print "piprov: error: <pv_last_error()>" (or the given status text) to stderr and return
 * CLI_EXIT_FAILURE: the one way a command reports a library failure. */
int cli_fail(int status);
/* Print "piprov: error: <formatted>" and return CLI_EXIT_FAILURE. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "<command>: <formatted>" + "Try '<command> --help'." (the command being run, e.g.
 * "piprov eeprom check"), return CLI_EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print value (a new reference, taken; NULL = out of memory) to stdout, indented, with a
 * final newline. Returns CLI_EXIT_OK or the failure printed. */
int cli_print_json(json_t *value);
/* Print "piprov: warning: <formatted>" (nothing with -q). */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The log callback that prints library messages to stderr per ctx verbosity. */
void cli_log_to_stderr(enum pv_log_level level, const char *module, const char *message,
		       void *user);

/* Commands and groups, one file each (cmd_<group>.c). */
extern const struct cli_command cli_eeprom_commands[];
void cmd_eeprom_usage(FILE *out);
int cmd_eeprom_config(int argc, char **argv, struct cli_context *ctx);
extern const struct cli_command cli_usb_commands[];
void cmd_usb_usage(FILE *out);
int cmd_rpiboot(int argc, char **argv, struct cli_context *ctx);
extern const struct cli_command cli_inventory_commands[];
void cmd_inventory_usage(FILE *out);
extern const struct cli_command cli_uart_commands[];
void cmd_uart_usage(FILE *out);
int cmd_station(int argc, char **argv, struct cli_context *ctx);
extern const struct cli_command cli_netboot_commands[];
void cmd_netboot_usage(FILE *out);

#endif

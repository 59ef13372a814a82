/* Shared plumbing of the piprov command line: the only layer that prints or exits. */
#ifndef PIPROV_CLI_H
#define PIPROV_CLI_H

#include <stdbool.h>

#include "piprov/error.h"
#include "piprov/log.h"

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

/* A command group: `piprov NAME args...`. fn gets argv with argv[0] == NAME and runs its
 * own getopt_long. Returns an enum cli_exit value. */
struct cli_command {
	const char *name;
	int (*fn)(int argc, char **argv, struct cli_context *ctx);
	const char *summary;
};

/* Print "piprov: error: <pv_last_error()>" (or the given status text) to stderr and return
 * CLI_EXIT_FAILURE: the one way a command reports a library failure. */
int cli_fail(int status);
/* Print "piprov: error: <formatted>" and return CLI_EXIT_FAILURE. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "piprov: <formatted>" + a hint to use --help, return CLI_EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "piprov: warning: <formatted>". */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The log callback that prints library messages to stderr per ctx verbosity. */
void cli_log_to_stderr(enum pv_log_level level, const char *module, const char *message,
		       void *user);

/* Command groups, one file each (cmd_<group>.c). */
int cmd_eeprom(int argc, char **argv, struct cli_context *ctx);
int cmd_eeprom_config(int argc, char **argv, struct cli_context *ctx);
int cmd_usb(int argc, char **argv, struct cli_context *ctx);
int cmd_rpiboot(int argc, char **argv, struct cli_context *ctx);
int cmd_inventory(int argc, char **argv, struct cli_context *ctx);
int cmd_uart(int argc, char **argv, struct cli_context *ctx);

#endif

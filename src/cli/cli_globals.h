/* The global options of piprov and piprov-node, parsed in one place (docs/HACKING.md,
 * "Command-line conventions"):
 *   -v, -vv, --verbose   more messages (info, debug)
 *   -q, --quiet          errors only
 *   --json               machine-readable output (commands that read or check)
 *   --inventory FILE     the inventory file ($PIPROV_INVENTORY)
 *   --root DIR           the board's root directory ($PIPROV_ROOT)
 *   --help, -h           before the command: the program's help
 *   --version            the program's version
 * They are accepted before or after the command name, anywhere up to a "--". Only whole
 * words are matched, so an option value that starts with '-' is safe as --opt=VALUE. */
#ifndef PIPROV_CLI_GLOBALS_H
#define PIPROV_CLI_GLOBALS_H

#include <stdbool.h>

#define CLI_ROOT_ENV "PIPROV_ROOT"

struct cli_globals {
	int verbosity;          /* 0 warnings, 1 = -v (info), 2 = -vv (debug) */
	bool quiet;             /* -q: errors only */
	bool json;              /* --json */
	bool help;              /* --help/-h before the command name */
	bool version;           /* --version */
	/* --inventory FILE, else $PIPROV_INVENTORY (non-empty), else NULL. */
	const char *inventory;
	bool inventory_from_option;
	/* --root DIR, else $PIPROV_ROOT (non-empty), else NULL. */
	const char *root;
	bool root_from_option;
	/* The command name: the first word that is not a global option, NULL if none. */
	const char *command;
};

/* Take the global options out of argv (argv[0] is kept; the others keep their order) and
 * fill g. Before the command name only global options may appear; after it, any other
 * word is left for the command (--help/-h too: the command's help). Returns the new argc,
 * or -1 after printing a usage error naming program ("piprov: unrecognized option ...",
 * "Try 'piprov --help'."). */
int cli_globals_parse(const char *program, int argc, char **argv, struct cli_globals *g);

/* The log level the verbosity options ask for (a pv_log_level). */
int cli_globals_log_level(const struct cli_globals *g);

/* Call once before main returns (both programs do): flushes standard output and checks
 * that everything printed was written. On a failure prints "<program>: error: cannot write
 * to standard output: <reason>" and returns 1 (unless status already says failure), else
 * returns status. */
int cli_finish_stdout(const char *program, int status);

#endif

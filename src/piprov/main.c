/* piprov: the host tool. Parses global options, installs the stderr log callback and
 * dispatches to one command group (table below); each group parses its own options. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "banned.h"

static const struct cli_command commands[] = {
	{ "eeprom", cmd_eeprom, "read, check, patch, digest and verify bootloader EEPROM images" },
	{ "eeprom-config", cmd_eeprom_config, "drop-in replacement for rpi-eeprom-config" },
	{ "usb", cmd_usb, "list, boot and flash boards attached over USB (or virtual ones)" },
	{ "rpiboot", cmd_rpiboot, "drop-in replacement for rpiboot" },
	{ "inventory", cmd_inventory, "the board inventory and its netboot exports" },
	{ "uart", cmd_uart, "capture and explain bootloader serial logs" },
};

static void print_usage(FILE *out)
{
	fprintf(out, "usage: piprov [-v|-vv|-q] <command> [<args>]\n"
		     "       piprov --version | --help\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'piprov <command> --help' shows the options of a command.\n");
}

int main(int argc, char **argv)
{
	struct cli_context ctx = { .argv0 = "piprov" };
	int first;

	/* Global options come before the command name; stop at the first non-option. */
	for (first = 1; first < argc && argv[first][0] == '-'; first++) {
		const char *opt = argv[first];
		if (strcmp(opt, "-v") == 0 || strcmp(opt, "--verbose") == 0) {
			ctx.verbosity++;
		} else if (strcmp(opt, "-vv") == 0) {
			ctx.verbosity += 2;
		} else if (strcmp(opt, "-q") == 0 || strcmp(opt, "--quiet") == 0) {
			ctx.quiet = true;
		} else if (strcmp(opt, "--version") == 0) {
			printf("piprov %s\n", PIPROV_VERSION);
			return CLI_EXIT_OK;
		} else if (strcmp(opt, "-h") == 0 || strcmp(opt, "--help") == 0) {
			print_usage(stdout);
			return CLI_EXIT_OK;
		} else {
			return cli_usage_error("unknown option '%s'", opt);
		}
	}
	if (first >= argc) {
		print_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	pv_log_set_level(ctx.quiet ? PV_LOG_ERROR
				   : ctx.verbosity >= 2 ? PV_LOG_DEBUG
				   : ctx.verbosity == 1 ? PV_LOG_INFO
							: PV_LOG_WARN);
	pv_log_set_callback(cli_log_to_stderr, &ctx);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[first], commands[i].name) == 0) {
			optind = 1; /* each command runs getopt_long from the start */
			return commands[i].fn(argc - first, argv + first, &ctx);
		}
	}
	return cli_usage_error("'%s' is not a piprov command", argv[first]);
}

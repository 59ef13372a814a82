/* piprov: the host tool. Parses the global options (one parser shared with piprov-node,
 * anywhere on the command line), installs the stderr log callback and dispatches to one
 * command group (table below); each group parses its own options. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_globals.h"
#include "piprov/inventory.h"
#include "banned.h"

static int cmd_help(int argc, char **argv, struct cli_context *ctx);

static const struct cli_command commands[] = {
	{ "eeprom", cmd_eeprom, "read, check, patch, digest and verify bootloader EEPROM images" },
	{ "eeprom-config", cmd_eeprom_config, "drop-in replacement for rpi-eeprom-config" },
	{ "usb", cmd_usb, "list, boot and flash boards attached over USB (or virtual ones)" },
	{ "rpiboot", cmd_rpiboot, "drop-in replacement for rpiboot" },
	{ "inventory", cmd_inventory, "the board inventory and its netboot exports" },
	{ "uart", cmd_uart, "capture and explain bootloader serial logs" },
	{ "help", cmd_help, "this list, or the help of one command ('piprov help usb')" },
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static void print_usage(FILE *out)
{
	fprintf(out, "usage: piprov [GLOBAL OPTIONS] <command> [<args>]\n"
		     "       piprov --version | --help | help [COMMAND]\n\ncommands:\n");
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nglobal options (before or after the command):\n"
		     "  -v, -vv          more messages (info, debug)\n"
		     "  -q               errors only\n"
		     "  --json           machine-readable output (commands that read or check)\n"
		     "  --inventory FILE the inventory (default $%s, else ./%s)\n"
		     "  --root DIR       the board's root directory (default $%s, else /)\n"
		     "\n'piprov help <command>' shows the options of a command.\n",
		PV_INVENTORY_ENV, PV_INVENTORY_DEFAULT_PATH, CLI_ROOT_ENV);
}

static const struct cli_command *find_command(const char *name)
{
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

/* piprov help [COMMAND [SUBCOMMAND]]: the same text as --help. */
static int cmd_help(int argc, char **argv, struct cli_context *ctx)
{
	const struct cli_command *cmd;
	char *help_argv[4];

	if (argc < 2) {
		print_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (argc > 3)
		return cli_usage_error("help: one COMMAND [SUBCOMMAND] expected");
	cmd = find_command(argv[1]);
	if (!cmd || cmd->fn == cmd_help)
		return cli_usage_error("help: '%s' is not a piprov command", argv[1]);
	help_argv[0] = argv[1];
	if (argc == 3) {
		help_argv[1] = argv[2];
		help_argv[2] = (char *)"--help";
		help_argv[3] = NULL;
	} else {
		help_argv[1] = (char *)"--help";
		help_argv[2] = NULL;
	}
	optind = 1;
	return cmd->fn(argc, help_argv, ctx);
}

static int run(int argc, char **argv)
{
	struct cli_context ctx = { .argv0 = "piprov" };
	const struct cli_command *cmd;
	struct cli_globals g;

	argc = cli_globals_parse("piprov", argc, argv, &g);
	if (argc < 0)
		return CLI_EXIT_USAGE;
	if (g.version) {
		printf("piprov %s\n", PIPROV_VERSION);
		return CLI_EXIT_OK;
	}
	if (g.help) {
		print_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (argc < 2) {
		print_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	ctx.verbosity = g.verbosity;
	ctx.quiet = g.quiet;
	ctx.json = g.json;
	ctx.inventory = g.inventory;
	ctx.inventory_from_option = g.inventory_from_option;
	ctx.root = g.root;
	ctx.root_from_option = g.root_from_option;
	pv_log_set_level((enum pv_log_level)cli_globals_log_level(&g));
	pv_log_set_callback(cli_log_to_stderr, &ctx);
	cmd = find_command(argv[1]);
	if (!cmd)
		return cli_usage_error("'%s' is not a piprov command", argv[1]);
	optind = 1; /* each command runs getopt_long from the start */
	return cmd->fn(argc - 1, argv + 1, &ctx);
}

int main(int argc, char **argv)
{
	return cli_finish_stdout("piprov", run(argc, argv));
}

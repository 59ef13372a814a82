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
#include "piprov/text.h"
#include "banned.h"

static int cmd_help(int argc, char **argv, struct cli_context *ctx);

/* Every command; `piprov help --commands` lists them (the convention tests read it). */
static const struct cli_command commands[] = {
	{ "eeprom", NULL, "read, check, patch, digest and verify bootloader EEPROM images", 0,
	  cli_eeprom_commands, cmd_eeprom_usage },
	{ "eeprom-config", cmd_eeprom_config, "drop-in replacement for rpi-eeprom-config" },
	{ "usb", NULL, "list, boot and flash boards attached over USB (or virtual ones)", 0,
	  cli_usb_commands, cmd_usb_usage },
	{ "rpiboot", cmd_rpiboot, "drop-in replacement for rpiboot", CLI_JSON | CLI_WAITS },
	{ "station", cmd_station, "flash, record and export boards as they are plugged in",
	  CLI_JSON | CLI_WAITS },
	{ "inventory", NULL, "the board inventory and its netboot exports", 0,
	  cli_inventory_commands, cmd_inventory_usage },
	{ "uart", NULL, "capture and explain bootloader serial logs", 0, cli_uart_commands,
	  cmd_uart_usage },
	{ "netboot", NULL, "check the boot servers as a board would; boot virtual boards", 0,
	  cli_netboot_commands, cmd_netboot_usage },
	{ "help", cmd_help, "this list, or the help of one command ('piprov help usb')" },
	{ NULL, NULL, NULL },
};

static void print_usage(FILE *out)
{
	fprintf(out, "usage: piprov [GLOBAL OPTIONS] <command> [<args>]\n"
		     "       piprov --version | --help | help [COMMAND]\n\ncommands:\n");
	for (const struct cli_command *c = commands; c->name; c++)
		fprintf(out, "  %-14s %s\n", c->name, c->summary);
	fprintf(out, "\nglobal options (before or after the command):\n"
		     "  -v, -vv          more messages (info, debug)\n"
		     "  -q               errors only\n"
		     "  --json           machine-readable output (commands that read or check)\n"
		     "  --inventory FILE the inventory (default $%s, else ./%s)\n"
		     "  --root DIR       the board's root directory (default $%s, else /)\n"
		     "\n'piprov help <command>' shows the options of a command.\n",
		PV_INVENTORY_ENV, PV_INVENTORY_DEFAULT_PATH, CLI_ROOT_ENV);
}

static const struct cli_command *find_command(const struct cli_command *table, const char *name)
{
	for (const struct cli_command *c = table; c->name; c++)
		if (strcmp(name, c->name) == 0)
			return c;
	return NULL;
}

/* The subcommand names of a group, "info, config, ..." for messages. */
static void list_names(const struct cli_command *table, char *out, size_t size)
{
	size_t len = 0;

	out[0] = '\0';
	for (const struct cli_command *c = table; c->name && len < size; c++) {
		int n = snprintf(out + len, size - len, "%s%s", c == table ? "" : ", ", c->name);
		if (n < 0)
			break;
		len += (size_t)n;
	}
}

static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

/* Run argv[0] of table (a word under parent, "piprov" or "piprov eeprom"). */
static int dispatch(const struct cli_command *table, const char *parent, int argc, char **argv,
		    struct cli_context *ctx)
{
	const struct cli_command *cmd = find_command(table, argv[0]);
	char name[160], names[256];

	if (!cmd) {
		list_names(table, names, sizeof(names));
		return cli_usage_error("'%s' is not a command (%s)", argv[0], names);
	}
	snprintf(name, sizeof(name), "%s %s", parent, cmd->name);
	cli_name_set(name);
	if (cmd->subs) {
		if (argc < 2 || wants_help(argc, argv)) {
			cmd->usage(argc < 2 ? stderr : stdout);
			return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
		}
		return dispatch(cmd->subs, name, argc - 1, argv + 1, ctx);
	}
	if (ctx->json && !(cmd->flags & CLI_JSON) && !wants_help(argc, argv))
		return cli_usage_error("--json is not an option of this command (it has no "
				       "report to print)");
	argv[0] = name;
	optind = 1; /* each command runs getopt_long from the start */
	return cmd->fn(argc, argv, ctx);
}

static void print_command_line(const char *name, const char *sub, unsigned flags)
{
	printf("%s%s%s\t%s%s%s\n", name, sub[0] ? " " : "", sub, flags & CLI_JSON ? "json" : "",
	       (flags & CLI_JSON) && (flags & CLI_WAITS) ? " " : "",
	       flags & CLI_WAITS ? "waits" : "");
}

/* piprov help [COMMAND [SUBCOMMAND]]: the same text as --help. piprov help --commands: one
 * line per command, "NAME[ SUB]<TAB>FLAGS" (json, waits), for scripts and tests. */
static int cmd_help(int argc, char **argv, struct cli_context *ctx)
{
	char *help_argv[4];

	if (argc == 2 && strcmp(argv[1], "--commands") == 0) {
		for (const struct cli_command *c = commands; c->name; c++) {
			if (!c->subs)
				print_command_line(c->name, "", c->flags);
			for (const struct cli_command *s = c->subs; s && s->name; s++)
				print_command_line(c->name, s->name, s->flags);
		}
		return CLI_EXIT_OK;
	}
	if (argc < 2 || wants_help(argc, argv) || (argc == 2 && strcmp(argv[1], "help") == 0)) {
		print_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (argv[1][0] == '-')
		return cli_usage_error("unrecognized option '%s'", argv[1]);
	if (argc > 3)
		return cli_usage_error("one COMMAND [SUBCOMMAND] expected");
	if (!find_command(commands, argv[1]) || strcmp(argv[1], "help") == 0)
		return cli_usage_error("'%s' is not a piprov command", argv[1]);
	help_argv[0] = argv[1];
	help_argv[argc - 1] = (char *)"--help";
	if (argc == 3)
		help_argv[1] = argv[2];
	help_argv[argc] = NULL;
	cli_name_set("piprov");
	return dispatch(commands, "piprov", argc, help_argv, ctx);
}

static int run(int argc, char **argv)
{
	struct cli_context ctx = { .argv0 = "piprov" };
	struct cli_globals g;

	cli_name_set("piprov");
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
	cli_quiet_set(g.quiet);
	ctx.json = g.json;
	ctx.inventory = g.inventory;
	ctx.inventory_from_option = g.inventory_from_option;
	ctx.root = g.root;
	ctx.root_from_option = g.root_from_option;
	pv_log_set_level((enum pv_log_level)cli_globals_log_level(&g));
	pv_log_set_callback(cli_log_to_stderr, &ctx);
	if (!find_command(commands, argv[1]))
		return cli_usage_error("'%s' is not a piprov command (see 'piprov help')", argv[1]);
	return dispatch(commands, "piprov", argc - 1, argv + 1, &ctx);
}

int main(int argc, char **argv)
{
	return cli_finish_stdout("piprov", run(argc, argv));
}

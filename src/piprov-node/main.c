/* piprov-node: identify this Raspberry Pi, switch it to network boot, report it. Global
 * options come before the command; each command parses its own. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli_globals.h"
#include "piprov/inventory.h"
#include "node_cli.h"
#include "banned.h"

static const struct node_command commands[] = {
	{ "status", cmd_status, "show this board's identity, bootloader and EEPROM config",
	  NODE_JSON },
	{ "netboot", cmd_netboot, "switch the bootloader config to network boot", NODE_JSON },
	{ "report", cmd_report, "record this board in an inventory file", NODE_JSON },
	{ "provision", cmd_provision, "unattended: netboot + report + power off (systemd)" },
};

static void print_usage(FILE *out)
{
	fprintf(out, "usage: piprov-node [GLOBAL OPTIONS] <command> [<args>]\n"
		     "       piprov-node --version | --help | help [COMMAND]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nglobal options (before or after the command):\n"
		     "  --root DIR       read the board from DIR instead of / (a mounted card or a\n"
		     "                   captured sysroot; default $%s)\n"
		     "  -v, -vv          more messages (info, debug)\n"
		     "  -q               errors only\n"
		     "  --json           machine-readable output\n"
		     "  --inventory FILE the inventory report and provision write (default $%s)\n"
		     "\n'piprov-node help <command>' shows the options of a command.\n",
		CLI_ROOT_ENV, PV_INVENTORY_ENV);
}

static void log_to_stderr(enum pv_log_level level, const char *module, const char *message,
			  void *user)
{
	(void)user;
	if (level <= PV_LOG_WARN)
		fprintf(stderr, "piprov-node: %s: %s: %s\n", pv_log_level_name(level), module,
			message);
	else
		fprintf(stderr, "piprov-node: %s: %s\n", module, message);
}

int node_fail(int status)
{
	fprintf(stderr, "piprov-node: error: %s\n", status ? pv_last_error() : "unknown failure");
	return NODE_EXIT_FAILURE;
}

int node_error(const char *fmt, ...)
{
	va_list ap;

	fputs("piprov-node: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return NODE_EXIT_FAILURE;
}

int node_usage_error(const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = cli_usage_vprint(fmt, ap);
	va_end(ap);
	return rc;
}

void node_warn(const char *fmt, ...)
{
	va_list ap;

	if (cli_quiet())
		return;
	fputs("piprov-node: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void node_info(const struct node_context *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->quiet)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

/* piprov-node help [COMMAND]: that command's --help; help --commands: one line per
 * command, "NAME<TAB>FLAGS" (json), for scripts and tests. */
static int help(int argc, char **argv, const struct node_command **cmd)
{
	if (argc == 2) {
		print_usage(stdout);
		return NODE_EXIT_OK;
	}
	if (argc == 3 && strcmp(argv[2], "--commands") == 0) {
		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			printf("%s\t%s\n", commands[i].name,
			       commands[i].flags & NODE_JSON ? "json" : "");
		return NODE_EXIT_OK;
	}
	if (argv[2][0] == '-')
		return node_usage_error("help: unrecognized option '%s'", argv[2]);
	if (argc != 3)
		return node_usage_error("help: one COMMAND expected");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[2], commands[i].name) == 0)
			*cmd = &commands[i];
	if (!*cmd)
		return node_usage_error("help: '%s' is not a piprov-node command", argv[2]);
	return -1;
}

static int run(int argc, char **argv)
{
	struct node_context ctx = { .root_path = "/", .root = { -1, NULL } };
	const struct node_command *cmd = NULL;
	char name[64], *help_argv[4];
	struct cli_globals g;
	int rc;

	cli_name_set("piprov-node");
	argc = cli_globals_parse("piprov-node", argc, argv, &g);
	if (argc < 0)
		return NODE_EXIT_USAGE;
	if (g.version) {
		printf("piprov-node %s\n", PIPROV_VERSION);
		return NODE_EXIT_OK;
	}
	if (g.help) {
		print_usage(stdout);
		return NODE_EXIT_OK;
	}
	if (argc < 2) {
		print_usage(stderr);
		return NODE_EXIT_USAGE;
	}
	if (strcmp(argv[1], "help") == 0) {
		if ((rc = help(argc, argv, &cmd)) >= 0)
			return rc;
		/* piprov-node help COMMAND = piprov-node COMMAND --help */
		help_argv[0] = argv[0];
		help_argv[1] = argv[2];
		help_argv[2] = (char *)"--help";
		help_argv[3] = NULL;
		argv = help_argv;
		argc = 3;
	}
	for (size_t i = 0; !cmd && i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd)
		return node_usage_error("'%s' is not a piprov-node command (see 'piprov-node help')",
					argv[1]);
	snprintf(name, sizeof(name), "piprov-node %s", cmd->name);
	cli_name_set(name);
	if (g.json && !(cmd->flags & NODE_JSON) && !wants_help(argc - 1, argv + 1))
		return node_usage_error("--json is not an option of this command (it has no "
					"report to print)");
	ctx.verbosity = g.verbosity;
	ctx.quiet = g.quiet;
	cli_quiet_set(g.quiet);
	ctx.json = g.json;
	ctx.inventory = g.inventory;
	ctx.inventory_from_option = g.inventory_from_option;
	if (g.root)
		ctx.root_path = g.root;
	pv_log_set_level((enum pv_log_level)cli_globals_log_level(&g));
	pv_log_set_callback(log_to_stderr, &ctx);
	/* --help before anything is read: the root need not exist. */
	if (!wants_help(argc - 1, argv + 1) && pv_node_root_open(&ctx.root, ctx.root_path))
		return node_fail(PV_ERR_IO);
	argv[1] = name;
	optind = 1;
	rc = cmd->fn(argc - 1, argv + 1, &ctx);
	pv_node_root_close(&ctx.root);
	return rc;
}

int main(int argc, char **argv)
{
	return cli_finish_stdout("piprov-node", run(argc, argv));
}

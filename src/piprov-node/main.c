/* piprov-node: identify this Raspberry Pi, switch it to network boot, report it. Global
 * options come before the command; each command parses its own. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "node_cli.h"
#include "banned.h"

static const struct node_command commands[] = {
	{ "status", cmd_status, "show this board's identity, bootloader and EEPROM config" },
	{ "netboot", cmd_netboot, "switch the bootloader config to network boot" },
	{ "report", cmd_report, "record this board in an inventory file" },
	{ "provision", cmd_provision, "unattended: netboot + report + power off (systemd)" },
};

static void print_usage(FILE *out)
{
	fprintf(out, "usage: piprov-node [--root DIR] [-v|-vv|-q] <command> [<args>]\n"
		     "       piprov-node --version | --help\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n--root DIR reads the board from DIR instead of / (a mounted card or a "
		     "captured sysroot).\n'piprov-node <command> --help' shows the options of a "
		     "command.\n");
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

	fputs("piprov-node: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(see 'piprov-node --help')\n", stderr);
	return NODE_EXIT_USAGE;
}

void node_warn(const char *fmt, ...)
{
	va_list ap;

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

int main(int argc, char **argv)
{
	struct node_context ctx = { .root_path = "/", .root = { -1, NULL } };
	int first, rc;

	for (first = 1; first < argc && argv[first][0] == '-'; first++) {
		const char *opt = argv[first];
		if (strcmp(opt, "-v") == 0 || strcmp(opt, "--verbose") == 0) {
			ctx.verbosity++;
		} else if (strcmp(opt, "-vv") == 0) {
			ctx.verbosity += 2;
		} else if (strcmp(opt, "-q") == 0 || strcmp(opt, "--quiet") == 0) {
			ctx.quiet = true;
		} else if (strcmp(opt, "--root") == 0 && first + 1 < argc) {
			ctx.root_path = argv[++first];
		} else if (strncmp(opt, "--root=", 7) == 0) {
			ctx.root_path = opt + 7;
		} else if (strcmp(opt, "--version") == 0) {
			printf("piprov-node %s\n", PIPROV_VERSION);
			return NODE_EXIT_OK;
		} else if (strcmp(opt, "-h") == 0 || strcmp(opt, "--help") == 0) {
			print_usage(stdout);
			return NODE_EXIT_OK;
		} else {
			return node_usage_error("unknown option '%s'", opt);
		}
	}
	if (first >= argc) {
		print_usage(stderr);
		return NODE_EXIT_USAGE;
	}
	pv_log_set_level(ctx.quiet ? PV_LOG_ERROR
				   : ctx.verbosity >= 2 ? PV_LOG_DEBUG
				   : ctx.verbosity == 1 ? PV_LOG_INFO
							: PV_LOG_WARN);
	pv_log_set_callback(log_to_stderr, &ctx);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[first], commands[i].name) != 0)
			continue;
		if (pv_node_root_open(&ctx.root, ctx.root_path))
			return node_fail(PV_ERR_IO);
		optind = 1;
		rc = commands[i].fn(argc - first, argv + first, &ctx);
		pv_node_root_close(&ctx.root);
		return rc;
	}
	return node_usage_error("'%s' is not a piprov-node command", argv[first]);
}

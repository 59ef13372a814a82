/* piprov usb list|boot|flash: the USB boot host (docs/usb.md, piprov-usb(1)). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "piprov/eeprom_config.h"
#include "piprov/fileio.h"
#include "piprov/text.h"
#include "piprov/usb.h"
#include "piprov/vpi.h"
#include "usb_run.h"
#include "banned.h"

#define DEFAULT_BOOT_DIR "/usr/share/rpiboot/mass-storage-gadget64"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: piprov usb list [--json] [--port GLOB]... [--virtual SPEC]... [--real]\n"
		"       piprov usb boot [-d DIR] [-o] [--no-bootfiles] [OPTIONS]\n"
		"       piprov usb flash [--preset NAME] [--config FILE] [KEY=VALUE]...\n"
		"                        [--image FILE] [--recovery FILE] [--firmware-dir DIR]\n"
		"                        [OPTIONS]\n"
		"\nOPTIONS (boot and flash):\n"
		"  -p, --port GLOB       only boards on matching port paths (repeatable; '1-1.*')\n"
		"      --serial SERIAL   only the board with this USB serial string\n"
		"  -n, --count N         stop after N boards (default: the boards present first)\n"
		"  -l, --loop            serve boards until interrupted\n"
		"      --timeout S       give up when no board appears for S seconds (default 120,\n"
		"                        0 = wait forever)\n"
		"      --board-timeout S give up on a board after S seconds (default 180)\n"
		"  -j, --metadata DIR    write each board's metadata to DIR/<serial>.json\n"
		"      --inventory FILE  record each board in the inventory\n"
		"      --ip-pool A-B     with --inventory: give boards new to it the next free\n"
		"                        address of A-B (stable: kept on later runs)\n"
		"      --hostname-pattern P  with --inventory: and a name (node-%%02d)\n"
		"      --log-dir DIR     one progress log per board (DIR/<port>.log)\n"
		"      --json            one JSON object per event, then a summary object\n"
		"      --virtual SPEC    attach virtual boards (MODEL[,key=value]...; repeatable)\n"
		"      --real            with --virtual, also serve real boards\n"
		"\nExit status: 0 all boards verified/booted, 1 some failed or none appeared,\n"
		"2 usage error. See piprov-usb(1).\n");
}

struct usb_args {
	struct usb_run run;
	const char *ports[USB_ARG_LIST_MAX];
	const char *virtuals[USB_ARG_LIST_MAX];
	const char *settings[USB_ARG_LIST_MAX];
	size_t setting_count;
	const char *dir;
	bool overlay;
	bool no_bootfiles;
	struct pv_usb_flash_options flash;
};

enum {
	OPT_SERIAL = 256,
	OPT_TIMEOUT,
	OPT_BOARD_TIMEOUT,
	OPT_IP_POOL,
	OPT_HOSTNAME_PATTERN,
	OPT_LOG_DIR,
	OPT_VIRTUAL,
	OPT_REAL,
	OPT_NO_BOOTFILES,
};

static const struct option long_options[] = {
	{ "port", required_argument, NULL, 'p' },
	{ "serial", required_argument, NULL, OPT_SERIAL },
	{ "count", required_argument, NULL, 'n' },
	{ "loop", no_argument, NULL, 'l' },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "board-timeout", required_argument, NULL, OPT_BOARD_TIMEOUT },
	{ "metadata", required_argument, NULL, 'j' },
	{ "ip-pool", required_argument, NULL, OPT_IP_POOL },
	{ "hostname-pattern", required_argument, NULL, OPT_HOSTNAME_PATTERN },
	{ "log-dir", required_argument, NULL, OPT_LOG_DIR },
	{ "virtual", required_argument, NULL, OPT_VIRTUAL },
	{ "real", no_argument, NULL, OPT_REAL },
	{ "dir", required_argument, NULL, 'd' },
	{ "overlay", no_argument, NULL, 'o' },
	{ "no-bootfiles", no_argument, NULL, OPT_NO_BOOTFILES },
	USB_FLASH_SOURCE_OPTIONS,
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* The long name of option id opt, for "--x is an option of ..." (argv[optind - 1] is the
 * option's argument when it was given separately: `--preset network`). */
static const char *option_name(int opt)
{
	for (const struct option *o = long_options; o->name; o++)
		if (o->val == opt)
			return o->name;
	return "?";
}

/* Parses everything after the subcommand. Returns a cli exit status (OK to go on). */
static int parse(int argc, char **argv, const char *sub, struct usb_args *a)
{
	bool is_flash = strcmp(sub, "flash") == 0, is_boot = strcmp(sub, "boot") == 0;
	uint32_t number;
	unsigned ms;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "p:n:lj:d:oh", long_options, NULL)) != -1) {
		if (usb_flash_source_option(opt, optarg, &a->flash)) {
			if (!is_flash)
				return cli_usage_error("--%s is an option of 'usb flash'",
						       option_name(opt));
			continue;
		}
		switch (opt) {
		case 'p':
			rc = usb_arg_list_add(a->ports, &a->run.port_count, optarg, "--port globs");
			if (rc)
				return rc;
			break;
		case OPT_SERIAL:
			a->run.serial = optarg;
			break;
		case 'n':
			if (pv_parse_u32(optarg, 10, &number) || number == 0)
				return cli_usage_error("--count '%s': a positive number", optarg);
			a->run.count = number;
			break;
		case 'l':
			a->run.loop = true;
			break;
		case OPT_TIMEOUT:
			if (usb_parse_seconds(optarg, &ms))
				return cli_usage_error("--timeout '%s': seconds", optarg);
			a->run.timeout_s = (ms + 999) / 1000;
			break;
		case OPT_BOARD_TIMEOUT:
			if (usb_parse_seconds(optarg, &ms) || ms == 0)
				return cli_usage_error("--board-timeout '%s': seconds", optarg);
			a->run.timeouts.board_ms = ms;
			break;
		case 'j':
			a->run.metadata_dir = optarg;
			break;
		case OPT_IP_POOL:
		case OPT_HOSTNAME_PATTERN:
			rc = opt == OPT_IP_POOL
				     ? pv_inventory_parse_pool(optarg, &a->run.alloc)
				     : pv_inventory_set_hostname_pattern(&a->run.alloc, optarg);
			if (rc)
				return cli_usage_error("%s: %s",
						       opt == OPT_IP_POOL ? "--ip-pool"
									  : "--hostname-pattern",
						       pv_last_error());
			a->run.has_alloc = true;
			break;
		case OPT_LOG_DIR:
			a->run.log_dir = optarg;
			break;
		case OPT_VIRTUAL:
			rc = usb_arg_list_add(a->virtuals, &a->run.virtual_count, optarg, "--virtual specs");
			if (rc)
				return rc;
			break;
		case OPT_REAL:
			a->run.real = true;
			break;
		case 'd':
			a->dir = optarg;
			break;
		case 'o':
			a->overlay = true;
			break;
		case OPT_NO_BOOTFILES:
			a->no_bootfiles = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			return cli_usage_hint();
		}
		if (!is_boot && (opt == 'd' || opt == 'o' || opt == OPT_NO_BOOTFILES))
			return cli_usage_error("--%s is an option of 'usb boot'", option_name(opt));
	}
	for (int i = optind; i < argc; i++) {
		if (!is_flash || !strchr(argv[i], '=') || argv[i][0] == '=')
			return cli_usage_error("unexpected argument '%s'", argv[i]);
		rc = usb_arg_list_add(a->settings, &a->setting_count, argv[i], "KEY=VALUE settings");
		if (rc)
			return rc;
	}
	if (a->run.loop && a->run.count)
		return cli_usage_error("--count and --loop exclude each other");
	if (a->run.has_alloc && !a->run.inventory)
		return cli_usage_error("--ip-pool and --hostname-pattern go with --inventory FILE (or $%s)",
				       PV_INVENTORY_ENV);
	if (a->overlay && !a->dir)
		return cli_usage_error("-o/--overlay needs -d DIR (like rpiboot)");
	/* What can be wrong before a board is known is found before waiting for one. */
	if (a->flash.preset && pv_eeprom_preset_check(NULL, a->flash.preset) != PV_OK)
		return cli_usage_error("--preset: %s", pv_last_error());
	if (is_flash) {
		const char *files[] = { a->flash.config_path, a->flash.image_path,
					a->flash.recovery_path, a->flash.firmware_dir };
		const char *names[] = { "--config", "--image", "--recovery", "--firmware-dir" };

		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
			if (files[i] && !pv_path_exists(files[i]))
				return cli_error("%s '%s': no such file or folder", names[i],
						 files[i]);
	}
	a->run.ports = a->ports;
	a->run.virtual_specs = a->virtuals;
	a->flash.settings = a->settings;
	a->flash.setting_count = a->setting_count;
	return CLI_EXIT_OK;
}

static void log_opened(void *user, const char *port_path, const char *path)
{
	(void)user;
	fprintf(stderr, "piprov: usb: %s: opened '%s'\n", port_path, path);
}

static int run_boot(struct usb_args *a, struct cli_context *ctx)
{
	struct pv_usb_files_config fc = { 0 };
	struct pv_usb_files *files = NULL;
	struct pv_usb_payload_set *set = NULL;
	int status, rc;

	fc.dir = a->dir ? a->dir : DEFAULT_BOOT_DIR;
	fc.overlay = a->overlay;
	fc.use_bootfiles = !a->no_bootfiles;
	if (ctx->verbosity >= 2)
		fc.opened = log_opened;
	rc = pv_usb_files_new(&fc, &files);
	if (rc)
		return cli_fail(rc);
	rc = pv_usb_boot_payloads_new(files, &set);
	if (rc) {
		pv_usb_files_free(files);
		return cli_fail(rc);
	}
	a->run.mode = PV_USB_JOB_BOOT;
	a->run.payload = pv_usb_payload_set_get;
	a->run.payload_user = set;
	status = usb_run_job(&a->run);
	pv_usb_payload_set_free(set);
	pv_usb_files_free(files);
	return status;
}

static int run_flash(struct usb_args *a, struct cli_context *ctx)
{
	/* The station builds the payloads (placeholder recovery and a synthetic image for
	 * virtual boards on a machine without Raspberry Pi firmware, logged). */
	if (ctx->verbosity >= 2)
		a->flash.opened = log_opened;
	a->run.mode = PV_USB_JOB_FLASH;
	a->run.flash = &a->flash;
	return usb_run_job(&a->run);
}

/* list, boot and flash share the options; sub says which one runs. argv[0] is the full
 * command name. */
static int usb_command(const char *sub, int argc, char **argv, struct cli_context *ctx)
{
	struct usb_args *a = calloc(1, sizeof(*a));
	int status;

	if (!a)
		return cli_error("out of memory");
	usb_run_init(&a->run, ctx);
	status = parse(argc, argv, sub, a);
	if (status < 0) {
		status = CLI_EXIT_OK; /* --help */
	} else if (status == CLI_EXIT_OK) {
		if (strcmp(sub, "list") == 0) {
			status = usb_run_open_bus(&a->run);
			if (status == CLI_EXIT_OK) {
				status = usb_run_list(&a->run);
				usb_run_close_bus(&a->run);
			}
		} else if (strcmp(sub, "boot") == 0) {
			status = run_boot(a, ctx);
		} else {
			status = run_flash(a, ctx);
		}
	}
	free(a);
	return status;
}

static int usb_list(int argc, char **argv, struct cli_context *ctx)
{
	return usb_command("list", argc, argv, ctx);
}

static int usb_boot(int argc, char **argv, struct cli_context *ctx)
{
	return usb_command("boot", argc, argv, ctx);
}

static int usb_flash(int argc, char **argv, struct cli_context *ctx)
{
	return usb_command("flash", argc, argv, ctx);
}

void cmd_usb_usage(FILE *out)
{
	usage(out);
}

const struct cli_command cli_usb_commands[] = {
	{ "list", usb_list, "boards in USB boot mode", CLI_JSON },
	{ "boot", usb_boot, "boot boards from a folder (rpiboot)", CLI_JSON | CLI_WAITS },
	{ "flash", usb_flash, "flash and verify the bootloader EEPROM", CLI_JSON | CLI_WAITS },
	{ NULL, NULL, NULL },
};

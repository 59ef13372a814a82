/* piprov station: the long-running provisioning service (docs/station.md,
 * piprov-station(8)). Options and the profile file become a station profile; the station
 * library does the work; usb_run.c shows it, serves the page and takes the signals. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "piprov/eeprom_config.h"
#include "piprov/fileio.h"
#include "piprov/inventory.h"
#include "piprov/station.h"
#include "piprov/text.h"
#include "usb_run.h"
#include "banned.h"


static void usage(FILE *out)
{
	fprintf(out,
		"usage: piprov station [--profile FILE] [--listen ADDR:PORT] [--token-file FILE]\n"
		"                      [--preset NAME | --config FILE] [KEY=VALUE]...\n"
		"                      [--image FILE] [--recovery FILE] [--firmware-dir DIR]\n"
		"                      [--channel default|latest] [-p GLOB]... [--ip-pool A-B]\n"
		"                      [--hostname-pattern P] [--export FORMAT:FILE]...\n"
		"                      [--tftp-root DIR] [--template-dir DIR]\n"
		"                      [--reload-pid-file FILE] [-j DIR] [--log-dir DIR]\n"
		"                      [--stop-grace S] [--board-timeout S] [-n N]\n"
		"                      [--virtual SPEC]... [--real]\n"
		"\nFlash, verify, record and export every board that is plugged in, until stopped.\n"
		"The profile file (libconfig syntax, see piprov-station(8)) gives the same settings;\n"
		"options given here override it. SIGTERM lets boards being flashed finish (a\n"
		"second SIGTERM or SIGINT abandons them: never recorded); SIGHUP reads the\n"
		"profile again for the next boards.\n"
		"\n"
		"  --profile FILE        the station's settings (see piprov-station(8))\n"
		"  --listen ADDR:PORT    serve the page and HTTP API (127.0.0.1:8080; port 0 picks)\n"
		"  --token-file FILE     bearer token of the API's actions (created 0600)\n"
		"  --preset NAME, --config FILE, KEY=VALUE, --image, --recovery, --firmware-dir,\n"
		"  --channel             what to flash (as piprov usb flash)\n"
		"  -p, --port GLOB       only boards on matching port paths ('1-1.*'; repeatable)\n"
		"  --ip-pool A-B, --hostname-pattern P  address and name for new boards\n"
		"  --export FORMAT:FILE  rewrite FILE in FORMAT (dnsmasq-hosts, kea, ...) after\n"
		"                        boards were recorded (repeatable, at most 8)\n"
		"  --tftp-root DIR       keep the per-board TFTP tree in DIR\n"
		"  --template-dir DIR    boot files of each TFTP folder\n"
		"  --reload-pid-file F   after exporting, SIGHUP the process F names (dnsmasq)\n"
		"  -j, --metadata DIR    each board's metadata in DIR/<serial>.json\n"
		"  --log-dir DIR         one progress log per board\n"
		"  --stop-grace S        how long SIGTERM waits for boards in flight (default 30)\n"
		"  --board-timeout S     give up on a board after S seconds (default 180)\n"
		"  -n, --count N         stop after N boards (tests; default: until stopped)\n"
		"  --virtual SPEC        virtual boards (piprov-virtual(7)); --real: and real ones\n"
		"  --inventory FILE      (global option) the inventory; else the profile's, else\n"
		"                        $%s, else ./%s\n"
		"  --json                one JSON object per event (docs/station.md)\n"
		"\nExit status: 0 stopped (or N boards verified and recorded), 1 a board verified\n"
		"but not recorded, or the station could not run, 2 usage error.\n",
		PV_INVENTORY_ENV, PV_INVENTORY_DEFAULT_PATH);
}

/* What the command line says; applied over the profile file at start and on SIGHUP. */
struct station_args {
	const char *profile_path;
	struct pv_usb_flash_options flash; /* the strings given (NULL: the profile's) */
	const char *settings[USB_ARG_LIST_MAX];
	size_t setting_count;
	const char *ports[USB_ARG_LIST_MAX];
	size_t port_count;
	const char *pool, *hostname_pattern;
	struct {
		char *format;
		const char *path;
	} exports[PV_STATION_EXPORTS_MAX];
	size_t export_count;
	const char *tftp_root, *template_dir, *reload_pid_file;
	const char *metadata_dir, *log_dir, *listen, *token_file;
	bool has_stop_grace, has_board_timeout;
	unsigned stop_grace_ms, board_timeout_ms;
	const char *virtuals[USB_ARG_LIST_MAX];
	size_t virtual_count;
	bool real;
	unsigned count;

	/* The merged profile (a copy of the file's with the options over it). */
	struct pv_station_profile_file file;
	struct pv_station_profile profile;
	const char *merged_settings[2 * USB_ARG_LIST_MAX];
	struct cli_context *ctx;
};

enum {
	OPT_PROFILE = 256,
	OPT_LISTEN,
	OPT_TOKEN_FILE,
	OPT_CHANNEL,
	OPT_IP_POOL,
	OPT_HOSTNAME_PATTERN,
	OPT_EXPORT,
	OPT_TFTP_ROOT,
	OPT_TEMPLATE_DIR,
	OPT_RELOAD_PID_FILE,
	OPT_LOG_DIR,
	OPT_STOP_GRACE,
	OPT_BOARD_TIMEOUT,
	OPT_VIRTUAL,
	OPT_REAL,
};

static const struct option long_options[] = {
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
	USB_FLASH_SOURCE_OPTIONS,
	{ "channel", required_argument, NULL, OPT_CHANNEL },
	{ "port", required_argument, NULL, 'p' },
	{ "ip-pool", required_argument, NULL, OPT_IP_POOL },
	{ "hostname-pattern", required_argument, NULL, OPT_HOSTNAME_PATTERN },
	{ "export", required_argument, NULL, OPT_EXPORT },
	{ "tftp-root", required_argument, NULL, OPT_TFTP_ROOT },
	{ "template-dir", required_argument, NULL, OPT_TEMPLATE_DIR },
	{ "reload-pid-file", required_argument, NULL, OPT_RELOAD_PID_FILE },
	{ "metadata", required_argument, NULL, 'j' },
	{ "log-dir", required_argument, NULL, OPT_LOG_DIR },
	{ "stop-grace", required_argument, NULL, OPT_STOP_GRACE },
	{ "board-timeout", required_argument, NULL, OPT_BOARD_TIMEOUT },
	{ "count", required_argument, NULL, 'n' },
	{ "virtual", required_argument, NULL, OPT_VIRTUAL },
	{ "real", no_argument, NULL, OPT_REAL },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int add_export(struct station_args *a, const char *text)
{
	const char *colon = strchr(text, ':');

	if (!colon || colon == text || !colon[1])
		return cli_usage_error("--export '%s': FORMAT:FILE expected (dnsmasq-hosts:"
				       "/var/lib/piprov/dnsmasq.hosts)", text);
	if (a->export_count >= PV_STATION_EXPORTS_MAX)
		return cli_usage_error("--export: at most %d files", PV_STATION_EXPORTS_MAX);
	a->exports[a->export_count].format = strndup(text, (size_t)(colon - text));
	if (!a->exports[a->export_count].format)
		return cli_error("out of memory");
	a->exports[a->export_count++].path = colon + 1;
	return CLI_EXIT_OK;
}

static int parse_seconds_option(const char *name, const char *text, bool zero_ok,
				unsigned *ms, bool *given)
{
	if (usb_parse_seconds(text, ms) || (!zero_ok && *ms == 0))
		return cli_usage_error("%s '%s': seconds expected", name, text);
	*given = true;
	return CLI_EXIT_OK;
}

static int parse(int argc, char **argv, struct station_args *a)
{
	uint32_t number;
	int opt, rc = CLI_EXIT_OK;

	while ((opt = getopt_long(argc, argv, "p:j:n:h", long_options, NULL)) != -1) {
		if (usb_flash_source_option(opt, optarg, &a->flash))
			continue;
		switch (opt) {
		case OPT_PROFILE:
			a->profile_path = optarg;
			break;
		case OPT_LISTEN:
			a->listen = optarg;
			break;
		case OPT_TOKEN_FILE:
			a->token_file = optarg;
			break;
		case OPT_CHANNEL:
			if (strcmp(optarg, "default") != 0 && strcmp(optarg, "latest") != 0)
				return cli_usage_error("--channel '%s': default or latest", optarg);
			a->flash.channel = optarg;
			break;
		case 'p':
			rc = usb_arg_list_add(a->ports, &a->port_count, optarg, "--port globs");
			break;
		case OPT_IP_POOL:
			a->pool = optarg;
			break;
		case OPT_HOSTNAME_PATTERN:
			a->hostname_pattern = optarg;
			break;
		case OPT_EXPORT:
			rc = add_export(a, optarg);
			break;
		case OPT_TFTP_ROOT:
			a->tftp_root = optarg;
			break;
		case OPT_TEMPLATE_DIR:
			a->template_dir = optarg;
			break;
		case OPT_RELOAD_PID_FILE:
			a->reload_pid_file = optarg;
			break;
		case 'j':
			a->metadata_dir = optarg;
			break;
		case OPT_LOG_DIR:
			a->log_dir = optarg;
			break;
		case OPT_STOP_GRACE:
			rc = parse_seconds_option("--stop-grace", optarg, true, &a->stop_grace_ms,
						  &a->has_stop_grace);
			break;
		case OPT_BOARD_TIMEOUT:
			rc = parse_seconds_option("--board-timeout", optarg, false,
						  &a->board_timeout_ms, &a->has_board_timeout);
			break;
		case 'n':
			if (pv_parse_u32(optarg, 10, &number) || number == 0)
				return cli_usage_error("--count '%s': a positive number", optarg);
			a->count = number;
			break;
		case OPT_VIRTUAL:
			rc = usb_arg_list_add(a->virtuals, &a->virtual_count, optarg, "--virtual specs");
			break;
		case OPT_REAL:
			a->real = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			return cli_usage_hint();
		}
		if (rc)
			return rc;
	}
	for (int i = optind; i < argc; i++) {
		if (!strchr(argv[i], '=') || argv[i][0] == '=')
			return cli_usage_error("unexpected argument '%s'", argv[i]);
		rc = usb_arg_list_add(a->settings, &a->setting_count, argv[i], "KEY=VALUE settings");
		if (rc)
			return rc;
	}
	return CLI_EXIT_OK;
}

/* The profile file (if any) with the options over it, into a->profile. Returns a cli exit
 * status; the message names the file or the option. */
static int build_profile(struct station_args *a)
{
	struct pv_station_profile *p = &a->profile;
	struct pv_usb_flash_options *f = &p->flash;
	size_t n = 0;
	int rc;

	pv_station_profile_file_release(&a->file);
	if (a->profile_path) {
		rc = pv_station_profile_load(a->profile_path, &a->file);
		if (rc)
			return cli_fail(rc);
	} else {
		rc = pv_station_profile_parse("", 0, "(none)", &a->file);
		if (rc)
			return cli_fail(rc);
	}
	*p = a->file.profile;
#define OVERRIDE(field) if (a->flash.field) f->field = a->flash.field
	OVERRIDE(preset);
	OVERRIDE(config_path);
	OVERRIDE(image_path);
	OVERRIDE(recovery_path);
	OVERRIDE(firmware_dir);
	OVERRIDE(channel);
#undef OVERRIDE
	/* KEY=VALUE from the command line come after the profile's: they win. */
	for (size_t i = 0; i < a->file.profile.flash.setting_count; i++)
		a->merged_settings[n++] = a->file.profile.flash.settings[i];
	for (size_t i = 0; i < a->setting_count; i++)
		a->merged_settings[n++] = a->settings[i];
	f->settings = a->merged_settings;
	f->setting_count = n;
	if (a->port_count) {
		p->port_globs = a->ports;
		p->port_glob_count = a->port_count;
	}
	if (a->pool && pv_inventory_parse_pool(a->pool, &p->alloc))
		return cli_usage_error("--ip-pool: %s", pv_last_error());
	if (a->hostname_pattern &&
	    pv_inventory_set_hostname_pattern(&p->alloc, a->hostname_pattern))
		return cli_usage_error("--hostname-pattern: %s", pv_last_error());
	if (a->pool || a->hostname_pattern)
		p->has_alloc = true;
	if (a->export_count) {
		for (size_t i = 0; i < a->export_count; i++) {
			p->exports.files[i].format = a->exports[i].format;
			p->exports.files[i].path = a->exports[i].path;
		}
		p->exports.file_count = a->export_count;
	}
	if (a->tftp_root)
		p->exports.tftp_root = p->exports.opts.tftp_root = a->tftp_root;
	if (a->template_dir)
		p->exports.opts.template_dir = a->template_dir;
	if (a->reload_pid_file)
		p->exports.reload_pid_file = a->reload_pid_file;
	return CLI_EXIT_OK;
}

/* SIGHUP, on usb_run's signal thread: read the profile again; on any error the station
 * keeps the profile it has (the RELOADED event or the warning says why). a->profile is
 * only read by pv_station_new() and pv_station_reload(), which copy it. */
static void reload(void *user, struct pv_station *station)
{
	struct station_args *a = user;
	struct pv_station_profile_file old = a->file;
	int status;

	memset(&a->file, 0, sizeof(a->file)); /* keep the running one until the new is in */
	status = build_profile(a);
	if (status == CLI_EXIT_OK && pv_station_reload(station, &a->profile) == PV_OK) {
		pv_station_profile_file_release(&old); /* the station copied what it needs */
		return;
	}
	if (status == CLI_EXIT_OK)
		cli_warn("SIGHUP: %s; the station keeps its profile", pv_last_error());
	else
		cli_warn("SIGHUP: the station keeps its profile");
	pv_station_profile_file_release(&a->file);
	a->file = old;
}

int cmd_station(int argc, char **argv, struct cli_context *ctx)
{
	struct station_args *a = calloc(1, sizeof(*a));
	struct usb_run run;
	int status;

	if (!a)
		return cli_error("out of memory");
	a->ctx = ctx;
	status = parse(argc, argv, a);
	if (status < 0) {
		status = CLI_EXIT_OK; /* --help */
		goto out_free_args;
	}
	if (status)
		goto out_free_args;
	status = build_profile(a);
	if (status)
		goto out_free_args;
	/* A mistyped preset stops the service at start, before it waits for any board. */
	if (a->profile.flash.preset &&
	    pv_eeprom_preset_check(NULL, a->profile.flash.preset) != PV_OK) {
		status = a->flash.preset ? cli_usage_error("--preset: %s", pv_last_error())
					 : cli_error("profile '%s': preset: %s", a->profile_path,
						     pv_last_error());
		goto out_free_args;
	}
	usb_run_init(&run, ctx);
	run.mode = PV_USB_JOB_FLASH;
	run.profile = &a->profile;
	run.flash = &a->profile.flash;
	/* --inventory FILE, else the profile's, else $PIPROV_INVENTORY, else the default. */
	run.inventory = ctx->inventory_from_option ? ctx->inventory
			: a->file.inventory	     ? a->file.inventory
						     : pv_inventory_path(ctx->inventory);
	run.metadata_dir = a->metadata_dir ? a->metadata_dir : a->file.metadata_dir;
	run.log_dir = a->log_dir ? a->log_dir : a->file.log_dir;
	run.listen = a->listen ? a->listen : a->file.listen;
	run.token_file = a->token_file ? a->token_file : a->file.token_file;
	if (a->has_stop_grace || a->file.has_stop_grace)
		run.stop_grace_ms = a->has_stop_grace ? a->stop_grace_ms : a->file.stop_grace_ms;
	if (a->has_board_timeout || a->file.has_board_timeout)
		run.timeouts.board_ms = a->has_board_timeout ? a->board_timeout_ms
							     : a->file.board_timeout_ms;
	run.virtual_specs = a->virtuals;
	run.virtual_count = a->virtual_count;
	run.real = a->real;
	run.count = a->count;
	run.loop = a->count == 0;
	run.timeout_s = 0; /* a station waits for boards as long as it runs */
	run.service = true;
	run.reload = reload;
	run.reload_user = a;
	status = usb_run_job(&run);
out_free_args:
	pv_station_profile_file_release(&a->file);
	for (size_t i = 0; i < a->export_count; i++)
		free(a->exports[i].format);
	free(a);
	return status;
}

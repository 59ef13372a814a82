/* piprov netboot check|boot: ask the boot LAN's servers what each board would get, or boot
 * virtual boards over real interfaces (src/lib/netboot, src/lib/vpi/netboot.c). */
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "piprov/inventory.h"
#include "piprov/netboot_check.h"
#include "piprov/netboot_report.h"
#include "piprov/netboot_vpi.h"
#include "piprov/text.h"
#include "banned.h"

#define MAX_SPECS 64

static volatile sig_atomic_t netboot_cancel;

static void on_signal(int signo)
{
	(void)signo;
	netboot_cancel = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: piprov netboot check --interface IF [--netns NS] [--as SPEC]... [BOARD]...\n"
		"                            [--wait MS] [--tftp-timeout MS] [--parallel N] [--no-nfs]\n"
		"       piprov netboot boot --virtual SPEC... [--interface PATTERN] [--netns PATTERN]\n"
		"                           [--uart-dir DIR] [--timeout S] [--no-nfs]\n"
		"\n"
		"check: for every inventory board (or the BOARDs named by serial, MAC or hostname,\n"
		"or each --as SPEC, a board not recorded yet) ask the servers of the boot LAN what\n"
		"that board would get, as its bootloader asks: a DHCP DISCOVER with its MAC and\n"
		"options (never a REQUEST: no lease is taken), its files over TFTP in its\n"
		"bootloader's order, and the NFS export of its cmdline's nfsroot for the address it\n"
		"was offered. Run it on any host of the boot LAN (root: raw sockets). Exit 1 when\n"
		"any board would not boot.\n"
		"\n"
		"boot: virtual boards (docs/vpi.md SPEC; dump=DIR = the EEPROMs 'usb flash' left)\n"
		"boot over real interfaces by the BOOT_ORDER of their EEPROM, each on the interface\n"
		"(and network namespace) its pattern names: %%s = the board's 8-digit serial,\n"
		"%%i = its index. Exit 1 when any board did not boot.\n"
		"\n"
		"  --interface IF      check: this host's interface on the boot LAN;\n"
		"                      boot: the boards' interfaces (default eth0)\n"
		"  --netns NS          the network namespace of the interface(s)\n"
		"  --as SPEC           check: a board described as for --virtual (repeatable)\n"
		"  --wait MS           check: how long to wait for DHCP offers (default 4000)\n"
		"  --tftp-timeout MS   check: per file (default 5000)\n"
		"  --parallel N        check: boards asked at once (default 16)\n"
		"  --virtual SPEC      boot: the boards (repeatable)\n"
		"  --uart-dir DIR      boot: write each board's UART log to DIR/<serial>.log\n"
		"  --timeout S         boot: give up on a board after S seconds (default 300)\n"
		"  --no-nfs            do not check the NFS root export\n"
		"  --json              one JSON array of boards (global option)\n");
}

static int parse_uint(const char *opt, const char *text, unsigned max, unsigned *out)
{
	uint64_t v;

	if (pv_parse_u64(text, 10, &v) || v > max)
		return cli_usage_error("%s: '%s' is not a number up to %u", opt, text, max);
	*out = (unsigned)v;
	return CLI_EXIT_OK;
}

static void catch_signals(struct sigaction *old_int, struct sigaction *old_term)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, old_int);
	sigaction(SIGTERM, &sa, old_term);
}

static void restore_signals(const struct sigaction *old_int, const struct sigaction *old_term)
{
	sigaction(SIGINT, old_int, NULL);
	sigaction(SIGTERM, old_term, NULL);
}

/* ---- output ---- */

struct row {
	const char *name;       /* board name, already printable */
	const char *serial;
	const uint8_t *mac;
	const char *model;
	const struct pv_netboot_result *result;
	const char *extra;      /* the UART log written, or NULL */
};

static int print_json(const struct row *rows, size_t n)
{
	json_t *array = json_array();
	char *text = NULL;
	int rc = CLI_EXIT_OK;

	for (size_t i = 0; array && i < n; i++) {
		json_t *o = pv_netboot_result_json(rows[i].result);
		char mac[PV_MAC_STRLEN];

		pv_mac_format(rows[i].mac, ':', mac);
		if (!o || json_object_set_new(o, "board", json_string(rows[i].name)) ||
		    json_object_set_new(o, "serial", json_string(rows[i].serial)) ||
		    json_object_set_new(o, "mac", json_string(mac)) ||
		    json_object_set_new(o, "model", json_string(rows[i].model)) ||
		    (rows[i].extra && json_object_set_new(o, "uart_log", json_string(rows[i].extra))) ||
		    json_array_append_new(array, o)) {
			json_decref(o);
			json_decref(array);
			array = NULL;
		}
	}
	if (!array || !(text = json_dumps(array, JSON_INDENT(2))))
		rc = cli_error("out of memory writing JSON");
	else
		printf("%s\n", text);
	free(text);
	json_decref(array);
	return rc;
}

static void print_table(const struct row *rows, size_t n, bool check_nfs)
{
	struct pv_netboot_cells *cells = calloc(n ? n : 1, sizeof(*cells));
	int w[7] = { 5, 4, 6, 4, 10, 14, 14 };
	static const char *const head[7] = { "BOARD", "DHCP", "OPT43", "TFTP", "FIRST FILE",
					     "KERNEL/CMDLINE", "NFSROOT" };

	if (!cells) {
		cli_error("out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const char *col[7];

		pv_netboot_result_cells(rows[i].result, check_nfs, &cells[i]);
		col[0] = rows[i].name;
		col[1] = cells[i].dhcp;
		col[2] = cells[i].option43;
		col[3] = cells[i].tftp;
		col[4] = cells[i].first_file;
		col[5] = cells[i].kernel;
		col[6] = cells[i].nfs;
		for (int c = 0; c < 7; c++)
			if ((int)strlen(col[c]) > w[c])
				w[c] = (int)strlen(col[c]);
	}
	printf("%-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %s\n", w[0], head[0], w[1], head[1],
	       w[2], head[2], w[3], head[3], w[4], head[4], w[5], head[5], w[6], head[6],
	       "RESULT");
	for (size_t i = 0; i < n; i++)
		printf("%-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %s\n", w[0], rows[i].name, w[1],
		       cells[i].dhcp, w[2], cells[i].option43, w[3], cells[i].tftp, w[4],
		       cells[i].first_file, w[5], cells[i].kernel, w[6], cells[i].nfs,
		       cells[i].result);
	/* Why each board would not boot, in full (the detail names the file, server or
	 * address, already escaped by the library). */
	for (size_t i = 0; i < n; i++) {
		const struct pv_netboot_result *r = rows[i].result;

		if (!r->booted)
			printf("%s: %s: %s\n", rows[i].name, pv_netboot_reason_name(r->reason),
			       r->detail[0] ? r->detail : "-");
		if (rows[i].extra)
			printf("%s: uart log %s\n", rows[i].name, rows[i].extra);
	}
	free(cells);
}

/* The report of both commands: the table or --json; CLI_EXIT_FAILURE when a board did
 * not (or would not: `verb`) boot, said on stderr too (the reasons are in the report). */
static int print_rows(const struct cli_context *ctx, const struct row *rows, size_t n,
		      bool check_nfs, const char *verb)
{
	int status = CLI_EXIT_OK;
	size_t failed = 0;

	for (size_t i = 0; i < n; i++)
		if (!rows[i].result->booted)
			failed++;
	if (ctx->json) {
		if (print_json(rows, n))
			status = CLI_EXIT_FAILURE;
	} else {
		print_table(rows, n, check_nfs);
	}
	if (failed)
		status = cli_error("%zu of %zu board%s %s boot", failed, n, n == 1 ? "" : "s",
				   verb);
	return status;
}

/* ---- check ---- */

static int load_boards(const struct cli_context *ctx, char **names, int n_names,
		       struct pv_netboot_check_board **out, size_t *count)
{
	const char *path = pv_inventory_path(ctx->inventory);
	struct pv_inventory inv;
	struct pv_netboot_check_board *boards;
	size_t n = 0, want;
	int rc;

	pv_inventory_init(&inv);
	rc = pv_inventory_load(path, &inv);
	if (rc)
		return cli_fail(rc);
	want = n_names ? (size_t)n_names : inv.count;
	boards = calloc(want ? want : 1, sizeof(*boards));
	if (!boards) {
		pv_inventory_release(&inv);
		return cli_error("out of memory");
	}
	for (size_t i = 0; i < want; i++) {
		struct pv_inventory_record *rec =
			n_names ? pv_inventory_lookup(&inv, names[i]) : &inv.records[i];

		if (!rec) {
			free(boards);
			pv_inventory_release(&inv);
			return cli_error("'%s': no board '%s' (serial, MAC or hostname)", path,
					 names[i]);
		}
		rc = pv_netboot_check_board_from_record(rec, &boards[n]);
		if (rc) {
			free(boards);
			pv_inventory_release(&inv);
			return cli_fail(rc);
		}
		n++;
	}
	pv_inventory_release(&inv);
	*out = boards;
	*count = n;
	return CLI_EXIT_OK;
}

static int cmd_check(int argc, char **argv, struct cli_context *ctx)
{
	static const struct option long_options[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "netns", required_argument, NULL, 'N' },
		{ "as", required_argument, NULL, 'a' },
		{ "wait", required_argument, NULL, 'w' },
		{ "tftp-timeout", required_argument, NULL, 't' },
		{ "parallel", required_argument, NULL, 'p' },
		{ "no-nfs", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pv_netboot_check_options o = { .check_nfs = true, .cancel = &netboot_cancel };
	const char *specs[MAX_SPECS];
	size_t n_specs = 0, n = 0;
	struct pv_netboot_check_board *boards = NULL;
	struct pv_netboot_result *results = NULL;
	struct row *rows = NULL;
	struct sigaction old_int, old_term;
	int opt, rc, status = CLI_EXIT_OK;

	while ((opt = getopt_long(argc, argv, "+i:N:a:w:t:p:nh", long_options, NULL)) != -1) {
		switch (opt) {
		case 'i':
			o.ifname = optarg;
			break;
		case 'N':
			o.netns = optarg;
			break;
		case 'a':
			if (n_specs == MAX_SPECS)
				return cli_usage_error("at most %d --as", MAX_SPECS);
			specs[n_specs++] = optarg;
			break;
		case 'w':
			if (parse_uint("--wait", optarg, 600000, &o.dhcp_wait_ms))
				return CLI_EXIT_USAGE;
			break;
		case 't':
			if (parse_uint("--tftp-timeout", optarg, 600000, &o.tftp_timeout_ms))
				return CLI_EXIT_USAGE;
			break;
		case 'p':
			if (parse_uint("--parallel", optarg, 256, &o.parallel) || !o.parallel)
				return cli_usage_error("--parallel: 1 to 256");
			break;
		case 'n':
			o.check_nfs = false;
			break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_hint();
		}
	}
	if (!o.ifname)
		return cli_usage_error("--interface IF is needed (this host's "
				       "interface on the boot LAN)");
	if (n_specs && optind < argc)
		return cli_usage_error("give either --as SPEC or inventory boards");
	if (n_specs) {
		rc = pv_vpi_netboot_check_boards(specs, n_specs, &boards, &n);
		if (rc)
			return rc == PV_ERR_INVALID ? cli_usage_error("--as: %s",
								      pv_last_error())
						    : cli_fail(rc);
	} else {
		status = load_boards(ctx, argv + optind, argc - optind, &boards, &n);
		if (status)
			return status;
		if (!n) {
			free(boards);
			return cli_error("'%s': no boards to check (add some, or use --as SPEC)",
					 pv_inventory_path(ctx->inventory));
		}
	}
	results = calloc(n, sizeof(*results));
	rows = calloc(n, sizeof(*rows));
	if (!results || !rows) {
		status = cli_error("out of memory");
		goto out_free;
	}
	catch_signals(&old_int, &old_term);
	rc = pv_netboot_check_run(&o, boards, n, results);
	restore_signals(&old_int, &old_term);
	if (rc) {
		status = cli_fail(rc);
		goto out_free;
	}
	for (size_t i = 0; i < n; i++) {
		rows[i].name = boards[i].name;
		rows[i].serial = boards[i].serial;
		rows[i].mac = boards[i].id.mac;
		rows[i].model = boards[i].id.board->short_name;
		rows[i].result = &results[i];
	}
	status = print_rows(ctx, rows, n, o.check_nfs, "would not");
	if (netboot_cancel)
		status = CLI_EXIT_FAILURE;
out_free:
	free(rows);
	free(results);
	free(boards);
	return status;
}

/* ---- boot ---- */

static int cmd_boot(int argc, char **argv, struct cli_context *ctx)
{
	static const struct option long_options[] = {
		{ "virtual", required_argument, NULL, 'V' },
		{ "interface", required_argument, NULL, 'i' },
		{ "netns", required_argument, NULL, 'N' },
		{ "uart-dir", required_argument, NULL, 'u' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "no-nfs", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *specs[MAX_SPECS];
	struct pv_vpi_netboot_fleet fleet = { .ifname_pattern = "eth0", .check_nfs = true,
					      .cancel = &netboot_cancel,
					      .deadline_ms = 300000 };
	struct pv_vpi_netboot_board *boards = NULL;
	struct row *rows = NULL;
	struct sigaction old_int, old_term;
	size_t n = 0, n_specs = 0;
	unsigned timeout_s = 0;
	int opt, rc, status = CLI_EXIT_OK;

	while ((opt = getopt_long(argc, argv, "+V:i:N:u:T:nh", long_options, NULL)) != -1) {
		switch (opt) {
		case 'V':
			if (n_specs == MAX_SPECS)
				return cli_usage_error("at most %d --virtual", MAX_SPECS);
			specs[n_specs++] = optarg;
			break;
		case 'i':
			fleet.ifname_pattern = optarg;
			break;
		case 'N':
			fleet.netns_pattern = optarg;
			break;
		case 'u':
			fleet.uart_dir = optarg;
			break;
		case 'T':
			if (parse_uint("--timeout", optarg, 86400, &timeout_s))
				return CLI_EXIT_USAGE;
			fleet.deadline_ms = timeout_s * 1000u;
			break;
		case 'n':
			fleet.check_nfs = false;
			break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_hint();
		}
	}
	if (!n_specs)
		return cli_usage_error("--virtual SPEC is needed (the boards)");
	if (optind < argc)
		return cli_usage_error("unexpected '%s'", argv[optind]);
	fleet.specs = specs;
	fleet.n_specs = n_specs;
	catch_signals(&old_int, &old_term);
	rc = pv_vpi_netboot_fleet_run(&fleet, &boards, &n);
	restore_signals(&old_int, &old_term);
	if (rc)
		return rc == PV_ERR_INVALID ? cli_usage_error("%s", pv_last_error())
					    : cli_fail(rc);
	rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows) {
		status = cli_error("out of memory");
		goto out_free;
	}
	for (size_t i = 0; i < n; i++) {
		if (boards[i].status) {
			/* the board could not run at all (its interface, its EEPROM file) */
			cli_error("board %s: %s", boards[i].serial, boards[i].error);
			status = CLI_EXIT_FAILURE;
		}
		rows[i].name = boards[i].serial;
		rows[i].serial = boards[i].serial;
		rows[i].mac = boards[i].mac;
		rows[i].model = boards[i].model;
		rows[i].result = &boards[i].result;
		rows[i].extra = boards[i].uart_log[0] ? boards[i].uart_log : NULL;
	}
	if (print_rows(ctx, rows, n, fleet.check_nfs, "did not"))
		status = CLI_EXIT_FAILURE;
out_free:
	free(rows);
	free(boards);
	return status;
}

void cmd_netboot_usage(FILE *out)
{
	usage(out);
}

const struct cli_command cli_netboot_commands[] = {
	{ "check", cmd_check, "what the servers would give each board (no board needed)",
	  CLI_JSON | CLI_WAITS },
	{ "boot", cmd_boot, "boot virtual boards over real interfaces", CLI_JSON | CLI_WAITS },
	{ NULL, NULL, NULL },
};

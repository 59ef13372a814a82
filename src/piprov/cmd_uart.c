/* piprov uart capture|parse|diagnose: the bootloader serial log (BOOT_UART=1). */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "piprov/fileio.h"
#include "piprov/inventory.h"
#include "piprov/record.h"
#include "piprov/uart.h"
#include "banned.h"

static volatile sig_atomic_t capture_interrupted;

static void on_interrupt(int signo)
{
	(void)signo;
	capture_interrupted = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: piprov uart capture DEVICE|FILE|- [--baud N] [--until SECONDS|done]\n"
		"                           [--inventory FILE] [--save FILE] [--json] [--no-log]\n"
		"       piprov uart parse FILE... [--json]\n"
		"       piprov uart diagnose FILE [--json]\n"
		"\n"
		"Reads the bootloader's serial log (turn it on with 'piprov eeprom set IMAGE\n"
		"-o OUT BOOT_UART=1' and flash OUT): the board's serial, revision and MAC, every\n"
		"DHCP/TFTP step, and why a network boot failed. A serial device is read raw 8N1\n"
		"(default 115200).\n"
		"\n"
		"  --baud N            line speed of a serial device (9600..4000000)\n"
		"  --until SECONDS     stop capturing after SECONDS\n"
		"  --until done        stop once the boot succeeded or failed for good\n"
		"  --inventory FILE    record the board in the inventory (source 'uart')\n"
		"  --save FILE         capture: keep the raw bytes in FILE (for 'diagnose' later)\n"
		"  --json              print the result as JSON (one object per log)\n"
		"  --no-log            capture: do not echo the log while it arrives\n");
}

/* ---- output of one report ---- */

static int print_json(const char *file, const struct pv_uart_report *r)
{
	struct pv_buf text = PV_BUF_INIT(SIZE_MAX);
	json_t *report = NULL, *obj = NULL;
	char *line = NULL;
	int rc;

	rc = pv_uart_report_to_json(r, &text);
	if (rc)
		goto out_release_text;
	report = json_loads(pv_buf_str(&text), 0, NULL);
	obj = json_object();
	if (!report || !obj || (file && json_object_set_new(obj, "file", json_string(file))) ||
	    json_object_update(obj, report) || !(line = json_dumps(obj, JSON_COMPACT))) {
		rc = cli_error("out of memory writing JSON");
		goto out_free_json;
	}
	printf("%s\n", line);
	free(line);
out_free_json:
	json_decref(obj);
	json_decref(report);
out_release_text:
	pv_buf_release(&text);
	return rc ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}

static const char *shown(const char *s)
{
	return s[0] ? s : "-";
}

static void print_text(const char *file, const struct pv_uart_report *r)
{
	if (file)
		printf("file:               %s\n", file);
	printf("serial8:            %s\n", shown(r->serial8));
	printf("boardrev:           %s\n", shown(r->boardrev_text));
	printf("mac:                %s%s\n", shown(r->mac),
	       r->mac_mismatch ? " (other lines disagree)" : "");
	printf("boot_mode:          %s\n", shown(r->boot_mode));
	printf("boot_order:         %s\n", shown(r->boot_order));
	printf("client_ip:          %s\n", shown(r->client_ip));
	printf("tftp_server:        %s\n", shown(r->tftp_server));
	for (unsigned i = 0; i < r->tftp_path_count; i++)
		printf("%s%s\n", i ? "                    " : "tftp_paths:         ",
		       r->tftp_paths[i]);
	if (r->tftp_path_count == 0)
		printf("tftp_paths:         -\n");
	if (r->tftp_paths_dropped)
		printf("                    (%u more)\n", r->tftp_paths_dropped);
	printf("bootloader_version: %s\n", shown(r->bootloader_version));
	if (r->build_timestamp)
		printf("build_timestamp:    %" PRIu64 "\n", r->build_timestamp);
	else
		printf("build_timestamp:    -\n");
	printf("result:             %s\n", pv_uart_result_name(r->result));
	printf("reason:             %s\n", pv_uart_reason_name(r->reason));
	/* every boot mode tried, in order: "1. NETWORK failed tftp-file-not-found ..." */
	for (unsigned i = 0; i < r->attempt_count; i++) {
		const struct pv_uart_attempt *a = &r->attempts[i];

		printf("%s%u. %s %s %s", i ? "                    " : "attempts:           ", i + 1,
		       a->mode, pv_uart_result_name(a->result), pv_uart_reason_name(a->reason));
		if (a->failed_path[0])
			printf(" %s", a->failed_path);
		if (a->path_count)
			printf(" (%u request%s)", a->path_count, a->path_count == 1 ? "" : "s");
		printf("\n");
	}
	if (r->attempt_count == 0)
		printf("attempts:           -\n");
	if (r->attempts_dropped)
		printf("                    (%u more)\n", r->attempts_dropped);
}

/* ---- inventory ---- */

static int record_in_inventory(const char *path, const struct pv_uart_report *r)
{
	struct pv_inventory_record rec;
	struct pv_inventory_upsert_opts opts = { .source = PV_INVENTORY_SOURCE_UART };
	struct pv_inventory_report *result;
	int rc;

	if (!r->have_serial)
		return cli_error("'%s': no serial number in the log, the board was not recorded",
				 path);
	result = calloc(1, sizeof(*result));
	if (!result)
		return cli_error("out of memory");
	rc = pv_record_from_uart(r, &rec);
	if (rc)
		goto out_free_result;
	rc = pv_inventory_upsert(path, &rec, &opts, result);
	if (rc)
		goto out_release_record;
	for (size_t i = 0; i < result->n_conflicts && i < PV_INVENTORY_MAX_CONFLICTS; i++)
		cli_warn("%s", result->conflicts[i].message);
	if (!cli_quiet())
		fprintf(stderr, "piprov: board %s %s in '%s'\n", result->serial,
			result->created ? "added" : result->changed ? "updated" : "unchanged",
			path);
out_release_record:
	pv_inventory_record_release(&rec);
out_free_result:
	free(result);
	return rc ? cli_fail(rc) : CLI_EXIT_OK;
}

/* ---- capture ---- */

/* A long capture can see several boards (the adapter moved from board to board): each one
 * is announced, and recorded with --inventory, as soon as the next board shows up. */
struct board_sink {
	const char *inventory;
	bool failed;
};

static void on_board_left(const struct pv_uart_report *r, void *user)
{
	struct board_sink *sink = user;

	fprintf(stderr, "piprov: board %s (MAC %s) finished: %s (%s)\n", r->serial8,
		r->mac[0] ? r->mac : "unknown", pv_uart_result_name(r->result),
		pv_uart_reason_name(r->reason));
	if (sink->inventory && record_in_inventory(sink->inventory, r) != CLI_EXIT_OK)
		sink->failed = true;
}

static int save_chunk(const void *data, size_t len, void *user)
{
	return pv_atomic_write(user, data, len);
}

static void echo_line(const char *line, size_t len, void *user)
{
	FILE *out = user;

	fwrite(line, 1, len, out);
	fputc('\n', out);
	fflush(out);
}

static int parse_until(const char *text, struct pv_uart_capture_options *options)
{
	char *end;
	double seconds;

	if (strcmp(text, "done") == 0) {
		options->until_done = true;
		return 0;
	}
	seconds = strtod(text, &end);
	if (end == text || *end || !(seconds > 0) || seconds > 86400.0 * 365)
		return -1;
	options->timeout_ms = (int)(seconds * 1000.0 + 0.5);
	if (options->timeout_ms == 0)
		options->timeout_ms = 1;
	return 0;
}

static int cmd_capture(int argc, char **argv, struct cli_context *ctx)
{
	static const struct option long_options[] = {
		{ "baud", required_argument, NULL, 'b' },
		{ "until", required_argument, NULL, 'u' },
		{ "save", required_argument, NULL, 's' },
		{ "no-log", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pv_uart_capture_options options = { .baud = 115200, .cancel = &capture_interrupted };
	struct pv_uart_parser *parser = NULL;
	struct sigaction sa = { .sa_handler = on_interrupt }, old_int, old_term;
	const char *inventory = ctx->inventory, *save = NULL;
	struct pv_atomic_file saved = { .fd = -1 };
	struct board_sink sink = { NULL, false };
	bool json = ctx->json, echo = true;
	struct pv_buf text = PV_BUF_INIT(SIZE_MAX);
	int opt, rc, status = CLI_EXIT_OK;

	while ((opt = getopt_long(argc, argv, "b:u:s:nh", long_options, NULL)) != -1) {
		switch (opt) {
		case 'b': {
			char *end;
			unsigned long baud = strtoul(optarg, &end, 10);

			if (end == optarg || *end || baud > 4000000 ||
			    !pv_uart_baud_supported((unsigned)baud))
				return cli_usage_error("--baud: '%s' is not a supported rate "
						       "(9600, 19200, ..., 115200, ..., 4000000)",
						       optarg);
			options.baud = (unsigned)baud;
			break;
		}
		case 'u':
			if (parse_until(optarg, &options))
				return cli_usage_error("--until: '%s' is neither a number of "
						       "seconds nor 'done'",
						       optarg);
			break;
		case 's':
			save = optarg;
			break;
		case 'n':
			echo = false;
			break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_hint();
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("give one DEVICE, FILE or '-'");

	if (save) {
		/* written beside FILE and renamed at the end: never a half-written log */
		rc = pv_atomic_open(&saved, save, 0644);
		if (rc)
			return cli_fail(rc);
		options.on_data = save_chunk;
		options.user = &saved;
	}
	rc = pv_uart_parser_new(&parser);
	if (rc) {
		status = cli_fail(rc);
		goto out_abort_save;
	}
	sink.inventory = inventory;
	pv_uart_parser_set_board_callback(parser, on_board_left, &sink);
	/* With --json, stdout carries only the JSON: the live log goes to stderr. */
	if (echo)
		pv_uart_parser_set_line_callback(parser, echo_line, json ? stderr : stdout);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	rc = pv_uart_capture(argv[optind], &options, parser);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (rc) {
		status = cli_fail(rc);
		goto out_free_parser;
	}
	if (save) {
		/* kept even after Ctrl-C: what arrived is what the user wants to look at */
		rc = pv_atomic_commit(&saved);
		if (rc) {
			status = cli_fail(rc);
			goto out_free_parser;
		}
	}
	if (json) {
		status = print_json(NULL, pv_uart_parser_report(parser));
	} else {
		rc = pv_uart_diagnose(pv_uart_parser_report(parser), &text);
		if (rc) {
			status = cli_fail(rc);
			goto out_free_parser;
		}
		printf("--- summary\n%s", pv_buf_str(&text));
	}
	if (inventory && status == CLI_EXIT_OK)
		status = record_in_inventory(inventory, pv_uart_parser_report(parser));
	if (sink.failed)
		status = CLI_EXIT_FAILURE;
out_free_parser:
	pv_buf_release(&text);
	pv_uart_parser_free(parser);
out_abort_save:
	pv_atomic_abort(&saved); /* no-op once committed */
	return status;
}

/* ---- parse / diagnose ---- */

static int cmd_parse(int argc, char **argv, struct cli_context *ctx)
{
	static const struct option long_options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pv_uart_report *report;
	bool json = ctx->json;
	int opt, status = CLI_EXIT_OK;

	while ((opt = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_hint();
		}
	}
	if (optind >= argc)
		return cli_usage_error("give at least one log FILE ('-' for stdin)");
	report = malloc(sizeof(*report));
	if (!report)
		return cli_error("out of memory");
	for (int i = optind; i < argc; i++) {
		int rc = pv_uart_parse_file(argv[i], report);

		/* a file with no bootloader line at all is no log: say so, not "-" everywhere */
		if (rc == PV_OK)
			rc = pv_uart_report_check(report, argv[i]);
		if (rc) {
			status = cli_fail(rc);
			continue;
		}
		if (json) {
			if (print_json(argv[i], report) != CLI_EXIT_OK)
				status = CLI_EXIT_FAILURE;
		} else {
			if (i > optind)
				printf("\n");
			print_text(argc - optind > 1 ? argv[i] : NULL, report);
		}
	}
	free(report);
	return status;
}

static int cmd_diagnose(int argc, char **argv, struct cli_context *ctx)
{
	static const struct option long_options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pv_buf text = PV_BUF_INIT(SIZE_MAX);
	struct pv_uart_report *report;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
		if (opt == 'h') {
			usage(stdout);
			return CLI_EXIT_OK;
		}
		return cli_usage_hint();
	}
	if (optind != argc - 1)
		return cli_usage_error("give one log FILE ('-' for stdin)");
	report = malloc(sizeof(*report));
	if (!report)
		return cli_error("out of memory");
	rc = pv_uart_parse_file(argv[optind], report);
	if (rc == PV_OK)
		rc = ctx->json ? pv_uart_diagnose_json(report, &text)
			       : pv_uart_diagnose(report, &text);
	if (rc == PV_OK && ctx->json)
		rc = pv_buf_putc(&text, '\n');
	/* The advice for a log with nothing recognised (wiring, baud rate) is printed, and the
	 * command fails: the file is no bootloader log. */
	if (rc == PV_OK) {
		fputs(pv_buf_str(&text), stdout);
		rc = pv_uart_report_check(report, argv[optind]);
	}
	pv_buf_release(&text);
	free(report);
	return rc ? cli_fail(rc) : CLI_EXIT_OK;
}

void cmd_uart_usage(FILE *out)
{
	usage(out);
}

const struct cli_command cli_uart_commands[] = {
	{ "capture", cmd_capture, "read a serial device (or file) until done", CLI_JSON | CLI_WAITS },
	{ "parse", cmd_parse, "what a log says: serial, MAC, DHCP/TFTP steps", CLI_JSON },
	{ "diagnose", cmd_diagnose, "why a network boot failed", CLI_JSON },
	{ NULL, NULL, NULL },
};

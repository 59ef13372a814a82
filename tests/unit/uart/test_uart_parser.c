/* The boot-log parser: the shared real logs and our synthetic ones give the values in their
 * expected.tsv; the result does not depend on how bytes are split, on noise or on CRLF; the
 * server's MAC is never taken for the board's; the diagnosis names cause and next step. */
#include <jansson.h>
#include <string.h>

#include "piprov/inventory.h"
#include "piprov/record.h"
#include "piprov/uart.h"
#include "uart_test_util.h"

/* ---- expected.tsv: "file<TAB>column..." with a header row naming report fields ---- */

static const char *field_value(const struct pv_uart_report *r, const char *column)
{
	if (strcmp(column, "serial8") == 0)
		return r->serial8;
	if (strcmp(column, "boardrev") == 0)
		return r->boardrev_text;
	if (strcmp(column, "mac") == 0)
		return r->mac;
	if (strcmp(column, "boot_mode") == 0)
		return r->boot_mode;
	if (strcmp(column, "client_ip") == 0)
		return r->client_ip;
	if (strcmp(column, "tftp_server") == 0)
		return r->tftp_server;
	if (strcmp(column, "first_tftp_path") == 0)
		return r->tftp_path_count ? r->tftp_paths[0] : "";
	if (strcmp(column, "result") == 0)
		return pv_uart_result_name(r->result);
	if (strcmp(column, "reason") == 0)
		return pv_uart_reason_name(r->reason);
	if (strcmp(column, "failed_path") == 0)
		return r->failed_path;
	if (strcmp(column, "loaded_path") == 0)
		return r->loaded_path;
	fail_msg("expected.tsv: unknown column '%s'", column);
	return NULL;
}

/* Split line at tabs into at most max fields (in place). */
static int split_tabs(char *line, char **fields, int max)
{
	int n = 0;

	fields[n++] = line;
	for (char *p = line; *p && n < max; p++) {
		if (*p == '\t') {
			*p = '\0';
			fields[n++] = p + 1;
		}
	}
	return n;
}

/* Checks every row of dir/expected.tsv; returns the number of logs checked. */
static int check_expected_tsv(const char *dir)
{
	struct pv_buf tsv = PV_BUF_INIT(SIZE_MAX);
	char *path = NULL, *save = NULL, *line;
	char *header[16], *fields[16];
	int columns = 0, checked = 0;

	assert_true(asprintf(&path, "%s/expected.tsv", dir) > 0);
	pv_test_read_file(path, &tsv);
	free(path);
	for (line = strtok_r((char *)tsv.data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct pv_uart_report *report;
		char *log_path = NULL;
		int n;

		if (columns == 0) {
			columns = split_tabs(line, header, 16);
			assert_string_equal(header[0], "file");
			continue;
		}
		n = split_tabs(line, fields, 16);
		assert_int_equal(n, columns);
		report = malloc(sizeof(*report));
		assert_non_null(report);
		assert_true(asprintf(&log_path, "%s/%s", dir, fields[0]) > 0);
		assert_int_equal(pv_uart_parse_file(log_path, report), PV_OK);
		for (int c = 1; c < columns; c++) {
			const char *got = field_value(report, header[c]);

			if (strcmp(got, fields[c]) != 0)
				fail_msg("%s: %s is '%s', expected '%s'", fields[0], header[c], got,
					 fields[c]);
		}
		free(log_path);
		free(report);
		checked++;
	}
	pv_buf_release(&tsv);
	return checked;
}

static void test_shared_fixture_logs(void **state)
{
	const char *fixtures = pv_test_fixtures_or_skip();
	char *dir = NULL;

	(void)state;
	assert_true(asprintf(&dir, "%s/uart", fixtures) > 0);
	assert_int_equal(check_expected_tsv(dir), 3);
	free(dir);
}

static void test_synthetic_logs(void **state)
{
	char *dir = NULL;

	(void)state;
	assert_true(asprintf(&dir, "%s/tests/unit/uart/logs", pv_test_source_dir()) > 0);
	assert_int_equal(check_expected_tsv(dir), 16);
	free(dir);
}

/* ---- the stream: splits, noise, CRLF, long lines ---- */

static const char *const synthetic_logs[] = {
	"pi4-folder-missing.log", "pi4-fallback-root.log", "cm4-2024-ok-crlf.log",
	"no-dhcp-offer.log",      "no-option43.log",      "tftp-unreachable.log",
	"tftp-timeout.log",       "sd-boot.log",          "two-boards.log",
	"pi5-arp-sender.log",     "tftp-transfer-timeout.log", "firmware-incompatible.log",
	"pi3-bootcode-ok.log",    "pi3-folder-missing.log", "pi3-no-dhcp.log",
	"pi4-network-restart.log",
};

static char *parse_whole(const unsigned char *data, size_t len)
{
	struct pv_uart_report *report = malloc(sizeof(*report));
	char *json;

	assert_non_null(report);
	assert_int_equal(pv_uart_parse_buffer(data, len, report), PV_OK);
	json = uart_report_core_json(report);
	free(report);
	return json;
}

/* Feed in pieces of 1..max_piece bytes (pseudo-random, seeded: reproducible). */
static char *parse_in_pieces(const unsigned char *data, size_t len, size_t max_piece,
			     unsigned seed)
{
	struct pv_uart_parser *parser = NULL;
	char *json;
	size_t at = 0;

	srand(seed);
	assert_int_equal(pv_uart_parser_new(&parser), PV_OK);
	while (at < len) {
		size_t piece = 1 + (size_t)rand() % max_piece;

		if (piece > len - at)
			piece = len - at;
		pv_uart_parser_feed(parser, data + at, piece);
		at += piece;
	}
	pv_uart_parser_finish(parser);
	json = uart_report_core_json(pv_uart_parser_report(parser));
	pv_uart_parser_free(parser);
	return json;
}

static void test_split_anywhere_same_report(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(synthetic_logs) / sizeof(synthetic_logs[0]); i++) {
		struct pv_buf log = PV_BUF_INIT(SIZE_MAX);
		char *whole, *pieces;

		uart_read_test_log(synthetic_logs[i], &log);
		whole = parse_whole(log.data, log.len);
		/* one byte at a time, then random pieces of several sizes */
		pieces = parse_in_pieces(log.data, log.len, 1, 1);
		assert_string_equal(pieces, whole);
		free(pieces);
		for (unsigned seed = 1; seed <= 20; seed++) {
			pieces = parse_in_pieces(log.data, log.len, 1 + seed * 7, seed);
			if (strcmp(pieces, whole) != 0)
				fail_msg("%s split with seed %u: %s\nwhole: %s", synthetic_logs[i],
					 seed, pieces, whole);
			free(pieces);
		}
		free(whole);
		pv_buf_release(&log);
	}
}

/* What a USB serial adapter adds: NULs and 0xff at power-up, stray control bytes, CRLF or
 * CR-only line ends. None of it may change the report. */
static void test_noise_and_line_endings(void **state)
{
	static const unsigned char noise[] = { 0x00, 0xff, 0x80, 0x1b, 0x07, 0x03, 0x13, 0xfe };

	(void)state;
	srand(42);
	for (size_t i = 0; i < sizeof(synthetic_logs) / sizeof(synthetic_logs[0]); i++) {
		struct pv_buf log = PV_BUF_INIT(SIZE_MAX), noisy = PV_BUF_INIT(SIZE_MAX);
		struct pv_uart_report *report = malloc(sizeof(*report));
		char *clean, *dirty;
		size_t added = 0;

		assert_non_null(report);
		uart_read_test_log(synthetic_logs[i], &log);
		clean = parse_whole(log.data, log.len);
		for (size_t k = 0; k < 16; k++)
			assert_int_equal(pv_buf_putc(&noisy, noise[k % sizeof(noise)]), PV_OK);
		added += 16;
		for (size_t at = 0; at < log.len; at++) {
			unsigned char c = log.data[at];

			if (c == '\n') {
				/* alternate CRLF, CR alone, and LF CR (some adapters) */
				const char *eol = at % 3 == 0 ? "\r\n" : at % 3 == 1 ? "\r" : "\n\r";
				assert_int_equal(pv_buf_append_str(&noisy, eol), PV_OK);
				continue;
			}
			if (rand() % 23 == 0) {
				assert_int_equal(pv_buf_putc(&noisy, noise[rand() % sizeof(noise)]),
						 PV_OK);
				added++;
			}
			assert_int_equal(pv_buf_putc(&noisy, c), PV_OK);
		}
		assert_int_equal(pv_uart_parse_buffer(noisy.data, noisy.len, report), PV_OK);
		assert_int_equal(report->noise_bytes, added);
		dirty = uart_report_core_json(report);
		if (strcmp(clean, dirty) != 0)
			fail_msg("%s with noise: %s\nclean: %s", synthetic_logs[i], dirty, clean);
		free(clean);
		free(dirty);
		free(report);
		pv_buf_release(&noisy);
		pv_buf_release(&log);
	}
}

static void test_long_lines_are_ignored(void **state)
{
	struct pv_buf log = PV_BUF_INIT(SIZE_MAX);
	struct pv_uart_report report;
	char exact[PV_UART_LINE_MAX + 1];

	(void)state;
	/* 10000 bytes of garbage that looks like a header: must not be parsed, truncated */
	assert_int_equal(pv_buf_append_str(&log, "NET_BOOT: dc:a6:32:00:00:09 wait for link"),
			 PV_OK);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(pv_buf_putc(&log, 'x'), PV_OK);
	assert_int_equal(pv_buf_append_str(&log, "\n"), PV_OK);
	/* a line of exactly the limit is still a line */
	memset(exact, ' ', PV_UART_LINE_MAX);
	memcpy(exact, "YI_ADDR 10.1.2.3", 16);
	exact[PV_UART_LINE_MAX] = '\0';
	assert_int_equal(pv_buf_append_str(&log, "Boot mode: NETWORK (02) order f\n"), PV_OK);
	assert_int_equal(pv_buf_append_str(&log, exact), PV_OK);
	assert_int_equal(pv_buf_append_str(&log, "\n"), PV_OK);
	assert_int_equal(pv_uart_parse_buffer(log.data, log.len, &report), PV_OK);
	assert_int_equal(report.long_lines, 1);
	assert_int_equal(report.lines, 2);
	assert_string_equal(report.mac, "");
	assert_string_equal(report.client_ip, "10.1.2.3");
	pv_buf_release(&log);
}

/* TFTP_GET, DHCP src and ARP replies carry the server's MAC: never the board's. */
static void test_server_mac_never_taken(void **state)
{
	static const char log[] = "Boot mode: NETWORK (02) order f\n"
				  "DHCP src: ac:1f:6b:66:01:83 192.168.20.1\n"
				  "ARP 192.168.20.105 dc:a6:32:1b:1d:c6\n"
				  "TFTP_GET: dc:a6:32:1b:1d:c6 192.168.20.105 6e87a417/start4.elf\n"
				  "  board: b03111 6e87a417 dc:a6:32:1b:1d:c7\n"
				  "   tftp: 192.168.20.105 dc:a6:32:1b:1d:c6\n";
	struct pv_uart_report report;

	(void)state;
	assert_int_equal(pv_uart_parse_buffer(log, sizeof(log) - 1, &report), PV_OK);
	assert_string_equal(report.mac, "");
	assert_string_equal(report.tftp_server, "192.168.20.105");
	assert_string_equal(report.dhcp_server, "192.168.20.1");
	assert_int_equal(report.tftp_path_count, 1);
}

/* Colon optional after NET_BOOT, YI_ADDR with a colon (hand-typed forum logs), and the
 * UMAC_START cross-check that flags a disagreement. */
static void test_variants_and_mac_cross_check(void **state)
{
	static const char log[] = "Boot mode: NETWORK (02) order f2\n"
				  "NET_BOOT dc:a6:32:12:34:56 wait for link TFTP: 0.0.0.0\n"
				  "GENET: UMAC_START 0xdca63212 0x34570000\n"
				  "YI_ADDR: 10.9.8.7\n";
	struct pv_uart_report report;

	(void)state;
	assert_int_equal(pv_uart_parse_buffer(log, sizeof(log) - 1, &report), PV_OK);
	assert_string_equal(report.mac, "dc:a6:32:12:34:56");
	assert_true(report.mac_mismatch);
	assert_string_equal(report.client_ip, "10.9.8.7");
	assert_string_equal(report.boot_order, "f2");
	assert_int_equal(report.boot_mode_code, 2);
}

/* A capture started in the middle of a boot: network lines before any "Boot mode:" imply an
 * attempt, and the "Boot mode:" that follows names that attempt instead of adding one. */
static void test_capture_from_mid_boot(void **state)
{
	static const char log[] = "LINK STATUS: speed: 1000 full duplex\n"
				  "Boot mode: NETWORK (02) order f\n"
				  "NET_BOOT: dc:a6:32:00:00:01 wait for link TFTP: 0.0.0.0\n";
	struct pv_uart_report report;

	(void)state;
	assert_int_equal(pv_uart_parse_buffer(log, sizeof(log) - 1, &report), PV_OK);
	assert_int_equal(report.network_attempts, 1);
	assert_int_equal(report.result, PV_UART_RESULT_INCOMPLETE);
	assert_int_equal(report.reason, PV_UART_REASON_WAITING_FOR_LINK);
}

static void test_header_twice_is_one_boot(void **state)
{
	struct pv_buf log = PV_BUF_INIT(SIZE_MAX);
	struct pv_uart_report report;

	(void)state;
	uart_read_test_log("cm4-2024-ok-crlf.log", &log);
	assert_int_equal(pv_uart_parse_buffer(log.data, log.len, &report), PV_OK);
	assert_int_equal(report.boots, 1);
	assert_int_equal(report.network_attempts, 1);
	assert_string_equal(report.bootloader_version, "5f18ffb6");
	assert_string_equal(report.bootloader_date, "2024/07/30 14:02:35");
	assert_int_equal(report.build_timestamp, 1722344555);
	assert_true(report.pxe_option_seen); /* "op: 43 len:  32 18.66": trailing stamp */
	assert_int_equal(report.dhcp_offers, 2);
	assert_string_equal(report.gateway, "192.168.7.1");
	pv_buf_release(&log);

	/* a second board on the same line replaces the first entirely */
	uart_read_test_log("two-boards.log", &log);
	assert_int_equal(pv_uart_parse_buffer(log.data, log.len, &report), PV_OK);
	assert_int_equal(report.boots, 2);
	assert_string_equal(report.serial8, "22222222");
	assert_string_equal(report.mac, "2c:cf:67:22:22:22");
	assert_false(report.mac_mismatch);
	pv_buf_release(&log);
}

static void collect_board(const struct pv_uart_report *report, void *user)
{
	struct pv_buf *seen = user;

	assert_int_equal(pv_buf_appendf(seen, "%s %s %s %s;", report->serial8, report->mac,
					pv_uart_result_name(report->result),
					pv_uart_reason_name(report->reason)),
			 PV_OK);
}

/* Each board that leaves the line is handed over once, with its verdict; the header pair of
 * the next board and a reboot of the same board do not count. */
static void test_board_callback(void **state)
{
	struct pv_buf log = PV_BUF_INIT(SIZE_MAX), seen = PV_BUF_INIT(SIZE_MAX);
	struct pv_uart_parser *parser = NULL;

	(void)state;
	uart_read_test_log("two-boards.log", &log);
	/* the second board reboots once more before the log ends */
	assert_int_equal(pv_buf_append_str(&log, "RPi: BOOTSYS release VERSION:4c845bd3 DATE: "
						 "2024/02/16 TIME: 15:28:41\n"
						 "BOOTMODE: 0x06 partition 0 build-ts "
						 "BUILD_TIMESTAMP=1708097321 serial 22222222 "
						 "boardrev d04170 stc 1622082\n"),
			 PV_OK);
	assert_int_equal(pv_uart_parser_new(&parser), PV_OK);
	pv_uart_parser_set_board_callback(parser, collect_board, &seen);
	pv_uart_parser_feed(parser, log.data, log.len);
	pv_uart_parser_finish(parser);
	assert_string_equal(pv_buf_str(&seen), "11111111 dc:a6:32:11:11:11 failed no-dhcp-offer;");
	assert_string_equal(pv_uart_parser_report(parser)->serial8, "22222222");
	assert_int_equal(pv_uart_parser_report(parser)->boots, 3);
	pv_uart_parser_free(parser);
	pv_buf_release(&seen);
	pv_buf_release(&log);
}

static void test_tftp_paths_bounded(void **state)
{
	struct pv_buf log = PV_BUF_INIT(SIZE_MAX);
	struct pv_uart_report *report = malloc(sizeof(*report));

	(void)state;
	assert_non_null(report);
	assert_int_equal(pv_buf_append_str(&log, "Boot mode: NETWORK (02) order f\n"), PV_OK);
	for (int i = 0; i < PV_UART_TFTP_PATHS_MAX + 6; i++)
		assert_int_equal(pv_buf_appendf(&log,
						 "TFTP_GET: 00:11:22:33:44:55 10.0.0.1 "
						 "abcd0123/overlays/o%d.dtbo\n",
						 i),
				 PV_OK);
	assert_int_equal(pv_uart_parse_buffer(log.data, log.len, report), PV_OK);
	assert_int_equal(report->tftp_path_count, PV_UART_TFTP_PATHS_MAX);
	assert_int_equal(report->tftp_paths_dropped, 6);
	assert_string_equal(report->tftp_paths[0], "abcd0123/overlays/o0.dtbo");
	assert_string_equal(report->tftp_paths[PV_UART_TFTP_PATHS_MAX - 1],
			    "abcd0123/overlays/o63.dtbo");
	assert_string_equal(report->tftp_prefix, "abcd0123/overlays");
	free(report);
	pv_buf_release(&log);
}

/* `capture --until done` stops at the first final verdict, not before. */
static void test_done_only_at_final_verdict(void **state)
{
	struct pv_buf log = PV_BUF_INIT(SIZE_MAX);
	struct pv_uart_parser *parser = NULL;
	const char *final_line;
	size_t final_at;

	(void)state;
	uart_read_test_log("pi4-folder-missing.log", &log);
	/* the not-found of the root start4.elf leaves no fallback: that line settles it */
	final_line = strstr((const char *)log.data, "TFTP_GET: 52:54:00:12:34:56 10.0.0.2 start4.elf");
	assert_non_null(final_line);
	final_line = strstr(final_line, "TFTP 1: File not found\n");
	assert_non_null(final_line);
	final_at = (size_t)(final_line - (const char *)log.data) + strlen("TFTP 1: File not found\n");
	assert_int_equal(pv_uart_parser_new(&parser), PV_OK);
	for (size_t at = 0; at < log.len; at++) {
		pv_uart_parser_feed(parser, log.data + at, 1);
		if (pv_uart_parser_done(parser)) {
			assert_int_equal(at + 1, final_at);
			break;
		}
	}
	assert_true(pv_uart_parser_done(parser));
	pv_uart_parser_free(parser);
	pv_buf_release(&log);
}

/* ---- the diagnosis ---- */

static char *diagnose_text(const char *data, size_t len)
{
	struct pv_uart_report *report = malloc(sizeof(*report));
	struct pv_buf text = PV_BUF_INIT(SIZE_MAX);

	assert_non_null(report);
	assert_int_equal(pv_uart_parse_buffer(data, len, report), PV_OK);
	assert_int_equal(pv_uart_diagnose(report, &text), PV_OK);
	free(report);
	/* the text is wrapped for a terminal: match phrases across line ends */
	for (size_t i = 0; i < text.len; i++) {
		if (text.data[i] == '\n')
			text.data[i] = ' ';
		else
			assert_true(i == 0 || text.data[i - 1] != '\n');
	}
	return (char *)pv_buf_detach(&text, NULL);
}

static char *diagnose_log(const char *name)
{
	struct pv_buf log = PV_BUF_INIT(SIZE_MAX);
	char *text;

	uart_read_test_log(name, &log);
	text = diagnose_text((const char *)log.data, log.len);
	pv_buf_release(&log);
	return text;
}

static void assert_contains(const char *text, const char *needle)
{
	if (!strstr(text, needle))
		fail_msg("expected \"%s\" in:\n%s", needle, text);
}

static void test_diagnose_explains_and_advises(void **state)
{
	static const struct {
		const char *log;
		const char *says[4];
	} cases[] = {
		{ "pi4-folder-missing.log",
		  { "asked for '1234abcd/start4.elf' on 10.0.0.2 and got \"File not found\"",
		    "TFTP folder '1234abcd/' is missing", "piprov inventory export tftp",
		    "Raspberry Pi 4 Model B" } },
		{ "no-dhcp-offer.log",
		  { "no DHCP server answered", "piprov inventory export dnsmasq", "no-dhcp-offer",
		    NULL } },
		{ "no-option43.log",
		  { "no DHCP offer with option 43", "pxe-service=0,\"Raspberry Pi Boot\"",
		    "2 DHCP offer(s)", NULL } },
		{ "tftp-unreachable.log",
		  { "TFTP server unreachable", "0badf00d/start4.elf", "172.16.0.9", NULL } },
		{ "tftp-timeout.log", { "timed out", "UDP port 69", NULL } },
		{ "tftp-transfer-timeout.log",
		  { "172.16.0.3 timed out (file '0c0ffee0/start4.elf')", "tftp-timeout", NULL } },
		{ "firmware-incompatible.log",
		  { "loaded '0dd0dd00/start4.elf'", "not compatible", "firmware-incompatible",
		    NULL } },
		{ "pi4-fallback-root.log",
		  { "Network boot works", "fell back to the TFTP root",
		    "piprov inventory export tftp", NULL } },
		{ "cm4-2024-ok-crlf.log", { "Network boot works", "'9ffefdef/start4.elf'", NULL } },
		{ "sd-boot.log", { "BOOT_ORDER", NULL } },
		/* NETWORK failed, then RESTART: the network's failure, not a RESTART boot */
		{ "pi4-network-restart.log",
		  { "asked for '25a12658/start4.elf'", "1. NETWORK (02): failed (tftp-file-not-found",
		    "2. RESTART (0f): not-network", "result:     failed (tftp-file-not-found)" } },
		/* a Pi 3: no TFTP_PREFIX, its boot files by name */
		{ "pi3-folder-missing.log",
		  { "Network boot works", "fell back to the TFTP root", "MAC b8:27:eb:44:56:a2",
		    NULL } },
		{ "pi3-bootcode-ok.log",
		  { "Network boot works", "'7285c0f2/start.elf' from 10.0.3.2",
		    "3. NETWORK: ok", NULL } },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = diagnose_log(cases[i].log);

		for (int k = 0; k < 4 && cases[i].says[k]; k++)
			assert_contains(text, cases[i].says[k]);
		free(text);
	}
}

static void test_diagnose_wraps_prose_not_commands(void **state)
{
	struct pv_buf log = PV_BUF_INIT(SIZE_MAX), text = PV_BUF_INIT(SIZE_MAX);
	struct pv_uart_report *report = malloc(sizeof(*report));
	char *save = NULL, *line;

	(void)state;
	assert_non_null(report);
	uart_read_test_log("no-option43.log", &log);
	assert_int_equal(pv_uart_parse_buffer(log.data, log.len, report), PV_OK);
	assert_int_equal(pv_uart_diagnose(report, &text), PV_OK);
	for (line = strtok_r((char *)text.data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (!(line[0] == ' ' && line[1] == ' ') && strlen(line) > 78)
			fail_msg("line over 78 columns: '%s'", line);
	pv_buf_release(&text);
	pv_buf_release(&log);
	free(report);
}

static void test_diagnose_cancel_and_unknown(void **state)
{
	static const char cancelled[] =
		"Boot mode: NETWORK (02) order f\n"
		"NET_BOOT: dc:a6:32:00:00:07 wait for link TFTP: 0.0.0.0\n"
		"LINK STATUS: speed: 1000 full duplex\n"
		"DHCP src: 00:15:5d:01:02:06 10.1.1.1\n"
		"OPTIONS:-\n\top: 43 len: 32\n"
		"NET 10.1.1.5 255.255.255.0 gw 0.0.0.0 tftp 10.1.1.1\n"
		"TFTP_GET: 00:15:5d:01:02:06 10.1.1.1 config.txt\n"
		"TFTP: complete 120\n"
		"NETBOOT CANCEL\n";
	static const char garbage[] = "\xff\x00\xfe\x80\x81zz\x01\x02\x03\x04\x05\x06\x07\x08";
	char *text;

	(void)state;
	text = diagnose_text(cancelled, sizeof(cancelled) - 1);
	assert_contains(text, "NETBOOT CANCEL");
	assert_contains(text, "netboot-cancelled");
	free(text);
	text = diagnose_text(garbage, sizeof(garbage) - 1);
	assert_contains(text, "No bootloader output was recognised");
	assert_contains(text, "BOOT_UART=1");
	assert_contains(text, "wrong baud rate");
	free(text);
}

/* ---- JSON and the inventory record ---- */

/* Every boot mode in order, with its own result and requests. */
static void test_attempts(void **state)
{
	struct pv_buf log = PV_BUF_INIT(SIZE_MAX);
	struct pv_uart_report *r = malloc(sizeof(*r));
	const struct pv_uart_attempt *a;

	(void)state;
	assert_non_null(r);
	uart_read_test_log("pi4-network-restart.log", &log);
	assert_int_equal(pv_uart_parse_buffer(log.data, log.len, r), PV_OK);
	assert_int_equal(r->attempt_count, 2);
	a = &r->attempts[0];
	assert_string_equal(a->mode, "NETWORK");
	assert_int_equal(a->mode_code, 2);
	assert_string_equal(a->order, "f");
	assert_int_equal(a->result, PV_UART_RESULT_FAILED);
	assert_int_equal(a->reason, PV_UART_REASON_TFTP_NOT_FOUND);
	assert_string_equal(a->failed_path, "25a12658/start4.elf");
	assert_int_equal(a->first_path, 0);
	assert_int_equal(a->path_count, 3);
	a = &r->attempts[1];
	assert_string_equal(a->mode, "RESTART");
	assert_int_equal(a->mode_code, 0xf);
	assert_int_equal(a->result, PV_UART_RESULT_NOT_NETWORK);
	assert_int_equal(a->path_count, 0);
	/* the verdict and its mode are the network attempt's */
	assert_int_equal(r->result, PV_UART_RESULT_FAILED);
	assert_string_equal(r->boot_mode, "NETWORK");
	assert_string_equal(r->boot_order, "f");
	pv_buf_release(&log);

	/* NETWORK failed, then USB-MSD: that one is where the log ends */
	uart_read_test_log("no-dhcp-offer.log", &log);
	assert_int_equal(pv_uart_parse_buffer(log.data, log.len, r), PV_OK);
	assert_int_equal(r->attempt_count, 2);
	assert_int_equal(r->attempts[0].result, PV_UART_RESULT_FAILED);
	assert_int_equal(r->attempts[0].reason, PV_UART_REASON_NO_DHCP_OFFER);
	assert_string_equal(r->attempts[1].mode, "USB-MSD");
	assert_int_equal(r->attempts[1].result, PV_UART_RESULT_NOT_NETWORK);
	pv_buf_release(&log);

	/* SD and NETWORK, NETWORK again after RESTART: each one listed; SD left for the next
	 * mode is "moved-on"; the log ends in the second network attempt */
	{
		static const char text[] =
			"RPi: BOOTLOADER release VERSION:8ba17717 DATE: 2023/01/11 TIME: 17:40:52\n"
			"BOOTMODE: 0x06 partition 0 build-ts BUILD_TIMESTAMP=1673458852 serial "
			"25a12658 boardrev c03112 stc 544141\n"
			"Boot mode: SD (01) order f2\n"
			"Boot mode: NETWORK (02) order f\n"
			"NET_BOOT: dc:a6:32:25:a1:26 wait for link TFTP: 0.0.0.0\n"
			"NETBOOT CANCEL\n"
			"Boot mode: RESTART (0f) order 0\n"
			"Boot mode: SD (01) order f2\n"
			"Boot mode: NETWORK (02) order f\n"
			"NET_BOOT: dc:a6:32:25:a1:26 wait for link TFTP: 0.0.0.0\n"
			"LINK STATUS: speed: 1000 full duplex\n";

		assert_int_equal(pv_uart_parse_buffer(text, sizeof(text) - 1, r), PV_OK);
		assert_int_equal(r->attempt_count, 5);
		assert_int_equal(r->attempts[0].reason, PV_UART_REASON_MOVED_ON);
		assert_int_equal(r->attempts[1].reason, PV_UART_REASON_NO_LINK);
		assert_string_equal(r->attempts[2].mode, "RESTART");
		assert_int_equal(r->attempts[3].reason, PV_UART_REASON_MOVED_ON);
		assert_int_equal(r->attempts[4].result, PV_UART_RESULT_INCOMPLETE);
		assert_int_equal(r->attempts[4].reason, PV_UART_REASON_WAITING_FOR_DHCP);
		/* overall: the retry has not failed on its own; the earlier reason stands */
		assert_int_equal(r->result, PV_UART_RESULT_FAILED);
		assert_int_equal(r->reason, PV_UART_REASON_NO_LINK);
	}
	/* more modes than kept: counted */
	{
		struct pv_buf many = PV_BUF_INIT(SIZE_MAX);

		pv_buf_append_str(&many, "RPi: BOOTLOADER release VERSION:8ba17717 DATE: 2023/01/11 "
					 "TIME: 17:40:52\n");
		for (unsigned i = 0; i < PV_UART_ATTEMPTS_MAX + 3; i++)
			pv_buf_append_str(&many, "Boot mode: SD (01) order f1\n");
		assert_int_equal(pv_uart_parse_buffer(many.data, many.len, r), PV_OK);
		assert_int_equal(r->attempt_count, PV_UART_ATTEMPTS_MAX);
		assert_int_equal(r->attempts_dropped, 3);
		assert_int_equal(r->result, PV_UART_RESULT_NOT_NETWORK);
		pv_buf_release(&many);
	}
	free(r);
}

/* The diagnosis of r as one line (it is wrapped for a terminal). */
static const char *diagnosis_line(const struct pv_uart_report *r, struct pv_buf *text)
{
	pv_buf_reset(text);
	assert_int_equal(pv_uart_diagnose(r, text), PV_OK);
	for (size_t i = 0; i < text->len; i++)
		if (text->data[i] == '\n')
			text->data[i] = ' ';
	return pv_buf_str(text);
}

/* A Pi 3's bootcode.bin log: no header, its serial from the folder it asks for. */
static void test_pi3_bootcode(void **state)
{
	struct pv_buf log = PV_BUF_INIT(SIZE_MAX), text = PV_BUF_INIT(SIZE_MAX);
	struct pv_uart_report *r = malloc(sizeof(*r));

	(void)state;
	assert_non_null(r);
	uart_read_test_log("pi3-bootcode-ok.log", &log);
	assert_int_equal(pv_uart_parse_buffer(log.data, log.len, r), PV_OK);
	assert_int_equal(r->format, PV_UART_FORMAT_BOOTCODE);
	assert_true(r->have_serial);
	assert_string_equal(r->serial8, "7285c0f2");
	assert_string_equal(r->loaded_path, "7285c0f2/start.elf");
	assert_false(r->fell_back_to_root);
	assert_false(r->mac_mismatch);
	/* SD (no start.elf), USB, then the network */
	assert_int_equal(r->attempt_count, 3);
	assert_string_equal(r->attempts[0].mode, "SD");
	assert_int_equal(r->attempts[0].reason, PV_UART_REASON_MOVED_ON);
	assert_int_equal(r->attempts[2].mode_code, -1);
	assert_int_equal(r->attempts[2].result, PV_UART_RESULT_OK);
	assert_int_equal(r->attempts[2].path_count, 6);
	assert_int_equal(pv_uart_report_to_json(r, &text), PV_OK);
	assert_non_null(strstr(pv_buf_str(&text), "\"log_format\":\"bootcode\""));
	pv_buf_release(&text);
	pv_buf_release(&log);

	/* the ROM's DHCP retries with no answer: waiting, not failed, and said so */
	uart_read_test_log("pi3-no-dhcp.log", &log);
	assert_int_equal(pv_uart_parse_buffer(log.data, log.len, r), PV_OK);
	assert_int_equal(r->result, PV_UART_RESULT_INCOMPLETE);
	assert_int_equal(r->reason, PV_UART_REASON_WAITING_FOR_DHCP);
	assert_false(r->have_serial);
	pv_buf_release(&log);

	/* the advice for a Pi 3: the three spaces of the menu text, no BOOT_ORDER */
	uart_read_test_log("no-option43.log", &log);
	assert_int_equal(pv_uart_parse_buffer(log.data, log.len, r), PV_OK);
	r->boardrev = 0xa02082; /* a Pi 3 Model B */
	assert_contains(diagnosis_line(r, &text), "pxe-service=0,\"Raspberry Pi Boot   \"");
	assert_contains(diagnosis_line(r, &text), "three trailing spaces");
	r->boardrev = 0xc03111; /* a Pi 4 is told about the Pi 3B too */
	assert_contains(diagnosis_line(r, &text), "pxe-service=0,\"Raspberry Pi Boot\"'");
	assert_contains(diagnosis_line(r, &text), "a Pi 3B needs");
	pv_buf_release(&log);
	uart_read_test_log("sd-boot.log", &log);
	assert_int_equal(pv_uart_parse_buffer(log.data, log.len, r), PV_OK);
	r->boardrev = 0xa22082;
	assert_contains(diagnosis_line(r, &text), "piprov-node netboot");
	assert_null(strstr(diagnosis_line(r, &text), "BOOT_ORDER=0xf21"));
	pv_buf_release(&text);
	pv_buf_release(&log);
	free(r);
}

/* diagnose --json: the report's keys, the explanation and the next step apart */
static void test_diagnose_json(void **state)
{
	struct pv_buf log = PV_BUF_INIT(SIZE_MAX), text = PV_BUF_INIT(SIZE_MAX);
	struct pv_uart_report *r = malloc(sizeof(*r));
	json_t *obj;

	(void)state;
	assert_non_null(r);
	uart_read_test_log("pi4-folder-missing.log", &log);
	assert_int_equal(pv_uart_parse_buffer(log.data, log.len, r), PV_OK);
	assert_int_equal(pv_uart_diagnose_json(r, &text), PV_OK);
	obj = json_loads(pv_buf_str(&text), 0, NULL);
	assert_non_null(obj);
	assert_string_equal(json_string_value(json_object_get(obj, "reason")),
			    "tftp-file-not-found");
	assert_contains(json_string_value(json_object_get(obj, "explanation")),
			"folder '1234abcd/' is missing");
	assert_null(strstr(json_string_value(json_object_get(obj, "explanation")), "Next step"));
	assert_contains(json_string_value(json_object_get(obj, "next_step")),
			"piprov inventory add --serial 1234abcd");
	assert_true(json_is_array(json_object_get(obj, "attempts")));
	json_decref(obj);
	pv_buf_release(&text);
	pv_buf_release(&log);

	/* nothing recognised: the check names the file */
	assert_int_equal(pv_uart_parse_buffer("root:x:0:0:root:/root:/bin/bash\n", 32, r), PV_OK);
	assert_int_equal(pv_uart_report_check(r, "/etc/passwd"), PV_ERR_FORMAT);
	assert_contains(pv_last_error(), "'/etc/passwd': no bootloader output in 1 line");
	free(r);
}

static void test_json_report(void **state)
{
	struct pv_buf log = PV_BUF_INIT(SIZE_MAX), text = PV_BUF_INIT(SIZE_MAX);
	struct pv_uart_report *report = malloc(sizeof(*report));
	json_error_t error;
	json_t *obj, *paths;

	(void)state;
	assert_non_null(report);
	uart_read_test_log("pi4-fallback-root.log", &log);
	assert_int_equal(pv_uart_parse_buffer(log.data, log.len, report), PV_OK);
	assert_int_equal(pv_uart_report_to_json(report, &text), PV_OK);
	obj = json_loads(pv_buf_str(&text), 0, &error);
	assert_non_null(obj);
	assert_string_equal(json_string_value(json_object_get(obj, "serial8")), "1234abcd");
	assert_string_equal(json_string_value(json_object_get(obj, "boardrev")), "c03111");
	assert_string_equal(json_string_value(json_object_get(obj, "mac")), "dc:a6:32:aa:bb:01");
	assert_string_equal(json_string_value(json_object_get(obj, "boot_mode")), "NETWORK");
	assert_string_equal(json_string_value(json_object_get(obj, "boot_order")), "f");
	assert_string_equal(json_string_value(json_object_get(obj, "client_ip")), "10.0.0.51");
	assert_string_equal(json_string_value(json_object_get(obj, "tftp_server")), "10.0.0.2");
	assert_string_equal(json_string_value(json_object_get(obj, "bootloader_version")),
			    "c2f8c388");
	assert_int_equal(json_integer_value(json_object_get(obj, "build_timestamp")), 1673458852);
	assert_string_equal(json_string_value(json_object_get(obj, "result")), "ok");
	assert_string_equal(json_string_value(json_object_get(obj, "reason")), "none");
	assert_true(json_is_true(json_object_get(obj, "fell_back_to_root")));
	paths = json_object_get(obj, "tftp_paths");
	assert_int_equal(json_array_size(paths), 5);
	assert_string_equal(json_string_value(json_array_get(paths, 0)), "1234abcd/start4.elf");
	assert_string_equal(json_string_value(json_array_get(paths, 3)), "pieeprom.sig");
	assert_string_equal(json_string_value(json_array_get(paths, 4)), "start4.elf");
	json_decref(obj);
	pv_buf_release(&text);

	/* unknown values are null, not empty strings */
	assert_int_equal(pv_uart_parse_buffer("", 0, report), PV_OK);
	assert_int_equal(pv_uart_report_to_json(report, &text), PV_OK);
	obj = json_loads(pv_buf_str(&text), 0, &error);
	assert_non_null(obj);
	assert_true(json_is_null(json_object_get(obj, "serial8")));
	assert_true(json_is_null(json_object_get(obj, "build_timestamp")));
	assert_string_equal(json_string_value(json_object_get(obj, "result")), "unknown");
	json_decref(obj);
	pv_buf_release(&text);
	pv_buf_release(&log);
	free(report);
}

static void test_inventory_record(void **state)
{
	struct pv_buf log = PV_BUF_INIT(SIZE_MAX);
	struct pv_uart_report *report = malloc(sizeof(*report));
	struct pv_inventory_record rec;
	char dir[256];

	(void)state;
	assert_non_null(report);
	uart_read_test_log("cm4-2024-ok-crlf.log", &log);
	assert_int_equal(pv_uart_parse_buffer(log.data, log.len, report), PV_OK);
	assert_int_equal(pv_record_from_uart(report, &rec), PV_OK);
	assert_int_equal(rec.serial, 0x9ffefdef);
	assert_int_equal(rec.serial_digits, 8);
	assert_true(rec.has_mac);
	assert_memory_equal(rec.mac, "\xd8\x3a\xdd\x05\xfd\x52", 6);
	assert_true(rec.has_revision);
	assert_int_equal(rec.revision, 0xc03141);
	assert_true(rec.has_ip);
	assert_int_equal(rec.ip, (192u << 24) | (168u << 16) | (7u << 8) | 198u);
	assert_true(rec.has_tftp_prefix);
	assert_int_equal(rec.tftp_prefix, PV_TFTP_PREFIX_SERIAL);
	assert_string_equal(rec.bootloader_version, "5f18ffb6");
	assert_int_equal(rec.bootloader_build_ts, 1722344555);
	pv_inventory_tftp_dir(&rec, dir);
	assert_string_equal(dir, "9ffefdef");
	pv_inventory_record_release(&rec);

	/* an IPv6 address is not an inventory IPv4 address; no serial: no record */
	assert_int_equal(pv_uart_parse_buffer("NET_BOOT: dc:a6:32:00:00:01 wait\n", 33, report),
			 PV_OK);
	assert_int_equal(pv_record_from_uart(report, &rec), PV_ERR_INVALID);
	pv_buf_release(&log);
	free(report);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_fixture_logs),
		cmocka_unit_test(test_synthetic_logs),
		cmocka_unit_test(test_split_anywhere_same_report),
		cmocka_unit_test(test_noise_and_line_endings),
		cmocka_unit_test(test_long_lines_are_ignored),
		cmocka_unit_test(test_server_mac_never_taken),
		cmocka_unit_test(test_variants_and_mac_cross_check),
		cmocka_unit_test(test_capture_from_mid_boot),
		cmocka_unit_test(test_header_twice_is_one_boot),
		cmocka_unit_test(test_board_callback),
		cmocka_unit_test(test_tftp_paths_bounded),
		cmocka_unit_test(test_done_only_at_final_verdict),
		cmocka_unit_test(test_diagnose_explains_and_advises),
		cmocka_unit_test(test_diagnose_wraps_prose_not_commands),
		cmocka_unit_test(test_diagnose_cancel_and_unknown),
		cmocka_unit_test(test_json_report),
		cmocka_unit_test(test_inventory_record),
		cmocka_unit_test(test_attempts),
		cmocka_unit_test(test_pi3_bootcode),
		cmocka_unit_test(test_diagnose_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

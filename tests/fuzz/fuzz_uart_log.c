/* Fuzz target for the bootloader log parser (src/lib/uart/log_parser.c).
 * Besides crashes and sanitizer reports it checks the parser's promise: the same bytes give
 * the same report whether fed whole or in pieces (sizes taken from the input itself), and
 * every text field of the report stays NUL-terminated within its bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "piprov/uart.h"
#include "banned.h"

static char *core_json(const struct pv_uart_report *report)
{
	struct pv_uart_report copy = *report;
	struct pv_buf json = PV_BUF_INIT(SIZE_MAX);

	copy.bytes = copy.lines = copy.noise_bytes = copy.long_lines = 0;
	if (pv_uart_report_to_json(&copy, &json))
		abort();
	return (char *)pv_buf_detach(&json, NULL);
}

static void check_bounds(const struct pv_uart_report *r)
{
	if (!memchr(r->serial8, 0, sizeof(r->serial8)) || !memchr(r->mac, 0, sizeof(r->mac)) ||
	    !memchr(r->boot_mode, 0, sizeof(r->boot_mode)) ||
	    !memchr(r->boot_order, 0, sizeof(r->boot_order)) ||
	    !memchr(r->client_ip, 0, sizeof(r->client_ip)) ||
	    !memchr(r->tftp_error, 0, sizeof(r->tftp_error)) ||
	    r->tftp_path_count > PV_UART_TFTP_PATHS_MAX)
		abort();
	for (unsigned i = 0; i < r->tftp_path_count; i++)
		if (!memchr(r->tftp_paths[i], 0, PV_UART_PATH_MAX))
			abort();
	/* attempts: within the array, their requests within the paths kept */
	if (r->attempt_count > PV_UART_ATTEMPTS_MAX)
		abort();
	for (unsigned i = 0; i < r->attempt_count; i++) {
		const struct pv_uart_attempt *a = &r->attempts[i];

		if (!memchr(a->mode, 0, sizeof(a->mode)) || !memchr(a->order, 0, sizeof(a->order)) ||
		    !memchr(a->failed_path, 0, sizeof(a->failed_path)) ||
		    a->first_path + a->path_count > r->tftp_path_count)
			abort();
	}
}

static void check_board(const struct pv_uart_report *report, void *user)
{
	(void)user;
	check_bounds(report);
	if (!report->have_serial)
		abort(); /* only boards that were identified are handed over */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pv_uart_report *whole = malloc(sizeof(*whole));
	struct pv_uart_parser *parser = NULL;
	struct pv_buf text = PV_BUF_INIT(SIZE_MAX);
	char *a, *b;
	size_t at = 0, step = size ? 1 + data[0] % 17 : 1;

	if (!whole || pv_uart_parse_buffer(data, size, whole) || pv_uart_parser_new(&parser))
		abort();
	check_bounds(whole);
	pv_uart_parser_set_board_callback(parser, check_board, NULL);
	if (pv_uart_diagnose(whole, &text) || pv_uart_diagnose_json(whole, &text))
		abort();
	while (at < size) {
		size_t piece = step < size - at ? step : size - at;

		pv_uart_parser_feed(parser, data + at, piece);
		(void)pv_uart_parser_done(parser);
		at += piece;
		step = step * 5 % 31 + 1; /* vary the piece sizes */
	}
	pv_uart_parser_finish(parser);
	a = core_json(whole);
	b = core_json(pv_uart_parser_report(parser));
	if (strcmp(a, b) != 0)
		abort();
	free(a);
	free(b);
	pv_buf_release(&text);
	pv_uart_parser_free(parser);
	free(whole);
	return 0;
}

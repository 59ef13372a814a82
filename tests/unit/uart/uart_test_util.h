/* Helpers shared by the UART tests: comparing reports and reading the test logs. */
#ifndef UART_TEST_UTIL_H
#define UART_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "piprov/error.h"
#include "piprov/uart.h"
#include "test_support.h"

/* The report as JSON with the stream counters zeroed: two reports of the same log that
 * arrived split, with noise or with other line endings must give the same text. */
static inline char *uart_report_core_json(const struct pv_uart_report *report)
{
	struct pv_uart_report copy = *report;
	struct pv_buf json = PV_BUF_INIT(SIZE_MAX);

	copy.bytes = 0;
	copy.lines = 0;
	copy.noise_bytes = 0;
	copy.long_lines = 0;
	assert_int_equal(pv_uart_report_to_json(&copy, &json), PV_OK);
	return (char *)pv_buf_detach(&json, NULL);
}

/* tests/unit/uart/logs/<name> */
static inline char *uart_test_log_path(const char *name)
{
	char *path = NULL;

	assert_true(asprintf(&path, "%s/tests/unit/uart/logs/%s", pv_test_source_dir(), name) > 0);
	return path;
}

static inline void uart_read_test_log(const char *name, struct pv_buf *out)
{
	char *path = uart_test_log_path(name);

	pv_test_read_file(path, out);
	free(path);
}

#endif

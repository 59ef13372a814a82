/* Serial capture through a real pseudo-terminal pair: the capture opens the slave as it
 * would open /dev/ttyUSB0, must switch it to raw 8N1 at the requested speed, and the log is
 * written into the master in random-sized pieces with adapter noise and CRLF line ends.
 * Also: files, the deadline, `--until done`, cancel, hang-up and bad arguments. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "piprov/uart.h"
#include "uart_test_util.h"

struct pty_pair {
	int master;
	char slave_path[128];
};

static void open_pty(struct pty_pair *pty)
{
	pty->master = posix_openpt(O_RDWR | O_NOCTTY);
	if (pty->master < 0 && (errno == ENOENT || errno == ENODEV || errno == ENXIO)) {
		/* a container without /dev/ptmx: nothing to test the terminal path with */
		fprintf(stderr, "SKIP: no pseudo-terminals here (/dev/ptmx: %s)\n",
			strerror(errno));
		skip();
	}
	assert_true(pty->master >= 0);
	assert_int_equal(grantpt(pty->master), 0);
	assert_int_equal(unlockpt(pty->master), 0);
	assert_int_equal(ptsname_r(pty->master, pty->slave_path, sizeof(pty->slave_path)), 0);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What the writer thread does with the master side. */
struct writer {
	struct pty_pair *pty;
	const unsigned char *data;
	size_t len;
	speed_t expect_speed;
	bool close_when_drained; /* hang up after the reader consumed everything */
	bool keep_open_ms;       /* stay quiet (not closing) for a while afterwards */
	/* results, checked by the main thread */
	bool saw_raw_mode;
	bool wrote_all;
};

/* The slave's settings as seen from the master (Linux returns the slave's termios). */
static bool slave_is_raw_8n1(int master, speed_t speed)
{
	struct termios tio;

	if (tcgetattr(master, &tio) < 0)
		return false;
	return !(tio.c_lflag & (ICANON | ECHO | ISIG | IEXTEN)) &&
	       !(tio.c_iflag & (ICRNL | INLCR | IGNCR | IXON | IXOFF | ISTRIP)) &&
	       (tio.c_cflag & CSIZE) == CS8 && !(tio.c_cflag & (PARENB | CSTOPB | CRTSCTS)) &&
	       (tio.c_cflag & CREAD) && cfgetispeed(&tio) == speed;
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	int64_t deadline = now_ms() + 10000;
	size_t at = 0;
	int slave_probe;

	/* Wait until the capture has put the line into raw mode: bytes sent before would be
	 * subject to the cooked-mode line discipline. */
	while (!slave_is_raw_8n1(w->pty->master, w->expect_speed)) {
		if (now_ms() > deadline)
			return NULL;
		sleep_ms(5);
	}
	w->saw_raw_mode = true;
	slave_probe = open(w->pty->slave_path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
	srand(7);
	while (at < w->len) {
		size_t piece = 1 + (size_t)rand() % 97;
		ssize_t n;

		if (piece > w->len - at)
			piece = w->len - at;
		n = write(w->pty->master, w->data + at, piece);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				sleep_ms(1);
				continue;
			}
			break;
		}
		at += (size_t)n;
		if (rand() % 8 == 0)
			sleep_ms(1 + rand() % 3); /* bytes trickle in, as at 115200 baud */
	}
	w->wrote_all = at == w->len;
	if (w->close_when_drained) {
		int pending = 1;

		/* a hang-up may discard unread input: let the capture read it all first */
		while (slave_probe >= 0 && pending > 0 && now_ms() < deadline) {
			if (ioctl(slave_probe, FIONREAD, &pending) < 0)
				break;
			sleep_ms(5);
		}
		sleep_ms(20);
		close(w->pty->master);
		w->pty->master = -1;
	}
	if (w->keep_open_ms)
		sleep_ms(3000);
	if (slave_probe >= 0)
		close(slave_probe);
	return NULL;
}

/* The log with CRLF line ends and serial noise, as a USB adapter delivers it. */
static void make_noisy_crlf(const struct pv_buf *log, struct pv_buf *out, size_t *noise)
{
	static const unsigned char junk[] = { 0x00, 0xff, 0xfe, 0x11, 0x13, 0x03, 0x1c, 0x7f };

	*noise = 0;
	for (int k = 0; k < 8; k++, (*noise)++)
		assert_int_equal(pv_buf_putc(out, junk[k]), PV_OK);
	srand(11);
	for (size_t i = 0; i < log->len; i++) {
		if (log->data[i] == '\n') {
			assert_int_equal(pv_buf_append(out, "\r\n", 2), PV_OK);
			continue;
		}
		if (rand() % 31 == 0) {
			assert_int_equal(pv_buf_putc(out, junk[rand() % sizeof(junk)]), PV_OK);
			(*noise)++;
		}
		assert_int_equal(pv_buf_putc(out, log->data[i]), PV_OK);
	}
}

static void test_pty_capture_pieces_noise_crlf(void **state)
{
	static const char *const logs[] = { "pi4-folder-missing.log", "cm4-2024-ok-crlf.log",
					    "no-option43.log" };

	(void)state;
	for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
		struct pv_buf log = PV_BUF_INIT(SIZE_MAX), wire = PV_BUF_INIT(SIZE_MAX);
		struct pv_uart_report *expected = malloc(sizeof(*expected));
		struct pv_uart_parser *parser = NULL;
		struct pty_pair pty;
		struct writer w = { 0 };
		struct pv_uart_capture_options options = { .baud = 115200, .timeout_ms = 20000 };
		pthread_t thread;
		char *want, *got;
		size_t noise;

		assert_non_null(expected);
		uart_read_test_log(logs[i], &log);
		assert_int_equal(pv_uart_parse_buffer(log.data, log.len, expected), PV_OK);
		make_noisy_crlf(&log, &wire, &noise);
		open_pty(&pty);
		w = (struct writer){ .pty = &pty, .data = wire.data, .len = wire.len,
				     .expect_speed = B115200, .close_when_drained = true };
		assert_int_equal(pv_uart_parser_new(&parser), PV_OK);
		assert_int_equal(pthread_create(&thread, NULL, writer_main, &w), 0);
		/* ends by the hang-up when the master closes, long before the deadline */
		assert_int_equal(pv_uart_capture(pty.slave_path, &options, parser), PV_OK);
		assert_int_equal(pthread_join(thread, NULL), 0);
		assert_true(w.saw_raw_mode);
		assert_true(w.wrote_all);
		assert_int_equal(pv_uart_parser_report(parser)->bytes, wire.len);
		assert_int_equal(pv_uart_parser_report(parser)->noise_bytes, noise);
		want = uart_report_core_json(expected);
		got = uart_report_core_json(pv_uart_parser_report(parser));
		assert_string_equal(got, want);
		free(want);
		free(got);
		pv_uart_parser_free(parser);
		if (pty.master >= 0)
			close(pty.master);
		free(expected);
		pv_buf_release(&wire);
		pv_buf_release(&log);
	}
}

/* --until done: the capture returns at the final verdict although the line stays open. */
static void test_pty_until_done_and_baud(void **state)
{
	struct pv_buf log = PV_BUF_INIT(SIZE_MAX);
	struct pv_uart_parser *parser = NULL;
	struct pty_pair pty;
	struct writer w;
	struct pv_uart_capture_options options = { .baud = 921600, .timeout_ms = 20000,
						   .until_done = true };
	const struct pv_uart_report *report;
	pthread_t thread;
	int64_t started;

	(void)state;
	uart_read_test_log("pi4-folder-missing.log", &log);
	open_pty(&pty);
	w = (struct writer){ .pty = &pty, .data = log.data, .len = log.len,
			     .expect_speed = B921600, .keep_open_ms = true };
	assert_int_equal(pv_uart_parser_new(&parser), PV_OK);
	assert_int_equal(pthread_create(&thread, NULL, writer_main, &w), 0);
	started = now_ms();
	assert_int_equal(pv_uart_capture(pty.slave_path, &options, parser), PV_OK);
	/* well before the 20 s deadline: stopped by the verdict, not the clock */
	assert_true(now_ms() - started < 15000);
	assert_int_equal(pthread_join(thread, NULL), 0);
	assert_true(w.saw_raw_mode);
	report = pv_uart_parser_report(parser);
	assert_int_equal(report->result, PV_UART_RESULT_FAILED);
	assert_int_equal(report->reason, PV_UART_REASON_TFTP_NOT_FOUND);
	assert_string_equal(report->failed_path, "1234abcd/start4.elf");
	pv_uart_parser_free(parser);
	close(pty.master);
	pv_buf_release(&log);
}

/* A quiet line: the capture ends at the deadline with nothing recognised, and the
 * terminal's settings are restored afterwards. */
static void test_pty_deadline_and_restore(void **state)
{
	struct pv_uart_parser *parser = NULL;
	struct pty_pair pty;
	struct pv_uart_capture_options options = { .timeout_ms = 300 };
	struct termios before, after;
	int holder;
	int64_t started;

	(void)state;
	open_pty(&pty);
	/* keep one slave descriptor open so the settings outlive the capture's */
	holder = open(pty.slave_path, O_RDWR | O_NOCTTY);
	assert_true(holder >= 0);
	assert_int_equal(tcgetattr(holder, &before), 0);
	assert_true(before.c_lflag & ICANON);
	assert_int_equal(pv_uart_parser_new(&parser), PV_OK);
	started = now_ms();
	assert_int_equal(pv_uart_capture(pty.slave_path, &options, parser), PV_OK);
	assert_true(now_ms() - started >= 300);
	assert_int_equal(pv_uart_parser_report(parser)->result, PV_UART_RESULT_UNKNOWN);
	assert_int_equal(tcgetattr(holder, &after), 0);
	assert_int_equal(after.c_lflag, before.c_lflag);
	assert_int_equal(after.c_iflag, before.c_iflag);
	assert_int_equal(after.c_cflag, before.c_cflag);
	pv_uart_parser_free(parser);
	close(holder);
	close(pty.master);
}

static void test_cancel_flag(void **state)
{
	struct pv_uart_parser *parser = NULL;
	struct pty_pair pty;
	volatile sig_atomic_t cancel = 1;
	struct pv_uart_capture_options options = { .timeout_ms = 20000, .cancel = &cancel };
	int64_t started;

	(void)state;
	open_pty(&pty);
	assert_int_equal(pv_uart_parser_new(&parser), PV_OK);
	started = now_ms();
	assert_int_equal(pv_uart_capture(pty.slave_path, &options, parser), PV_OK);
	assert_true(now_ms() - started < 5000);
	pv_uart_parser_free(parser);
	close(pty.master);
}

static void test_file_capture_equals_parse(void **state)
{
	struct pv_uart_parser *parser = NULL;
	struct pv_uart_report *expected = malloc(sizeof(*expected));
	char *path = uart_test_log_path("pi4-fallback-root.log");
	char *want, *got;

	(void)state;
	assert_non_null(expected);
	assert_int_equal(pv_uart_parse_file(path, expected), PV_OK);
	assert_int_equal(pv_uart_parser_new(&parser), PV_OK);
	assert_int_equal(pv_uart_capture(path, NULL, parser), PV_OK);
	want = uart_report_core_json(expected);
	got = uart_report_core_json(pv_uart_parser_report(parser));
	assert_string_equal(got, want);
	assert_int_equal(pv_uart_parser_report(parser)->result, PV_UART_RESULT_OK);
	free(want);
	free(got);
	free(path);
	free(expected);
	pv_uart_parser_free(parser);
}

/* One serial line, one reader: a second capture of a locked device is refused, the first
 * holder keeps its settings. */
static void test_device_in_use(void **state)
{
	struct pv_uart_parser *parser = NULL;
	struct pv_uart_capture_options options = { .timeout_ms = 100 };
	struct pty_pair pty;
	int holder;

	(void)state;
	open_pty(&pty);
	holder = open(pty.slave_path, O_RDWR | O_NOCTTY);
	assert_true(holder >= 0);
	assert_int_equal(flock(holder, LOCK_EX | LOCK_NB), 0);
	assert_int_equal(pv_uart_parser_new(&parser), PV_OK);
	assert_int_equal(pv_uart_capture(pty.slave_path, &options, parser), PV_ERR_BUSY);
	assert_non_null(strstr(pv_last_error(), "in use"));
	flock(holder, LOCK_UN);
	assert_int_equal(pv_uart_capture(pty.slave_path, &options, parser), PV_OK);
	pv_uart_parser_free(parser);
	close(holder);
	close(pty.master);
}

/* on_data sees every byte as read, in order (what --save writes). */
static int collect(const void *data, size_t len, void *user)
{
	return pv_buf_append(user, data, len);
}

static void test_raw_bytes_hook(void **state)
{
	struct pv_buf log = PV_BUF_INIT(SIZE_MAX), seen = PV_BUF_INIT(SIZE_MAX);
	struct pv_uart_parser *parser = NULL;
	struct pv_uart_capture_options options = { .on_data = collect, .user = &seen };
	char *path = uart_test_log_path("cm4-2024-ok-crlf.log");

	(void)state;
	pv_test_read_file(path, &log);
	assert_int_equal(pv_uart_parser_new(&parser), PV_OK);
	assert_int_equal(pv_uart_capture(path, &options, parser), PV_OK);
	assert_int_equal(seen.len, log.len);
	assert_memory_equal(seen.data, log.data, log.len);
	pv_uart_parser_free(parser);
	pv_buf_release(&seen);
	pv_buf_release(&log);
	free(path);
}

static void test_bad_source_and_baud(void **state)
{
	struct pv_uart_parser *parser = NULL;
	struct pv_uart_capture_options options = { .baud = 12345 };
	struct pty_pair pty;

	(void)state;
	assert_int_equal(pv_uart_parser_new(&parser), PV_OK);
	assert_int_equal(pv_uart_capture("/nonexistent/ttyUSB9", NULL, parser), PV_ERR_NOT_FOUND);
	assert_non_null(strstr(pv_last_error(), "'/nonexistent/ttyUSB9'"));
	open_pty(&pty);
	assert_int_equal(pv_uart_capture(pty.slave_path, &options, parser), PV_ERR_INVALID);
	assert_non_null(strstr(pv_last_error(), "12345"));
	assert_false(pv_uart_baud_supported(12345));
	assert_true(pv_uart_baud_supported(115200));
	close(pty.master);
	pv_uart_parser_free(parser);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pty_capture_pieces_noise_crlf),
		cmocka_unit_test(test_pty_until_done_and_baud),
		cmocka_unit_test(test_pty_deadline_and_restore),
		cmocka_unit_test(test_cancel_flag),
		cmocka_unit_test(test_file_capture_equals_parse),
		cmocka_unit_test(test_bad_source_and_baud),
		cmocka_unit_test(test_device_in_use),
		cmocka_unit_test(test_raw_bytes_hook),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

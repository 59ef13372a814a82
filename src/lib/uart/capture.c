/* Serial capture: a terminal switched to raw 8N1 (the bootloader's 115200 8N1, no flow
 * control), a FIFO, a regular file or standard input, read with poll() so that a deadline
 * and a cancel flag are honoured while the line is quiet. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "piprov/uart.h"
#include "internal.h"
#include "banned.h"

#define CAPTURE_CHUNK 4096
/* poll() slice: how quickly a cancel request (Ctrl-C) is noticed on a quiet line */
#define CAPTURE_TICK_MS 100

static const struct {
	unsigned baud;
	speed_t speed;
} baud_table[] = {
	{ 9600, B9600 },       { 19200, B19200 },     { 38400, B38400 },
	{ 57600, B57600 },     { 115200, B115200 },   { 230400, B230400 },
	{ 460800, B460800 },   { 500000, B500000 },   { 576000, B576000 },
	{ 921600, B921600 },   { 1000000, B1000000 }, { 1152000, B1152000 },
	{ 1500000, B1500000 }, { 2000000, B2000000 }, { 2500000, B2500000 },
	{ 3000000, B3000000 }, { 3500000, B3500000 }, { 4000000, B4000000 },
};

static bool baud_to_speed(unsigned baud, speed_t *speed)
{
	for (size_t i = 0; i < PV_ARRAY_SIZE(baud_table); i++) {
		if (baud_table[i].baud == baud) {
			*speed = baud_table[i].speed;
			return true;
		}
	}
	return false;
}

bool pv_uart_baud_supported(unsigned baud)
{
	speed_t speed;

	return baud_to_speed(baud, &speed);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Raw 8N1: no parity, one stop bit, no hardware or software flow control, no echo, no
 * CR/LF translation, no signals from ^C: every byte the board sends reaches the parser. */
static int configure_raw(int fd, const char *source, unsigned baud, struct termios *saved)
{
	struct termios tio;
	speed_t speed;

	if (!baud_to_speed(baud, &speed))
		return pv_fail(PV_ERR_INVALID, "uart", "'%s': unsupported baud rate %u", source,
			       baud);
	if (tcgetattr(fd, saved) < 0)
		return pv_fail_errno(errno, "uart", "'%s': cannot read terminal settings", source);
	tio = *saved;
	cfmakeraw(&tio);
	tio.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | CSTOPB | CRTSCTS);
	tio.c_cflag |= CS8 | CLOCAL | CREAD;
	tio.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
	tio.c_cc[VMIN] = 0;
	tio.c_cc[VTIME] = 0;
	if (cfsetispeed(&tio, speed) < 0 || cfsetospeed(&tio, speed) < 0)
		return pv_fail_errno(errno, "uart", "'%s': cannot set %u baud", source, baud);
	if (tcsetattr(fd, TCSANOW, &tio) < 0)
		return pv_fail_errno(errno, "uart", "'%s': cannot set raw 8N1 mode", source);
	pv_log(PV_LOG_INFO, "uart", "'%s': raw 8N1 at %u baud", source, baud);
	return PV_OK;
}

static bool should_stop(const struct pv_uart_capture_options *options,
			const struct pv_uart_parser *parser)
{
	return (options->cancel && *options->cancel) ||
	       (options->until_done && pv_uart_parser_done(parser));
}

/* Reads until end of input, deadline, done or cancel. */
static int read_loop(int fd, const char *source, const struct pv_uart_capture_options *options,
		     struct pv_uart_parser *parser)
{
	unsigned char chunk[CAPTURE_CHUNK];
	int64_t deadline = options->timeout_ms > 0 ? now_ms() + options->timeout_ms : 0;

	while (!should_stop(options, parser)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int wait_ms = CAPTURE_TICK_MS;
		ssize_t n;
		int ready;

		if (deadline) {
			int64_t left = deadline - now_ms();

			if (left <= 0)
				break;
			if (left < wait_ms)
				wait_ms = (int)left;
		}
		ready = poll(&pfd, 1, wait_ms);
		if (ready < 0) {
			if (errno == EINTR)
				continue; /* a signal: the cancel flag is checked at the top */
			return pv_fail_errno(errno, "uart", "'%s': poll failed", source);
		}
		if (ready == 0)
			continue;
		n = read(fd, chunk, sizeof(chunk));
		if (n > 0) {
			if (options->on_data) {
				int rc = options->on_data(chunk, (size_t)n, options->user);

				if (rc)
					return rc;
			}
			pv_uart_parser_feed(parser, chunk, (size_t)n);
			continue;
		}
		if (n == 0)
			break; /* end of file, or a FIFO's writer closed */
		if (errno == EINTR || errno == EAGAIN)
			continue;
		/* A terminal whose other side went away (USB adapter unplugged, pty master
		 * closed) reports EIO: that is the end of this capture, not a failure. */
		if (errno == EIO || errno == ENODEV || errno == ENXIO) {
			pv_log(PV_LOG_INFO, "uart", "'%s': hung up", source);
			break;
		}
		return pv_fail_errno(errno, "uart", "'%s': read failed", source);
	}
	return PV_OK;
}

int pv_uart_capture(const char *source, const struct pv_uart_capture_options *options,
		    struct pv_uart_parser *parser)
{
	struct pv_uart_capture_options defaults = { 0 };
	struct termios saved;
	bool is_stdin = strcmp(source, "-") == 0;
	const char *name = is_stdin ? "stdin" : source;
	bool terminal;
	int fd, rc;

	if (!options)
		options = &defaults;
	if (is_stdin) {
		fd = STDIN_FILENO;
	} else {
		fd = open(source, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			return pv_fail_errno(errno, "uart", "cannot open '%s'", source);
	}
	terminal = isatty(fd);
	if (terminal) {
		/* Two readers of one serial line would each get part of the bytes. */
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			rc = errno == EWOULDBLOCK
				     ? pv_fail(PV_ERR_BUSY, "uart", "'%s': in use by another capture",
					       name)
				     : pv_fail_errno(errno, "uart", "'%s': cannot lock", name);
			goto out_close_fd;
		}
		rc = configure_raw(fd, name, options->baud ? options->baud : 115200, &saved);
		if (rc)
			goto out_unlock;
	}
	rc = read_loop(fd, name, options, parser);
	if (rc == PV_OK)
		pv_uart_parser_finish(parser);
	if (terminal)
		tcsetattr(fd, TCSANOW, &saved);
out_unlock:
	if (terminal)
		flock(fd, LOCK_UN);
out_close_fd:
	if (!is_stdin)
		close(fd);
	return rc;
}

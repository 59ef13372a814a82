/* piprov usb on a terminal: the board table is redrawn in place. The program runs on a real
 * pseudo-terminal of 80 columns and a given height; what it writes is replayed through a
 * small terminal model (cursor up/down, carriage return, erase line / below, auto-wrap at
 * the right margin, scrolling at the bottom, colours), and the final screen must show each
 * board once, in its final state, above the summary. More boards than rows: the table is
 * cut to fit and the cursor never has to go above the top row (where a redraw would
 * overwrite what is there: the rows that scrolled off cannot be reached). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "piprov/buf.h"
#include "test_support.h"

#define SCREEN_LINES 400 /* the visible rows and the history above them */
#define SCREEN_COLS 80

struct screen {
	char cells[SCREEN_LINES][SCREEN_COLS + 1];
	int rows;          /* visible rows */
	int top;           /* first visible line */
	int row, col;      /* cursor, row as a line number */
	bool pending_wrap; /* the cursor sits past the last column, as on a VT100 */
	unsigned escapes;  /* cursor movements seen: proves the redraw mode was used */
	unsigned colors;   /* SGR sequences seen */
	unsigned clamped;  /* cursor-up requests that went past the top row */
};

static void screen_clear_row(struct screen *s, int row, int from)
{
	for (int c = from; c < SCREEN_COLS; c++)
		s->cells[row][c] = ' ';
}

static void screen_init(struct screen *s, int rows)
{
	memset(s, 0, sizeof(*s));
	s->rows = rows;
	for (int r = 0; r < SCREEN_LINES; r++)
		screen_clear_row(s, r, 0);
}

/* Down n lines; past the bottom row the screen scrolls (the top row goes to history). */
static void screen_down(struct screen *s, int n)
{
	s->row += n;
	assert_true(s->row < SCREEN_LINES); /* the model is taller than any output */
	if (s->row - s->top >= s->rows)
		s->top = s->row - s->rows + 1;
}

/* Interpret the bytes the program wrote: the subset of ECMA-48 a progress table needs. */
static void screen_feed(struct screen *s, const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char ch = data[i];

		if (ch == '\033' && i + 1 < len && data[i + 1] == '[') {
			int n = 0;
			size_t j = i + 2;
			bool had_number = false;

			while (j < len && data[j] >= '0' && data[j] <= '9') {
				n = n * 10 + (data[j++] - '0');
				had_number = true;
			}
			assert_true(j < len);
			if (!had_number)
				n = data[j] == 'A' || data[j] == 'B' ? 1 : 0;
			if (data[j] == 'm') { /* colour: takes no column */
				s->colors++;
				i = j;
				continue;
			}
			s->pending_wrap = false;
			switch (data[j]) {
			case 'A':
				if (s->row - n < s->top) {
					s->clamped++;
					s->row = s->top;
				} else {
					s->row -= n;
				}
				break;
			case 'B':
				screen_down(s, n);
				break;
			case 'K':
				if (n == 2)
					screen_clear_row(s, s->row, 0);
				else
					screen_clear_row(s, s->row, s->col);
				break;
			case 'J':
				screen_clear_row(s, s->row, s->col);
				for (int r = s->row + 1; r < SCREEN_LINES; r++)
					screen_clear_row(s, r, 0);
				break;
			default:
				fail_msg("unexpected escape sequence ESC [ %d %c", n, data[j]);
			}
			s->escapes++;
			i = j;
		} else if (ch == '\r') {
			s->col = 0;
			s->pending_wrap = false;
		} else if (ch == '\n') {
			screen_down(s, 1);
			s->pending_wrap = false;
		} else if ((unsigned char)ch >= 0x20) {
			if (s->pending_wrap) {
				s->col = 0;
				screen_down(s, 1);
				s->pending_wrap = false;
			}
			s->cells[s->row][s->col] = ch;
			if (s->col == SCREEN_COLS - 1)
				s->pending_wrap = true;
			else
				s->col++;
		}
	}
}

/* Run piprov ARGS on a new pseudo-terminal (stdin, stdout and stderr) of 80 columns and
 * `rows` rows and return its exit status; everything it wrote goes to out. no_color sets
 * NO_COLOR for the program. */
static int run_on_terminal(char *const argv[], int rows, bool no_color, struct pv_buf *out)
{
	struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = SCREEN_COLS };
	char slave_path[128], chunk[4096];
	int master, status;
	pid_t pid;

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 && (errno == ENOENT || errno == ENODEV || errno == ENXIO)) {
		fprintf(stderr, "SKIP: no pseudo-terminals here (/dev/ptmx: %s)\n",
			strerror(errno));
		skip();
	}
	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	assert_int_equal(ptsname_r(master, slave_path, sizeof(slave_path)), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int slave;

		setsid();
		slave = open(slave_path, O_RDWR);
		if (slave < 0 || ioctl(slave, TIOCSCTTY, 0) < 0 || ioctl(slave, TIOCSWINSZ, &ws) < 0)
			_exit(126);
		dup2(slave, 0);
		dup2(slave, 1);
		dup2(slave, 2);
		if (slave > 2)
			close(slave);
		close(master);
		if (no_color)
			setenv("NO_COLOR", "1", 1);
		else
			unsetenv("NO_COLOR");
		execv(argv[0], argv);
		_exit(127);
	}
	for (;;) {
		ssize_t got = read(master, chunk, sizeof(chunk));

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) /* EIO once the last slave descriptor is closed */
			break;
		assert_int_equal(pv_buf_append(out, chunk, (size_t)got), 0);
	}
	close(master);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Rows of the final screen that contain needle, and also `also` when it is not NULL, or
 * not `unless` when that is not NULL. */
static unsigned rows_with(const struct screen *s, const char *needle, const char *also,
			  const char *unless)
{
	unsigned n = 0;

	for (int r = 0; r < SCREEN_LINES; r++)
		if (strstr(s->cells[r], needle) && (!also || strstr(s->cells[r], also)) &&
		    (!unless || !strstr(s->cells[r], unless)))
			n++;
	return n;
}

/* The final screen, for the test log. */
static void screen_print(const struct screen *s)
{
	int last = SCREEN_LINES - 1;

	while (last > 0 && strspn(s->cells[last], " ") == SCREEN_COLS)
		last--;
	for (int r = 0; r <= last; r++)
		fprintf(stderr, "|%s|\n", s->cells[r]);
}

static void check_table(const char *verbosity, unsigned boards, int rows, bool no_color)
{
	struct pv_buf out = PV_BUF_INIT(1u << 24);
	struct screen *s = calloc(1, sizeof(*s));
	char *piprov = pv_test_program("piprov"), count[32], summary[64];
	char flash[] = "flash", usb[] = "usb", virt[] = "--virtual", preset[] = "--preset",
	     network[] = "network", verbose[4];
	char *argv[9];
	size_t n = 0;
	bool fits = (int)boards + 2 <= rows;

	assert_non_null(s);
	snprintf(count, sizeof(count), "pi4,count=%u", boards);
	argv[n++] = piprov;
	if (verbosity) {
		snprintf(verbose, sizeof(verbose), "%s", verbosity);
		argv[n++] = verbose;
	}
	argv[n++] = usb;
	argv[n++] = flash;
	argv[n++] = virt;
	argv[n++] = count;
	argv[n++] = preset;
	argv[n++] = network;
	argv[n] = NULL;
	assert_int_equal(run_on_terminal(argv, rows, no_color, &out), 0);
	screen_init(s, rows);
	screen_feed(s, (const char *)out.data, out.len);
	screen_print(s);
	/* The table was drawn in place, not appended line by line as in a pipe. */
	assert_true(s->escapes > 0);
	/* The cursor never had to go above the top row: nothing was drawn over it. */
	assert_int_equal(s->clamped, 0);
	/* The summary line, once, in its final state. */
	snprintf(summary, sizeof(summary), "%u of %u verified, 0 failed, 0 in flight", boards,
		 boards);
	assert_int_equal(rows_with(s, summary, NULL, NULL), 1);
	if (fits) {
		/* Each board's progress row (the one with KiB) is on the screen exactly once,
		 * in its final state, and no row was left half-overwritten by a wrapped line. */
		assert_int_equal(rows_with(s, "KiB", NULL, NULL), boards);
		assert_int_equal(rows_with(s, " verified ", "KiB", NULL), boards);
	} else {
		/* As many rows as fit, and a line saying how many are not shown. */
		assert_int_equal(rows_with(s, " verified ", "KiB", NULL), (unsigned)rows - 3);
		assert_int_equal(rows_with(s, "more boards (not shown", NULL, NULL), 1);
	}
	/* The summary: its header, a row per board, the count line. */
	assert_int_equal(rows_with(s, "PORT ", "RESULT", NULL), 1);
	assert_int_equal(rows_with(s, " verified ", NULL, "KiB"), boards);
	assert_int_equal(rows_with(s, "succeeded, 0 failed", NULL, NULL), 1);
	if (verbosity) /* log lines stayed above the table */
		assert_true(rows_with(s, "piprov", NULL, "waiting") > 0);
	/* Colour on a terminal, none with NO_COLOR. */
	if (no_color)
		assert_int_equal(s->colors, 0);
	else
		assert_true(s->colors > 0);
	free(piprov);
	free(s);
	pv_buf_release(&out);
}

static void test_table_redrawn_in_place(void **state)
{
	(void)state;
	check_table(NULL, 3, 50, false);
}

/* -v: log lines from the boards' threads go above the table, which is drawn again below. */
static void test_log_lines_above_table(void **state)
{
	(void)state;
	check_table("-v", 2, 50, true);
}

/* 32 boards on a 24-row terminal: the summary line and 21 rows, never redrawn over the top
 * row (before, the rows that had scrolled off were redrawn over it). */
static void test_more_boards_than_rows(void **state)
{
	(void)state;
	check_table(NULL, 32, 24, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_redrawn_in_place),
		cmocka_unit_test(test_log_lines_above_table),
		cmocka_unit_test(test_more_boards_than_rows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

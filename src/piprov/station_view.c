/* The station's views (station_view.h). The terminal table is a block at the bottom of the
 * screen that is erased and drawn again: a summary line and as many board rows as fit, so
 * the block is never taller than the terminal (a taller one scrolls its top off the screen,
 * and moving the cursor back up to redraw it would overwrite whatever is on the top row). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "piprov/text.h"
#include "station_view.h"
#include "banned.h"

#define REDRAW_INTERVAL_MS 100
#define ROW_MAX 512

struct view_board {
	struct pv_station_board b;
	FILE *log;
};

struct station_view {
	struct pv_station *st;
	struct station_view_options o;
	uint64_t subscription;
	pthread_mutex_t lock;        /* events (station threads) and log lines (any thread) */
	struct view_board *boards;   /* in id order */
	size_t count, cap;
	int drawn;                   /* rows of the block on the screen now */
	uint64_t last_draw_ms, now_ms;
	bool recording;
	bool took_log;
};

void station_view_options_default(struct station_view_options *opts, struct cli_context *ctx,
				  bool json)
{
	const char *term = getenv("TERM");
	const char *no_color = getenv("NO_COLOR");

	memset(opts, 0, sizeof(*opts));
	opts->ctx = ctx;
	opts->out = stdout;
	opts->tty_fd = STDOUT_FILENO;
	if (json)
		opts->mode = STATION_VIEW_JSON;
	else if (isatty(STDOUT_FILENO) && isatty(STDERR_FILENO))
		opts->mode = STATION_VIEW_TTY;
	else
		opts->mode = STATION_VIEW_LINES;
	opts->color = opts->mode == STATION_VIEW_TTY && !(no_color && no_color[0]) &&
		      !(term && strcmp(term, "dumb") == 0);
}

/* ---- rows ---------------------------------------------------------------------------- */

static bool counts_as_verified(const struct pv_station_board *b)
{
	return b->state == PV_STATION_VERIFIED || b->state == PV_STATION_BOOTED ||
	       b->state == PV_STATION_RECORDED;
}

void station_view_summary_line(const struct pv_station_board *boards, size_t count,
			       bool recording, char *out, size_t size)
{
	unsigned verified = 0, recorded = 0, failed = 0, in_flight = 0, abandoned = 0;

	for (size_t i = 0; i < count; i++) {
		const struct pv_station_board *b = &boards[i];

		verified += counts_as_verified(b);
		recorded += b->state == PV_STATION_RECORDED;
		failed += b->state == PV_STATION_FAILED;
		abandoned += b->state == PV_STATION_ABANDONED;
		in_flight += pv_station_board_in_flight(b, recording);
	}
	if (recording)
		snprintf(out, size, "%u of %zu verified, %u recorded, %u failed, %u in flight%s",
			 verified, count, recorded, failed, in_flight,
			 abandoned ? ", some abandoned" : "");
	else
		snprintf(out, size, "%u of %zu verified, %u failed, %u in flight%s", verified, count,
			 failed, in_flight, abandoned ? ", some abandoned" : "");
}

/* A device string on the terminal: control bytes and non-ASCII become '?'. */
static void printable(const char *in, char *out, size_t size)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < size; i++)
		out[i] = (unsigned char)in[i] >= 0x20 && (unsigned char)in[i] < 0x7f ? in[i] : '?';
	out[i] = '\0';
}

static void format_row(const struct view_board *vb, uint64_t now_ms, char *out, size_t size)
{
	const struct pv_station_board *b = &vb->b;
	bool ended = !pv_station_board_in_flight(b, false);
	const char *state = ended ? pv_station_state_name(b->state) : b->stage;
	char serial[PV_USB_SERIAL_MAX], detail[PV_STATION_REASON_MAX], percent[8] = "";
	uint64_t end = b->ended_ms ? b->ended_ms : now_ms;

	printable(b->serial[0] ? b->serial : "-", serial, sizeof(serial));
	printable(b->reason[0] ? b->reason : ended ? "" : b->stage, detail, sizeof(detail));
	if (b->total && !ended)
		snprintf(percent, sizeof(percent), "%3u%%",
			 (unsigned)(b->bytes >= b->total ? 100 : b->bytes * 100 / b->total));
	snprintf(out, size, "%-14s %-5s %-16s %-11s %4s %9.1f KiB %6.1fs %s", b->port,
		 b->chip[0] ? b->chip : "-", serial, state, percent, (double)b->bytes / 1024.0,
		 (double)(end > b->arrived_ms ? end - b->arrived_ms : 0) / 1000.0,
		 strcmp(detail, state) == 0 ? "" : detail);
}

static const char *row_color(const struct pv_station_board *b)
{
	switch (b->state) {
	case PV_STATION_VERIFIED:
	case PV_STATION_BOOTED:
	case PV_STATION_RECORDED:
		return "\033[32m";
	case PV_STATION_FAILED:
	case PV_STATION_ABANDONED:
		return "\033[31m";
	default:
		return "\033[33m";
	}
}

/* ---- the terminal block ----------------------------------------------------------------- */

static void terminal_size(const struct station_view *v, int *rows, int *cols)
{
	struct winsize ws;

	*rows = 24;
	*cols = 80;
	if (ioctl(v->o.tty_fd, TIOCGWINSZ, &ws) == 0) {
		if (ws.ws_row > 0)
			*rows = ws.ws_row;
		if (ws.ws_col > 0)
			*cols = ws.ws_col;
	}
}

static void erase_block(struct station_view *v)
{
	if (v->drawn > 0)
		fprintf(v->o.out, "\033[%dA\r\033[J", v->drawn);
	else
		fputs("\r\033[J", v->o.out);
	v->drawn = 0;
}

/* One line of the block, cut to the terminal (a line that wraps takes two rows and the
 * cursor arithmetic would be off by one); the last column stays free because a character
 * there makes some terminals wrap. */
static void put_line(struct station_view *v, const char *text, int width, const char *color)
{
	if (color && v->o.color)
		fprintf(v->o.out, "%s%.*s\033[0m\n", color, width, text);
	else
		fprintf(v->o.out, "%.*s\n", width, text);
	v->drawn++;
}

static void draw_block(struct station_view *v)
{
	struct pv_station_board *sorted = malloc((v->count ? v->count : 1) * sizeof(*sorted));
	const struct view_board **order = malloc((v->count ? v->count : 1) * sizeof(*order));
	char line[ROW_MAX], summary[256];
	int rows, cols, width, room;
	size_t shown;

	if (!sorted || !order) {
		free(sorted);
		free(order);
		return;
	}
	terminal_size(v, &rows, &cols);
	width = cols > 1 ? cols - 1 : 1;
	for (size_t i = 0; i < v->count; i++)
		sorted[i] = v->boards[i].b;
	qsort(sorted, v->count, sizeof(*sorted), pv_station_board_compare);
	/* The view's own entries in display order (ids are unique). */
	for (size_t i = 0; i < v->count; i++) {
		size_t lo = 0, hi = v->count;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (v->boards[mid].b.id < sorted[i].id)
				lo = mid + 1;
			else
				hi = mid;
		}
		order[i] = &v->boards[lo];
	}
	station_view_summary_line(sorted, v->count, v->recording, summary, sizeof(summary));
	erase_block(v);
	/* The block and the line the cursor rests on fit the screen. */
	room = rows - 1;
	snprintf(line, sizeof(line), "piprov: %s", summary);
	put_line(v, line, width, "\033[1m");
	room--;
	shown = v->count;
	if ((int)shown > room)
		shown = room > 1 ? (size_t)(room - 1) : 0;
	for (size_t i = 0; i < shown; i++) {
		format_row(order[i], v->now_ms, line, sizeof(line));
		put_line(v, line, width, row_color(&order[i]->b));
	}
	if (shown < v->count && room > 0) {
		snprintf(line, sizeof(line), "... %zu more board%s (not shown: the terminal has %d rows)",
			 v->count - shown, v->count - shown == 1 ? "" : "s", rows);
		put_line(v, line, width, NULL);
	}
	fflush(v->o.out);
	free(order);
	free(sorted);
}

/* Library log lines on a terminal go above the block, which is drawn again below. */
static void tty_log(enum pv_log_level level, const char *module, const char *message,
		    void *user)
{
	struct station_view *v = user;

	pthread_mutex_lock(&v->lock);
	erase_block(v);
	fflush(v->o.out);
	cli_log_to_stderr(level, module, message, v->o.ctx);
	draw_block(v);
	pthread_mutex_unlock(&v->lock);
}

/* ---- events -------------------------------------------------------------------------- */

static FILE *open_board_log(struct station_view *v, const char *port)
{
	char name[PV_USB_PORT_PATH_MAX], *path = NULL;
	FILE *f = NULL;

	pv_strlcpy(name, port, sizeof(name));
	for (char *c = name; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      *c == '-' || *c == '.'))
			*c = '_';
	if (name[0] == '.')
		name[0] = '_';
	if (asprintf(&path, "%s/%s.log", v->o.log_dir, name) < 0)
		return NULL;
	f = fopen(path, "a");
	if (!f)
		cli_warn("--log-dir: cannot open '%s': %s", path, strerror(errno));
	free(path);
	return f;
}

static struct view_board *board_for(struct station_view *v, const struct pv_station_board *b)
{
	struct view_board *grown;

	/* Events come in id order of first appearance: the newest is at the end. */
	for (size_t i = v->count; i-- > 0;)
		if (v->boards[i].b.id == b->id)
			return &v->boards[i];
	if (v->count == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 32;

		grown = realloc(v->boards, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		v->boards = grown;
		v->cap = cap;
	}
	memset(&v->boards[v->count], 0, sizeof(v->boards[0]));
	v->boards[v->count].b = *b;
	if (v->o.log_dir)
		v->boards[v->count].log = open_board_log(v, b->port);
	return &v->boards[v->count++];
}

/* The events that change what a plain line or a redraw shows. */
static bool changes_state(enum pv_station_event_kind kind)
{
	switch (kind) {
	case PV_STATION_EV_ARRIVED:
	case PV_STATION_EV_STAGE:
	case PV_STATION_EV_VERIFYING:
	case PV_STATION_EV_VERIFIED:
	case PV_STATION_EV_BOOTED:
	case PV_STATION_EV_FAILED:
	case PV_STATION_EV_ABANDONED:
	case PV_STATION_EV_RECORDED:
		return true;
	default:
		return false;
	}
}

static void on_event(void *user, const struct pv_station_event *ev)
{
	struct station_view *v = user;
	struct view_board *vb = NULL;
	char line[ROW_MAX];

	pthread_mutex_lock(&v->lock);
	v->now_ms = ev->t_ms;
	if (ev->board && ev->kind != PV_STATION_EV_SKIPPED) {
		vb = board_for(v, ev->board);
		if (vb)
			vb->b = *ev->board;
	}
	if (vb && vb->log) {
		format_row(vb, v->now_ms, line, sizeof(line));
		fprintf(vb->log, "%s %s%s%s\n", line, pv_station_event_name(ev->kind),
			ev->detail[0] ? ": " : "", ev->detail);
		fflush(vb->log);
	}
	switch (v->o.mode) {
	case STATION_VIEW_JSON:
		fwrite(ev->json, 1, ev->json_len, v->o.out);
		fputc('\n', v->o.out);
		fflush(v->o.out);
		break;
	case STATION_VIEW_LINES:
		if (vb && changes_state(ev->kind)) {
			format_row(vb, v->now_ms, line, sizeof(line));
			fprintf(v->o.out, "%s\n", line);
			fflush(v->o.out);
		}
		break;
	case STATION_VIEW_TTY:
		if (vb && (changes_state(ev->kind) ||
			   v->now_ms - v->last_draw_ms >= REDRAW_INTERVAL_MS)) {
			draw_block(v);
			v->last_draw_ms = v->now_ms;
		}
		break;
	case STATION_VIEW_NONE:
		break;
	}
	pthread_mutex_unlock(&v->lock);
}

int station_view_start(struct pv_station *st, const struct station_view_options *opts,
		       struct station_view **out)
{
	struct station_view *v = calloc(1, sizeof(*v));
	int rc;

	if (!v)
		return cli_error("out of memory");
	v->st = st;
	v->o = *opts;
	v->recording = pv_station_inventory(st) != NULL;
	pthread_mutex_init(&v->lock, NULL);
	rc = pv_station_subscribe(st, on_event, v, &v->subscription);
	if (rc) {
		pthread_mutex_destroy(&v->lock);
		free(v);
		return cli_fail(rc);
	}
	if (v->o.mode == STATION_VIEW_TTY) {
		pv_log_set_callback(tty_log, v);
		v->took_log = true;
	}
	*out = v;
	return CLI_EXIT_OK;
}

void station_view_finish(struct station_view *v)
{
	if (!v)
		return;
	pv_station_unsubscribe(v->st, v->subscription);
	if (v->took_log)
		pv_log_set_callback(cli_log_to_stderr, v->o.ctx);
	if (v->o.mode == STATION_VIEW_TTY && v->count > 0) {
		draw_block(v);
		v->drawn = 0; /* it stays on the screen; what follows goes below it */
	}
	for (size_t i = 0; i < v->count; i++)
		if (v->boards[i].log)
			fclose(v->boards[i].log);
	free(v->boards);
	pthread_mutex_destroy(&v->lock);
	free(v);
}
